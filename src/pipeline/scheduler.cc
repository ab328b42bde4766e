#include "pipeline/scheduler.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>

#include "artifacts/artifact_store.h"
#include "artifacts/path_safety.h"
#include "assets/asset_service.h"
#include "assets/datastore.h"
#include "assets/environment_builder.h"
#include "core/fs.h"
#include "core/json_text.h"
#include "core/sha256.h"
#include "core/thread_name.h"
#include "pipeline/plan_json.h"
#include "pipeline/python_helper.h"
#include "pipeline/step_runtime.h"
#include "tracking/tracking_service.h"

extern char** environ;

namespace cairn::pipeline {
namespace fs = std::filesystem;
using nlohmann::json;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

const char* MlflowStatus(const std::string& status) {
  if (status == kJobRunning) return "RUNNING";
  if (status == kJobCompleted) return "FINISHED";
  if (status == kJobFailed) return "FAILED";
  if (status == kJobCanceled) return "KILLED";
  return "SCHEDULED";
}

std::string Append(const std::string& notes, const std::string& note) {
  return notes.empty() ? note : notes + "; " + note;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", s);
  return buf;
}

// Copies every file under `store_dir` of the artifact store into `local_dir`.
Status CopyArtifactTree(ArtifactStore& store, const std::string& store_dir,
                        const fs::path& local_dir) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files, ListRecursive(store, store_dir));
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(local_dir));
  for (const FileInfo& f : files) {
    CAIRN_ASSIGN_OR_RETURN(std::string rel, NormalizeRelativePath(f.path));
    int64_t size = 0;
    CAIRN_ASSIGN_OR_RETURN(UniqueFd in, store.Open(store_dir + "/" + f.path, &size));
    fs::path target = local_dir / rel;
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(target.parent_path()));
    UniqueFd out(open(target.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (out.get() < 0) return Status(ErrorCode::kIoError, "cannot write " + target.string());
    int64_t left = size;
    while (left > 0) {
      ssize_t n = sendfile(out.get(), in.get(), nullptr, static_cast<size_t>(left));
      if (n <= 0) return Status(ErrorCode::kIoError, "cannot copy into " + target.string());
      left -= n;
    }
  }
  return Status::Ok();
}

bool Within(const fs::path& root, const fs::path& p) {
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return root_end == root.end();
}

// "name:version" or "azureml:name:version" of a code snapshot -> its hash.
std::string CodeHashOf(std::string ref) {
  if (ref.rfind("azureml:", 0) == 0) ref = ref.substr(8);
  size_t colon = ref.find(':');
  if (colon != std::string::npos && ref.substr(0, colon) != "code") ref = ref.substr(0, colon);
  return ref;
}

}  // namespace

struct Scheduler::StepState {
  const StepPlan* plan = nullptr;
  size_t index = 0;  // in the plan
  JobStepRecord rec;
  std::vector<size_t> deps;  // indices of steps this one waits for
  std::string compute;
  // Queued by a pass that found its compute full: later passes skip it
  // cheaply while that compute stays full (cleared when it starts).
  bool waiting_for_slot = false;
  fs::path dir;
  // The step run's artifact-store directory: looked up when first needed (a
  // no-op step stores no artifact and never needs it).
  std::optional<std::string> artifact_root;
  bool launched = false;  // a process of the current attempt is running
  bool timed_out = false;
  bool cancel_sent = false;
  std::optional<SteadyTime> ready_at;  // a retry's backoff
  std::optional<SteadyTime> deadline;  // limits.timeout
  std::vector<LineageEdge> lineage;    // recorded when the step ends
};

struct Scheduler::JobState {
  JobRecord rec;  // header fields; steps live in `steps`
  JobPlan plan;
  std::vector<StepState> steps;
  std::vector<size_t> order;
  std::map<std::string, size_t> index;
  bool recovered = false;  // loaded from the store at start, not just submitted
  // order[0, first_open) have all ended (a step never leaves a terminal
  // status), so a pass looks at the rest only; whether one of those failed.
  size_t first_open = 0;
  bool failed_before_open = false;

  // Calls f on every step from first_open on (every step when the plan had no valid order).
  template <class F>
  void ForEachOpen(F&& f) {
    bool complete = order.size() == steps.size();
    for (size_t pos = complete ? first_open : 0; pos < steps.size(); ++pos) {
      f(steps[complete ? order[pos] : pos]);
    }
  }
  bool cancel_requested = false;
  std::string stop_reason;  // set when a failure stops new steps
  bool header_dirty = false;
};

struct Scheduler::Event {
  enum class Kind { kJob, kExit, kCancel } kind;
  std::shared_ptr<JobState> job;
  std::string key;  // kExit: "<job>/<step>"; kCancel: the job name
  StepExit exit;
};

Scheduler::Scheduler(JobStore& jobs, TrackingService& tracking, AssetService& assets,
                     ArtifactStore& artifacts, Executor& executor, SchedulerOptions options,
                     const Clock& clock)
    : jobs_(jobs),
      tracking_(tracking),
      assets_(assets),
      artifacts_(artifacts),
      executor_(executor),
      options_(std::move(options)),
      clock_(clock),
      spares_(options_.jobs_root / ".spare", "std_log.txt") {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (options_.tools_dir.empty()) options_.tools_dir = SelfExecutableDir();
  executor_.SetExitCallback([this](const std::string& key, const StepExit& exit) {
    Post(Event{Event::Kind::kExit, nullptr, key, exit});
  });
}

Scheduler::~Scheduler() {
  executor_.SetExitCallback(nullptr);  // no exit reports into a dying scheduler
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  WakeLoop();
  if (thread_.joinable()) thread_.join();
  close(wake_fd_);
  // Everything the loop decided is written before the store goes away.
  {
    std::lock_guard lock(commit_mu_);
    commit_stop_ = true;
  }
  commit_cv_.notify_all();
  if (committer_.joinable()) committer_.join();
}

void Scheduler::SetServerUrl(std::string url) {
  std::lock_guard lock(mu_);
  server_url_ = std::move(url);
}

fs::path Scheduler::LogPath(const std::string& job, const std::string& step) const {
  return options_.jobs_root / job / step / "std_log.txt";
}

const std::string& Scheduler::ArtifactRoot(StepState& s) {
  if (!s.artifact_root) {
    s.artifact_root.emplace();
    if (auto run = tracking_.GetRun(s.rec.run_id); run.ok()) {
      if (auto root = ArtifactUriToPath(run->info.artifact_uri); root.ok())
        *s.artifact_root = *root;
    }
  }
  return *s.artifact_root;
}

