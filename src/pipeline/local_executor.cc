#include "pipeline/local_executor.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

#include "core/fs.h"
#include "core/thread_name.h"

namespace cairn::pipeline {
namespace fs = std::filesystem;

namespace {

// Runs "$@" and appends "<tag> <pid> <status>" to $1 before exiting with its
// status. One small O_APPEND write: a reader sees the whole line, or nothing
// if the process died first (which then counts as no recorded status).
constexpr const char* kWrapper =
    "s=\"$1\"; t=\"$2\"; shift 2; \"$@\"; rc=$?; printf '%s %s %s\\n' \"$t\" \"$$\" \"$rc\" >> "
    "\"$s\"; "
    "exit $rc";
// The common case, `/bin/sh -c COMMAND`, without a second shell: the wrapper
// evaluates COMMAND itself and an EXIT trap records the status (it also runs
// when COMMAND calls `exit N`). Positional parameters are cleared, as in sh -c.
constexpr const char* kShellWrapper =
    "cairn_status_file=\"$1\"; cairn_status_tag=\"$2\"; cairn_command=\"$3\"; set --; "
    "trap 'printf \"%s %s %s\\n\" \"$cairn_status_tag\" \"$$\" \"$?\" >> \"$cairn_status_file\"' "
    "EXIT; "
    "eval \"$cairn_command\"";

int PidfdOpen(int64_t pid) {
  return static_cast<int>(syscall(SYS_pidfd_open, static_cast<pid_t>(pid), 0));
}

}  // namespace

std::optional<int> ReadExitStatus(const ExitStatusFile& where, std::optional<int64_t> pid) {
  std::ifstream in(where.path);
  std::optional<int> found;
  std::string line;
  while (std::getline(in, line)) {
    // "<tag> <pid> <code>", read from the right: the tag is everything before.
    size_t code_at = line.rfind(' ');
    if (code_at == std::string::npos || code_at == 0) continue;
    size_t pid_at = line.rfind(' ', code_at - 1);
    if (pid_at == std::string::npos) continue;
    if (line.compare(0, pid_at, where.tag) != 0 || pid_at != where.tag.size()) continue;
    char* end = nullptr;
    long long line_pid = std::strtoll(line.c_str() + pid_at + 1, &end, 10);
    if (end != line.c_str() + code_at) continue;
    long code = std::strtol(line.c_str() + code_at + 1, &end, 10);
    if (end == line.c_str() + code_at + 1 || *end != '\0') continue;  // torn or foreign
    if (pid && line_pid != *pid) continue;
    found = static_cast<int>(code);
  }
  return found;
}

std::optional<int64_t> ProcessStartTime(int64_t pid) {
  // Read with plain syscalls: this runs once per launched step.
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%lld/stat", static_cast<long long>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return std::nullopt;
  std::string_view stat(buf, static_cast<size_t>(n));
  size_t close_paren = stat.rfind(')');
  if (close_paren == std::string_view::npos) return std::nullopt;
  // Field 3 (state) is the first after the command name; starttime is field 22.
  size_t pos = close_paren + 1;
  for (int field = 3; field <= 22; ++field) {
    while (pos < stat.size() && stat[pos] == ' ') ++pos;
    size_t end = stat.find(' ', pos);
    if (end == std::string_view::npos) end = stat.size();
    if (pos >= end) return std::nullopt;
    if (field == 22) {
      int64_t value = 0;
      auto [ptr, ec] = std::from_chars(stat.data() + pos, stat.data() + end, value);
      if (ec != std::errc() || ptr != stat.data() + end) return std::nullopt;
      return value;
    }
    pos = end;
  }
  return std::nullopt;
}

int64_t BootTimeTicks() {
  static const int64_t ticks_per_second = sysconf(_SC_CLK_TCK);
  timespec now{};
  clock_gettime(CLOCK_BOOTTIME, &now);
  // Truncated, as the kernel truncates a process's start time.
  return static_cast<int64_t>(now.tv_sec) * ticks_per_second +
         static_cast<int64_t>(now.tv_nsec) / (1'000'000'000 / ticks_per_second);
}

LocalExecutor::LocalExecutor(bool own_reaper) : own_reaper_(own_reaper) {
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  Watch(wake_fd_);
  if (own_reaper_) {
    reaper_ = std::thread([this] {
      NameThisThread("cairn-reaper");
      ReaperLoop();
    });
  }
}

LocalExecutor::~LocalExecutor() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  Wake();
  if (reaper_.joinable()) reaper_.join();
  // Steps keep running: a restarted server reattaches to them.
  for (auto& [key, p] : procs_) close(p.pidfd);
  close(epoll_fd_);
  close(wake_fd_);
}

void LocalExecutor::SetExitCallback(ExitCallback callback) {
  // Waits for a callback in progress, so the old target may be destroyed after.
  std::lock_guard calling(callback_mu_);
  callback_ = std::move(callback);
}

void LocalExecutor::Wake() {
  uint64_t one = 1;
  [[maybe_unused]] ssize_t n = write(wake_fd_, &one, sizeof one);
}

Result<ProcessHandle> LocalExecutor::Launch(const std::string& key, const StepLaunch& launch) {
  if (launch.argv.empty()) return InvalidParameter("a step needs a command");
  // Everything the child needs is built before spawning.
  std::vector<std::string> args;
  const auto& in = launch.argv;
  const std::string status_path = launch.exit_status.path.string();
  if (in.size() == 3 && in[0] == "/bin/sh" && in[1] == "-c") {
    args = {"/bin/sh", "-c", kShellWrapper, "sh", status_path, launch.exit_status.tag, in[2]};
  } else {
    args = {"/bin/sh", "-c", kWrapper, "cairn-step", status_path, launch.exit_status.tag};
    args.insert(args.end(), in.begin(), in.end());
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (const auto& [k, v] : launch.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  if (launch.base_env) {
    // Shared entries are pointed at, not copied (execve copies them anyway).
    envp.reserve(launch.base_env->size() + env_strings.size() + 1);
    for (const std::string& e : *launch.base_env) {
      size_t eq = e.find('=');
      if (eq == std::string::npos || launch.env.count(e.substr(0, eq))) continue;
      envp.push_back(const_cast<char*>(e.c_str()));
    }
  }
  for (std::string& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // A new session: the step leads its own process group (cancel kills the
  // group) and a terminal's signals or the server's death do not reach it.
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);  // the server blocks SIGTERM for its signal thread
  posix_spawnattr_setsigdefault(&attr, &all);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  int flags = O_WRONLY | O_CREAT | O_APPEND;
  posix_spawn_file_actions_addopen(&actions, 1, launch.stdout_path.c_str(), flags, 0644);
  if (launch.stderr_path == launch.stdout_path) {
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, launch.stderr_path.c_str(), flags, 0644);
  }
  posix_spawn_file_actions_addchdir_np(&actions, launch.workdir.c_str());

  pid_t pid = 0;
  std::lock_guard lock(mu_);  // the reaper must not see the pid before it is registered
  const int64_t spawned_after = BootTimeTicks();
  int rc = posix_spawn(&pid, "/bin/sh", &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    return Status(ErrorCode::kInternalError, std::string("cannot start the step: ") +
                                                 std::strerror(rc) + " (work directory " +
                                                 launch.workdir.string() + ")");
  }
  int pidfd = PidfdOpen(pid);
  if (pidfd < 0) {
    kill(-pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    return Status(ErrorCode::kInternalError,
                  std::string("pidfd_open failed: ") + std::strerror(errno) + " (Linux >= 5.3)");
  }
  ProcessHandle handle{pid, spawned_after};
  procs_[key] = Proc{pid, pidfd, true, launch.exit_status, std::nullopt};
  key_by_pidfd_[pidfd] = key;
  Watch(pidfd);  // the reaper's epoll_wait sees it: no wake-up needed
  return handle;
}

Status LocalExecutor::Reattach(const std::string& key, const ProcessHandle& handle,
                               const ExitStatusFile& exit_status) {
  if (handle.pid <= 0) return NotFound("no process recorded");
  int pidfd = PidfdOpen(handle.pid);
  if (pidfd < 0) return NotFound("process " + std::to_string(handle.pid) + " is gone");
  // Checked after opening the pidfd, so the pid cannot be reused in between.
  auto start = ProcessStartTime(handle.pid);
  if (!start || *start < handle.start_time || *start > handle.start_time + kStartTimeWindowTicks ||
      ReadExitStatus(exit_status, handle.pid)) {
    close(pidfd);
    return NotFound("process " + std::to_string(handle.pid) + " is no longer the step's");
  }
  std::lock_guard lock(mu_);
  procs_[key] = Proc{handle.pid, pidfd, false, exit_status, std::nullopt};
  key_by_pidfd_[pidfd] = key;
  Watch(pidfd);
  return Status::Ok();
}

Status LocalExecutor::Cancel(const std::string& key, std::chrono::milliseconds grace) {
  std::lock_guard lock(mu_);
  auto it = procs_.find(key);
  if (it == procs_.end()) return NotFound("step " + key + " is not running");
  kill(-static_cast<pid_t>(it->second.pid), SIGTERM);
  auto deadline = std::chrono::steady_clock::now() + grace;
  if (!it->second.kill_at || *it->second.kill_at > deadline) it->second.kill_at = deadline;
  Wake();
  return Status::Ok();
}

void LocalExecutor::Watch(int pidfd) {
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = pidfd;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, pidfd, &ev);
}

void LocalExecutor::ReapOnce(const epoll_event* ready, int n) {
  std::vector<std::pair<std::string, StepExit>> exited;
  {
    std::lock_guard lock(mu_);
    for (int i = 0; i < n; ++i) {
      int fd = ready[i].data.fd;
      if (fd == wake_fd_) {
        uint64_t count;
        [[maybe_unused]] ssize_t r = read(wake_fd_, &count, sizeof count);
        continue;
      }
      auto key = key_by_pidfd_.find(fd);
      if (key == key_by_pidfd_.end()) continue;
      auto it = procs_.find(key->second);
      if (it == procs_.end()) continue;
      Proc& p = it->second;
      StepExit exit;
      if (p.child) {
        int status = 0;
        if (waitpid(static_cast<pid_t>(p.pid), &status, WNOHANG) == 0) continue;
        exit.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      } else if (auto code = ReadExitStatus(p.exit_status, p.pid)) {
        exit.exit_code = *code;
      } else {
        exit.lost = true;  // killed before its wrapper could record anything
      }
      // The process group may hold children the step left behind.
      kill(-static_cast<pid_t>(p.pid), SIGKILL);
      // Removed explicitly: a child being spawned right now holds a copy of
      // the fd until its exec, which would keep the registration (and its
      // readiness) alive after close.
      epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, p.pidfd, nullptr);
      close(p.pidfd);
      key_by_pidfd_.erase(key);
      exited.emplace_back(it->first, exit);
      procs_.erase(it);
    }
    auto now = std::chrono::steady_clock::now();
    for (auto& [key, p] : procs_) {
      if (p.kill_at && *p.kill_at <= now) {
        kill(-static_cast<pid_t>(p.pid), SIGKILL);
        p.kill_at.reset();
      }
    }
  }
  std::lock_guard calling(callback_mu_);
  for (auto& [key, exit] : exited) {
    if (callback_) callback_(key, exit);
  }
}

void LocalExecutor::ReaperLoop() {
  std::vector<epoll_event> ready(64);
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
    }
    int timeout_ms = -1;
    if (auto deadline = NextDeadline()) {
      auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline -
                                                               std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1 << 30));
    }
    int n = epoll_wait(epoll_fd_, ready.data(), static_cast<int>(ready.size()), timeout_ms);
    if (n < 0 && errno != EINTR) return;
    ReapOnce(ready.data(), std::max(n, 0));
  }
}

int LocalExecutor::ReadyFd() { return own_reaper_ ? -1 : epoll_fd_; }

void LocalExecutor::ReapReady() {
  epoll_event ready[64];
  int n = epoll_wait(epoll_fd_, ready, 64, 0);
  ReapOnce(ready, std::max(n, 0));
}

std::optional<std::chrono::steady_clock::time_point> LocalExecutor::NextDeadline() {
  std::lock_guard lock(mu_);
  std::optional<std::chrono::steady_clock::time_point> next;
  for (const auto& [key, p] : procs_) {
    if (p.kill_at && (!next || *p.kill_at < *next)) next = p.kill_at;
  }
  return next;
}

}  // namespace cairn::pipeline
