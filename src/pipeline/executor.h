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
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::pipeline {

struct StepLaunch {
  // The command to run (argv[0] looked up in the PATH of `env`). The local
  // executor wraps it so its exit status is also written to exit_status_path.
  std::vector<std::string> argv;
  std::filesystem::path workdir;
  // The whole environment of the process (nothing is inherited).
  std::map<std::string, std::string> env;
  // Appended to; the same path for both merges them into one log.
  std::filesystem::path stdout_path;
  std::filesystem::path stderr_path;
  // Where the exit status is recorded (decimal text, written atomically) when
  // the process ends, so a restarted server learns the result of a step whose
  // parent died.
  std::filesystem::path exit_status_path;
};

// Identifies a launched process across server restarts: a pid alone can be
// reused by the kernel; pid + start time cannot.
struct ProcessHandle {
  int64_t pid = 0;
  int64_t start_time = 0;  // /proc/<pid>/stat starttime (clock ticks since boot)
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
  // process); the caller then reads `exit_status_path` itself.
  virtual Status Reattach(const std::string& key, const ProcessHandle& handle,
                          const std::filesystem::path& exit_status_path) = 0;
  // Ends the step's processes: SIGTERM to its process group, SIGKILL after
  // `grace`. The exit still arrives through the callback. NOT_FOUND when the
  // key is not running.
  virtual Status Cancel(const std::string& key, std::chrono::milliseconds grace) = 0;
};

// The exit status recorded at `path`, if the step wrote one.
std::optional<int> ReadExitStatus(const std::filesystem::path& path);

}  // namespace cairn::pipeline
