// pipeline/schedule_spec.cc: schedule YAML, cron, TZif time zones and
// NextFireTime (see schedule_spec.h for the DST policy).
#include "pipeline/schedule_spec.h"

#include <unicode/ucal.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "pipeline/job_spec_yaml.h"
#include "pipeline/spec_yaml.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kDay = 86400;

// ---- civil dates (proleptic Gregorian; Howard Hinnant's algorithms) ----

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  int64_t year;
  unsigned month, day;
};
Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = static_cast<int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  return {y + (m <= 2), m, d};
}
int WeekdayFromDays(int64_t z) { return static_cast<int>(z >= -4 ? (z + 4) % 7 : (z + 5) % 7 + 6); }
bool IsLeap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
unsigned DaysInMonth(int64_t y, unsigned m) {
  static const unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}
int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }
int64_t FloorMod(int64_t a, int64_t b) { return a - FloorDiv(a, b) * b; }

// ---- cron ----

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

std::string Upper(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), ::toupper);
  return s;
}

// Parses one value of a field: a number or (months, weekdays) a name.
Result<int> CronValue(const std::string& text, const char* field, int lo, int hi,
                      const char* const* names, int names_base, int names_count) {
  if (names) {
    std::string u = Upper(text);
    for (int i = 0; i < names_count; ++i) {
      if (u == names[i]) return i + names_base;
    }
  }
  int v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
    return InvalidParameter(std::string("cron ") + field + ": '" + text + "' is not a number" +
                            (names ? " or a name" : ""));
  }
  if (v < lo || v > hi) {
    return InvalidParameter(std::string("cron ") + field + ": " + text + " is outside " +
                            std::to_string(lo) + "-" + std::to_string(hi));
  }
  return v;
}

// Sets bits [lo, hi] of a field from "*", "a", "a-b", "*/n", "a-b/n", "a/n", lists.
Status CronField(const std::string& text, const char* field, int lo, int hi,
                 const char* const* names, int names_base, int names_count, std::vector<bool>& bits,
                 bool* star) {
  *star = text == "*";
  std::stringstream ss(text);
  std::string item;
  bool any = false;
  while (std::getline(ss, item, ',')) {
    any = true;
    int step = 1;
    size_t slash = item.find('/');
    std::string range = item;
    if (slash != std::string::npos) {
      CAIRN_ASSIGN_OR_RETURN(
          step, CronValue(item.substr(slash + 1), field, 1, hi - lo + 1, nullptr, 0, 0));
      range = item.substr(0, slash);
    }
    int a = lo, b = hi;
    if (range == "*") {
      // whole range
    } else if (size_t dash = range.find('-'); dash != std::string::npos) {
      CAIRN_ASSIGN_OR_RETURN(
          a, CronValue(range.substr(0, dash), field, lo, hi, names, names_base, names_count));
      CAIRN_ASSIGN_OR_RETURN(
          b, CronValue(range.substr(dash + 1), field, lo, hi, names, names_base, names_count));
      if (a > b) {
        return InvalidParameter(std::string("cron ") + field + ": range '" + range +
                                "' runs backwards");
      }
    } else {
      CAIRN_ASSIGN_OR_RETURN(a, CronValue(range, field, lo, hi, names, names_base, names_count));
      b = slash != std::string::npos ? hi : a;  // "a/n" means a, a+n, ... to the end
    }
    for (int v = a; v <= b; v += step) bits[v] = true;
  }
  if (!any) return InvalidParameter(std::string("cron ") + field + " is empty");
  return Status::Ok();
}

// ---- TZif ----

int64_t ReadBe(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  if (n == 4) return static_cast<int32_t>(static_cast<uint32_t>(v));
  return static_cast<int64_t>(v);
}

// [+-]hh[:mm[:ss]] as seconds.
bool ParseHms(std::string_view& s, int32_t* out) {
  int sign = 1;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    sign = s[0] == '-' ? -1 : 1;
    s.remove_prefix(1);
  }
  int32_t total = 0;
  for (int part = 0; part < 3; ++part) {
    if (part > 0) {
      if (s.empty() || s[0] != ':') break;
      s.remove_prefix(1);
    }
    size_t n = 0;
    int v = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])))
      v = v * 10 + (s[n++] - '0');
    if (n == 0) return false;
    s.remove_prefix(n);
    total += v * (part == 0 ? 3600 : part == 1 ? 60 : 1);
  }
  *out = sign * total;
  return true;
}

bool SkipZoneName(std::string_view& s) {
  if (!s.empty() && s[0] == '<') {
    size_t close = s.find('>');
    if (close == std::string_view::npos) return false;
    s.remove_prefix(close + 1);
    return true;
  }
  size_t n = 0;
  while (n < s.size() && std::isalpha(static_cast<unsigned char>(s[n]))) ++n;
  if (n < 3) return false;
  s.remove_prefix(n);
  return true;
}