ExitStatusFile Scheduler::ExitStatusOf(const JobState& job, const StepState& step,
                                       int64_t attempt) const {
  // "<step index>.<attempt>": step names may hold any character but '/'.
  return {options_.jobs_root / job.rec.name / "exit_status",
          std::to_string(step.index) + "." + std::to_string(attempt)};
}

void Scheduler::Post(Event event) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(event));
  }
  // The loop posting to itself (an exit reaped in its own pass) looks at
  // events_ before it sleeps again: no wake-up needed.
  if (std::this_thread::get_id() != loop_thread_id_.load()) WakeLoop();
}

void Scheduler::WakeLoop() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

void Scheduler::Enqueue(const JobRecord& job, JobPlan plan) {
  auto state = std::make_shared<JobState>();
  state->rec = job;
  state->plan = std::move(plan);
  {
    std::lock_guard lock(mu_);
    active_names_.insert(job.name);
  }
  Post(Event{Event::Kind::kJob, std::move(state), job.name, {}});
}

Status Scheduler::RequestCancel(const std::string& job_name) {
  {
    std::lock_guard lock(mu_);
    if (!active_names_.count(job_name)) {
      return Status(ErrorCode::kInvalidState, "job '" + job_name + "' is not running");
    }
  }
  Post(Event{Event::Kind::kCancel, nullptr, job_name, {}});
  return Status::Ok();
}

bool Scheduler::WaitUntilDone(const std::string& job_name, std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return done_cv_.wait_for(lock, timeout,
                           [&] { return waiters_released_ || !active_names_.count(job_name); });
}

void Scheduler::ReleaseWaiters() {
  {
    std::lock_guard lock(mu_);
    waiters_released_ = true;
  }
  done_cv_.notify_all();
}

Status Scheduler::Start() {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(options_.jobs_root));
  if (!options_.python_helper_dir.empty()) {
    CAIRN_RETURN_IF_ERROR(InstallPythonHelper(options_.python_helper_dir));
  }
  CAIRN_RETURN_IF_ERROR(spares_.Open());
  // Steps inherit the server's environment as it is now (read once, not per step).
  for (char** e = environ; e && *e; ++e) {
    std::string kv(*e);
    size_t eq = kv.find('=');
    if (eq != std::string::npos) base_env_[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  {
    auto entries = std::make_shared<std::vector<std::string>>();
    for (const auto& [k, v] : base_env_) entries->push_back(k + "=" + v);
    base_env_entries_ = std::move(entries);
  }
  CAIRN_ASSIGN_OR_RETURN(
      std::vector<JobRecord> unfinished,
      jobs_.ListJobs({kJobNotStarted, kJobQueued, kJobRunning}, 1000000, /*with_steps=*/true));
  // Oldest first, so they resume in submission order.
  std::reverse(unfinished.begin(), unfinished.end());
  for (JobRecord& job : unfinished) {
    auto plan_json = json::parse(job.plan, nullptr, false);
    auto plan = PlanFromJson(plan_json);
    auto state = std::make_shared<JobState>();
    state->rec = std::move(job);
    state->recovered = true;
    if (!plan.ok()) {
      // Cannot happen for plans this server stored; fail the job rather than loop on it.
      state->rec.error = "stored plan unreadable: " + plan.status().message();
    } else {
      state->plan = std::move(*plan);
    }
    {
      std::lock_guard lock(mu_);
      active_names_.insert(state->rec.name);
    }
    Post(Event{Event::Kind::kJob, std::move(state), "recover", {}});
  }
  committer_ = std::thread([this] {
    NameThisThread("cairn-commit");
    CommitLoop();
  });
  thread_ = std::thread([this] {
    NameThisThread("cairn-sched");
    Loop();
  });
  return Status::Ok();
}

void Scheduler::Loop() {
  loop_thread_id_.store(std::this_thread::get_id());
  // Sleeps on the wake eventfd and, when the executor lets its owner drive it,
  // on the executor's fd too: a step's exit then wakes this thread directly.
  const int executor_fd = executor_.ReadyFd();
  for (;;) {
    std::deque<Event> batch;
    // The next timer: a retry's backoff ending, a step's timeout or a kill.
    std::optional<SteadyTime> wake;
    for (auto& [name, job] : active_) {
      job->ForEachOpen([&](StepState& s) {
        for (auto t : {s.ready_at, s.launched && !s.cancel_sent ? s.deadline : std::nullopt}) {
          if (t && (!wake || *t < *wake)) wake = t;
        }
      });
    }
    if (executor_fd >= 0) {
      if (auto kill = executor_.NextDeadline(); kill && (!wake || *kill < *wake)) wake = kill;
    }
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      batch.swap(events_);
    }
    if (batch.empty()) {
      int timeout_ms = -1;
      if (wake) {
        auto left =
            std::chrono::ceil<std::chrono::milliseconds>(*wake - std::chrono::steady_clock::now());
        timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
      }
      pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {executor_fd, POLLIN, 0}};
      int n = poll(fds, executor_fd >= 0 ? 2 : 1, timeout_ms);
      if (n > 0 && (fds[0].revents & POLLIN)) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof count);
      }
      // Exits (reported through Post, onto events_) and due kills.
      if (executor_fd >= 0) executor_.ReapReady();
      std::lock_guard lock(mu_);
      if (stopping_) return;
      batch.swap(events_);
    }
    std::set<std::string> touched;
    auto find_step = [&](const std::string& key) -> std::pair<JobState*, StepState*> {
      size_t slash = key.find('/');
      if (slash == std::string::npos) return {nullptr, nullptr};
      auto it = active_.find(key.substr(0, slash));
      if (it == active_.end()) return {nullptr, nullptr};
      auto s = it->second->index.find(key.substr(slash + 1));
      if (s == it->second->index.end()) return {nullptr, nullptr};
      return {it->second.get(), &it->second->steps[s->second]};
    };
    std::map<std::string, JobTransition> txs;
    for (Event& e : batch) {
      if (e.kind == Event::Kind::kJob) {
        std::string name = e.job->rec.name;
        active_[name] = e.job;
        Resume(*e.job, txs[name]);
        touched.insert(name);
      } else if (e.kind == Event::Kind::kExit) {
        auto [job, step] = find_step(e.key);
        if (!job) continue;
        OnExit(*job, *step, e.exit, txs[job->rec.name]);
        touched.insert(job->rec.name);
      } else {
        auto it = active_.find(e.key);
        if (it == active_.end()) continue;
        CancelJob(*it->second, txs[e.key]);
        touched.insert(e.key);
      }
    }
    // Timers that are due.
    auto now = std::chrono::steady_clock::now();
    for (auto& [name, job] : active_) {
      job->ForEachOpen([&, &name = name](StepState& s) {
        if (s.ready_at && *s.ready_at <= now) {
          s.ready_at.reset();
          touched.insert(name);
        }
        if (s.launched && !s.cancel_sent && s.deadline && *s.deadline <= now) {
          s.timed_out = true;
          s.cancel_sent = true;
          (void)executor_.Cancel(name + "/" + s.rec.step_name, options_.kill_grace);
        }
      });
    }
    // A step ending frees a slot other jobs may be waiting for.
    if (!touched.empty()) {
      for (auto& [name, _] : active_) touched.insert(name);
    }
    std::vector<JobTransition> out;
    for (const std::string& name : touched) {
      auto it = active_.find(name);
      if (it == active_.end()) continue;
      Pump(*it->second, txs[name]);
      Flush(*it->second, txs[name], out);
    }
    // Forget finished jobs; their waiters are released once the committer has
    // written their last transition.
    std::vector<std::string> finished;
    for (auto& [name, job] : active_) {
      if (IsTerminalJobStatus(job->rec.status)) finished.push_back(name);
    }
    for (const std::string& name : finished) active_.erase(name);
    if (!out.empty() || !finished.empty()) {
      bool wake_committer = false;
      {
        std::lock_guard lock(commit_mu_);
        for (JobTransition& t : out) commit_queue_.push_back(std::move(t));
        queued_seq_ += out.size();
        for (std::string& name : finished) finishing_.emplace_back(queued_seq_, std::move(name));
        // A committer gathering a group wakes on its own: a notify would only
        // cost it (and this thread) a wake-up per step.
        wake_committer = committer_idle_;
      }
      if (wake_committer) commit_cv_.notify_one();
    }
  }
}

