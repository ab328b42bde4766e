// pipeline/schedule_runner.cc: schedule lifecycle and firing (see
// schedule_runner.h for the trigger semantics and the catch-up policy).
#include "pipeline/schedule_runner.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "core/thread_name.h"
#include "pipeline/job_service.h"
#include "pipeline/plan_json.h"
#include "pipeline/schedule_json.h"

namespace cairn::pipeline {
namespace {

using Json = nlohmann::json;

// Missed fire times counted for the catch-up tag; beyond this we say "at least".
constexpr int kMaxMissedCount = 10000;

std::string SafeNamePart(const std::string& s) {
  std::string out;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    out.push_back(ok ? c : '_');
  }
  return out;
}

// Whether every filter key matches a top-level string (or scalar) field of the event data.
bool MatchesFilter(const OutboxEvent& e, const std::map<std::string, std::string>& filter) {
  if (filter.empty()) return true;
  Json data = Json::parse(e.data, nullptr, false);
  if (!data.is_object()) return false;
  for (const auto& [k, v] : filter) {
    auto it = data.find(k);
    if (it == data.end()) return false;
    std::string got = it->is_string() ? it->get<std::string>() : it->dump();
    if (got != v) return false;
  }
  return true;
}

}  // namespace

InputValue* FindJobInput(JobPlan& plan, const std::string& name) {
  if (auto it = plan.inputs.find(name); it != plan.inputs.end()) return &it->second;
  if (plan.type == "command" && plan.steps.size() == 1) {
    auto& inputs = plan.steps[0].inputs;
    if (auto it = inputs.find(name); it != inputs.end()) return &it->second;
  }
  return nullptr;
}

std::string ScheduledJobName(const std::string& schedule, int64_t fire_ms,
                             const std::string& suffix) {
  std::string utc = FormatUtc(fire_ms);  // 2024-03-10T07:30:00Z
  std::string stamp;
  for (char c : utc) {
    if (c != '-' && c != ':') stamp.push_back(c);
  }
  std::string name = schedule + "-" + stamp;
  if (!suffix.empty()) name += "-" + SafeNamePart(suffix);
  return name.substr(0, 255);
}

ScheduleRunner::ScheduleRunner(ScheduleStore& store, SubmitJobFn submit,
                               LatestDataVersionFn latest_version, const Clock& clock,
                               ScheduleRunnerOptions options)
    : store_(store),
      submit_(std::move(submit)),
      latest_version_(std::move(latest_version)),
      clock_(clock),
      options_(std::move(options)) {}

ScheduleRunner::~ScheduleRunner() { Stop(); }

Result<Trigger> ScheduleRunner::TriggerOf(const ScheduleRecord& s) const {
  Json j = Json::parse(s.trigger_spec, nullptr, false);
  if (j.is_discarded()) return InternalError("schedule '" + s.name + "' has a corrupt trigger");
  return TriggerFromJson(j, options_.zoneinfo_dir);
}

Result<ScheduleRecord> ScheduleRunner::Create(NewSchedule n) {
  CAIRN_RETURN_IF_ERROR(ValidateJobName(n.name, "schedule name"));
  if (n.name.size() > 200) {
    return InvalidParameter("schedule name is too long (at most 200 characters, jobs add a stamp)");
  }
  if (n.plan.steps.empty()) return InvalidParameter("the schedule's job has no steps");
  const Trigger& t = n.trigger;
  if (t.type == Trigger::Type::kDataAsset && !t.bind_input.empty() &&
      !FindJobInput(n.plan, t.bind_input)) {
    return InvalidParameter("trigger.input '" + t.bind_input +
                            "' is not an input of the schedule's job (its inputs: key)");
  }
  ScheduleRecord r;
  r.name = n.name;
  r.display_name = n.display_name;
  r.description = n.description;
  r.tags = Json(n.tags).dump();
  r.trigger_kind = TriggerKindName(t.type);
  r.trigger_spec = TriggerToJson(t).dump();
  r.plan = PlanToJson(n.plan).dump();
  r.enabled = n.enabled;
  r.created_by = n.created_by;
  r.creation_time = r.last_updated_time = clock_.NowMillis();
  {
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowMillis();
    if (t.is_time_based()) {
      r.next_fire_time = NextFireTime(t, now);
    } else if (t.type == Trigger::Type::kDataAsset) {
      r.watched = t.data_asset;
      // Only versions created after the schedule fire it.
      CAIRN_ASSIGN_OR_RETURN(r.last_seen_version, latest_version_(t.data_asset));
    } else {
      r.watched = t.event_type;
      CAIRN_ASSIGN_OR_RETURN(r.last_seen_event_id, store_.LastEventId());
    }
    CAIRN_RETURN_IF_ERROR(store_.CreateSchedule(r));
  }
  // Notifications count from now (the loop confirms on its next pass).
  if (r.enabled && (r.trigger_kind == "data_asset" || r.trigger_kind == "event")) {
    watching_.store(true);
  }
  Wake();
  return r;
}

