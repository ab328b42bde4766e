#include "assets/environment_builder.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/process.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

// Venvs are used from other working directories (a step runs in its own
// folder, with the venv's bin on PATH), so their paths must not be relative.
fs::path AbsoluteOrSame(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return ec ? p : abs;
}

constexpr char kReadyMarker[] = ".cairn-ready";

std::string ShortHash(const std::string& hash) { return hash.substr(0, 12); }

Status AppendToLog(const fs::path& log, const std::string& text) {
  std::ofstream out(log, std::ios::binary | std::ios::app);
  out << text;
  out.flush();
  if (!out) return Status(ErrorCode::kIoError, "cannot write build log " + log.string());
  return Status::Ok();
}

std::string CommandLine(const std::vector<std::string>& argv) {
  std::string line = "$";
  for (const auto& a : argv) line += " " + a;
  return line + "\n";
}

// Holds an exclusive flock on a file until destroyed. flock locks belong to the
// open file description, so two threads of one process exclude each other too.
class FileLock {
 public:
  static Result<FileLock> Acquire(const fs::path& path) {
    UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644));
    if (fd.get() < 0) {
      return Status(ErrorCode::kIoError,
                    "cannot open lock " + path.string() + ": " + std::strerror(errno));
    }
    while (::flock(fd.get(), LOCK_EX) != 0) {
      if (errno != EINTR) {
        return Status(ErrorCode::kIoError,
                      "cannot lock " + path.string() + ": " + std::strerror(errno));
      }
    }
    return FileLock(std::move(fd));
  }

 private:
  explicit FileLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;  // closing it releases the lock
};

}  // namespace

EnvironmentBuilder::EnvironmentBuilder(fs::path cache_root, std::string python)
    : cache_root_(AbsoluteOrSame(cache_root)), python_(std::move(python)) {}

Result<MaterializedEnvironment> EnvironmentBuilder::Materialize(const EnvironmentSpec& spec) {
  CAIRN_RETURN_IF_ERROR(ValidateEnvironment(spec));
  if (!spec.image.empty() || !spec.conda_file.empty()) {
    return InvalidParameter("environment '" + spec.name + "' has " +
                            (spec.image.empty() ? "a conda_file" : "an image") +
                            ": environments with image/conda_file are recorded but only "
                            "python-venv environments can be materialized locally");
  }
  MaterializedEnvironment env;
  env.hash = EnvironmentContentHash(spec);
  env.root = cache_root_ / env.hash;
  env.python = env.root / "bin" / "python";
  env.log = cache_root_ / (env.hash + ".log");
  const fs::path marker = env.root / kReadyMarker;

  // The marker is written last and never removed, so seeing it needs no lock.
  std::error_code ec;
  if (fs::exists(marker, ec)) {
    env.cache_hit = true;
    return env;
  }
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(cache_root_));
  CAIRN_ASSIGN_OR_RETURN(FileLock lock, FileLock::Acquire(cache_root_ / (env.hash + ".lock")));
  // Whoever held the lock before us may have finished this very build.
  if (fs::exists(marker, ec)) {
    env.cache_hit = true;
    return env;
  }
  CAIRN_RETURN_IF_ERROR(Build(spec, env.hash, env.root, env.log));
  return env;
}

