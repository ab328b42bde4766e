// ScheduleStore: schedules (a trigger plus the job plan it submits, and the
// runner's progress: next/last fire time, the last data version and outbox
// event it saw) and published pipelines (named, versioned job plans run by
// REST). Also reads and appends outbox events, which event triggers consume.
// Implemented next to each MetadataStore backend (sqlite/sqlite_schedule_store.h)
// in the same database. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/registry_entities.h"

namespace cairn {

struct ScheduleRecord {
  std::string name;
  std::string display_name;
  std::string description;
  std::string tags;          // JSON object
  std::string trigger_kind;  // cron | recurrence | data_asset | event
  std::string trigger_spec;  // JSON (pipeline/schedule_json.h)
  std::string plan;          // the JobPlan as JSON (pipeline/plan_json.h)
  bool enabled = true;
  std::optional<int64_t> next_fire_time;  // time triggers; unset = will not fire again
  std::optional<int64_t> last_fire_time;
  std::string last_job;
  std::string last_error;          // why the last firing could not submit its job
  std::string watched;             // data asset name or event type
  std::string last_seen_version;   // data_asset: the newest version already handled
  int64_t last_seen_event_id = 0;  // event: outbox events up to this id are handled
  std::string created_by;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
};

struct PublishedPipeline {
  std::string name;
  int64_t version = 0;  // 1, 2, ... per name
  std::string plan;     // JobPlan JSON
  std::string description;
  std::string created_by;
  int64_t creation_time = 0;
};

class ScheduleStore {
 public:
  virtual ~ScheduleStore() = default;

  // ALREADY_EXISTS when the name is taken.
  virtual Status CreateSchedule(const ScheduleRecord& schedule) = 0;
  virtual Result<ScheduleRecord> GetSchedule(const std::string& name) = 0;
  virtual Result<std::vector<ScheduleRecord>> ListSchedules() = 0;  // by name
  // Replaces the row (NOT_FOUND when it was deleted meanwhile).
  virtual Status UpdateSchedule(const ScheduleRecord& schedule) = 0;
  virtual Status DeleteSchedule(const std::string& name) = 0;

  // Stores the plan as the next version of `name`; returns it with its version.
  virtual Result<PublishedPipeline> PublishPipeline(const PublishedPipeline& pipeline) = 0;
  // `version` 0 = the latest.
  virtual Result<PublishedPipeline> GetPublishedPipeline(const std::string& name,
                                                         int64_t version) = 0;
  // The latest version of every name.
  virtual Result<std::vector<PublishedPipeline>> ListPublishedPipelines() = 0;

  // Outbox events of `type` (every type when empty) with event_id > `after_id`,
  // oldest first.
  virtual Result<std::vector<OutboxEvent>> ReadEvents(const std::string& type, int64_t after_id,
                                                      int64_t limit) = 0;
  // The highest event id so far (0 when none).
  virtual Result<int64_t> LastEventId() = 0;
  // Appends an event; returns it with its id.
  virtual Result<OutboxEvent> AppendEvent(const OutboxEvent& event) = 0;
};

}  // namespace cairn
