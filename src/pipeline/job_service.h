// JobService: what the REST routes call for jobs and computes. Submission
// validates the plan again, creates the pipeline's MLflow run and one child run
// per step (tag mlflow.parentRunId, as MLflow's nested runs), stores the job
// and hands it to the Scheduler. Reads come from the JobStore, so they show
// what is durable. Never sees HTTP. Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "pipeline/plan.h"
#include "pipeline/scheduler.h"
#include "store/job_store.h"

namespace cairn {
class TrackingService;
}

namespace cairn::pipeline {

struct LogChunk {
  std::string data;
  int64_t next_offset = 0;
  bool complete = false;  // the step has ended and every byte has been read
};

class JobService {
 public:
  JobService(JobStore& jobs, TrackingService& tracking, Scheduler& scheduler,
             const Clock& clock = SystemClock());

  // Creates the default "local" compute (max_concurrency = number of cores)
  // when missing. Call before Scheduler::Start.
  Status EnsureDefaultCompute();

  Result<JobRecord> Submit(JobPlan plan, const std::string& user);
  Result<JobRecord> Get(const std::string& name) { return jobs_.GetJob(name); }
  // Newest first; `status` empty = any.
  Result<std::vector<JobRecord>> List(const std::string& status, int64_t max_results);
  // The newest `max_results` jobs a schedule submitted, newest first (without steps).
  Result<std::vector<JobRecord>> ListBySchedule(const std::string& schedule, int64_t max_results);
  // Stops a job that has not ended; waits up to `wait` for its processes to
  // die and returns the job as stored then. INVALID_STATE when it had ended.
  Result<JobRecord> Cancel(const std::string& name, std::chrono::milliseconds wait);
  // Blocks until the job has ended or `timeout` passes; returns it as stored.
  Result<JobRecord> Wait(const std::string& name, std::chrono::milliseconds timeout);
  // A step's combined stdout/stderr from byte `offset` (at most `max_bytes`).
  // `step` empty: the job's only step, or its first.
  Result<LogChunk> Logs(const std::string& name, const std::string& step, int64_t offset,
                        int64_t max_bytes);

  Result<ComputeInfo> CreateCompute(const ComputeInfo& compute);
  Result<ComputeInfo> GetCompute(const std::string& name) { return jobs_.GetCompute(name); }
  Result<std::vector<ComputeInfo>> ListComputes() { return jobs_.ListComputes(); }
  Status DeleteCompute(const std::string& name);

 private:
  JobStore& jobs_;
  TrackingService& tracking_;
  Scheduler& scheduler_;
  const Clock& clock_;
};

// Job and compute names: 1-255 of [A-Za-z0-9_.-], not starting with '.' or '-'.
Status ValidateJobName(const std::string& name, const char* what);

}  // namespace cairn::pipeline