void Scheduler::CommitLoop() {
  // Group commit: a transaction at most every kCommitInterval (20 ms) while
  // transitions keep coming (one per step exit otherwise: the commit, not the
  // rows, was most of the committer's work), and at once after a quiet spell.
  constexpr auto kCommitInterval = std::chrono::milliseconds(20);
  auto last_commit = std::chrono::steady_clock::now() - kCommitInterval;
  for (;;) {
    std::vector<JobTransition> batch;
    uint64_t upto = 0;
    {
      std::unique_lock lock(commit_mu_);
      committer_idle_ = true;
      commit_cv_.wait(
          lock, [&] { return commit_stop_ || !commit_queue_.empty() || !finishing_.empty(); });
      committer_idle_ = false;
      commit_cv_.wait_until(lock, last_commit + kCommitInterval, [&] { return commit_stop_; });
      last_commit = std::chrono::steady_clock::now();
      if (commit_stop_ && commit_queue_.empty() && finishing_.empty()) return;
      batch.swap(commit_queue_);
      upto = queued_seq_;
    }
    // Transitions queued while the previous batch was being written commit
    // together: one transaction per job however many passes they came from.
    std::vector<JobTransition> merged = MergeTransitions(std::move(batch));
    for (const JobTransition& t : merged) {
      if (Status st = jobs_.Apply(t); !st.ok()) {
        // The in-memory state runs ahead; the next transition rewrites these rows.
        std::fprintf(stderr, "cairn: job %s: cannot record a transition: %s\n", t.job_name.c_str(),
                     st.message().c_str());
      }
    }
    std::vector<std::string> done;
    {
      std::lock_guard lock(commit_mu_);
      auto it = finishing_.begin();
      while (it != finishing_.end()) {
        if (it->first <= upto) {
          done.push_back(std::move(it->second));
          it = finishing_.erase(it);
        } else {
          ++it;
        }
      }
    }
    if (!done.empty()) {
      {
        std::lock_guard lock(mu_);
        for (const std::string& name : done) active_names_.erase(name);
      }
      done_cv_.notify_all();
    }
  }
}

std::vector<JobTransition> MergeTransitions(std::vector<JobTransition> batch) {
  std::vector<JobTransition> merged;
  std::map<std::string, size_t> by_job;
  for (JobTransition& t : batch) {
    auto [it, added] = by_job.emplace(t.job_name, merged.size());
    if (added) {
      merged.push_back(std::move(t));
      continue;
    }
    JobTransition& m = merged[it->second];
    if (t.job) m.job = std::move(t.job);
    auto append = [](auto& to, auto& from) {
      to.insert(to.end(), std::make_move_iterator(from.begin()),
                std::make_move_iterator(from.end()));
    };
    append(m.steps, t.steps);
    append(m.runs, t.runs);
    append(m.events, t.events);
    append(m.run_tags, t.run_tags);
    append(m.lineage, t.lineage);
  }
  // A step written several times keeps its last row.
  for (JobTransition& m : merged) {
    std::map<std::string, size_t> last;
    for (size_t i = 0; i < m.steps.size(); ++i) last[m.steps[i].step_name] = i;
    if (last.size() == m.steps.size()) continue;
    std::vector<JobStepRecord> steps;
    for (auto& [_, i] : last) steps.push_back(std::move(m.steps[i]));
    m.steps = std::move(steps);
  }
  return merged;
}

void Scheduler::Flush(JobState& job, JobTransition& tx, std::vector<JobTransition>& out) {
  if (job.header_dirty) {
    tx.job = job.rec;
    job.header_dirty = false;
  }
  if (!tx.job && tx.steps.empty() && tx.runs.empty() && tx.events.empty()) return;
  tx.job_name = job.rec.name;
  out.push_back(std::move(tx));
  tx = JobTransition{};
}

namespace {

OutboxEvent RunEvent(const std::string& type, const std::string& run_id,
                     const std::string& experiment_id, const std::string& status,
                     const std::string& job, const std::string& step, int64_t now) {
  // Written directly (keys in nlohmann's sorted order): three events per step,
  // and building them as json objects was a tenth of the scheduler's work.
  std::string data = "{";
  data.reserve(192);
  auto member = [&data](std::string_view key, std::string_view value) {
    if (data.size() > 1) data += ',';
    AppendJsonString(data, key);
    data += ':';
    AppendJsonString(data, value);
  };
  member("ExperimentId", experiment_id);
  member("JobName", job);
  member("MlflowStatus", MlflowStatus(status));
  member("RunId", run_id);
  member("RunStatus", status);
  if (!step.empty()) member("StepName", step);
  data += '}';
  OutboxEvent e;
  e.type = type;
  e.subject = "runs/" + run_id;
  e.time = now;
  e.data = std::move(data);
  return e;
}

}  // namespace

