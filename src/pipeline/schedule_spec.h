// pipeline/schedule_spec.h: Azure ML schedule YAML (cron and recurrence
// triggers, create_job) plus Cairn's data-asset and event triggers; a 5-field
// cron parser; IANA time zones read from TZif files (g++ 12 has no chrono
// tzdb); and NextFireTime, a pure function of the trigger and a time, so the
// server's firing loop and the tests share one clock-free definition.
//
// Wall-clock semantics (cron and day/week/month recurrences fire at local
// times in `time_zone`):
//  - a local time skipped by a DST gap (02:30 when clocks jump 02:00->03:00)
//    fires once, at the instant the gap ends (03:00 local);
//  - a local time that happens twice (01:30 when clocks fall back) fires once,
//    at its first occurrence.
// minute/hour recurrences are absolute periods (every N*60 s) from start_time.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "pipeline/job_spec.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

// A parsed 5-field cron expression: minute hour day-of-month month
// day-of-week. Fields take *, numbers, ranges a-b, steps */n and a-b/n, lists
// a,b,c, month names JAN-DEC and day names SUN-SAT (0 and 7 are Sunday).
// As in Vixie cron, when both day fields are restricted a day matches either.
struct CronSpec {
  std::bitset<60> minutes;
  std::bitset<24> hours;
  std::bitset<32> days_of_month;  // 1..31
  std::bitset<13> months;         // 1..12
  std::bitset<7> days_of_week;    // 0 = Sunday
  bool any_day_of_month = true;   // the field was '*'
  bool any_day_of_week = true;
};
Result<CronSpec> ParseCron(std::string_view expression);

// A time zone: UTC or an IANA name read from `zoneinfo_dir` (TZif v1-v3,
// including the POSIX TZ footer rule for times after the last transition).
// The IANA zone ICU's CLDR table gives for a Windows time-zone name
// ("Pacific Standard Time" -> "America/Los_Angeles"); nullopt when it is not one.
std::optional<std::string> IanaZoneForWindowsName(const std::string& name);

class TimeZone {
 public:
  static std::shared_ptr<const TimeZone> Utc();
  static Result<std::shared_ptr<const TimeZone>> Load(
      const std::string& name, const std::string& zoneinfo_dir = "/usr/share/zoneinfo");

  const std::string& name() const { return name_; }
  // Seconds east of UTC in effect at `utc_seconds`.
  int32_t OffsetAt(int64_t utc_seconds) const;
  // The UTC instant of a local wall-clock time (seconds since the epoch as if
  // the local time were UTC), with the gap/overlap policy above.
  int64_t LocalToUtc(int64_t local_seconds) const;

  // The POSIX TZ rule ("EST5EDT,M3.2.0,M11.1.0"), public for tests.
  struct PosixRule {
    int32_t std_offset = 0;  // seconds east of UTC
    int32_t dst_offset = 0;
    bool has_dst = false;
    // Rule dates: kind 'M' (month, week, weekday), 'J' (1..365, no Feb 29) or
    // 'N' (0..365); `time` is seconds after local midnight.
    struct When {
      char kind = 'M';
      int month = 0, week = 0, weekday = 0, day = 0;
      int32_t time = 7200;
    } start, end;
  };
  static Result<PosixRule> ParsePosixRule(std::string_view text);

 private:
  std::string name_;
  std::vector<int64_t> transitions_;  // UTC seconds, ascending
  std::vector<int32_t> offsets_;      // offset from transitions_[i] on
  int32_t initial_offset_ = 0;        // before the first transition
  std::optional<PosixRule> rule_;     // after the last transition
  int32_t RuleOffset(int64_t utc_seconds) const;
};

struct Trigger {
  enum class Type { kCron, kRecurrence, kDataAsset, kEvent };
  Type type = Type::kCron;
  // cron
  std::string expression;
  CronSpec cron;
  // recurrence
  std::string frequency;  // minute | hour | day | week | month
  int64_t interval = 1;
  std::vector<int> hours, minutes;  // schedule.hours / schedule.minutes
  std::vector<int> week_days;       // 0 = Sunday .. 6 = Saturday
  std::vector<int> month_days;      // 1..31
  // cron and recurrence
  std::optional<int64_t> start_ms, end_ms;  // UTC milliseconds
  std::string time_zone = "UTC";
  std::shared_ptr<const TimeZone> zone;
  // data_asset: fires when a new version of this data asset is registered.
  std::string data_asset;
  // data_asset: the job input (create_job's `inputs:` key) bound to the new
  // version "name:version" when it fires; empty = none.
  std::string bind_input;
  // event: fires on outbox events of this type whose fields match `filter`.
  std::string event_type;
  std::map<std::string, std::string> filter;

  bool is_time_based() const { return type == Type::kCron || type == Type::kRecurrence; }
};

struct ScheduleSpec {
  std::string name;
  std::string display_name;
  std::string description;
  std::map<std::string, std::string> tags;
  Trigger trigger;
  // create_job as a file (absolute path) or inline; the job is parsed and
  // checked either way.
  std::string create_job_file;
  JobPlan job;
};

// Reads a schedule file; relative paths (create_job) resolve against its
// folder; the job's registered components come from `components` (null: none
// can be used). Errors: INVALID_PARAMETER_VALUE "file.yml:LINE:COL: ...".
Result<ScheduleSpec> LoadScheduleSpec(const std::string& file,
                                      const std::string& zoneinfo_dir = "/usr/share/zoneinfo",
                                      ComponentSource* components = nullptr);
Result<ScheduleSpec> ParseScheduleSpec(const std::string& yaml_text, const std::string& file,
                                       const std::string& base_dir,
                                       const std::string& zoneinfo_dir = "/usr/share/zoneinfo",
                                       ComponentSource* components = nullptr);

// The first fire time strictly after `after_ms` (UTC milliseconds), or
// nullopt when the trigger will not fire again (past end_time, a cron that
// matches no date within 10 years, a recurrence none within 400) or is not
// time-based.
std::optional<int64_t> NextFireTime(const Trigger& trigger, int64_t after_ms);

// "2024-03-10T02:30:00" (local to `zone`), with optional fractional seconds
// and "Z" or "+hh:mm"; a bare date means midnight. Returns UTC milliseconds.
Result<int64_t> ParseDateTime(std::string_view text, const TimeZone& zone);
// UTC milliseconds as "2024-03-10T07:30:00Z".
std::string FormatUtc(int64_t ms);
// As local time in `zone`: "2024-03-10T03:30:00-04:00".
std::string FormatLocal(int64_t ms, const TimeZone& zone);

}  // namespace cairn::pipeline
