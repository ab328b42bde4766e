// pipeline/schedule_runner.h: the server side of schedules. ScheduleRunner
// owns the schedule lifecycle (create, enable, disable, delete) and one thread
// that fires them:
//  - cron and recurrence triggers fire at NextFireTime (schedule_spec.h); the
//    thread sleeps on a condition variable until the earliest due time (or a
//    change wakes it), never polling for them;
//  - data_asset triggers fire when the watched asset's latest version differs
//    from the last one handled; event triggers fire once per outbox event of
//    their type (after the last event id handled) whose data matches the
//    filter. The server calls NotifyChange() when a data version or an
//    outbox event is committed (a store insert listener), which wakes the
//    runner at once while such schedules exist; it also wakes every
//    `watch_interval_ms` to look, as a safety net.
// Each firing submits the schedule's stored plan as job "<schedule>-<UTC
// timestamp>[-<suffix>]" tagged cairn.schedule=<name>.
//
// Catch-up policy (runs missed while the server was down or busy): a time
// trigger whose due time has passed fires ONCE, however many fire times were
// missed (Airflow catchup=False / Azure ML); the job carries tags
// cairn.schedule.missed_runs=<n> and cairn.schedule.missed_since=<first
// missed time>, and the next fire time is computed from now. Disabling a
// schedule drops what happens meanwhile: enabling recomputes the next fire
// time from now and skips data versions and events seen while disabled.
//
// Tick() is public and takes its time from the injected Clock, so tests drive
// the runner with a fake clock and no thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "pipeline/plan.h"
#include "pipeline/schedule_spec.h"
#include "store/schedule_store.h"

namespace cairn::pipeline {

// Submits a plan as a job; returns the job's name.
using SubmitJobFn = std::function<Result<std::string>(JobPlan plan, const std::string& user)>;
// The latest version of a data asset ("" when it has none / does not exist).
using LatestDataVersionFn = std::function<Result<std::string>(const std::string& asset)>;

struct NewSchedule {
  std::string name;
  std::string display_name;
  std::string description;
  std::map<std::string, std::string> tags;
  Trigger trigger;
  JobPlan plan;
  bool enabled = true;
  std::string created_by;
};

struct ScheduleRunnerOptions {
  // data_asset/event schedules: how often to look without a notification.
  int64_t watch_interval_ms = 10'000;
  std::string zoneinfo_dir = "/usr/share/zoneinfo";
};

class ScheduleRunner {
 public:
  ScheduleRunner(ScheduleStore& store, SubmitJobFn submit, LatestDataVersionFn latest_version,
                 const Clock& clock = SystemClock(), ScheduleRunnerOptions options = {});
  ~ScheduleRunner();  // stops the thread

  Result<ScheduleRecord> Create(NewSchedule schedule);
  Result<ScheduleRecord> Get(const std::string& name) { return store_.GetSchedule(name); }
  Result<std::vector<ScheduleRecord>> List() { return store_.ListSchedules(); }
  Result<ScheduleRecord> SetEnabled(const std::string& name, bool enabled);
  Status Delete(const std::string& name);
  // The stored trigger of a schedule, parsed.
  Result<Trigger> TriggerOf(const ScheduleRecord& schedule) const;

  // Appends an event from an external system (monitoring, a data pipeline) to
  // the outbox, where event triggers see it; wakes the runner. `type` is a
  // PascalCase name (DatasetDriftDetected); the types Cairn itself emits
  // (Model*, Job*, Run*, Endpoint*, Deployment*) are refused so they cannot be forged.
  // `data_json` must be a JSON object.
  Result<OutboxEvent> PublishEvent(const std::string& type, const std::string& subject,
                                   const std::string& data_json);
  // Reads the outbox in order: events after `after_id` (of `type`, or of every
  // type when empty), at most `max_results` (1..1000), so a consumer can page
  // through it by the last id it saw.
  Result<std::vector<OutboxEvent>> ListEvents(const std::string& type, int64_t after_id,
                                              int64_t max_results);

  // Fires every due schedule once at the clock's now; returns when the
  // earliest time trigger is due next (nullopt: none is).
  std::optional<int64_t> Tick();
  // Wakes the thread to look now (an event was published, a schedule changed).
  void Wake();
  // A data version or an outbox event was committed: wakes the thread when a
  // data_asset or event schedule is enabled (cheap otherwise: the scheduler's
  // own run events arrive here too).
  void NotifyChange();

  Status Start();
  void Stop();

 private:
  void Loop();
  // Fires `s` if due; updates and stores it. Returns its next fire time.
  std::optional<int64_t> TickOne(ScheduleRecord& s, int64_t now);
  Status Fire(ScheduleRecord& s, JobPlan plan, const std::string& stamp_suffix, int64_t at);

  ScheduleStore& store_;
  SubmitJobFn submit_;
  LatestDataVersionFn latest_version_;
  const Clock& clock_;
  ScheduleRunnerOptions options_;

  std::mutex mu_;  // serializes Tick and the lifecycle calls (read-modify-write of rows)
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool wake_ = false;
  bool stop_ = false;
  std::atomic<bool> watching_{false};  // an enabled data_asset/event schedule exists
  std::thread thread_;
};

// A job's input by name, as overrides and data triggers address it: the
// pipeline-level input, or for a command job its step's input. Null if none.
InputValue* FindJobInput(JobPlan& plan, const std::string& name);

// "nightly" + 2024-03-10T07:30:00Z -> "nightly-20240310T073000Z".
std::string ScheduledJobName(const std::string& schedule, int64_t fire_ms,
                             const std::string& suffix);

}  // namespace cairn::pipeline
