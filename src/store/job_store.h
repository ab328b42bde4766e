// JobStore: the seam between the pipeline scheduler and the database that
// records jobs, their steps and the named computes they run on. The steps'
// rows are the scheduler's whole state (status, attempt, pid, process start,
// exit code, cache key), so a restarted server resumes from them. Implemented
// next to each MetadataStore backend (sqlite/sqlite_job_store.h), in the same
// database: a transition also mirrors onto the MLflow runs and writes its
// outbox events in the same transaction. Thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/asset_entities.h"
#include "store/registry_entities.h"

namespace cairn {

// Job and step statuses (Azure ML's names).
inline constexpr const char* kJobNotStarted = "NotStarted";
inline constexpr const char* kJobQueued = "Queued";
inline constexpr const char* kJobRunning = "Running";
inline constexpr const char* kJobCompleted = "Completed";
inline constexpr const char* kJobFailed = "Failed";
inline constexpr const char* kJobCanceled = "Canceled";
// Called for every step on every scheduler pass: compares lengths first.
inline bool IsTerminalJobStatus(std::string_view status) {
  return status == std::string_view(kJobCompleted) || status == std::string_view(kJobFailed) ||
         status == std::string_view(kJobCanceled);
}

struct ComputeInfo {
  std::string name;
  std::string type = "local";  // "local" now; "slurm" later
  int64_t max_concurrency = 1;
  std::string description;
  int64_t creation_time = 0;
};

struct JobStepRecord {
  std::string job_name;
  std::string step_name;
  int64_t position = 0;  // index in the plan (topological order)
  std::string status = kJobNotStarted;
  std::string run_id;   // the step's MLflow child run
  int64_t attempt = 0;  // 1-based; 0 = never launched
  std::optional<int64_t> pid;
  std::optional<int64_t> process_start;  // /proc/<pid>/stat starttime, to recognise the process
  std::optional<int64_t> exit_code;
  std::string cache_key;
  std::string reused_from;  // the step run id whose outputs were reused
  std::string outputs;      // JSON {"<output>": {"uri": "...", "hash": "..."}}
  std::optional<int64_t> started;
  std::optional<int64_t> ended;
  std::string error;  // why the step failed or was canceled
  // What happened on the way, for people: retries, reuse, recovery after a restart.
  std::string notes;
};

struct JobRecord {
  std::string name;
  std::string display_name;
  std::string type;  // command | pipeline
  std::string status = kJobNotStarted;
  std::string experiment_id;
  std::string run_id;  // the pipeline's (parent) MLflow run
  std::string plan;    // the JobPlan as JSON (pipeline/plan_json.h)
  int64_t created = 0;
  std::optional<int64_t> started;
  std::optional<int64_t> ended;
  std::string error;
  std::string schedule;  // the schedule that submitted the job ("" = none); set at creation
  std::vector<JobStepRecord> steps;  // by position
};

// An MLflow run whose status follows a job or step status.
struct RunStatusMirror {
  std::string run_id;
  std::string status;               // RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
  std::optional<int64_t> end_time;  // set for terminal statuses
};

// One atomic change of scheduler state.
struct JobTransition {
  std::string job_name;
  // Job header fields to write (status, started, ended, error), when set.
  std::optional<JobRecord> job;
  std::vector<JobStepRecord> steps;  // full rows to write
  std::vector<RunStatusMirror> runs;
  std::vector<OutboxEvent> events;
  // Run tags to set and lineage edges to add (entity ids already canonical),
  // so a step's completion and its records commit together.
  std::vector<std::pair<std::string, Tag>> run_tags;
  std::vector<LineageEdge> lineage;
};

class JobStore {
 public:
  virtual ~JobStore() = default;

  // Computes. CreateCompute refuses an existing name (ALREADY_EXISTS) unless
  // `replace`.
  virtual Status CreateCompute(const ComputeInfo& compute, bool replace) = 0;
  virtual Result<ComputeInfo> GetCompute(const std::string& name) = 0;
  virtual Result<std::vector<ComputeInfo>> ListComputes() = 0;
  virtual Status DeleteCompute(const std::string& name) = 0;

  // Inserts the job and its steps with the transition's mirrors and events
  // (ALREADY_EXISTS when the name is taken).
  virtual Status CreateJob(const JobRecord& job, const JobTransition& initial) = 0;
  virtual Result<JobRecord> GetJob(const std::string& name) = 0;
  // Newest first; `statuses` empty = any.
  virtual Result<std::vector<JobRecord>> ListJobs(const std::vector<std::string>& statuses,
                                                  int64_t max_results, bool with_steps) = 0;
  // The newest `max_results` jobs submitted by `schedule`, newest first (no steps).
  virtual Result<std::vector<JobRecord>> ListJobsBySchedule(const std::string& schedule,
                                                            int64_t max_results) = 0;
  virtual Status Apply(const JobTransition& transition) = 0;
  // The most recent Completed step whose cache key is `key` (it may itself be a reuse).
  virtual Result<std::optional<JobStepRecord>> FindCompletedStep(const std::string& key) = 0;
};

}  // namespace cairn
