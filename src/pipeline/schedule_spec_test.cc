// Tests for pipeline/schedule_spec: cron parsing, TZif time zones and their
// POSIX rules, the DST gap/overlap policy, NextFireTime for cron and every
// recurrence frequency (a fake clock: plain timestamps), and the schedule YAML.
#include "pipeline/schedule_spec.h"

#include <gtest/gtest.h>

namespace cairn::pipeline {
namespace {

const std::string kDir = std::string(CAIRN_SOURCE_DIR) + "/src/pipeline/testdata/schedules";

int64_t Utc(const std::string& text) {
  auto r = ParseDateTime(text, *TimeZone::Utc());
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().message();
  return r.ok() ? *r : 0;
}

std::shared_ptr<const TimeZone> Zone(const std::string& name) {
  auto z = TimeZone::Load(name);
  EXPECT_TRUE(z.ok()) << z.status().message();
  return z.ok() ? *z : TimeZone::Utc();
}

Trigger Cron(const std::string& expr, const std::string& zone = "UTC") {
  Trigger t;
  t.type = Trigger::Type::kCron;
  auto c = ParseCron(expr);
  EXPECT_TRUE(c.ok()) << c.status().message();
  if (c.ok()) t.cron = *c;
  t.expression = expr;
  t.time_zone = zone;
  t.zone = Zone(zone);
  return t;
}

// The next fire time as "YYYY-MM-DDTHH:MM:SSZ", or "never".
std::string Next(const Trigger& t, const std::string& after) {
  auto n = NextFireTime(t, Utc(after));
  return n ? FormatUtc(*n) : "never";
}

TEST(CronTest, Fields) {
  auto c = ParseCron("*/15 0-6/2 1,15 JAN-MAR,dec SUN,sat");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->minutes.count(), 4u);
  EXPECT_TRUE(c->minutes[0] && c->minutes[15] && c->minutes[30] && c->minutes[45]);
  EXPECT_EQ(c->hours.count(), 4u);
  EXPECT_TRUE(c->hours[0] && c->hours[2] && c->hours[4] && c->hours[6]);
  EXPECT_TRUE(c->days_of_month[1] && c->days_of_month[15]);
  EXPECT_EQ(c->days_of_month.count(), 2u);
  EXPECT_TRUE(c->months[1] && c->months[2] && c->months[3] && c->months[12]);
  EXPECT_EQ(c->months.count(), 4u);
  EXPECT_TRUE(c->days_of_week[0] && c->days_of_week[6]);
  EXPECT_FALSE(c->any_day_of_month);
  EXPECT_FALSE(c->any_day_of_week);
  auto sunday = ParseCron("0 0 * * 7");
  ASSERT_TRUE(sunday.ok());
  EXPECT_TRUE(sunday->days_of_week[0]);
  EXPECT_TRUE(sunday->any_day_of_month);
  auto from = ParseCron("5/20 * * * *");
  ASSERT_TRUE(from.ok());
  EXPECT_TRUE(from->minutes[5] && from->minutes[25] && from->minutes[45]);
  EXPECT_EQ(from->minutes.count(), 3u);
}

TEST(CronTest, Errors) {
  for (const char* bad : {"* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
                          "* * * 13 *", "* * * * 8", "5-1 * * * *", "*/0 * * * *", "a * * * *",
                          "* * * FOO *", "1,,2 * * * *", ""}) {
    auto c = ParseCron(bad);
    EXPECT_FALSE(c.ok()) << "'" << bad << "' was accepted";
    if (!c.ok()) {
      EXPECT_EQ(c.status().code(), ErrorCode::kInvalidParameterValue);
    }
  }
  EXPECT_NE(ParseCron("61 * * * *").status().message().find("minute: 61 is outside 0-59"),
            std::string::npos);
  EXPECT_NE(ParseCron("* * *").status().message().find("has 3 fields"), std::string::npos);
}

TEST(TimeZoneTest, OffsetsFromTzifAndItsFooterRule) {
  auto ny = Zone("America/New_York");
  EXPECT_EQ(ny->OffsetAt(Utc("2024-01-15T12:00:00Z") / 1000), -5 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc("2024-07-15T12:00:00Z") / 1000), -4 * 3600);
  // Far past the file's transitions: the POSIX footer rule decides.
  EXPECT_EQ(ny->OffsetAt(Utc("2150-07-15T12:00:00Z") / 1000), -4 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc("2150-12-15T12:00:00Z") / 1000), -5 * 3600);
  // The exact switch: 2024-03-10 07:00 UTC (02:00 EST -> 03:00 EDT).
  EXPECT_EQ(ny->OffsetAt(Utc("2024-03-10T06:59:59Z") / 1000), -5 * 3600);
  EXPECT_EQ(ny->OffsetAt(Utc("2024-03-10T07:00:00Z") / 1000), -4 * 3600);
  // Southern hemisphere: summer in January.
  auto syd = Zone("Australia/Sydney");
  EXPECT_EQ(syd->OffsetAt(Utc("2024-01-15T00:00:00Z") / 1000), 11 * 3600);
  EXPECT_EQ(syd->OffsetAt(Utc("2024-07-15T00:00:00Z") / 1000), 10 * 3600);
  EXPECT_EQ(syd->OffsetAt(Utc("2150-01-15T00:00:00Z") / 1000), 11 * 3600);
  EXPECT_EQ(syd->OffsetAt(Utc("2150-07-15T00:00:00Z") / 1000), 10 * 3600);
  EXPECT_EQ(Zone("Asia/Kolkata")->OffsetAt(Utc("2024-01-01T00:00:00Z") / 1000), 19800);
  EXPECT_EQ(TimeZone::Utc()->OffsetAt(0), 0);
  EXPECT_EQ(Zone("Etc/UTC")->name(), "UTC");
}