// Records a status change of a step (or of the job when `step` is null):
// the row, the MLflow run's status and the outbox events.
static void Mirror(JobTransition& tx, const std::string& run_id, const std::string& experiment_id,
                   const std::string& old_status, const std::string& status, const std::string& job,
                   const std::string& step, int64_t now) {
  if (std::string(MlflowStatus(old_status)) != MlflowStatus(status)) {
    bool terminal = IsTerminalJobStatus(status);
    tx.runs.push_back({run_id, MlflowStatus(status), terminal ? std::optional(now) : std::nullopt});
  }
  if (old_status != status) {
    tx.events.push_back(
        RunEvent("RunStatusChanged", run_id, experiment_id, status, job, step, now));
    if (IsTerminalJobStatus(status)) {
      tx.events.push_back(RunEvent("RunCompleted", run_id, experiment_id, status, job, step, now));
    }
  }
}

void Scheduler::Resume(JobState& job, JobTransition& tx) {
  const int64_t now = clock_.NowMillis();
  std::map<std::string, JobStepRecord> stored;
  for (JobStepRecord& r : job.rec.steps) stored[r.step_name] = std::move(r);
  job.rec.steps.clear();
  if (!job.rec.error.empty() && job.plan.steps.empty()) {
    job.rec.status = kJobFailed;
    job.rec.ended = now;
    job.header_dirty = true;
    return;
  }
  auto order = ValidatePlan(job.plan);
  if (order.ok()) job.order = *order;
  // The job's folder holds its steps' folders and their exit status file.
  if (Status st = EnsureDirectory(options_.jobs_root / job.rec.name); !st.ok()) {
    std::fprintf(stderr, "cairn: job %s: %s\n", job.rec.name.c_str(), st.message().c_str());
  }
  job.steps.resize(job.plan.steps.size());
  for (size_t i = 0; i < job.plan.steps.size(); ++i) {
    const StepPlan& p = job.plan.steps[i];
    StepState& s = job.steps[i];
    s.plan = &p;
    s.index = i;
    s.rec = stored[p.name];
    s.compute = !p.compute.empty()
                    ? p.compute
                    : (!job.plan.default_compute.empty() ? job.plan.default_compute : "local");
    s.dir = options_.jobs_root / job.rec.name / p.name;
    job.index[p.name] = i;
  }
  for (size_t i = 0; i < job.steps.size(); ++i) {
    const StepPlan& p = *job.steps[i].plan;
    std::set<size_t> deps;
    for (const std::string& d : p.depends_on) deps.insert(job.index[d]);
    for (const auto& [_, in] : p.inputs) {
      if (in.kind == InputValue::Kind::kStepOutput) deps.insert(job.index[in.from_step]);
    }
    job.steps[i].deps.assign(deps.begin(), deps.end());
  }
  // Steps that were running when the server stopped (see docs/pipelines-runtime.md).
  if (!job.recovered) return;
  for (StepState& s : job.steps) {
    if (s.rec.status != kJobRunning) {
      if (!IsTerminalJobStatus(s.rec.status) &&
          ReadExitStatus(ExitStatusOf(job, s, s.rec.attempt + 1))) {
        // Launched, but the server stopped before recording it: say so.
        s.rec.notes = Append(s.rec.notes, "attempt " + std::to_string(s.rec.attempt + 1) +
                                              " had started before the server restarted without "
                                              "being recorded; it runs again");
        tx.steps.push_back(s.rec);
      }
      continue;
    }
    std::string key = job.rec.name + "/" + s.rec.step_name;
    ExitStatusFile exit_path = ExitStatusOf(job, s, s.rec.attempt);
    ProcessHandle handle{s.rec.pid.value_or(0), s.rec.process_start.value_or(0)};
    if (executor_.Reattach(key, handle, exit_path).ok()) {
      s.launched = true;
      ++running_per_compute_[s.compute];
      s.rec.notes = Append(s.rec.notes, "server restarted; reattached to attempt " +
                                            std::to_string(s.rec.attempt) + " (pid " +
                                            std::to_string(handle.pid) + ")");
      tx.steps.push_back(s.rec);
      if (s.plan->timeout_seconds > 0 && s.rec.started) {
        int64_t left_ms = *s.rec.started + s.plan->timeout_seconds * 1000 - now;
        s.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(left_ms);
      }
      continue;
    }
    StepExit exit;
    if (auto code = ReadExitStatus(exit_path, s.rec.pid)) {
      exit.exit_code = *code;
      s.rec.notes =
          Append(s.rec.notes, "server restarted; attempt " + std::to_string(s.rec.attempt) +
                                  " had ended meanwhile (exit code " + std::to_string(*code) + ")");
    } else {
      exit.lost = true;
    }
    // Counted as running until OnExit accounts for it.
    s.launched = true;
    ++running_per_compute_[s.compute];
    OnExit(job, s, exit, tx);
  }
}

void Scheduler::CancelJob(JobState& job, JobTransition& tx) {
  (void)tx;
  if (job.cancel_requested) return;
  job.cancel_requested = true;
  for (StepState& s : job.steps) {
    if (s.launched && !s.cancel_sent) {
      s.cancel_sent = true;
      (void)executor_.Cancel(job.rec.name + "/" + s.rec.step_name, options_.kill_grace);
    }
  }
}

void Scheduler::RememberCompleted(const JobStepRecord& step) {
  auto now = std::chrono::steady_clock::now();
  if (recent_completed_.size() >= kRecentCompletedBound) {
    // Whatever is seconds old the committer has long written.
    std::erase_if(recent_completed_,
                  [&](const auto& entry) { return now - entry.second.second > kRecentWritten; });
  }
  recent_completed_[step.cache_key] = {step, now};
}

Result<std::optional<JobStepRecord>> Scheduler::FindCompletedStep(const std::string& cache_key) {
  // This scheduler's own completions first: the newest, and maybe not yet
  // written by the committer (a step identical to one that completed in the
  // same pass is then reused, not run again).
  if (auto it = recent_completed_.find(cache_key); it != recent_completed_.end()) {
    return std::optional<JobStepRecord>(it->second.first);
  }
  return jobs_.FindCompletedStep(cache_key);
}