bool ParseWhen(std::string_view& s, TimeZone::PosixRule::When* w) {
  auto num = [&s](int* out) {
    size_t n = 0;
    int v = 0;
    while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n])))
      v = v * 10 + (s[n++] - '0');
    s.remove_prefix(n);
    *out = v;
    return n > 0;
  };
  if (s.empty()) return false;
  if (s[0] == 'M') {
    s.remove_prefix(1);
    w->kind = 'M';
    if (!num(&w->month) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!num(&w->week) || s.empty() || s[0] != '.') return false;
    s.remove_prefix(1);
    if (!num(&w->weekday)) return false;
    if (w->month < 1 || w->month > 12 || w->week < 1 || w->week > 5 || w->weekday > 6) return false;
  } else if (s[0] == 'J') {
    s.remove_prefix(1);
    w->kind = 'J';
    if (!num(&w->day) || w->day < 1 || w->day > 365) return false;
  } else {
    w->kind = 'N';
    if (!num(&w->day) || w->day > 365) return false;
  }
  w->time = 7200;
  if (!s.empty() && s[0] == '/') {
    s.remove_prefix(1);
    if (!ParseHms(s, &w->time)) return false;
  }
  return true;
}

// Local midnight (as days since the epoch) of a rule date in `year`.
int64_t RuleDay(const TimeZone::PosixRule::When& w, int64_t year) {
  if (w.kind == 'J') {
    int64_t d = DaysFromCivil(year, 1, 1) + w.day - 1;
    if (IsLeap(year) && w.day >= 60) ++d;  // Feb 29 is never counted
    return d;
  }
  if (w.kind == 'N') return DaysFromCivil(year, 1, 1) + w.day;
  int64_t first = DaysFromCivil(year, w.month, 1);
  int64_t d = first + FloorMod(w.weekday - WeekdayFromDays(first), 7) + (w.week - 1) * 7;
  while (d >= first + DaysInMonth(year, w.month)) d -= 7;
  return d;
}

// ---- YAML ----

using spec_yaml::CheckMap;
using spec_yaml::Doc;
using spec_yaml::Err;
using spec_yaml::Join;