Status EnvironmentBuilder::Build(const EnvironmentSpec& spec, const std::string& hash,
                                 const fs::path& root, const fs::path& log) {
  std::error_code ec;
  fs::remove_all(root, ec);  // a crashed or failed earlier attempt
  if (ec) {
    return Status(ErrorCode::kIoError,
                  "cannot remove unfinished build " + root.string() + ": " + ec.message());
  }
  // Each build starts a fresh log, so the log always explains the latest attempt.
  {
    std::ofstream truncate(log, std::ios::binary | std::ios::trunc);
    if (!truncate) return Status(ErrorCode::kIoError, "cannot write build log " + log.string());
  }
  CAIRN_RETURN_IF_ERROR(
      AppendToLog(log, "# cairn environment " + hash + "\n# spec: " + ToJson(spec).dump() + "\n"));
  if (!spec.apt_packages.empty()) CAIRN_RETURN_IF_ERROR(CheckAptPackages(spec, hash, log));

  std::vector<std::string> venv = {python_, "-m", "venv"};
  if (spec.system_site_packages) venv.push_back("--system-site-packages");
  // pip is only needed to install requirements; without them, skipping
  // ensurepip makes the build a fraction of a second instead of seconds.
  if (spec.python_requirements.empty()) venv.push_back("--without-pip");
  venv.push_back(root.string());
  CAIRN_RETURN_IF_ERROR(RunLogged(venv, log, {}, hash, python_ + " -m venv", root));

  if (!spec.python_requirements.empty()) {
    const fs::path requirements = root / "requirements.txt";
    std::string text;
    for (const auto& r : spec.python_requirements) text += r + "\n";
    Status written = AtomicWriteFile(requirements, text);
    if (!written.ok()) {
      fs::remove_all(root, ec);
      return written;
    }
    std::map<std::string, std::string> pip_env = {{"PIP_NO_INPUT", "1"}};
    for (const auto& [k, v] : extra_pip_env_) pip_env[k] = v;
    CAIRN_RETURN_IF_ERROR(
        RunLogged({(root / "bin" / "python").string(), "-m", "pip", "install",
                   "--disable-pip-version-check", "--no-input", "-r", requirements.string()},
                  log, pip_env, hash, "pip", root));
  }

  Status ready = AtomicWriteFile(root / kReadyMarker, ToJson(spec).dump(2) + "\n");
  if (!ready.ok()) {
    fs::remove_all(root, ec);
    return ready;
  }
  return AppendToLog(log, "# ready\n");
}

Status EnvironmentBuilder::RunLogged(const std::vector<std::string>& argv, const fs::path& log,
                                     const std::map<std::string, std::string>& env,
                                     const std::string& hash, const std::string& step,
                                     const fs::path& partial_root) {
  CAIRN_RETURN_IF_ERROR(AppendToLog(log, CommandLine(argv)));
  Result<int> exit_code = RunProcess(argv, log, env);
  std::string failure;
  if (!exit_code.ok()) {
    failure = exit_code.status().message();
  } else if (*exit_code != 0) {
    failure = step + " exited with " + std::to_string(*exit_code);
  }
  if (failure.empty()) return Status::Ok();
  (void)AppendToLog(log, "# failed: " + failure + "\n");
  std::error_code ec;
  fs::remove_all(partial_root, ec);
  return Status(ErrorCode::kInvalidState, "environment " + ShortHash(hash) + " failed to build: " +
                                              failure + "; see " + log.string());
}

Status EnvironmentBuilder::CheckAptPackages(const EnvironmentSpec& spec, const std::string& hash,
                                            const fs::path& log) {
  // dpkg-query's answer is read back from a scratch file; the build lock is held,
  // so the per-hash name cannot clash.
  const fs::path scratch = cache_root_ / (hash + ".dpkg-query");
  std::vector<std::string> missing;
  for (const auto& pkg : spec.apt_packages) {
    std::vector<std::string> argv = {"dpkg-query", "-W", "-f=${Status}\n", pkg};
    std::error_code ec;
    fs::remove(scratch, ec);
    CAIRN_RETURN_IF_ERROR(AppendToLog(log, CommandLine(argv)));
    Result<int> exit_code = RunProcess(argv, scratch);
    if (!exit_code.ok()) {
      return Status(ErrorCode::kInvalidState, "environment " + ShortHash(hash) +
                                                  " lists apt packages but they cannot be " +
                                                  "checked: " + exit_code.status().message());
    }
    auto answer = ReadFile(scratch);
    std::string text = answer.ok() ? *answer : "";
    fs::remove(scratch, ec);
    CAIRN_RETURN_IF_ERROR(AppendToLog(log, text));
    if (*exit_code != 0 || text.find("install ok installed") == std::string::npos) {
      missing.push_back(pkg);
    }
  }
  if (missing.empty()) return Status::Ok();
  std::string list;
  std::string args;
  for (const auto& m : missing) {
    list += (list.empty() ? "" : ", ") + m;
    args += " " + m;
  }
  (void)AppendToLog(log, "# failed: apt packages not installed: " + list + "\n");
  return Status(
      ErrorCode::kInvalidState,
      "environment " + ShortHash(hash) + " needs apt packages that are not installed: " + list +
          " (Cairn records apt packages but does not install them; run: " + "apt-get install" +
          args + ")");
}

}  // namespace cairn