int64_t Scheduler::ComputeLimit(const std::string& compute, SteadyTime now) {
  // Read from the store at most once a second per compute: a pass runs per
  // step exit, and a store read per pass was a visible part of a no-op step's
  // cost. A compute that does not exist is not remembered, so creating it
  // takes effect at once.
  auto it = compute_limits_.find(compute);
  if (it != compute_limits_.end() && now - it->second.second < std::chrono::seconds(1)) {
    return it->second.first;
  }
  auto c = jobs_.GetCompute(compute);
  if (!c.ok()) {
    compute_limits_.erase(compute);
    return 0;
  }
  compute_limits_[compute] = {c->max_concurrency, now};
  return c->max_concurrency;
}

void Scheduler::Pump(JobState& job, JobTransition& tx) {
  if (IsTerminalJobStatus(job.rec.status)) return;
  const int64_t now = clock_.NowMillis();
  auto steady_now = std::chrono::steady_clock::now();
  auto set_status = [&](StepState& s, const std::string& status) {
    if (s.rec.status == status) return;
    Mirror(tx, s.rec.run_id, job.rec.experiment_id, s.rec.status, status, job.rec.name,
           s.rec.step_name, now);
    s.rec.status = status;
    if (IsTerminalJobStatus(status)) s.rec.ended = now;
    tx.steps.push_back(s.rec);
  };
  bool any_running = false;
  const std::string* full_compute = nullptr;
  while (job.first_open < job.order.size() &&
         IsTerminalJobStatus(job.steps[job.order[job.first_open]].rec.status)) {
    if (job.steps[job.order[job.first_open]].rec.status == kJobFailed) {
      job.failed_before_open = true;
    }
    ++job.first_open;
  }
  for (size_t pos = job.first_open; pos < job.order.size(); ++pos) {
    StepState& s = job.steps[job.order[pos]];
    if (IsTerminalJobStatus(s.rec.status)) continue;
    if (s.launched) {
      any_running = true;
      continue;
    }
    if (job.cancel_requested) {
      s.rec.error = "canceled";
      set_status(s, kJobCanceled);
      continue;
    }
    // A compute found full stays full for the rest of this pass (starting only
    // adds): its queued steps stay queued. Checked first: with many steps
    // waiting for a slot, this is what most of a pass does.
    if (full_compute && s.waiting_for_slot && s.compute == *full_compute) continue;
    std::string blocked;
    bool waiting = false;
    for (size_t d : s.deps) {
      const std::string& ds = job.steps[d].rec.status;
      if (ds == kJobFailed || ds == kJobCanceled) {
        blocked = job.steps[d].rec.step_name;
      } else if (ds != kJobCompleted) {
        waiting = true;
      }
    }
    if (!blocked.empty()) {
      s.rec.error = "not run: step '" + blocked + "' did not complete";
      set_status(s, kJobCanceled);
      continue;
    }
    if (waiting || !job.stop_reason.empty()) continue;
    if (s.ready_at && *s.ready_at > steady_now) {
      set_status(s, kJobQueued);
      continue;
    }
    int64_t limit = ComputeLimit(s.compute, steady_now);
    if (limit <= 0) {
      s.rec.error = "compute '" + s.compute + "' does not exist; `cairn compute list` shows them";
      set_status(s, kJobFailed);
      if (!job.plan.continue_on_step_failure) job.stop_reason = s.rec.step_name;
      continue;
    }
    if (running_per_compute_[s.compute] >= limit) {
      set_status(s, kJobQueued);
      s.waiting_for_slot = true;
      full_compute = &s.compute;
      continue;
    }
    s.waiting_for_slot = false;
    StartStep(job, s, tx);
    if (s.launched) any_running = true;
    if (s.rec.status == kJobFailed && !job.plan.continue_on_step_failure) {
      job.stop_reason = s.rec.step_name;
    }
  }
  // Job status.
  // The steps before first_open have ended: they count as started.
  bool all_done = true, any_failed = job.failed_before_open, any_started = job.first_open > 0;
  bool complete_order = job.order.size() == job.steps.size();
  for (size_t pos = complete_order ? job.first_open : 0; pos < job.steps.size(); ++pos) {
    const StepState& s = job.steps[complete_order ? job.order[pos] : pos];
    if (!IsTerminalJobStatus(s.rec.status)) all_done = false;
    if (s.rec.status == kJobFailed) any_failed = true;
    if (s.rec.status != kJobNotStarted && s.rec.status != kJobQueued) any_started = true;
    // Mid-job (a step still open, one started) the status is Running whatever
    // the rest are: a pass per step exit must not walk every waiting step.
    // any_failed matters only once all are done.
    if (!all_done && (any_started || any_running)) break;
  }
  if (!all_done && !any_running && !job.stop_reason.empty()) {
    any_failed = true;  // stop_reason names a step that failed
    // A failure stopped new steps and nothing runs any more: the rest will never run.
    for (StepState& s : job.steps) {
      if (IsTerminalJobStatus(s.rec.status)) continue;
      s.rec.error = "not run: step '" + job.stop_reason +
                    "' failed (settings.continue_on_step_failure is false)";
      set_status(s, kJobCanceled);
    }
    all_done = true;
  }
  std::string status = job.rec.status;
  if (all_done) {
    status = job.cancel_requested ? kJobCanceled : any_failed ? kJobFailed : kJobCompleted;
    if (status == kJobFailed) {
      for (StepState& s : job.steps) {
        if (s.rec.status == kJobFailed) {
          job.rec.error = "step '" + s.rec.step_name + "' failed: " + s.rec.error;
          break;
        }
      }
    } else if (status == kJobCanceled) {
      job.rec.error = "canceled";
    }
  } else if (any_started || any_running) {
    status = kJobRunning;
  } else {
    status = kJobQueued;
  }
  if (status != job.rec.status) {
    // Read the clock again: steps started (or reused) in this pass took time,
    // and a job must not end before its last step.
    const int64_t status_now = clock_.NowMillis();
    Mirror(tx, job.rec.run_id, job.rec.experiment_id, job.rec.status, status, job.rec.name, "",
           status_now);
    if (status == kJobRunning && !job.rec.started) job.rec.started = now;
    if (IsTerminalJobStatus(status)) {
      job.rec.ended = status_now;
      if (!job.rec.started) job.rec.started = now;
    }
    job.rec.status = status;
    job.header_dirty = true;
  }
}

