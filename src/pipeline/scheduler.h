// Scheduler: runs submitted jobs. One thread owns every running job's state
// and reacts to events - a job submitted, a step process ended (reported by
// the Executor), a cancel request, a retry's backoff or a timeout elapsing -
// with no polling loop: it sleeps on a condition variable until the next
// event or deadline. Every transition is written to the JobStore (with the
// MLflow run statuses it mirrors and its outbox events) by a committer
// thread, in order, one transaction per job for all the passes queued since
// its previous write, so the store always holds a state a restarted server
// resumes from (Recover) and the loop never waits for the disk. A finished
// job's waiters are released once its last transition is committed. Steps are prepared (inputs
// materialized, cache key computed, reuse looked up) and finished (logs and outputs stored as run
// artifacts, lineage recorded) on the scheduler thread. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "pipeline/executor.h"
#include "pipeline/plan.h"
#include "pipeline/spare_folders.h"
#include "store/job_store.h"

namespace cairn {
class AssetService;
class ArtifactStore;
class TrackingService;
}  // namespace cairn

namespace cairn::pipeline {

struct SchedulerOptions {
  std::filesystem::path jobs_root;  // <workspace>/jobs: one work directory per job and step
  // Folders uri_file/uri_folder inputs with server paths may point into (the
  // server's --datastore-root). Empty: any path the server can read.
  std::vector<std::filesystem::path> allowed_roots;
  std::chrono::milliseconds kill_grace{5000};  // SIGTERM -> SIGKILL on cancel and timeout
  // Put on every step's PATH ahead of the inherited one (after an
  // environment's bin), so built-in components calling `cairn` run this
  // server's binary without installation. Empty: the server executable's folder.
  std::filesystem::path tools_dir;
  // Where Start() installs Cairn's stdlib Python helper (cairn_client.py);
  // every step's PYTHONPATH starts with it. Empty: no helper, PYTHONPATH as inherited.
  std::filesystem::path python_helper_dir;
};

// Merges transitions (in the order they were made) into one per job: the
// last job header, each step's last row, and every run mirror, event, tag and
// lineage edge in order. Applying the result equals applying each in turn.
std::vector<JobTransition> MergeTransitions(std::vector<JobTransition> batch);

class Scheduler {
 public:
  Scheduler(JobStore& jobs, TrackingService& tracking, AssetService& assets,
            ArtifactStore& artifacts, Executor& executor, SchedulerOptions options,
            const Clock& clock = SystemClock());
  ~Scheduler();  // stops the thread; step processes keep running (see Recover)

  // The URL steps reach this server at (CAIRN_URL, MLFLOW_TRACKING_URI).
  void SetServerUrl(std::string url);
  // Resumes the unfinished jobs found in the store (reattaching to or
  // accounting for their running steps) and starts the scheduler thread.
  Status Start();

  // Hands a job already stored (status NotStarted) to the scheduler.
  void Enqueue(const JobRecord& job, JobPlan plan);
  // Asks the job to stop: pending steps are Canceled, running ones killed.
  // NOT_FOUND when the job is not running in this scheduler.
  Status RequestCancel(const std::string& job_name);
  // Blocks until the job is no longer active here or `timeout` passes; true when done.
  bool WaitUntilDone(const std::string& job_name, std::chrono::milliseconds timeout);

  // Wakes every WaitUntilDone now and from then on (server shutdown: requests
  // waiting for jobs must not hold the server open).
  void ReleaseWaiters();

  // Where a step's combined stdout/stderr is written.
  std::filesystem::path LogPath(const std::string& job, const std::string& step) const;

 private:
  struct StepState;
  struct JobState;
  struct Event;

  void Loop();
  void Post(Event event);
  void WakeLoop();
  void Resume(JobState& job, JobTransition& tx);
  // One pass over a job: starts ready steps, finishes the job when it can.
  void Pump(JobState& job, JobTransition& tx);
  void StartStep(JobState& job, StepState& step, JobTransition& tx);
  // The newest Completed step with this cache key: one this scheduler
  // completed lately (maybe not yet committed), else the store's.
  Result<std::optional<JobStepRecord>> FindCompletedStep(const std::string& cache_key);
  void RememberCompleted(const JobStepRecord& step);
  // The compute's max_concurrency (0 when it does not exist), cached for a second.
  int64_t ComputeLimit(const std::string& compute, std::chrono::steady_clock::time_point now);
  void OnExit(JobState& job, StepState& step, const StepExit& exit, JobTransition& tx);
  void FinishStep(JobState& job, StepState& step, const std::string& status,
                  const std::string& error, JobTransition& tx);
  void CancelJob(JobState& job, JobTransition& tx);
  // Hands the pass's transition of `job` to the committer (appended to `out`).
  void Flush(JobState& job, JobTransition& tx, std::vector<JobTransition>& out);
  // The committer thread: writes queued transitions in order, merging those
  // that queued up meanwhile, then releases the waiters of finished jobs.
  void CommitLoop();
  // The step run's artifact-store directory ("" when unknown).
  const std::string& ArtifactRoot(StepState& step);
  // Where attempt `attempt` of a step records its exit status: one file per job.
  ExitStatusFile ExitStatusOf(const JobState& job, const StepState& step, int64_t attempt) const;

  JobStore& jobs_;
  TrackingService& tracking_;
  AssetService& assets_;
  ArtifactStore& artifacts_;
  Executor& executor_;
  SchedulerOptions options_;
  const Clock& clock_;
  std::string server_url_;
  SpareFolders spares_;
  std::map<std::string, std::string> base_env_;
  // base_env_ as "NAME=value" entries, handed to every launch.
  std::shared_ptr<const std::vector<std::string>>
      base_env_entries_;  // the server's environment, read at Start  //
                          // empty step folders, reused instead of created

  std::mutex mu_;
  int wake_fd_ = -1;  // eventfd: events for the loop (Post, stopping)
  std::atomic<std::thread::id> loop_thread_id_{};
  std::condition_variable done_cv_;  // a job finished
  std::deque<Event> events_;
  std::set<std::string> active_names_;  // jobs the loop owns (guarded by mu_)
  // Owned by the loop thread alone.
  std::map<std::string, std::shared_ptr<JobState>> active_;
  std::map<std::string, int64_t> running_per_compute_;
  // Steps completed by this loop, by cache key, with when (loop thread only).
  // Bounded: past kRecentCompletedBound, entries older than kRecentWritten go.
  static constexpr size_t kRecentCompletedBound = 4096;
  static constexpr std::chrono::seconds kRecentWritten{5};
  std::map<std::string, std::pair<JobStepRecord, std::chrono::steady_clock::time_point>>
      recent_completed_;
  // ComputeLimit's cache: max_concurrency and when it was read.
  std::map<std::string, std::pair<int64_t, std::chrono::steady_clock::time_point>> compute_limits_;
  bool stopping_ = false;
  bool waiters_released_ = false;
  std::thread thread_;

  // The committer's queue: the loop never waits for the store.
  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::vector<JobTransition> commit_queue_;  // in the order the loop made them
  uint64_t queued_seq_ = 0;                  // transitions queued so far
  // Jobs that ended, with the queued_seq_ their last transition had: their
  // waiters are released (active_names_) once that much is committed.
  std::vector<std::pair<uint64_t, std::string>> finishing_;
  bool commit_stop_ = false;
  bool committer_idle_ = false;  // waiting for work (not gathering a group)
  std::thread committer_;
};

}  // namespace cairn::pipeline