TEST(TimeZoneTest, BadNames) {
  EXPECT_NE(TimeZone::Load("Mars/Olympus").status().message().find("unknown time zone"),
            std::string::npos);
  // Windows names are mapped (WindowsTimeZoneTest); an unknown one is refused.
  EXPECT_NE(TimeZone::Load("Mars Standard Time").status().message().find("not a time zone name"),
            std::string::npos);
  EXPECT_FALSE(TimeZone::Load("../../etc/passwd").ok());
  EXPECT_FALSE(TimeZone::Load("/etc/localtime").ok());
  // A file that is not TZif.
  auto damaged = TimeZone::Load("Broken/Zone", kDir + "/../zoneinfo");
  ASSERT_FALSE(damaged.ok());
  EXPECT_NE(damaged.status().message().find("damaged"), std::string::npos);
}

TEST(TimeZoneTest, PosixRules) {
  auto us = TimeZone::ParsePosixRule("EST5EDT,M3.2.0,M11.1.0");
  ASSERT_TRUE(us.ok()) << us.status().message();
  EXPECT_EQ(us->std_offset, -18000);
  EXPECT_EQ(us->dst_offset, -14400);
  EXPECT_TRUE(us->has_dst);
  EXPECT_EQ(us->start.month, 3);
  EXPECT_EQ(us->start.week, 2);
  EXPECT_EQ(us->end.time, 7200);
  auto plain = TimeZone::ParsePosixRule("<+03>-3");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->std_offset, 3 * 3600);
  EXPECT_FALSE(plain->has_dst);
  auto israel = TimeZone::ParsePosixRule("IST-2IDT,M3.4.4/26,M10.5.0");
  ASSERT_TRUE(israel.ok());
  EXPECT_EQ(israel->start.time, 26 * 3600);
  auto julian = TimeZone::ParsePosixRule("XST3XDT,J60/1:30,300");
  ASSERT_TRUE(julian.ok());
  EXPECT_EQ(julian->start.kind, 'J');
  EXPECT_EQ(julian->start.time, 5400);
  EXPECT_EQ(julian->end.kind, 'N');
  for (const char* bad : {"", "E5", "EST", "EST5EDT,M13.1.0,M11.1.0", "EST5EDT,M3.2.0",
                          "EST5EDT,M3.2.0,M11.1.0junk"}) {
    EXPECT_FALSE(TimeZone::ParsePosixRule(bad).ok()) << bad;
  }
}