Result<ScheduleRecord> ScheduleRunner::SetEnabled(const std::string& name, bool enabled) {
  ScheduleRecord r;
  {
    std::lock_guard lock(mu_);
    CAIRN_ASSIGN_OR_RETURN(r, store_.GetSchedule(name));
    if (r.enabled == enabled) return r;
    r.enabled = enabled;
    int64_t now = clock_.NowMillis();
    r.last_updated_time = now;
    if (enabled) {
      // What happened while disabled is skipped (see the header).
      CAIRN_ASSIGN_OR_RETURN(Trigger t, TriggerOf(r));
      if (t.is_time_based()) {
        r.next_fire_time = NextFireTime(t, now);
      } else if (t.type == Trigger::Type::kDataAsset) {
        CAIRN_ASSIGN_OR_RETURN(r.last_seen_version, latest_version_(t.data_asset));
      } else {
        CAIRN_ASSIGN_OR_RETURN(r.last_seen_event_id, store_.LastEventId());
      }
    }
    CAIRN_RETURN_IF_ERROR(store_.UpdateSchedule(r));
  }
  if (r.enabled && (r.trigger_kind == "data_asset" || r.trigger_kind == "event")) {
    watching_.store(true);
  }
  Wake();
  return r;
}

Status ScheduleRunner::Delete(const std::string& name) {
  std::lock_guard lock(mu_);
  return store_.DeleteSchedule(name);
}

Result<std::vector<OutboxEvent>> ScheduleRunner::ListEvents(const std::string& type,
                                                            int64_t after_id, int64_t max_results) {
  if (max_results < 1 || max_results > 1000) {
    return InvalidParameter("max_results must be between 1 and 1000, got " +
                            std::to_string(max_results));
  }
  if (after_id < 0) return InvalidParameter("after_id must not be negative");
  return store_.ReadEvents(type, after_id, max_results);
}

Result<OutboxEvent> ScheduleRunner::PublishEvent(const std::string& type,
                                                 const std::string& subject,
                                                 const std::string& data_json) {
  bool ok = !type.empty() && type.size() <= 100 && type[0] >= 'A' && type[0] <= 'Z';
  for (char c : type) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
  }
  if (!ok) {
    return InvalidParameter("event type '" + type +
                            "' must be a PascalCase name of letters and digits (at most 100), "
                            "e.g. DatasetDriftDetected");
  }
  for (const char* reserved : {"Model", "Job", "Run", "Endpoint", "Deployment"}) {
    if (type.rfind(reserved, 0) == 0) {
      return InvalidParameter("event type '" + type + "' is reserved: Cairn emits " + reserved +
                              "* events itself");
    }
  }
  if (subject.size() > 1000) return InvalidParameter("event subject is too long (max 1000)");
  Json data = Json::parse(data_json, nullptr, false);
  if (!data.is_object()) return InvalidParameter("event data must be a JSON object");
  OutboxEvent e;
  e.type = type;
  e.subject = subject;
  e.time = clock_.NowMillis();
  e.data = data.dump();
  CAIRN_ASSIGN_OR_RETURN(OutboxEvent stored, store_.AppendEvent(e));
  Wake();
  return stored;
}

Status ScheduleRunner::Fire(ScheduleRecord& s, JobPlan plan, const std::string& suffix,
                            int64_t at) {
  plan.name = ScheduledJobName(s.name, at, suffix);
  plan.tags["cairn.schedule"] = s.name;
  plan.tags["cairn.schedule.trigger"] = s.trigger_kind;
  plan.tags["cairn.schedule.fire_time"] = FormatUtc(at);
  if (plan.display_name.empty()) plan.display_name = s.name;
  auto job = submit_(std::move(plan), s.created_by);
  s.last_fire_time = at;
  if (job.ok()) {
    s.last_job = *job;
    s.last_error.clear();
  } else {
    // Not retried: a plan that cannot be submitted now (a deleted asset, a
    // removed compute) would fail the same way on every tick.
    s.last_error = job.status().message();
    std::cerr << "cairn: schedule " << s.name << ": cannot submit its job: " << s.last_error
              << "\n";
  }
  return job.status();
}

