#include "core/process.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/fs.h"

extern char** environ;

namespace cairn {
namespace {

// posix_spawn wants NUL-terminated char* arrays; these own the strings behind them.
std::vector<char*> PointersTo(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

std::vector<std::string> MergedEnvironment(const std::map<std::string, std::string>& extra_env) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    if (extra_env.count(std::string(key)) == 0) env.emplace_back(entry);
  }
  for (const auto& [key, value] : extra_env) env.push_back(key + "=" + value);
  return env;
}

class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attr_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attr_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attr() { return &attr_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attr_;
};

}  // namespace

Result<int> RunProcess(const std::vector<std::string>& argv, const std::filesystem::path& log_file,
                       const std::map<std::string, std::string>& extra_env) {
  if (argv.empty() || argv[0].empty()) return InvalidParameter("RunProcess: empty command");
  for (const auto& [key, value] : extra_env) {
    if (key.empty() || key.find('=') != std::string::npos) {
      return InvalidParameter("RunProcess: invalid environment variable name '" + key + "'");
    }
  }
  if (log_file.has_parent_path()) CAIRN_RETURN_IF_ERROR(EnsureDirectory(log_file.parent_path()));
  UniqueFd log(::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (log.get() < 0) {
    return Status(ErrorCode::kIoError,
                  "cannot open log " + log_file.string() + ": " + std::strerror(errno));
  }

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(setup.actions(), log.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(setup.actions(), log.get(), STDERR_FILENO);
  // A server ignores SIGPIPE and may block signals in worker threads; the child
  // must not inherit either, or tools like pip misbehave on a closed pipe.
  sigset_t all_signals;
  sigset_t no_signals;
  sigfillset(&all_signals);
  sigemptyset(&no_signals);
  posix_spawnattr_setsigdefault(setup.attr(), &all_signals);
  posix_spawnattr_setsigmask(setup.attr(), &no_signals);
  posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  std::vector<std::string> args = argv;
  std::vector<std::string> env = MergedEnvironment(extra_env);
  std::vector<char*> arg_ptrs = PointersTo(args);
  std::vector<char*> env_ptrs = PointersTo(env);
  pid_t pid = -1;
  int rc = ::posix_spawnp(&pid, args[0].c_str(), setup.actions(), setup.attr(), arg_ptrs.data(),
                          env_ptrs.data());
  if (rc != 0) {
    std::string why = "cannot run '" + argv[0] + "': " + std::strerror(rc);
    if (rc == ENOENT) return NotFound(why);
    return Status(ErrorCode::kIoError, why);
  }

  int wstatus = 0;
  while (::waitpid(pid, &wstatus, 0) < 0) {
    if (errno != EINTR) {
      return Status(ErrorCode::kIoError,
                    "cannot wait for '" + argv[0] + "': " + std::strerror(errno));
    }
  }
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return InternalError("'" + argv[0] + "' ended in an unexpected wait status");
}

}  // namespace cairn