TEST(TimeZoneTest, GapAndOverlapPolicy) {
  auto ny = Zone("America/New_York");
  auto local = [](const std::string& t) { return Utc(t + "Z") / 1000; };
  // 02:30 does not exist on 2024-03-10: it maps to the end of the gap (03:00 EDT).
  EXPECT_EQ(FormatUtc(ny->LocalToUtc(local("2024-03-10T02:30:00")) * 1000), "2024-03-10T07:00:00Z");
  // 01:30 happens twice on 2024-11-03: the first (EDT) occurrence.
  EXPECT_EQ(FormatUtc(ny->LocalToUtc(local("2024-11-03T01:30:00")) * 1000), "2024-11-03T05:30:00Z");
  EXPECT_EQ(FormatUtc(ny->LocalToUtc(local("2024-11-03T03:00:00")) * 1000), "2024-11-03T08:00:00Z");
  EXPECT_EQ(FormatLocal(Utc("2024-11-03T08:00:00Z"), *ny), "2024-11-03T03:00:00-05:00");
}

TEST(ScheduleTimeTest, ParseAndFormat) {
  EXPECT_EQ(Utc("2024-03-10T07:00:00Z"), 1710054000000);
  EXPECT_EQ(Utc("2024-03-10T07:00Z"), 1710054000000);
  EXPECT_EQ(Utc("2024-03-10T09:00:00+02:00"), 1710054000000);
  EXPECT_EQ(Utc("2024-03-10T01:30:00-0530"), 1710054000000);
  EXPECT_EQ(Utc("2024-03-10T07:00:00.250Z"), 1710054000000);
  EXPECT_EQ(Utc("2024-03-10"), 1710028800000);
  EXPECT_EQ(FormatUtc(1710054000000), "2024-03-10T07:00:00Z");
  // Without an offset the time is local to the zone.
  auto ny = Zone("America/New_York");
  auto local = ParseDateTime("2024-03-10T03:00:00", *ny);
  ASSERT_TRUE(local.ok());
  EXPECT_EQ(*local, 1710054000000);
  for (const char* bad : {"2024-13-01", "2024-02-30T00:00", "yesterday", "2024-03-10T25:00",
                          "2024-03-10T07:00:00+2", "2024-03-10X07:00"}) {
    EXPECT_FALSE(ParseDateTime(bad, *TimeZone::Utc()).ok()) << bad;
  }
}