void Scheduler::StartStep(JobState& job, StepState& s, JobTransition& tx) {
  const StepPlan& p = *s.plan;
  const int64_t now = clock_.NowMillis();
  const int64_t attempt = s.rec.attempt + 1;
  std::string run_entity = "run:" + s.rec.run_id;
  auto fail = [&](const std::string& error) {
    s.rec.error = error;
    Mirror(tx, s.rec.run_id, job.rec.experiment_id, s.rec.status, kJobFailed, job.rec.name,
           s.rec.step_name, now);
    s.rec.status = kJobFailed;
    if (!s.rec.started) s.rec.started = now;
    s.rec.ended = now;
    tx.steps.push_back(s.rec);
    std::ofstream(LogPath(job.rec.name, s.rec.step_name), std::ios::app)
        << "cairn: step not started: " << error << "\n";
  };
  // Prepare the work directory: code, inputs, outputs.
  // The process runs in code/ (the snapshot's files) or, without code, in the
  // step directory itself. Few directories per step: mkdir is a visible part
  // of a no-op step's cost.
  fs::path code_dir = p.code.empty() ? s.dir : s.dir / "code";
  std::error_code ec;
  // Fresh: nothing of an earlier attempt or server to clear.
  auto fresh_dir = spares_.Take(s.dir);
  if (!fresh_dir.ok()) return fail(fresh_dir.status().message());
  if (!*fresh_dir && (!p.outputs.empty() || fs::exists(s.dir / "outputs", ec))) {
    fs::remove_all(s.dir / "outputs", ec);
  }
  CacheKeyParts key;
  key.command = p.command;
  key.environment_variables = p.environment_variables;
  s.lineage.clear();
  if (!p.code.empty()) {
    auto code = assets_.GetCode(CodeHashOf(p.code));
    if (!code.ok()) return fail("code '" + p.code + "': " + code.status().message());
    key.code_hash = code->content_hash;
    fs::remove_all(code_dir, ec);
    if (Status st = CopyArtifactTree(artifacts_, code->storage_path, code_dir); !st.ok()) {
      return fail("cannot materialize code " + p.code + ": " + st.message());
    }
    s.lineage.push_back({"code:" + code->name, run_entity, "code", 0});
  }
  std::optional<MaterializedEnvironment> env;
  if (!p.environment.empty()) {
    auto version = assets_.Resolve(kEnvironmentAsset, p.environment);
    if (!version.ok()) {
      return fail("environment '" + p.environment + "': " + version.status().message());
    }
    auto built = assets_.BuildEnvironment(p.environment);
    if (!built.ok()) {
      return fail("environment '" + p.environment + "': " + built.status().message());
    }
    env = std::move(*built);
    key.environment_hash = version->content_hash;
    s.lineage.push_back(
        {"environment:" + version->name + ":" + version->version, run_entity, "environment", 0});
  }
  std::map<std::string, std::string> input_values;
  for (const auto& [name, bound] : p.inputs) {
    InputValue in = bound;
    if (in.kind == InputValue::Kind::kParentInput) {
      auto it = job.plan.inputs.find(in.parent_input);
      if (it == job.plan.inputs.end()) continue;  // optional and absent
      in = it->second;
    }
    fs::path target = s.dir / "inputs" / name;
    switch (in.kind) {
      case InputValue::Kind::kLiteral:
        input_values[name] = in.literal;
        key.input_hashes[name] = "literal:" + in.literal;
        break;
      case InputValue::Kind::kDataAsset: {
        auto data = assets_.Resolve(kDataAsset, in.asset_ref);
        if (!data.ok()) return fail("input '" + name + "': " + data.status().message());
        fs::remove_all(target, ec);
        if (Status st = CopyArtifactTree(artifacts_, data->storage_path, target); !st.ok()) {
          return fail("input '" + name + "': cannot materialize " + in.asset_ref + ": " +
                      st.message());
        }
        fs::path value = target;
        if (data->type == "uri_file") {
          for (auto& e : fs::directory_iterator(target, ec)) {
            if (e.is_regular_file()) value = e.path();
          }
        }
        input_values[name] = value.string();
        key.input_hashes[name] = "data:" + data->content_hash;
        s.lineage.push_back({"data:" + data->name + ":" + data->version, run_entity, "input", 0});
        break;
      }
      case InputValue::Kind::kUriFile:
      case InputValue::Kind::kUriFolder: {
        fs::path local;
        if (IsDatastoreUri(in.path)) {
          auto uri = ParseDatastoreUri(in.path);
          if (!uri.ok()) return fail("input '" + name + "': " + uri.status().message());
          auto ds = assets_.GetDatastore(uri->datastore);
          if (!ds.ok()) return fail("input '" + name + "': " + ds.status().message());
          if (ds->type != "local") {
            return fail("input '" + name + "': datastore '" + ds->name + "' has type " + ds->type +
                        "; steps read local datastores only");
          }
          local = fs::path(ds->root) / uri->path;
          auto canon = fs::weakly_canonical(local, ec);
          if (ec || !Within(fs::weakly_canonical(ds->root, ec), canon)) {
            return fail("input '" + name + "': " + in.path + " leaves the datastore's root");
          }
          local = canon;
        } else {
          fs::path given(in.path);
          if (!given.is_absolute()) {
            return fail("input '" + name + "': path '" + in.path +
                        "' must be absolute on the server, a datastore URI, or uploaded as a "
                        "data asset by the client");
          }
          local = fs::weakly_canonical(given, ec);
          if (!options_.allowed_roots.empty()) {
            bool ok = false;
            for (const fs::path& root : options_.allowed_roots) {
              if (Within(fs::weakly_canonical(root, ec), local)) ok = true;
            }
            if (!ok) {
              return fail("input '" + name + "': '" + in.path +
                          "' is outside the server's datastore roots (--datastore-root)");
            }
          }
        }
        auto hash = HashLocalTree(local);
        if (!hash.ok()) return fail("input '" + name + "': " + hash.status().message());
        input_values[name] = local.string();
        key.input_hashes[name] = "path:" + *hash;
        break;
      }
      case InputValue::Kind::kStepOutput: {
        const StepState& producer = job.steps[job.index[in.from_step]];
        json outs = json::parse(producer.rec.outputs, nullptr, false);
        if (!outs.is_object() || !outs.contains(in.from_output)) {
          return fail("input '" + name + "': step '" + in.from_step + "' produced no output '" +
                      in.from_output + "'");
        }
        fs::path value = producer.dir / "outputs" / in.from_output;
        const auto& spec = producer.plan->outputs.at(in.from_output);
        if (spec.type == "uri_file") value /= in.from_output;
        input_values[name] = value.string();
        key.input_hashes[name] = "output:" + outs[in.from_output].value("hash", "");
        s.lineage.push_back({"run:" + producer.rec.run_id, run_entity, "input", 0});
        break;
      }
      case InputValue::Kind::kParentInput:
        return fail("input '" + name + "': a pipeline input cannot bind another");
    }
  }
  std::map<std::string, std::string> output_values;
  for (const auto& [name, spec] : p.outputs) {
    fs::path dir = s.dir / "outputs" / name;
    if (Status st = EnsureDirectory(dir); !st.ok()) return fail(st.message());
    output_values[name] = spec.type == "uri_file" ? (dir / name).string() : dir.string();
    key.outputs[name] = spec.type;
  }
  auto command = SubstituteCommand(p.command, input_values, output_values);
  if (!command.ok()) return fail(command.status().message());
  s.rec.cache_key = StepCacheKey(key);

  // Reuse: an earlier Completed step with the same content.
  if (attempt == 1 && p.is_deterministic && !job.plan.force_rerun) {
    auto found = FindCompletedStep(s.rec.cache_key);
    if (found.ok() && *found && (*found)->run_id != s.rec.run_id) {
      const JobStepRecord& prior = **found;
      std::string origin = prior.reused_from.empty() ? prior.run_id : prior.reused_from;
      auto prior_run = tracking_.GetRun(prior.run_id);
      auto prior_root = prior_run.ok() ? ArtifactUriToPath(prior_run->info.artifact_uri)
                                       : Result<std::string>(prior_run.status());
      const std::string& artifact_root = ArtifactRoot(s);
      bool linked = prior_root.ok() && !artifact_root.empty();
      json outs = json::object();
      json prior_outs = json::parse(prior.outputs, nullptr, false);
      for (const auto& [name, spec] : p.outputs) {
        if (!linked) break;
        std::string from = *prior_root + "/outputs/" + name;
        std::string to = artifact_root + "/outputs/" + name;
        auto files = ListRecursive(artifacts_, from);
        if (!files.ok()) {
          linked = false;
          break;
        }
        for (const FileInfo& f : *files) {
          if (!artifacts_.LinkBlob(to + "/" + f.path, {f.sha256, f.file_size}).ok()) {
            linked = false;
          }
        }
        if (linked && !CopyArtifactTree(artifacts_, to, s.dir / "outputs" / name).ok()) {
          linked = false;
        }
        std::string hash = prior_outs.is_object() && prior_outs.contains(name)
                               ? prior_outs[name].value("hash", "")
                               : "";
        outs[name] = {{"uri", "mlflow-artifacts:/" + to}, {"hash", hash}};
      }
      if (linked) {
        std::string note = "reused from run " + origin;
        std::ofstream(LogPath(job.rec.name, s.rec.step_name), std::ios::app)
            << "cairn: " << note << " (same command, code, environment and inputs)\n";
        tx.run_tags.push_back({s.rec.run_id, {"cairn.reused_from", origin}});
        s.rec.reused_from = origin;
        s.rec.notes = Append(s.rec.notes, note);
        s.rec.outputs = outs.dump();
        s.rec.exit_code = prior.exit_code;
        s.rec.started = now;
        s.lineage.push_back({"run:" + origin, run_entity, "reused", 0});
        FinishStep(job, s, kJobCompleted, "", tx);
        return;
      }
    }
  }

  // Launch.
  // The step's own variables and Cairn's, over the server's environment
  // (shared between launches, not copied per step).
  std::map<std::string, std::string> envmap(p.environment_variables.begin(),
                                            p.environment_variables.end());
  auto inherited = [&](const std::string& key) -> std::string {
    if (auto it = envmap.find(key); it != envmap.end()) return it->second;
    auto it = base_env_.find(key);
    return it != base_env_.end() ? it->second : std::string();
  };
  if (env) envmap["VIRTUAL_ENV"] = env->root.string();
  envmap["PATH"] = StepSearchPath(env ? env->root / "bin" : std::filesystem::path(),
                                  options_.tools_dir, inherited("PATH"));
  if (!options_.python_helper_dir.empty()) {
    envmap["PYTHONPATH"] = StepPythonPath(options_.python_helper_dir, inherited("PYTHONPATH"));
  }
  std::string url;
  {
    std::lock_guard lock(mu_);
    url = server_url_;
  }
  envmap["CAIRN_URL"] = url;
  envmap["MLFLOW_TRACKING_URI"] = url;
  envmap["CAIRN_RUN_ID"] = s.rec.run_id;
  envmap["MLFLOW_RUN_ID"] = s.rec.run_id;
  envmap["MLFLOW_EXPERIMENT_ID"] = job.rec.experiment_id;
  envmap["CAIRN_JOB_NAME"] = job.rec.name;
  envmap["CAIRN_STEP_NAME"] = s.rec.step_name;
  envmap["CAIRN_ATTEMPT"] = std::to_string(attempt);

  StepLaunch launch;
  launch.argv = {"/bin/sh", "-c", *command};
  launch.workdir = code_dir;
  launch.env = std::move(envmap);
  launch.base_env = base_env_entries_;
  launch.stdout_path = launch.stderr_path = LogPath(job.rec.name, s.rec.step_name);
  launch.exit_status = ExitStatusOf(job, s, attempt);
  if (attempt > 1) {
    std::ofstream(launch.stdout_path, std::ios::app)
        << "cairn: --- attempt " << attempt << " ---\n";
  }
  auto handle = executor_.Launch(job.rec.name + "/" + s.rec.step_name, launch);
  if (!handle.ok()) return fail(handle.status().message());
  s.launched = true;
  s.timed_out = false;
  s.cancel_sent = false;
  ++running_per_compute_[s.compute];
  s.deadline.reset();
  if (p.timeout_seconds > 0) {
    s.deadline = std::chrono::steady_clock::now() + std::chrono::seconds(p.timeout_seconds);
  }
  s.rec.attempt = attempt;
  s.rec.pid = handle->pid;
  s.rec.process_start = handle->start_time;
  s.rec.exit_code.reset();
  if (!s.rec.started) s.rec.started = now;
  Mirror(tx, s.rec.run_id, job.rec.experiment_id, s.rec.status, kJobRunning, job.rec.name,
         s.rec.step_name, now);
  s.rec.status = kJobRunning;
  tx.steps.push_back(s.rec);
}

