// SqliteScheduleStore: the ScheduleStore of the embedded backend, in the
// SqliteStore's database (migration 6) and joining its group commit.
#pragma once

#include "store/schedule_store.h"

namespace cairn::sqlite {

class SqliteStore;

class SqliteScheduleStore final : public ScheduleStore {
 public:
  explicit SqliteScheduleStore(SqliteStore& db) : db_(db) {}

  Status CreateSchedule(const ScheduleRecord& schedule) override;
  Result<ScheduleRecord> GetSchedule(const std::string& name) override;
  Result<std::vector<ScheduleRecord>> ListSchedules() override;
  Status UpdateSchedule(const ScheduleRecord& schedule) override;
  Status DeleteSchedule(const std::string& name) override;

  Result<PublishedPipeline> PublishPipeline(const PublishedPipeline& pipeline) override;
  Result<PublishedPipeline> GetPublishedPipeline(const std::string& name, int64_t version) override;
  Result<std::vector<PublishedPipeline>> ListPublishedPipelines() override;

  Result<std::vector<OutboxEvent>> ReadEvents(const std::string& type, int64_t after_id,
                                              int64_t limit) override;
  Result<int64_t> LastEventId() override;
  Result<OutboxEvent> AppendEvent(const OutboxEvent& event) override;

 private:
  SqliteStore& db_;
};

}  // namespace cairn::sqlite