TEST(NextFireTimeTest, CronUtc) {
  EXPECT_EQ(Next(Cron("*/15 * * * *"), "2024-01-01T10:07:00Z"), "2024-01-01T10:15:00Z");
  // Strictly after: a fire time equal to `after` is not repeated.
  EXPECT_EQ(Next(Cron("*/15 * * * *"), "2024-01-01T10:15:00Z"), "2024-01-01T10:30:00Z");
  EXPECT_EQ(Next(Cron("*/15 * * * *"), "2024-01-01T10:14:59.500Z"), "2024-01-01T10:15:00Z");
  // Weekdays only: Friday morning -> Monday.
  EXPECT_EQ(Next(Cron("0 6 * * MON-FRI"), "2024-03-08T07:00:00Z"), "2024-03-11T06:00:00Z");
  // Both day fields restricted: either matches. 2024-09-13 is a Friday the 13th;
  // from 2024-09-01 the next Friday (the 6th) comes first.
  EXPECT_EQ(Next(Cron("0 0 13 * FRI"), "2024-09-01T00:00:00Z"), "2024-09-06T00:00:00Z");
  EXPECT_EQ(Next(Cron("0 0 13 * *"), "2024-09-01T00:00:00Z"), "2024-09-13T00:00:00Z");
  // Leap day; end of month and year rollover.
  EXPECT_EQ(Next(Cron("0 0 29 2 *"), "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  EXPECT_EQ(Next(Cron("59 23 31 12 *"), "2024-12-31T23:59:00Z"), "2025-12-31T23:59:00Z");
  // A date that never comes.
  EXPECT_EQ(Next(Cron("0 0 31 2 *"), "2024-01-01T00:00:00Z"), "never");
}

TEST(NextFireTimeTest, StartAndEnd) {
  Trigger t = Cron("0 * * * *");
  t.start_ms = Utc("2024-05-01T12:00:00Z");
  t.end_ms = Utc("2024-05-01T14:00:00Z");
  EXPECT_EQ(Next(t, "2024-01-01T00:00:00Z"), "2024-05-01T12:00:00Z");
  EXPECT_EQ(Next(t, "2024-05-01T12:00:00Z"), "2024-05-01T13:00:00Z");
  EXPECT_EQ(Next(t, "2024-05-01T13:00:00Z"), "2024-05-01T14:00:00Z");
  EXPECT_EQ(Next(t, "2024-05-01T14:00:00Z"), "never");
  Trigger event;
  event.type = Trigger::Type::kEvent;
  EXPECT_FALSE(NextFireTime(event, 0).has_value());
}

TEST(NextFireTimeTest, CronAcrossDst) {
  // 02:30 every day in New York. 2024-03-10 has no 02:30: it fires at 03:00
  // EDT (07:00 UTC), then at 02:30 EDT the day after.
  Trigger t = Cron("30 2 * * *", "America/New_York");
  EXPECT_EQ(Next(t, "2024-03-09T08:00:00Z"), "2024-03-10T07:00:00Z");
  EXPECT_EQ(Next(t, "2024-03-10T07:00:00Z"), "2024-03-11T06:30:00Z");
  // 01:30 happens twice on 2024-11-03: it fires once, at the first.
  Trigger f = Cron("30 1 * * *", "America/New_York");
  EXPECT_EQ(Next(f, "2024-11-03T00:00:00Z"), "2024-11-03T05:30:00Z");
  EXPECT_EQ(Next(f, "2024-11-03T05:30:00Z"), "2024-11-04T06:30:00Z");
  // Every 30 minutes through the fall-back hour: the repeated hour is not
  // fired again (local times already passed).
  Trigger h = Cron("0,30 * * * *", "America/New_York");
  EXPECT_EQ(Next(h, "2024-11-03T05:30:00Z"), "2024-11-03T07:00:00Z");
  // Sydney: 09:00 local is 22:00 UTC the day before in January (AEDT).
  EXPECT_EQ(Next(Cron("0 9 * * *", "Australia/Sydney"), "2024-01-15T00:00:00Z"),
            "2024-01-15T22:00:00Z");
  EXPECT_EQ(Next(Cron("0 9 * * *", "Australia/Sydney"), "2024-07-15T00:00:00Z"),
            "2024-07-15T23:00:00Z");
}

Trigger Recurrence(const std::string& freq, int64_t interval, const std::string& start) {
  Trigger t;
  t.type = Trigger::Type::kRecurrence;
  t.frequency = freq;
  t.interval = interval;
  t.zone = TimeZone::Utc();
  if (!start.empty()) t.start_ms = Utc(start);
  return t;
}

TEST(NextFireTimeTest, RecurrenceMinuteAndHour) {
  Trigger m = Recurrence("minute", 15, "2024-01-01T00:05:00Z");
  EXPECT_EQ(Next(m, "2023-12-01T00:00:00Z"), "2024-01-01T00:05:00Z");
  EXPECT_EQ(Next(m, "2024-01-01T01:00:00Z"), "2024-01-01T01:05:00Z");
  EXPECT_EQ(Next(m, "2024-01-01T01:05:00Z"), "2024-01-01T01:20:00Z");
  Trigger h = Recurrence("hour", 5, "2024-01-01T00:00:00Z");
  EXPECT_EQ(Next(h, "2024-01-02T00:00:00Z"), "2024-01-02T01:00:00Z");
  // No start_time: aligned on the epoch.
  Trigger e = Recurrence("hour", 1, "");
  EXPECT_EQ(Next(e, "2024-01-02T00:10:00Z"), "2024-01-02T01:00:00Z");
}

TEST(NextFireTimeTest, RecurrenceDayWeekMonth) {
  Trigger d = Recurrence("day", 2, "2024-01-01T00:00:00Z");
  d.hours = {9};
  d.minutes = {0, 30};
  EXPECT_EQ(Next(d, "2024-01-01T09:10:00Z"), "2024-01-01T09:30:00Z");
  EXPECT_EQ(Next(d, "2024-01-01T09:30:00Z"), "2024-01-03T09:00:00Z");
  // Without a schedule, the start's time of day.
  Trigger d2 = Recurrence("day", 1, "2024-01-01T06:45:00Z");
  EXPECT_EQ(Next(d2, "2024-02-01T07:00:00Z"), "2024-02-02T06:45:00Z");
  // Every other week on Monday and Friday at 08:00; 2024-01-01 is a Monday.
  Trigger w = Recurrence("week", 2, "2024-01-01T00:00:00Z");
  w.week_days = {1, 5};
  w.hours = {8};
  w.minutes = {0};
  EXPECT_EQ(Next(w, "2024-01-01T00:00:00Z"), "2024-01-01T08:00:00Z");
  EXPECT_EQ(Next(w, "2024-01-01T08:00:00Z"), "2024-01-05T08:00:00Z");
  EXPECT_EQ(Next(w, "2024-01-05T08:00:00Z"), "2024-01-15T08:00:00Z");
  // The 31st every month: months without one are skipped.
  Trigger mo = Recurrence("month", 1, "2024-01-01T00:00:00Z");
  mo.month_days = {31};
  mo.hours = {0};
  mo.minutes = {0};
  EXPECT_EQ(Next(mo, "2024-01-31T00:00:00Z"), "2024-03-31T00:00:00Z");
  EXPECT_EQ(Next(mo, "2024-03-31T00:00:00Z"), "2024-05-31T00:00:00Z");
  // A day no month in the cycle has: no fire time, found without a long search.
  Trigger never = Recurrence("month", 12, "2024-02-01T00:00:00Z");
  never.month_days = {30};
  never.interval = 100000;
  EXPECT_EQ(Next(never, "2024-03-01T00:00:00Z"), "never");
  // Every 3 months on the 1st.
  Trigger q = Recurrence("month", 3, "2024-02-01T12:00:00Z");
  EXPECT_EQ(Next(q, "2024-02-01T12:00:00Z"), "2024-05-01T12:00:00Z");
  // Local days: 08:00 in Berlin is 07:00 UTC in winter, 06:00 in summer.
  Trigger b = Recurrence("day", 1, "");
  b.zone = Zone("Europe/Berlin");
  b.hours = {8};
  b.minutes = {0};
  EXPECT_EQ(Next(b, "2024-01-10T12:00:00Z"), "2024-01-11T07:00:00Z");
  EXPECT_EQ(Next(b, "2024-07-10T12:00:00Z"), "2024-07-11T06:00:00Z");
}

TEST(ScheduleSpecTest, CronFileWithJobFile) {
  auto s = LoadScheduleSpec(kDir + "/cron_schedule.yml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->name, "nightly-train");
  EXPECT_EQ(s->display_name, "Nightly training");
  EXPECT_EQ(s->tags.at("owner"), "ml");
  EXPECT_EQ(s->trigger.type, Trigger::Type::kCron);
  EXPECT_EQ(s->trigger.time_zone, "America/New_York");
  // start_time has no offset: local to the zone (EST in March 1st).
  EXPECT_EQ(FormatUtc(*s->trigger.start_ms), "2024-03-01T05:00:00Z");
  EXPECT_NE(s->create_job_file.find("jobs/command_job.yml"), std::string::npos);
  EXPECT_EQ(s->job.name, "train-once");
  // 06:30 New York on weekdays; 2024-03-01 is a Friday.
  EXPECT_EQ(FormatUtc(*NextFireTime(s->trigger, 0)), "2024-03-01T11:30:00Z");
  EXPECT_EQ(FormatUtc(*NextFireTime(s->trigger, Utc("2024-03-01T11:30:00Z"))),
            "2024-03-04T11:30:00Z");
  EXPECT_FALSE(NextFireTime(s->trigger, Utc("2024-12-31T00:00:00Z")).has_value());
}

TEST(ScheduleSpecTest, RecurrenceWithInlineJob) {
  auto s = LoadScheduleSpec(kDir + "/recurrence_inline.yml");
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->trigger.type, Trigger::Type::kRecurrence);
  EXPECT_EQ(s->trigger.week_days, (std::vector<int>{1, 5}));
  EXPECT_EQ(s->trigger.hours, (std::vector<int>{8, 17}));
  EXPECT_EQ(s->job.experiment_name, "reports");
  EXPECT_TRUE(s->create_job_file.empty());
  EXPECT_EQ(FormatUtc(*NextFireTime(s->trigger, Utc("2024-01-01T08:00:00Z"))),
            "2024-01-01T17:00:00Z");
}

TEST(ScheduleSpecTest, DataAndEventTriggers) {
  auto d = LoadScheduleSpec(kDir + "/data_trigger.yml");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->trigger.type, Trigger::Type::kDataAsset);
  EXPECT_EQ(d->trigger.data_asset, "flights");
  EXPECT_EQ(d->job.type, "pipeline");
  auto e = LoadScheduleSpec(kDir + "/event_trigger.yml");
  ASSERT_TRUE(e.ok()) << e.status().message();
  EXPECT_EQ(e->trigger.type, Trigger::Type::kEvent);
  EXPECT_EQ(e->trigger.event_type, "DatasetDriftDetected");
  EXPECT_EQ(e->trigger.filter.at("dataset"), "flights");
}

std::string ScheduleError(const std::string& yaml) {
  auto s = ParseScheduleSpec(yaml, "s.yml", kDir);
  EXPECT_FALSE(s.ok());
  if (s.ok()) return "";
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidParameterValue);
  return s.status().message();
}

