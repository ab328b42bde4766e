// SqliteJobStore: the JobStore of the embedded backend. Its tables live in the
// SqliteStore's database and its writes join that store's group commit, so a
// step transition, the MLflow run statuses it mirrors and its outbox events
// commit together. Thread-safe, as the SqliteStore it borrows.
#pragma once

#include "store/job_store.h"

namespace cairn::sqlite {

class SqliteStore;

class SqliteJobStore final : public JobStore {
 public:
  explicit SqliteJobStore(SqliteStore& db) : db_(db) {}

  Status CreateCompute(const ComputeInfo& compute, bool replace) override;
  Result<ComputeInfo> GetCompute(const std::string& name) override;
  Result<std::vector<ComputeInfo>> ListComputes() override;
  Status DeleteCompute(const std::string& name) override;

  Status CreateJob(const JobRecord& job, const JobTransition& initial) override;
  Result<JobRecord> GetJob(const std::string& name) override;
  Result<std::vector<JobRecord>> ListJobs(const std::vector<std::string>& statuses,
                                          int64_t max_results, bool with_steps) override;
  Result<std::vector<JobRecord>> ListJobsBySchedule(const std::string& schedule,
                                                    int64_t max_results) override;
  Status Apply(const JobTransition& transition) override;
  Result<std::optional<JobStepRecord>> FindCompletedStep(const std::string& key) override;

 private:
  SqliteStore& db_;
};

}  // namespace cairn::sqlite
