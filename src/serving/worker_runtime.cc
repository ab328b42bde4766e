// serving/worker_runtime.cc: the scoring-script worker pool (see
// worker_runtime.h; the frame protocol is in python_adapter.cc and
// docs/serving.md).
#include "serving/worker_runtime.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "artifacts/path_safety.h"

extern char** environ;

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kMaxFrameBytes = 64u << 20;
// A frame header with this length and no payload is a liveness ping; the
// worker answers the frame "P". No request body can have this length.
constexpr uint32_t kPingLength = 0xFFFFFFFFu;

enum class Io { kOk, kClosed, kTimeout };

int MillisUntil(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
}

Io WaitFd(int fd, short events, SteadyClock::time_point deadline) {
  for (;;) {
    pollfd p{fd, events, 0};
    int ms = MillisUntil(deadline);
    int rc = ::poll(&p, 1, ms);
    if (rc > 0) return Io::kOk;  // readable, writable, or hung up (the read/write says which)
    if (rc == 0) return Io::kTimeout;
    if (errno != EINTR) return Io::kClosed;
  }
}

Io SendAll(int fd, const char* data, size_t n, SteadyClock::time_point deadline) {
  while (n > 0) {
    ssize_t k = ::send(fd, data, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k > 0) {
      data += k;
      n -= static_cast<size_t>(k);
      continue;
    }
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (Io io = WaitFd(fd, POLLOUT, deadline); io != Io::kOk) return io;
      continue;
    }
    return Io::kClosed;
  }
  return Io::kOk;
}

Io RecvAll(int fd, char* data, size_t n, SteadyClock::time_point deadline) {
  while (n > 0) {
    ssize_t k = ::recv(fd, data, n, MSG_DONTWAIT);
    if (k > 0) {
      data += k;
      n -= static_cast<size_t>(k);
      continue;
    }
    if (k == 0) return Io::kClosed;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (Io io = WaitFd(fd, POLLIN, deadline); io != Io::kOk) return io;
      continue;
    }
    return Io::kClosed;
  }
  return Io::kOk;
}

Io SendFrame(int fd, std::string_view payload, SteadyClock::time_point deadline) {
  uint32_t n = static_cast<uint32_t>(payload.size());
  char head[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
                  static_cast<char>(n)};
  if (payload.size() + 4 <= 16 * 1024) {  // one send for small requests
    std::string buf(head, 4);
    buf.append(payload);
    return SendAll(fd, buf.data(), buf.size(), deadline);
  }
  if (Io io = SendAll(fd, head, 4, deadline); io != Io::kOk) return io;
  return SendAll(fd, payload.data(), payload.size(), deadline);
}

Io RecvFrame(int fd, std::string& out, SteadyClock::time_point deadline) {
  unsigned char head[4];
  if (Io io = RecvAll(fd, reinterpret_cast<char*>(head), 4, deadline); io != Io::kOk) return io;
  uint32_t n = (uint32_t{head[0]} << 24) | (uint32_t{head[1]} << 16) | (uint32_t{head[2]} << 8) |
               uint32_t{head[3]};
  if (n > kMaxFrameBytes) return Io::kClosed;  // a confused worker: treat as dead
  out.resize(n);
  return RecvAll(fd, out.data(), n, deadline);
}

struct Worker {
  int slot = 0;
  pid_t pid = -1;
  int sock = -1;           // our end of the socketpair
  std::thread log_reader;  // the worker's stdout/stderr, line by line, into the log
};

class WorkerPool final : public Runtime {
 public:
  WorkerPool(DeploymentConfig config, LogSink log, std::vector<ColumnSpec> columns)
      : config_(std::move(config)), log_(std::move(log)), columns_(std::move(columns)) {}