std::optional<int64_t> ScheduleRunner::TickOne(ScheduleRecord& s, int64_t now) {
  auto trigger = TriggerOf(s);
  if (!trigger.ok()) return std::nullopt;
  const Trigger& t = *trigger;
  if (!s.enabled) return std::nullopt;
  auto plan_json = Json::parse(s.plan, nullptr, false);
  auto plan = PlanFromJson(plan_json);
  if (!plan.ok()) return std::nullopt;
  bool changed = false;
  if (t.is_time_based()) {
    if (!s.next_fire_time || *s.next_fire_time > now) return s.next_fire_time;
    int64_t due = *s.next_fire_time;
    // Catch-up: count the fire times missed up to now, fire once for all of them.
    int missed = 0;
    std::optional<int64_t> next = due;
    while (next && *next <= now && missed < kMaxMissedCount) {
      ++missed;
      next = NextFireTime(t, *next);
    }
    JobPlan p = *plan;
    if (missed > 1) {
      p.tags["cairn.schedule.missed_runs"] = std::to_string(missed);
      p.tags["cairn.schedule.missed_since"] = FormatUtc(due);
      std::string note = "catch-up: fired once for " + std::to_string(missed) +
                         " fire times missed since " + FormatUtc(due);
      p.description = p.description.empty() ? note : p.description + "\n" + note;
    }
    (void)Fire(s, std::move(p), "", missed > 1 ? now : due);
    s.next_fire_time = NextFireTime(t, now);
    changed = true;
  } else if (t.type == Trigger::Type::kDataAsset) {
    auto latest = latest_version_(t.data_asset);
    if (latest.ok() && !latest->empty() && *latest != s.last_seen_version) {
      JobPlan p = *plan;
      if (!t.bind_input.empty()) {
        InputValue* found = FindJobInput(p, t.bind_input);
        if (!found) return std::nullopt;  // checked at creation; the plan is stored
        InputValue& in = *found;
        in.kind = InputValue::Kind::kDataAsset;
        in.asset_ref = t.data_asset + ":" + *latest;
        in.path.clear();
        in.literal.clear();
      }
      p.tags["cairn.schedule.data_asset"] = t.data_asset + ":" + *latest;
      s.last_seen_version = *latest;
      (void)Fire(s, std::move(p), "v" + *latest, now);
      changed = true;
    }
  } else {
    auto events = store_.ReadEvents(t.event_type, s.last_seen_event_id, 100);
    if (events.ok()) {
      for (const OutboxEvent& e : *events) {
        s.last_seen_event_id = e.event_id;
        changed = true;
        if (!MatchesFilter(e, t.filter)) continue;
        JobPlan p = *plan;
        p.tags["cairn.schedule.event_id"] = std::to_string(e.event_id);
        p.tags["cairn.schedule.event_subject"] = e.subject;
        (void)Fire(s, std::move(p), "e" + std::to_string(e.event_id), now);
      }
    }
  }
  if (changed) {
    s.last_updated_time = now;
    if (Status st = store_.UpdateSchedule(s);
        !st.ok() && st.code() != ErrorCode::kResourceDoesNotExist) {
      std::cerr << "cairn: schedule " << s.name << ": " << st.message() << "\n";
    }
  }
  return t.is_time_based() ? s.next_fire_time : std::nullopt;
}

std::optional<int64_t> ScheduleRunner::Tick() {
  std::lock_guard lock(mu_);
  auto all = store_.ListSchedules();
  if (!all.ok()) return std::nullopt;
  std::optional<int64_t> earliest;
  int64_t now = clock_.NowMillis();
  for (ScheduleRecord& s : *all) {
    std::optional<int64_t> next = TickOne(s, now);
    if (s.enabled && next && (!earliest || *next < earliest)) earliest = next;
  }
  return earliest;
}

void ScheduleRunner::Wake() {
  {
    std::lock_guard lock(wake_mu_);
    wake_ = true;
  }
  wake_cv_.notify_all();
}

Status ScheduleRunner::Start() {
  if (thread_.joinable()) return Status::Ok();
  stop_ = false;
  thread_ = std::thread([this] {
    NameThisThread("cairn-schedules");
    Loop();
  });
  return Status::Ok();
}

void ScheduleRunner::Stop() {
  {
    std::lock_guard lock(wake_mu_);
    stop_ = true;
  }
  wake_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void ScheduleRunner::NotifyChange() {
  if (watching_.load()) Wake();
}

void ScheduleRunner::Loop() {
  for (;;) {
    std::optional<int64_t> next = Tick();
    bool watching = false;
    if (auto all = store_.ListSchedules(); all.ok()) {
      for (const ScheduleRecord& s : *all) {
        if (s.enabled && (s.trigger_kind == "data_asset" || s.trigger_kind == "event")) {
          watching = true;
        }
      }
    }
    watching_.store(watching);
    int64_t now = clock_.NowMillis();
    // Sleep until the earliest due time; at most a minute so a clock jump is
    // noticed, and at most the watch interval while data/event triggers exist.
    int64_t wait_ms = 60'000;
    if (next) wait_ms = std::min(wait_ms, std::max<int64_t>(0, *next - now));
    if (watching) wait_ms = std::min(wait_ms, options_.watch_interval_ms);
    std::unique_lock lock(wake_mu_);
    wake_cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [this] { return wake_ || stop_; });
    if (stop_) return;
    wake_ = false;
  }
}

}  // namespace cairn::pipeline