void Scheduler::OnExit(JobState& job, StepState& s, const StepExit& exit, JobTransition& tx) {
  if (!s.launched) return;
  s.launched = false;
  --running_per_compute_[s.compute];
  s.rec.pid.reset();
  s.rec.process_start.reset();
  const StepPlan& p = *s.plan;
  std::string attempt = std::to_string(s.rec.attempt);
  if (!exit.lost) s.rec.exit_code = exit.exit_code;
  if (!exit.lost && exit.exit_code == 0 && !s.timed_out) {
    return FinishStep(job, s, kJobCompleted, "", tx);
  }
  if (job.cancel_requested) return FinishStep(job, s, kJobCanceled, "canceled", tx);
  std::string why = s.timed_out ? "timed out after " + std::to_string(p.timeout_seconds) + "s"
                    : exit.lost ? "lost: server restarted and the process left no exit status"
                                : "exit code " + std::to_string(exit.exit_code);
  if (s.rec.attempt < p.retry.max_attempts) {
    double backoff = p.retry.backoff_seconds * std::pow(2.0, s.rec.attempt - 1);
    s.rec.notes = Append(s.rec.notes, "attempt " + attempt + " failed (" + why + "); retrying in " +
                                          Seconds(backoff) + "s");
    s.ready_at = std::chrono::steady_clock::now() +
                 std::chrono::milliseconds(static_cast<int64_t>(backoff * 1000));
    s.rec.status = kJobQueued;  // the MLflow run stays RUNNING between attempts
    tx.steps.push_back(s.rec);
    return;
  }
  if (p.retry.max_attempts > 1) why += " (attempt " + attempt + " of " + attempt + ")";
  FinishStep(job, s, kJobFailed, why, tx);
}