TEST(ScheduleSpecTest, Errors) {
  auto bad = LoadScheduleSpec(kDir + "/bad_expression.yml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("bad_expression.yml:4:15: trigger.expression: cron "
                                        "minute: 61 is outside 0-59"),
            std::string::npos)
      << bad.status().message();
  const std::string job = "create_job: ../jobs/command_job.yml\n";
  std::string msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *', "
      "timezone: UTC}\n" +
      job);
  EXPECT_NE(msg.find("unknown key 'timezone' in a cron trigger"), std::string::npos) << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *', time_zone: "
      "Nowhere/Land}\n" +
      job);
  EXPECT_NE(msg.find("unknown time zone 'Nowhere/Land'"), std::string::npos) << msg;
  msg = ScheduleError("name: a\ntrigger: {type: hourly}\n" + job);
  EXPECT_NE(msg.find("s.yml:2:17: trigger.type: 'hourly' is not a trigger"), std::string::npos)
      << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: recurrence, frequency: minute, interval: 5, "
      "schedule: {hours: 1}}\n" +
      job);
  EXPECT_NE(msg.find("applies to day, week and month"), std::string::npos) << msg;
  msg = ScheduleError("name: a\ntrigger: {type: recurrence, frequency: day, interval: 0}\n" + job);
  EXPECT_NE(msg.find("trigger.interval must be an integer from 1"), std::string::npos) << msg;
  msg = ScheduleError("name: a\ntrigger: {type: recurrence, frequency: fortnight, interval: 1}\n" +
                      job);
  EXPECT_NE(msg.find("'fortnight' is not one of"), std::string::npos) << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: recurrence, frequency: week, interval: 1, "
      "schedule: {week_days: [funday]}}\n" +
      job);
  EXPECT_NE(msg.find("'funday' is not a day"), std::string::npos) << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: recurrence, frequency: day, interval: 1, "
      "schedule: {hours: [25]}}\n" +
      job);
  EXPECT_NE(msg.find("schedule.hours item must be an integer from 0 to 23"), std::string::npos)
      << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *', start_time: "
      "'2024-02-01', end_time: '2024-01-01'}\n" +
      job);
  EXPECT_NE(msg.find("end_time is not after start_time"), std::string::npos) << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *', start_time: "
      "tomorrow}\n" +
      job);
  EXPECT_NE(msg.find("trigger.start_time: 'tomorrow' is not a date-time"), std::string::npos)
      << msg;
  msg = ScheduleError("name: a\ntrigger: {type: data_asset, name: 'flights:3'}\n" + job);
  EXPECT_NE(msg.find("a data asset name (no version)"), std::string::npos) << msg;
  msg = ScheduleError("name: a\ntrigger: {type: event}\n" + job);
  EXPECT_NE(msg.find("needs event_type"), std::string::npos) << msg;
  msg = ScheduleError("name: a\ntrigger: {type: cron, expression: '* * * * *'}\n");
  EXPECT_NE(msg.find("needs create_job"), std::string::npos) << msg;
  msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *'}\n"
      "create_job: ./missing.yml\n");
  EXPECT_NE(msg.find("create_job: cannot read"), std::string::npos) << msg;
  msg = ScheduleError("trigger: {type: cron, expression: '* * * * *'}\n" + job);
  EXPECT_NE(msg.find("needs a name"), std::string::npos) << msg;
  msg = ScheduleError("name: a b\ntrigger: {type: cron, expression: '* * * * *'}\n" + job);
  EXPECT_NE(msg.find("name 'a b' is not valid"), std::string::npos) << msg;
  msg = ScheduleError("name: a\nwhen: now\n" + job);
  EXPECT_NE(msg.find("unknown key 'when' in a schedule"), std::string::npos) << msg;
  // Errors in an inline job point into the schedule file.
  msg = ScheduleError(
      "name: a\ntrigger: {type: cron, expression: '* * * * *'}\ncreate_job:\n"
      "  command: echo ${{inputs.nope}}\n");
  EXPECT_NE(msg.find("s.yml:4:12: command uses ${{inputs.nope}}"), std::string::npos) << msg;
}

}  // namespace
}  // namespace cairn::pipeline

