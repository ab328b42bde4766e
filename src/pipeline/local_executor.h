// LocalExecutor: runs steps as processes on this machine. Each process starts
// a new session (so it leads its own process group, and cancel kills the whole
// group) in the step's work directory, with its output appended to the step's
// log files. A small /bin/sh wrapper appends the exit status to a file, so a
// server restarted after kill -9 still learns how a step ended. The steps'
// pidfds sit in one epoll set: exits are noticed as they happen, with no
// polling loop, and a launch adds its pidfd without waking anyone. A reaper
// thread of its own waits on the set, or the owner's event loop does (the
// scheduler's: a step's exit then wakes one thread, not two). Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include <sys/epoll.h>

#include "pipeline/executor.h"

namespace cairn::pipeline {

class LocalExecutor final : public Executor {
 public:
  // Driven by a thread of its own, or (own_reaper false) by its owner through
  // ReadyFd/ReapReady/NextDeadline, as the scheduler's loop does.
  explicit LocalExecutor(bool own_reaper = true);
  ~LocalExecutor() override;

  int ReadyFd() override;
  void ReapReady() override;
  std::optional<std::chrono::steady_clock::time_point> NextDeadline() override;

  void SetExitCallback(ExitCallback callback) override;
  Result<ProcessHandle> Launch(const std::string& key, const StepLaunch& launch) override;
  Status Reattach(const std::string& key, const ProcessHandle& handle,
                  const ExitStatusFile& exit_status) override;
  Status Cancel(const std::string& key, std::chrono::milliseconds grace) override;

 private:
  struct Proc {
    int64_t pid = 0;
    int pidfd = -1;
    bool child = false;  // ours to waitpid; else the exit status file tells
    ExitStatusFile exit_status;
    std::optional<std::chrono::steady_clock::time_point> kill_at;
  };
  void ReaperLoop();
  // One round: collects the exits among `ready`, sends due kills, reports the exits.
  void ReapOnce(const epoll_event* ready, int n);
  void Wake();
  void Watch(int fd);  // adds fd to the reaper's epoll set

  std::mutex mu_;
  std::map<std::string, Proc> procs_;
  std::map<int, std::string> key_by_pidfd_;
  std::mutex callback_mu_;  // held while calling callback_ (never with mu_)
  ExitCallback callback_;
  int wake_fd_ = -1;   // eventfd: a kill deadline or stopping
  int epoll_fd_ = -1;  // the wake fd and every watched pidfd
  bool stopping_ = false;
  bool own_reaper_ = true;
  std::thread reaper_;  // when own_reaper_
};

// The start time of process `pid` (/proc/<pid>/stat field 22), if it exists.
std::optional<int64_t> ProcessStartTime(int64_t pid);

// Launch records the boot clock read just before spawning (reading the
// process's start time back from /proc was a tenth of the scheduler's work per
// step). Reattach accepts a process whose start time is at most this many
// ticks (2 s) later: for the pid to name another process by then, the kernel
// would have to cycle through every pid in those 2 s (32,768 spawns at the
// default pid_max, some 8 times what this machine can spawn).
inline constexpr int64_t kStartTimeWindowTicks = 200;
// The boot clock (CLOCK_BOOTTIME, as /proc's start times) in clock ticks.
int64_t BootTimeTicks();

}  // namespace cairn::pipeline