void Scheduler::FinishStep(JobState& job, StepState& s, const std::string& status,
                           const std::string& error, JobTransition& tx) {
  const int64_t now = clock_.NowMillis();
  std::string problem = error;
  std::error_code ec;
  fs::path log = LogPath(job.rec.name, s.rec.step_name);
  if (status == kJobCompleted && s.rec.reused_from.empty() && !s.plan->outputs.empty() &&
      !ArtifactRoot(s).empty()) {
    // Outputs become the step run's artifacts; their content hash feeds consumers' cache keys.
    json outs = json::object();
    for (const auto& [name, spec] : s.plan->outputs) {
      fs::path dir = s.dir / "outputs" / name;
      std::vector<std::pair<std::string, std::string>> files;
      std::error_code ec;
      for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
           it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        std::string rel = fs::relative(it->path(), dir).generic_string();
        auto put = artifacts_.PutFile(ArtifactRoot(s) + "/outputs/" + name + "/" + rel, it->path());
        if (!put.ok()) {
          problem = "cannot store output '" + name + "': " + put.status().message();
          break;
        }
        files.emplace_back(rel, put->sha256);
      }
      if (spec.type == "uri_file" && files.empty() && problem.empty()) {
        problem = "output '" + name + "' (uri_file) was not written to " + (dir / name).string();
      }
      outs[name] = {{"uri", "mlflow-artifacts:/" + ArtifactRoot(s) + "/outputs/" + name},
                    {"hash", HashFileList(std::move(files))}};
    }
    s.rec.outputs = outs.dump();
  }
  // Outputs with a name (Azure ML's `name`/`version`) become data asset
  // versions, from the files just stored (or linked, for a reused step).
  if (status == kJobCompleted && problem.empty()) {
    for (const auto& [name, spec] : s.plan->outputs) {
      if (spec.register_as.empty()) continue;
      std::string asset =
          spec.register_as + (spec.register_version.empty() ? "" : ":") + spec.register_version;
      const std::string& root = ArtifactRoot(s);
      std::string stored = root + "/outputs/" + name;
      auto files = root.empty() ? Result<std::vector<FileInfo>>(Status(
                                      ErrorCode::kInternalError, "the step's run has no artifacts"))
                                : ListRecursive(artifacts_, stored);
      if (!files.ok()) {
        problem = "cannot register output '" + name + "' as data " + asset + ": " +
                  files.status().message();
        break;
      }
      NewDataVersion data;
      data.name = spec.register_as;
      data.version = spec.register_version;
      data.type = spec.type;
      data.description =
          "output '" + name + "' of step '" + s.rec.step_name + "' of job '" + job.rec.name + "'";
      data.source = "mlflow-artifacts:/" + stored;
      data.created_by = "job " + job.rec.name;
      for (const FileInfo& f : *files) {
        if (!f.is_dir) data.files.push_back({f.path, f.sha256, f.file_size});
      }
      auto created = assets_.CreateData(std::move(data));
      if (!created.ok()) {
        problem = "cannot register output '" + name + "' as data " + asset + ": " +
                  created.status().message();
        break;
      }
      std::string entity = "data:" + created->asset.name + ":" + created->asset.version;
      s.lineage.push_back({"run:" + s.rec.run_id, entity, "output", 0});
      s.rec.notes = Append(s.rec.notes, "output '" + name + "' registered as " + entity);
    }
  }
  std::string final_status = problem.empty() || status != kJobCompleted ? status : kJobFailed;
  // A step that left nothing behind (a no-op) gives its folder to the next
  // step; an empty log has nothing to keep (it then stores no artifact at all).
  // A reused step's log holds only Cairn's note, which its notes and the
  // cairn.reused_from tag already carry: storing it cost four fsyncs per step.
  bool recycled = s.plan->outputs.empty() && spares_.Recycle(s.dir);
  if (!recycled && s.rec.reused_from.empty() && fs::file_size(log, ec) > 0 &&
      !ArtifactRoot(s).empty()) {
    (void)artifacts_.PutFile(ArtifactRoot(s) + "/user_logs/std_log.txt", log);
  }
  // Lineage commits with the step's completion (the ids were built canonical).
  for (LineageEdge& e : s.lineage) {
    e.creation_time = now;
    tx.lineage.push_back(std::move(e));
  }
  s.lineage.clear();
  s.rec.error = problem;
  Mirror(tx, s.rec.run_id, job.rec.experiment_id, s.rec.status, final_status, job.rec.name,
         s.rec.step_name, now);
  s.rec.status = final_status;
  if (!s.rec.started) s.rec.started = now;
  s.rec.ended = now;
  s.ready_at.reset();
  s.deadline.reset();
  tx.steps.push_back(s.rec);
  if (final_status == kJobCompleted && !s.rec.cache_key.empty()) RememberCompleted(s.rec);
  if (final_status == kJobFailed && !job.plan.continue_on_step_failure && job.stop_reason.empty()) {
    job.stop_reason = s.rec.step_name;
  }
}

}  // namespace cairn::pipeline