  ~WorkerPool() override {
    {
      std::lock_guard lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    restart_cv_.notify_all();
    probe_cv_.notify_all();
    if (restarter_.joinable()) restarter_.join();
    if (prober_.joinable()) prober_.join();
    std::lock_guard lk(mu_);
    for (auto& w : workers_) {
      if (w) Reap(*w, /*kill_first=*/true);
    }
  }

  bool wants_raw() const override { return true; }
  const std::vector<ColumnSpec>& columns() const override { return columns_; }
  std::string platform() const override { return "script"; }

  // Starts every worker and waits for their init(); fails when any fails.
  Status Start() {
    int n = std::max(1, config_.instance_count);
    workers_.resize(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i) {
      auto w = std::make_unique<Worker>();
      w->slot = i;
      CAIRN_RETURN_IF_ERROR(Spawn(*w));
      workers_[static_cast<size_t>(i)] = std::move(w);
    }
    for (int i = 0; i < n; ++i) {
      Worker& w = *workers_[static_cast<size_t>(i)];
      Status st = AwaitReady(w);
      if (!st.ok()) return st;
      idle_.push_back(i);
    }
    restarter_ = std::thread([this] { RestartLoop(); });
    prober_ = std::thread([this] { ProbeLoop(); });
    return Status::Ok();
  }

  Status Predict(const ScoreBatch& batch, SteadyClock::time_point deadline,
                 ScoreResult& out) override {
    int slot = -1;
    {
      std::unique_lock lk(mu_);
      if (!cv_.wait_until(lk, deadline, [&] { return stopping_ || !idle_.empty(); })) {
        out.timed_out = true;
        return Status(ErrorCode::kTemporarilyUnavailable,
                      "no scoring worker became free before the request timeout");
      }
      if (stopping_) return Status(ErrorCode::kTemporarilyUnavailable, "deployment is stopping");
      slot = idle_.front();
      idle_.pop_front();
    }
    Worker& w = *workers_[static_cast<size_t>(slot)];
    std::string reply;
    Io io = SendFrame(w.sock, batch.raw_body, deadline);
    if (io == Io::kOk) io = RecvFrame(w.sock, reply, deadline);
    if (io != Io::kOk) {
      std::string why = Replace(w, io == Io::kTimeout);
      if (io == Io::kTimeout) {
        out.timed_out = true;
        return Status(ErrorCode::kTemporarilyUnavailable,
                      "the scoring script did not answer within the request timeout; " + why);
      }
      return InternalError("the scoring worker crashed while scoring this request (" + why +
                           "); it is being restarted");
    }
    Release(slot);
    if (reply.empty()) return InternalError("the scoring worker sent an empty frame");
    if (reply[0] == 'O') {
      out.json.assign(reply, 1);
      return Status::Ok();
    }
    return InternalError("run() failed: " + reply.substr(1));
  }

 private:
  void Release(int slot) {
    {
      std::lock_guard lk(mu_);
      idle_.push_back(slot);
    }
    cv_.notify_one();
  }

  // Kills (when asked) and reaps a worker; returns how it ended.
  std::string Reap(Worker& w, bool kill_first) {
    if (w.sock >= 0) {
      ::close(w.sock);
      w.sock = -1;
    }
    std::string how = "exited";
    if (w.pid > 0) {
      int status = 0;
      pid_t got = 0;
      if (!kill_first) {  // give a crashing worker a moment to finish dying
        for (int i = 0; i < 50 && got == 0; ++i) {
          got = ::waitpid(w.pid, &status, WNOHANG);
          if (got == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
      }
      if (got == 0 || kill_first) {
        ::kill(w.pid, SIGKILL);
        while ((got = ::waitpid(w.pid, &status, 0)) < 0 && errno == EINTR) {
        }
        if (kill_first) how = "killed";
      }
      if (got > 0 && !kill_first) {
        if (WIFEXITED(status)) how = "exit code " + std::to_string(WEXITSTATUS(status));
        if (WIFSIGNALED(status)) how = "killed by signal " + std::to_string(WTERMSIG(status));
      }
      w.pid = -1;
    }
    if (w.log_reader.joinable()) w.log_reader.join();
    return how;
  }

  // A worker that crashed or overran: reaped now, restarted in the background.
  std::string Replace(Worker& w, bool overran) {
    std::string how = Reap(w, overran);
    log_("worker " + std::to_string(w.slot) + " " + (overran ? "overran its deadline, " : "") +
         how + "; restarting");
    {
      std::lock_guard lk(mu_);
      to_restart_.push_back(w.slot);
    }
    restart_cv_.notify_one();
    return how;
  }

  // Liveness probe (the deployment's liveness_probe): every period, each
  // idle worker is taken out of rotation and pinged; it goes back when it
  // answers within timeout_seconds. A worker that does not answer stays out
  // of rotation (its late answer is awaited at the next period) and after
  // failure_threshold consecutive misses is killed and restarted; one whose
  // connection closed is restarted at once.
  void ProbeLoop() {
    const ProbeSettings& p = config_.liveness_probe;
    const auto period = std::chrono::seconds(std::max(1, p.period_seconds));
    const auto timeout = std::chrono::seconds(std::max(1, p.timeout_seconds));
    const int threshold = std::max(1, p.failure_threshold);
    std::map<int, int> missed;  // slot -> consecutive misses, while out of rotation
    std::set<pid_t> answered;   // worker processes that answered once (logged once)
    std::unique_lock lk(mu_);
    probe_cv_.wait_for(lk, std::chrono::seconds(std::max(0, p.initial_delay_seconds)),
                       [&] { return stopping_; });
    while (!stopping_) {
      std::vector<int> slots;
      for (const auto& [slot, _] : missed) slots.push_back(slot);
      for (int slot : idle_) slots.push_back(slot);
      idle_.clear();
      lk.unlock();
      for (int slot : slots) {
        Worker& w = *workers_[static_cast<size_t>(slot)];
        const bool awaiting = missed.count(slot) > 0;  // the ping was sent at an earlier period
        auto deadline = SteadyClock::now() + timeout;
        Io io = awaiting ? Io::kOk : SendPing(w.sock, deadline);
        std::string pong;
        if (io == Io::kOk) io = RecvFrame(w.sock, pong, deadline);
        if (io == Io::kOk && pong == "P") {
          missed.erase(slot);
          if (answered.insert(w.pid).second) {
            log_("worker " + std::to_string(slot) + " answers liveness probes");
          }
          Release(slot);
          continue;
        }
        if (io == Io::kTimeout && ++missed[slot] < threshold) {
          log_("worker " + std::to_string(slot) + " missed liveness probe " +
               std::to_string(missed[slot]) + " of " + std::to_string(threshold) +
               "; out of rotation until it answers");
          continue;
        }
        missed.erase(slot);
        std::string why = io == Io::kTimeout ? "did not answer " + std::to_string(threshold) +
                                                   " liveness probes (timeout " +
                                                   std::to_string(p.timeout_seconds) + " s)"
                                             : "failed its liveness probe";
        log_("worker " + std::to_string(slot) + " " + why);
        Replace(w, io == Io::kTimeout);
      }
      lk.lock();
      probe_cv_.wait_for(lk, period, [&] { return stopping_; });
    }
  }

  static Io SendPing(int fd, SteadyClock::time_point deadline) {
    const char head[4] = {'\xff', '\xff', '\xff', '\xff'};
    static_assert(kPingLength == 0xFFFFFFFFu);
    return SendAll(fd, head, 4, deadline);
  }

  void RestartLoop() {
    int backoff_ms = 100;
    std::unique_lock lk(mu_);
    for (;;) {
      restart_cv_.wait(lk, [&] { return stopping_ || !to_restart_.empty(); });
      if (stopping_) return;
      int slot = to_restart_.front();
      to_restart_.pop_front();
      lk.unlock();
      Worker& w = *workers_[static_cast<size_t>(slot)];
      Status st = Spawn(w);
      if (st.ok()) st = AwaitReady(w);
      lk.lock();
      if (st.ok()) {
        backoff_ms = 100;
        idle_.push_back(slot);
        cv_.notify_one();
        log_("worker " + std::to_string(slot) + " restarted");
        continue;
      }
      log_("worker " + std::to_string(slot) + " failed to restart: " + st.message());
      lk.unlock();
      Reap(w, true);
      lk.lock();
      to_restart_.push_back(slot);
      restart_cv_.wait_for(lk, std::chrono::milliseconds(backoff_ms), [&] { return stopping_; });
      backoff_ms = std::min(backoff_ms * 2, 10'000);
    }
  }

  Status Spawn(Worker& w) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
      return Status(ErrorCode::kIoError, std::string("socketpair: ") + std::strerror(errno));
    }
    int logp[2];
    if (::pipe2(logp, O_CLOEXEC) != 0) {
      ::close(sv[0]);
      ::close(sv[1]);
      return Status(ErrorCode::kIoError, std::string("pipe: ") + std::strerror(errno));
    }
    const int kChildFd = 3;
    std::vector<std::string> argv;
    fs::path script = fs::path(config_.code_dir) / config_.scoring_script;
    if (script.extension() == ".py") {
      argv = {config_.python.empty() ? "python3" : config_.python, "-u", "-c",
              PythonAdapterSource(), script.string()};
    } else {
      argv = {script.string()};
    }
    std::map<std::string, std::string> extra = {{"AZUREML_MODEL_DIR", config_.model_dir},
                                                {"AZUREML_ENTRY_SCRIPT", config_.scoring_script},
                                                {"CAIRN_WORKER_FD", std::to_string(kChildFd)},
                                                {"CAIRN_ENDPOINT", config_.endpoint},
                                                {"CAIRN_DEPLOYMENT", config_.name},
                                                {"CAIRN_WORKER_INDEX", std::to_string(w.slot)},
                                                {"PYTHONUNBUFFERED", "1"}};
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string_view entry(*e);
      if (extra.count(std::string(entry.substr(0, entry.find('=')))) == 0) env.emplace_back(entry);
    }
    for (const auto& [k, v] : extra) env.push_back(k + "=" + v);

    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, logp[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, logp[1], STDERR_FILENO);
    posix_spawn_file_actions_adddup2(&actions, sv[1], kChildFd);
    if (!config_.code_dir.empty()) {
      posix_spawn_file_actions_addchdir_np(&actions, config_.code_dir.c_str());
    }
    sigset_t all_signals, no_signals;
    sigfillset(&all_signals);
    sigemptyset(&no_signals);
    posix_spawnattr_setsigdefault(&attr, &all_signals);
    posix_spawnattr_setsigmask(&attr, &no_signals);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    std::vector<char*> arg_ptrs, env_ptrs;
    for (auto& s : argv) arg_ptrs.push_back(s.data());
    arg_ptrs.push_back(nullptr);
    for (auto& s : env) env_ptrs.push_back(s.data());
    env_ptrs.push_back(nullptr);
    pid_t pid = -1;
    int rc =
        ::posix_spawnp(&pid, argv[0].c_str(), &actions, &attr, arg_ptrs.data(), env_ptrs.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(sv[1]);
    ::close(logp[1]);
    if (rc != 0) {
      ::close(sv[0]);
      ::close(logp[0]);
      return Status(rc == ENOENT ? ErrorCode::kResourceDoesNotExist : ErrorCode::kIoError,
                    "cannot run '" + argv[0] + "': " + std::strerror(rc));
    }
    w.pid = pid;
    w.sock = sv[0];
    int log_fd = logp[0];
    int slot = w.slot;
    LogSink log = log_;
    w.log_reader = std::thread([log_fd, slot, log] {
      std::string pending;
      char buf[4096];
      for (;;) {
        ssize_t k = ::read(log_fd, buf, sizeof buf);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break;
        pending.append(buf, static_cast<size_t>(k));
        size_t nl;
        while ((nl = pending.find('\n')) != std::string::npos) {
          log("[worker " + std::to_string(slot) + "] " + pending.substr(0, nl));
          pending.erase(0, nl + 1);
        }
        if (pending.size() > 64 * 1024) {
          log("[worker " + std::to_string(slot) + "] " + pending);
          pending.clear();
        }
      }
      if (!pending.empty()) log("[worker " + std::to_string(slot) + "] " + pending);
      ::close(log_fd);
    });
    return Status::Ok();
  }

  // The worker's first frame: "R" after init(), "E" + why otherwise.
  Status AwaitReady(Worker& w) {
    const ProbeSettings& p = config_.readiness_probe;
    int seconds = std::max(10, p.initial_delay_seconds + p.period_seconds * p.failure_threshold);
    auto deadline = SteadyClock::now() + std::chrono::seconds(seconds);
    std::string frame;
    Io io = RecvFrame(w.sock, frame, deadline);
    if (io == Io::kOk && frame == "R") return Status::Ok();
    std::string why;
    if (io == Io::kOk && !frame.empty() && frame[0] == 'E') {
      why = "init() failed: " + frame.substr(1);
    } else if (io == Io::kTimeout) {
      why = "the worker did not report ready within " + std::to_string(seconds) + " s";
    } else {
      why = "the worker exited before it was ready";
    }
    std::string how = Reap(w, io != Io::kClosed);
    return InvalidParameter("scoring script " + config_.scoring_script + ": " + why + " (" + how +
                            ")");
  }

  DeploymentConfig config_;
  LogSink log_;
  std::vector<ColumnSpec> columns_;
  std::vector<std::unique_ptr<Worker>> workers_;  // fixed size after Start()
  std::mutex mu_;
  std::condition_variable cv_;          // a worker became idle
  std::condition_variable restart_cv_;  // a worker needs restarting
  std::condition_variable probe_cv_;    // wakes the prober to stop
  std::deque<int> idle_;
  std::deque<int> to_restart_;
  bool stopping_ = false;
  std::thread restarter_;
  std::thread prober_;
};

}  // namespace

Result<std::unique_ptr<Runtime>> LoadWorkerRuntime(const DeploymentConfig& config,
                                                   const LogSink& log) {
  CAIRN_ASSIGN_OR_RETURN(std::string script, NormalizeRelativePath(config.scoring_script));
  fs::path path = fs::path(config.code_dir) / script;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return NotFound("scoring script '" + path.string() + "' does not exist");
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<ColumnSpec> columns,
                         ParseSignatureColumns(config.signature_inputs_json));
  DeploymentConfig c = config;
  c.scoring_script = script;
  log("starting " + std::to_string(std::max(1, config.instance_count)) + " worker(s) for " +
      path.string());
  auto pool = std::make_unique<WorkerPool>(std::move(c), log, std::move(columns));
  CAIRN_RETURN_IF_ERROR(pool->Start());
  log("workers ready");
  return std::unique_ptr<Runtime>(std::move(pool));
}

}  // namespace cairn::serving