Result<std::string> Scalar(const Doc& d, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return Err(d, n, what + " must be a single value");
  return n.Scalar();
}
Result<int64_t> Int(const Doc& d, const YAML::Node& n, const std::string& what, int64_t lo,
                    int64_t hi) {
  CAIRN_ASSIGN_OR_RETURN(std::string s, Scalar(d, n, what));
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() || v < lo || v > hi) {
    return Err(d, n,
               what + " must be an integer from " + std::to_string(lo) + " to " +
                   std::to_string(hi) + ", got '" + s + "'");
  }
  return v;
}
// A scalar or a list of integers in [lo, hi].
Result<std::vector<int>> IntList(const Doc& d, const YAML::Node& n, const std::string& what, int lo,
                                 int hi) {
  std::vector<int> out;
  if (n.IsScalar()) {
    CAIRN_ASSIGN_OR_RETURN(int64_t v, Int(d, n, what, lo, hi));
    out.push_back(static_cast<int>(v));
  } else if (n.IsSequence() && n.size() > 0) {
    for (const auto& item : n) {
      CAIRN_ASSIGN_OR_RETURN(int64_t v, Int(d, item, what + " item", lo, hi));
      out.push_back(static_cast<int>(v));
    }
  } else {
    return Err(d, n, what + " must be a number or a non-empty list of numbers");
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::vector<int>> WeekDays(const Doc& d, const YAML::Node& n) {
  static const char* const kFull[] = {"sunday",   "monday", "tuesday", "wednesday",
                                      "thursday", "friday", "saturday"};
  std::vector<YAML::Node> items;
  if (n.IsScalar()) {
    items.push_back(n);
  } else if (n.IsSequence() && n.size() > 0) {
    for (const auto& i : n) items.push_back(i);
  } else {
    return Err(d, n, "schedule.week_days must be a day or a list of days (monday ... sunday)");
  }
  std::vector<int> out;
  for (const auto& i : items) {
    CAIRN_ASSIGN_OR_RETURN(std::string s, Scalar(d, i, "schedule.week_days item"));
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    int found = -1;
    for (int k = 0; k < 7; ++k) {
      if (lower == kFull[k] || lower == std::string(kFull[k]).substr(0, 3)) found = k;
    }
    if (found < 0) {
      return Err(d, i, "schedule.week_days: '" + s + "' is not a day; expected monday ... sunday");
    }
    out.push_back(found);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Result<std::map<std::string, std::string>> StringMap(const Doc& d, const YAML::Node& n,
                                                     const std::string& what) {
  if (!n.IsMap()) return Err(d, n, what + " must be a mapping of key: value");
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar())
      return Err(d, kv.second, what + "." + kv.first.Scalar() + " must be a single value");
    out[kv.first.Scalar()] = kv.second.Scalar();
  }
  return out;
}

Status ParseTrigger(const Doc& d, const YAML::Node& n, const std::string& zoneinfo_dir,
                    Trigger& t) {
  if (!n.IsMap()) return Err(d, n, "trigger must be a mapping with a type");
  if (!n["type"]) {
    return Err(d, n, "trigger needs a type: cron, recurrence, data_asset or event");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string type, Scalar(d, n["type"], "trigger.type"));
  const std::vector<std::string> kTimeKeys = {"type", "start_time", "end_time", "time_zone"};
  if (type == "cron") {
    std::vector<std::string> keys = kTimeKeys;
    keys.push_back("expression");
    CAIRN_RETURN_IF_ERROR(CheckMap(d, n, keys, "a cron trigger"));
    t.type = Trigger::Type::kCron;
    if (!n["expression"])
      return Err(d, n, "a cron trigger needs expression: \"<min> <hour> <day> <month> <weekday>\"");
    CAIRN_ASSIGN_OR_RETURN(t.expression, Scalar(d, n["expression"], "trigger.expression"));
    auto cron = ParseCron(t.expression);
    if (!cron.ok())
      return Err(d, n["expression"], "trigger.expression: " + cron.status().message());
    t.cron = *cron;
  } else if (type == "recurrence") {
    std::vector<std::string> keys = kTimeKeys;
    keys.insert(keys.end(), {"frequency", "interval", "schedule"});
    CAIRN_RETURN_IF_ERROR(CheckMap(d, n, keys, "a recurrence trigger"));
    t.type = Trigger::Type::kRecurrence;
    if (!n["frequency"])
      return Err(d, n, "a recurrence trigger needs frequency: minute, hour, day, week or month");
    CAIRN_ASSIGN_OR_RETURN(t.frequency, Scalar(d, n["frequency"], "trigger.frequency"));
    static const std::vector<std::string> kFreq = {"minute", "hour", "day", "week", "month"};
    if (std::find(kFreq.begin(), kFreq.end(), t.frequency) == kFreq.end()) {
      return Err(d, n["frequency"],
                 "trigger.frequency: '" + t.frequency + "' is not one of " + Join(kFreq));
    }
    if (!n["interval"])
      return Err(d, n, "a recurrence trigger needs interval: a whole number >= 1");
    CAIRN_ASSIGN_OR_RETURN(t.interval, Int(d, n["interval"], "trigger.interval", 1, 100000));
    if (const YAML::Node s = n["schedule"]) {
      if (t.frequency == "minute" || t.frequency == "hour") {
        return Err(
            d, s,
            "trigger.schedule applies to day, week and month frequencies, not " + t.frequency);
      }
      CAIRN_RETURN_IF_ERROR(
          CheckMap(d, s, {"hours", "minutes", "week_days", "month_days"}, "trigger.schedule"));
      if (s["hours"]) {
        CAIRN_ASSIGN_OR_RETURN(t.hours, IntList(d, s["hours"], "schedule.hours", 0, 23));
      }
      if (s["minutes"]) {
        CAIRN_ASSIGN_OR_RETURN(t.minutes, IntList(d, s["minutes"], "schedule.minutes", 0, 59));
      }
      if (s["week_days"]) {
        if (t.frequency != "week")
          return Err(d, s["week_days"], "schedule.week_days applies to frequency: week");
        CAIRN_ASSIGN_OR_RETURN(t.week_days, WeekDays(d, s["week_days"]));
      }
      if (s["month_days"]) {
        if (t.frequency != "month")
          return Err(d, s["month_days"], "schedule.month_days applies to frequency: month");
        CAIRN_ASSIGN_OR_RETURN(t.month_days,
                               IntList(d, s["month_days"], "schedule.month_days", 1, 31));
      }
    }
  } else if (type == "data_asset") {
    CAIRN_RETURN_IF_ERROR(CheckMap(d, n, {"type", "name", "input"}, "a data_asset trigger"));
    t.type = Trigger::Type::kDataAsset;
    if (!n["name"])
      return Err(d, n,
                 "a data_asset trigger needs name: the data asset whose new versions fire it");
    CAIRN_ASSIGN_OR_RETURN(t.data_asset, Scalar(d, n["name"], "trigger.name"));
    if (t.data_asset.rfind("azureml:", 0) == 0) t.data_asset = t.data_asset.substr(8);
    if (t.data_asset.empty() || t.data_asset.find_first_of(":@") != std::string::npos) {
      return Err(
          d, n["name"],
          "trigger.name must be a data asset name (no version): it fires on every new version");
    }
    if (n["input"]) {
      CAIRN_ASSIGN_OR_RETURN(t.bind_input, Scalar(d, n["input"], "trigger.input"));
    }
    return Status::Ok();
  } else if (type == "event") {
    CAIRN_RETURN_IF_ERROR(CheckMap(d, n, {"type", "event_type", "filter"}, "an event trigger"));
    t.type = Trigger::Type::kEvent;
    if (!n["event_type"])
      return Err(d, n, "an event trigger needs event_type, e.g. DatasetDriftDetected");
    CAIRN_ASSIGN_OR_RETURN(t.event_type, Scalar(d, n["event_type"], "trigger.event_type"));
    if (t.event_type.empty()) return Err(d, n["event_type"], "trigger.event_type is empty");
    if (n["filter"]) {
      CAIRN_ASSIGN_OR_RETURN(t.filter, StringMap(d, n["filter"], "trigger.filter"));
    }
    return Status::Ok();
  } else {
    return Err(d, n["type"],
               "trigger.type: '" + type +
                   "' is not a trigger; expected cron, recurrence, data_asset or event");
  }
  // Time-based: zone, then start/end (local to the zone unless they carry an offset).
  t.zone = TimeZone::Utc();
  if (n["time_zone"]) {
    CAIRN_ASSIGN_OR_RETURN(t.time_zone, Scalar(d, n["time_zone"], "trigger.time_zone"));
    auto zone = TimeZone::Load(t.time_zone, zoneinfo_dir);
    if (!zone.ok()) return Err(d, n["time_zone"], "trigger.time_zone: " + zone.status().message());
    t.zone = *zone;
  }
  for (const char* key : {"start_time", "end_time"}) {
    if (!n[key]) continue;
    CAIRN_ASSIGN_OR_RETURN(std::string text, Scalar(d, n[key], std::string("trigger.") + key));
    auto ms = ParseDateTime(text, *t.zone);
    if (!ms.ok())
      return Err(d, n[key], std::string("trigger.") + key + ": " + ms.status().message());
    (std::string(key) == "start_time" ? t.start_ms : t.end_ms) = *ms;
  }
  if (t.start_ms && t.end_ms && *t.end_ms <= *t.start_ms) {
    return Err(d, n["end_time"], "trigger.end_time is not after start_time");
  }
  return Status::Ok();
}

// ---- firing ----

// The first local minute on a matching day at or after `lower_ms`, converted
// to UTC, scanning at most `max_days` days.
template <typename DayMatches>
std::optional<int64_t> NextLocal(const TimeZone& zone, int64_t lower_ms,
                                 const std::vector<int>& hours, const std::vector<int>& minutes,
                                 DayMatches day_matches, int64_t max_days) {
  int64_t lower_s = FloorDiv(lower_ms + 999, 1000);  // fire times are whole minutes
  int64_t local = lower_s + zone.OffsetAt(lower_s);
  // Start a day early: a local time in a fall-back overlap can map before `local`.
  int64_t first_day = FloorDiv(local, kDay) - 1;
  for (int64_t day = first_day; day <= first_day + max_days; ++day) {
    if (!day_matches(day)) continue;
    for (int h : hours) {
      for (int m : minutes) {
        int64_t u = zone.LocalToUtc(day * kDay + h * 3600 + m * 60);
        if (u * 1000 >= lower_ms) return u * 1000;
      }
    }
  }
  return std::nullopt;
}

std::vector<int> Bits(const auto& bits, int lo) {
  std::vector<int> out;
  for (size_t i = lo; i < bits.size(); ++i) {
    if (bits[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

}  // namespace

// ---- cron ----

Result<CronSpec> ParseCron(std::string_view expression) {
  std::vector<std::string> fields;
  std::stringstream ss{std::string(expression)};
  for (std::string f; ss >> f;) fields.push_back(f);
  if (fields.size() != 5) {
    return InvalidParameter("'" + std::string(expression) + "' has " +
                            std::to_string(fields.size()) +
                            " fields; a cron expression has 5: minute hour day-of-month month "
                            "day-of-week (e.g. \"0 6 * * MON-FRI\")");
  }
  CronSpec c;
  bool star = false;
  std::vector<bool> bits(60);
  CAIRN_RETURN_IF_ERROR(CronField(fields[0], "minute", 0, 59, nullptr, 0, 0, bits, &star));
  for (int i = 0; i < 60; ++i) c.minutes[i] = bits[i];
  bits.assign(60, false);
  CAIRN_RETURN_IF_ERROR(CronField(fields[1], "hour", 0, 23, nullptr, 0, 0, bits, &star));
  for (int i = 0; i < 24; ++i) c.hours[i] = bits[i];
  bits.assign(60, false);
  CAIRN_RETURN_IF_ERROR(CronField(fields[2], "day-of-month", 1, 31, nullptr, 0, 0, bits, &star));
  for (int i = 1; i < 32; ++i) c.days_of_month[i] = bits[i];
  c.any_day_of_month = star;
  bits.assign(60, false);
  CAIRN_RETURN_IF_ERROR(CronField(fields[3], "month", 1, 12, kMonthNames, 1, 12, bits, &star));
  for (int i = 1; i < 13; ++i) c.months[i] = bits[i];
  bits.assign(60, false);
  CAIRN_RETURN_IF_ERROR(CronField(fields[4], "day-of-week", 0, 7, kDayNames, 0, 7, bits, &star));
  for (int i = 0; i < 7; ++i) c.days_of_week[i] = bits[i];
  if (bits[7]) c.days_of_week[0] = true;  // 7 is Sunday too
  c.any_day_of_week = star;
  return c;
}

// ---- TimeZone ----

std::shared_ptr<const TimeZone> TimeZone::Utc() {
  static const auto utc = [] {
    auto z = std::make_shared<TimeZone>();
    z->name_ = "UTC";
    return std::shared_ptr<const TimeZone>(z);
  }();
  return utc;
}

Result<TimeZone::PosixRule> TimeZone::ParsePosixRule(std::string_view text) {
  PosixRule r;
  std::string_view s = text;
  auto bad = [&text](const std::string& why) {
    return InvalidParameter("time zone rule '" + std::string(text) + "': " + why);
  };
  if (!SkipZoneName(s)) return bad("no standard time name");
  int32_t off = 0;
  if (!ParseHms(s, &off)) return bad("no UTC offset");
  r.std_offset = -off;  // POSIX offsets are west of UTC
  if (s.empty()) return r;
  if (!SkipZoneName(s)) return bad("bad daylight time name");
  r.has_dst = true;
  r.dst_offset = r.std_offset + 3600;
  if (!s.empty() && s[0] != ',') {
    if (!ParseHms(s, &off)) return bad("bad daylight offset");
    r.dst_offset = -off;
  }
  if (s.empty()) {
    // No rule given: the US rule is POSIX's customary default.
    s = ",M3.2.0,M11.1.0";
  }
  if (s[0] != ',') return bad("expected ',start,end'");
  s.remove_prefix(1);
  if (!ParseWhen(s, &r.start)) return bad("bad start rule");
  if (s.empty() || s[0] != ',') return bad("expected ',end'");
  s.remove_prefix(1);
  if (!ParseWhen(s, &r.end)) return bad("bad end rule");
  if (!s.empty()) return bad("unexpected text '" + std::string(s) + "'");
  return r;
}

std::optional<std::string> IanaZoneForWindowsName(const std::string& name) {
  if (name.empty() || name.size() > 128) return std::nullopt;
  std::u16string windows;
  for (char c : name) {
    if (static_cast<unsigned char>(c) >= 0x80) return std::nullopt;  // Windows ids are ASCII
    windows.push_back(static_cast<char16_t>(c));
  }
  UChar iana[128];
  UErrorCode status = U_ZERO_ERROR;
  // No region: the CLDR "001" (territory-independent) mapping.
  int32_t n = ucal_getTimeZoneIDForWindowsID(reinterpret_cast<const UChar*>(windows.data()),
                                             static_cast<int32_t>(windows.size()), nullptr, iana,
                                             128, &status);
  if (U_FAILURE(status) || n <= 0 || n >= 128) return std::nullopt;
  std::string out;
  for (int32_t i = 0; i < n; ++i) out.push_back(static_cast<char>(iana[i]));
  return out;
}

Result<std::shared_ptr<const TimeZone>> TimeZone::Load(const std::string& name,
                                                       const std::string& zoneinfo_dir) {
  if (name == "UTC" || name == "Etc/UTC" || name == "Z" || name == "GMT") return Utc();
  // A Windows name (Azure ML's examples use "Pacific Standard Time"): its IANA zone.
  if (name.find(' ') != std::string::npos || !fs::exists(fs::path(zoneinfo_dir) / name)) {
    if (auto iana = IanaZoneForWindowsName(name); iana && *iana != name) {
      return Load(*iana, zoneinfo_dir);
    }
  }
  // The name must stay inside zoneinfo_dir.
  bool ok_name = !name.empty() && name[0] != '/' && name.find("..") == std::string::npos;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '/' && c != '_' && c != '-' &&
        c != '+') {
      ok_name = false;
    }
  }
  if (!ok_name)
    return InvalidParameter(
        "'" + name +
        "' is not a time zone name; use UTC, an IANA name such as Europe/Berlin or a Windows name "
        "such as 'W. Europe Standard Time'");
  std::ifstream f(fs::path(zoneinfo_dir) / name, std::ios::binary);
  if (!f) {
    return InvalidParameter("unknown time zone '" + name +
                            "'; use UTC, an IANA name such as America/New_York or a Windows "
                            "name such as 'Pacific Standard Time'");
  }
  std::string data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto bad = [&name](const std::string& why) {
    return InvalidParameter("time zone file for '" + name + "' is damaged: " + why);
  };
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t size = data.size();
  if (size < 44 || data.compare(0, 4, "TZif") != 0) return bad("no TZif header");
  auto counts = [&](size_t at, int64_t c[6]) {
    for (int i = 0; i < 6; ++i) c[i] = ReadBe(p + at + 20 + 4 * i, 4);
  };
  int64_t c[6];  // isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt
  counts(0, c);
  char version = data[4];
  int time_size = 4;
  size_t at = 44;
  auto block_size = [&](int ts) {
    return c[3] * ts + c[3] + c[4] * 6 + c[5] + c[2] * (ts + 4) + c[1] + c[0];
  };
  if (version >= '2') {
    at += block_size(4);
    if (at + 44 > size || data.compare(at, 4, "TZif") != 0) return bad("no second header");
    counts(at, c);
    at += 44;
    time_size = 8;
  }
  if (c[4] < 1 || at + block_size(time_size) > size) return bad("truncated");
  auto z = std::make_shared<TimeZone>();
  z->name_ = name;
  const unsigned char* times = p + at;
  const unsigned char* idx = times + c[3] * time_size;
  const unsigned char* types = idx + c[3];
  auto type_offset = [&](int i) { return static_cast<int32_t>(ReadBe(types + 6 * i, 4)); };
  z->initial_offset_ = type_offset(0);
  for (int64_t i = 0; i < c[3]; ++i) {
    if (idx[i] >= c[4]) return bad("type index out of range");
    z->transitions_.push_back(ReadBe(times + i * time_size, time_size));
    z->offsets_.push_back(type_offset(idx[i]));
  }
  if (version >= '2') {
    size_t footer = at + block_size(time_size);
    if (footer < size && data[footer] == '\n') {
      size_t end = data.find('\n', footer + 1);
      if (end != std::string::npos && end > footer + 1) {
        auto rule = ParsePosixRule(std::string_view(data).substr(footer + 1, end - footer - 1));
        if (!rule.ok()) return bad(rule.status().message());
        z->rule_ = *rule;
      }
    }
  }
  return std::shared_ptr<const TimeZone>(z);
}

int32_t TimeZone::RuleOffset(int64_t t) const {
  const PosixRule& r = *rule_;
  if (!r.has_dst) return r.std_offset;
  int64_t year = CivilFromDays(FloorDiv(t + r.std_offset, kDay)).year;
  // Start is given in standard time, end in daylight time.
  int64_t start = RuleDay(r.start, year) * kDay + r.start.time - r.std_offset;
  int64_t end = RuleDay(r.end, year) * kDay + r.end.time - r.dst_offset;
  bool dst = start < end ? (t >= start && t < end) : !(t >= end && t < start);
  return dst ? r.dst_offset : r.std_offset;
}

int32_t TimeZone::OffsetAt(int64_t t) const {
  if (transitions_.empty()) return rule_ ? RuleOffset(t) : initial_offset_;
  if (t < transitions_.front()) return initial_offset_;
  if (t >= transitions_.back() && rule_) return RuleOffset(t);
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  return offsets_[it - transitions_.begin() - 1];
}

int64_t TimeZone::LocalToUtc(int64_t local) const {
  // Offsets a day either side; transitions are far more than two days apart.
  int32_t a = OffsetAt(local - kDay), b = OffsetAt(local + kDay);
  int64_t ua = local - a, ub = local - b;
  bool va = OffsetAt(ua) == a, vb = OffsetAt(ub) == b;
  if (va && vb) return std::min(ua, ub);  // overlap: the first occurrence
  if (va) return ua;
  if (vb) return ub;
  // A gap (b > a): the local time does not exist; fire when the gap ends,
  // i.e. at the transition, the first instant in (ub, ua] with offset != a.
  int64_t lo = ub, hi = ua;
  while (hi - lo > 1) {
    int64_t mid = lo + (hi - lo) / 2;
    (OffsetAt(mid) == a ? lo : hi) = mid;
  }
  return hi;
}

// ---- dates ----

Result<int64_t> ParseDateTime(std::string_view text, const TimeZone& zone) {
  auto bad = [&text] {
    return InvalidParameter("'" + std::string(text) +
                            "' is not a date-time; expected YYYY-MM-DDTHH:MM[:SS] with an optional "
                            "Z or +hh:mm (without one it is local to time_zone)");
  };
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  std::string str(text);
  int n = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10) return bad();
  size_t pos = 10;
  if (pos < str.size()) {
    if (str[pos] != 'T' && str[pos] != ' ') return bad();
    int m = 0;
    if (std::sscanf(str.c_str() + pos + 1, "%2d:%2d%n", &h, &mi, &m) != 2 || m != 5) return bad();
    pos += 6;
    if (pos < str.size() && str[pos] == ':') {
      if (std::sscanf(str.c_str() + pos + 1, "%2d%n", &s, &m) != 1 || m != 2) return bad();
      pos += 3;
      if (pos < str.size() && str[pos] == '.') {
        ++pos;
        while (pos < str.size() && std::isdigit(static_cast<unsigned char>(str[pos]))) ++pos;
      }
    }
  }
  if (mo < 1 || mo > 12 || d < 1 || d > static_cast<int>(DaysInMonth(y, mo)) || h > 23 || mi > 59 ||
      s > 59) {
    return bad();
  }
  int64_t local = DaysFromCivil(y, mo, d) * kDay + h * 3600 + mi * 60 + s;
  if (pos == str.size()) return zone.LocalToUtc(local) * 1000;
  std::string_view rest = std::string_view(str).substr(pos);
  if (rest == "Z") return local * 1000;
  // ±hh:mm or ±hhmm, as ISO 8601 writes offsets.
  auto digits = [&rest](size_t from, size_t n) {
    for (size_t i = from; i < from + n; ++i) {
      if (i >= rest.size() || !std::isdigit(static_cast<unsigned char>(rest[i]))) return false;
    }
    return true;
  };
  bool iso = (rest[0] == '+' || rest[0] == '-') &&
             ((rest.size() == 6 && digits(1, 2) && rest[3] == ':' && digits(4, 2)) ||
              (rest.size() == 5 && digits(1, 4)));
  if (!iso) return bad();
  int32_t off = ((rest[1] - '0') * 10 + (rest[2] - '0')) * 3600 +
                ((rest[rest.size() - 2] - '0') * 10 + (rest.back() - '0')) * 60;
  if (rest[0] == '-') off = -off;
  return (local - off) * 1000;
}

namespace {
std::string FormatWithOffset(int64_t ms, int32_t offset, bool z) {
  int64_t s = FloorDiv(ms, 1000) + offset;
  Civil c = CivilFromDays(FloorDiv(s, kDay));
  int64_t sod = FloorMod(s, kDay);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02lld:%02lld:%02lld",
                static_cast<long long>(c.year), c.month, c.day, static_cast<long long>(sod / 3600),
                static_cast<long long>(sod / 60 % 60), static_cast<long long>(sod % 60));
  std::string out = buf;
  if (z) return out + "Z";
  int32_t a = offset < 0 ? -offset : offset;
  std::snprintf(buf, sizeof buf, "%c%02d:%02d", offset < 0 ? '-' : '+', a / 3600, a / 60 % 60);
  return out + buf;
}
}  // namespace

std::string FormatUtc(int64_t ms) { return FormatWithOffset(ms, 0, true); }
std::string FormatLocal(int64_t ms, const TimeZone& zone) {
  return FormatWithOffset(ms, zone.OffsetAt(FloorDiv(ms, 1000)), false);
}

// ---- NextFireTime ----

std::optional<int64_t> NextFireTime(const Trigger& t, int64_t after_ms) {
  if (!t.is_time_based()) return std::nullopt;
  const TimeZone& zone = t.zone ? *t.zone : *TimeZone::Utc();
  int64_t lower = after_ms + 1;
  if (t.start_ms && *t.start_ms > lower) lower = *t.start_ms;
  std::optional<int64_t> next;
  constexpr int64_t kMaxDays = 366 * 10;
  // Recurrences look further (an interval may be years) but stay bounded:
  // a day-by-day scan of 400 years is ~146k cheap checks.
  constexpr int64_t kMaxRecurrenceDays = 366 * 400;
  if (t.type == Trigger::Type::kCron) {
    const CronSpec& c = t.cron;
    auto day_matches = [&c](int64_t day) {
      Civil cv = CivilFromDays(day);
      if (!c.months[cv.month]) return false;
      bool dom = c.days_of_month[cv.day], dow = c.days_of_week[WeekdayFromDays(day)];
      if (c.any_day_of_month && c.any_day_of_week) return true;
      if (c.any_day_of_month) return dow;
      if (c.any_day_of_week) return dom;
      return dom || dow;  // both restricted: either matches (Vixie cron)
    };
    next = NextLocal(zone, lower, Bits(c.hours, 0), Bits(c.minutes, 0), day_matches, kMaxDays);
  } else if (t.frequency == "minute" || t.frequency == "hour") {
    int64_t period = t.interval * (t.frequency == "minute" ? 60 : 3600) * 1000;
    int64_t anchor = t.start_ms.value_or(0);
    int64_t k = lower <= anchor ? 0 : FloorDiv(lower - anchor + period - 1, period);
    next = anchor + k * period;
  } else {
    // day / week / month: local times; defaults come from start_time's local
    // wall clock (midnight UTC-epoch when there is none).
    int64_t start_local =
        t.start_ms ? FloorDiv(*t.start_ms, 1000) + zone.OffsetAt(FloorDiv(*t.start_ms, 1000)) : 0;
    int64_t anchor_day = FloorDiv(start_local, kDay);
    int64_t sod = FloorMod(start_local, kDay);
    std::vector<int> hours =
        t.hours.empty() ? std::vector<int>{static_cast<int>(sod / 3600)} : t.hours;
    std::vector<int> minutes =
        t.minutes.empty() ? std::vector<int>{static_cast<int>(sod / 60 % 60)} : t.minutes;
    const int64_t interval = t.interval;
    if (t.frequency == "day") {
      next = NextLocal(
          zone, lower, hours, minutes,
          [&](int64_t day) { return day >= anchor_day && (day - anchor_day) % interval == 0; },
          kMaxRecurrenceDays);
    } else if (t.frequency == "week") {
      std::vector<int> week_days =
          t.week_days.empty() ? std::vector<int>{WeekdayFromDays(anchor_day)} : t.week_days;
      // Weeks run Monday..Sunday; week 0 holds the start day.
      int64_t anchor_monday = anchor_day - FloorMod(WeekdayFromDays(anchor_day) - 1, 7);
      next = NextLocal(
          zone, lower, hours, minutes,
          [&](int64_t day) {
            if (day < anchor_day) return false;
            if (std::find(week_days.begin(), week_days.end(), WeekdayFromDays(day)) ==
                week_days.end())
              return false;
            return FloorDiv(day - anchor_monday, 7) % interval == 0;
          },
          kMaxRecurrenceDays);
    } else {
      Civil a = CivilFromDays(anchor_day);
      std::vector<int> month_days =
          t.month_days.empty() ? std::vector<int>{static_cast<int>(a.day)} : t.month_days;
      next = NextLocal(
          zone, lower, hours, minutes,
          [&](int64_t day) {
            if (day < anchor_day) return false;
            Civil cv = CivilFromDays(day);
            int64_t months = (cv.year - a.year) * 12 + (static_cast<int64_t>(cv.month) - a.month);
            if (months % interval != 0) return false;
            return std::find(month_days.begin(), month_days.end(), static_cast<int>(cv.day)) !=
                   month_days.end();
          },
          kMaxRecurrenceDays);
    }
  }
  if (!next || (t.end_ms && *next > *t.end_ms)) return std::nullopt;
  return next;
}

// ---- the schedule file ----

Result<ScheduleSpec> ParseScheduleSpec(const std::string& yaml_text, const std::string& file,
                                       const std::string& base_dir, const std::string& zoneinfo_dir,
                                       ComponentSource* components) {
  Doc d{file, fs::path(base_dir)};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Err(d, e.mark, "not valid YAML: " + e.msg);
  }
  CAIRN_RETURN_IF_ERROR(CheckMap(
      d, root, {"$schema", "name", "display_name", "description", "tags", "trigger", "create_job"},
      "a schedule"));
  ScheduleSpec s;
  if (!root["name"]) return Err(d, root, "a schedule needs a name");
  CAIRN_ASSIGN_OR_RETURN(s.name, Scalar(d, root["name"], "name"));
  bool ok_name = !s.name.empty() && s.name.size() <= 255 &&
                 std::isalnum(static_cast<unsigned char>(s.name[0]));
  for (char c : s.name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') ok_name = false;
  }
  if (!ok_name)
    return Err(d, root["name"],
               "name '" + s.name + "' is not valid; use letters, digits, '_' and '-'");
  if (root["display_name"]) {
    CAIRN_ASSIGN_OR_RETURN(s.display_name, Scalar(d, root["display_name"], "display_name"));
  }
  if (root["description"]) {
    CAIRN_ASSIGN_OR_RETURN(s.description, Scalar(d, root["description"], "description"));
  }
  if (root["tags"]) {
    CAIRN_ASSIGN_OR_RETURN(s.tags, StringMap(d, root["tags"], "tags"));
  }
  if (!root["trigger"])
    return Err(d, root,
               "a schedule needs a trigger: {type: cron|recurrence|data_asset|event, ...}");
  CAIRN_RETURN_IF_ERROR(ParseTrigger(d, root["trigger"], zoneinfo_dir, s.trigger));
  const YAML::Node job = root["create_job"];
  if (!job)
    return Err(d, root, "a schedule needs create_job: a job file (./job.yml) or an inline job");
  if (job.IsScalar()) {
    std::string path = job.Scalar();
    if (path.rfind("azureml:", 0) == 0) {
      return Err(
          d, job,
          "create_job: '" + path +
              "' refers to an existing job, which Cairn cannot copy; give the job's YAML file");
    }
    if (path.rfind("file:", 0) == 0) path = path.substr(5);
    fs::path p = fs::path(path).is_absolute() ? fs::path(path) : d.dir / path;
    s.create_job_file = p.lexically_normal().string();
    std::ifstream f(s.create_job_file, std::ios::binary);
    if (!f) return Err(d, job, "create_job: cannot read '" + s.create_job_file + "'");
    auto plan = LoadJobSpec(s.create_job_file, {}, components);
    if (!plan.ok()) return plan.status();
    s.job = std::move(*plan);
  } else if (job.IsMap()) {
    auto plan = ParseJobNode(job, file, base_dir, yaml_text, {}, components);
    if (!plan.ok()) return plan.status();
    s.job = std::move(*plan);
  } else {
    return Err(d, job, "create_job must be a job file path or an inline job");
  }
  return s;
}

Result<ScheduleSpec> LoadScheduleSpec(const std::string& file, const std::string& zoneinfo_dir,
                                      ComponentSource* components) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return InvalidParameter("cannot read " + file + ": no such file or not readable");
  std::stringstream ss;
  ss << f.rdbuf();
  return ParseScheduleSpec(ss.str(), file, fs::absolute(fs::path(file)).parent_path().string(),
                           zoneinfo_dir, components);
}

}  // namespace cairn::pipeline