namespace cairn::pipeline {
namespace {

TEST(WindowsTimeZoneTest, WindowsNamesMapToIanaZones) {
  EXPECT_EQ(IanaZoneForWindowsName("Pacific Standard Time"), "America/Los_Angeles");
  EXPECT_EQ(IanaZoneForWindowsName("W. Europe Standard Time"), "Europe/Berlin");
  EXPECT_EQ(IanaZoneForWindowsName("Europe/Berlin"), std::nullopt);
  EXPECT_EQ(IanaZoneForWindowsName("No Such Standard Time"), std::nullopt);
  auto zone = TimeZone::Load("Pacific Standard Time");
  ASSERT_TRUE(zone.ok()) << zone.status().message();
  auto iana = TimeZone::Load("America/Los_Angeles");
  ASSERT_TRUE(iana.ok());
  // The same zone: the same offsets in winter and in summer.
  for (int64_t t : {int64_t{1704067200}, int64_t{1719792000}}) {  // 2024-01-01, 2024-07-01 UTC
    EXPECT_EQ((*zone)->OffsetAt(t), (*iana)->OffsetAt(t)) << t;
  }
  EXPECT_FALSE(TimeZone::Load("Mars Standard Time").ok());
}

}  // namespace
}  // namespace cairn::pipeline
