// Executor: the seam between the scheduler and wherever step processes run.
// The local executor (local_executor.h) runs them on this machine; a Slurm
// executor later submits them to a cluster. A step is launched once per
// attempt under a key the scheduler chooses; the executor reports its end
// through one callback (no polling by the caller), kills it on request, and
// can reattach to a step launched by an earlier server process.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::pipeline {

// Where a step's exit status is recorded when its process ends: one line
// "<tag> <pid> <code>" appended to `path` with one small O_APPEND write, so
// the steps of a job share one file (no file is created per step: on ext4
// creating an inode costs about as much as spawning the step) and concurrent
// steps' lines never interleave. The pid tells a relaunch of the same attempt
// from an earlier one.
struct ExitStatusFile {
  std::filesystem::path path;
  std::string tag;  // identifies the step and attempt; no newline
};

struct StepLaunch {
  // The command to run (argv[0] looked up in the PATH of `env`). The local
  // executor wraps it so its exit status is also recorded in `exit_status`.
  std::vector<std::string> argv;
  std::filesystem::path workdir;
  // The environment of the process: `base_env` ("NAME=value" entries shared
  // by many launches, e.g. the server's own environment; null: none) with
  // `env` added and overriding it. Nothing else is inherited.
  std::map<std::string, std::string> env;
  std::shared_ptr<const std::vector<std::string>> base_env;
  // Appended to; the same path for both merges them into one log.
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  // Where the exit status is recorded when the process ends, so a restarted
  // server learns the result of a step whose parent died.
  ExitStatusFile exit_status;
};

// Identifies a launched process across server restarts: a pid alone can be
// reused by the kernel; pid + start time cannot.
struct ProcessHandle {
  int64_t pid = 0;
  // Clock ticks since boot (the unit of /proc/<pid>/stat's starttime): for the
  // local executor, the boot clock read just before the spawn, so the process's
  // own start time lies within a short window after it (see local_executor.h).
  int64_t start_time = 0;
};

struct StepExit {
  int exit_code = 0;  // 128 + N when killed by signal N, as a shell reports it
  bool lost = false;  // the process is gone and left no recorded status
};

class Executor {
 public:
  using ExitCallback = std::function<void(const std::string& key, const StepExit& exit)>;
  virtual ~Executor() = default;

  // Called (on an executor thread) once per launched or reattached key. Set
  // before the first launch.
  virtual void SetExitCallback(ExitCallback callback) = 0;
  virtual Result<ProcessHandle> Launch(const std::string& key, const StepLaunch& launch) = 0;
  // Watches a process launched earlier (maybe by another server process).
  // NOT_FOUND when it is no longer running (or the pid now names another
  // process); the caller then reads `exit_status` itself.
  virtual Status Reattach(const std::string& key, const ProcessHandle& handle,
                          const ExitStatusFile& exit_status) = 0;
  // Ends the step's processes: SIGTERM to its process group, SIGKILL after
  // `grace`. The exit still arrives through the callback. NOT_FOUND when the
  // key is not running.
  virtual Status Cancel(const std::string& key, std::chrono::milliseconds grace) = 0;

  // An executor may be driven by its owner's event loop instead of a thread
  // of its own, so a step's exit wakes one thread, not two: ReadyFd() is then
  // a file descriptor to poll (readable when there is work), ReapReady() does
  // that work without blocking (exit callbacks run on the caller's thread),
  // and NextDeadline() is when ReapReady must run at the latest (a kill
  // deadline) even if nothing is readable. ReadyFd() -1: it runs its own thread.
  virtual int ReadyFd() { return -1; }
  virtual void ReapReady() {}
  virtual std::optional<std::chrono::steady_clock::time_point> NextDeadline() {
    return std::nullopt;
  }
};

// The exit status last recorded under `where.tag` (by process `pid` when
// given), if the step wrote one.
std::optional<int> ReadExitStatus(const ExitStatusFile& where,
                                  std::optional<int64_t> pid = std::nullopt);

}  // namespace cairn::pipeline
