// EnvironmentBuilder: materializes python-venv environments on this machine,
// one venv per content hash under a cache root, reused across jobs. Builds are
// serialized per hash by an flock, so threads and processes sharing a cache
// root never build the same environment twice. Thread-safe once configured
// (set_extra_pip_env before the first Materialize).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "assets/environment.h"
#include "core/status.h"

namespace cairn {

struct MaterializedEnvironment {
  std::filesystem::path root;    // the venv: <cache_root>/<hash>
  std::filesystem::path python;  // <root>/bin/python
  std::string hash;              // EnvironmentContentHash of the spec
  bool cache_hit = false;        // true when an earlier build was reused
  std::filesystem::path log;     // <cache_root>/<hash>.log, from the build that made it
};

// Cache layout: <cache_root>/<hash>/ the venv, <hash>.log the build log (every
// command and its output), <hash>.lock the build lock. A venv embeds its own
// absolute path, so it is built in place and <hash>/.cairn-ready (the spec JSON,
// written atomically) is the commit point; a directory without it is a crashed
// or failed build and is rebuilt. One cache root should be used with one
// interpreter: the hash covers the spec, not the python that built it.
class EnvironmentBuilder {
 public:
  explicit EnvironmentBuilder(std::filesystem::path cache_root, std::string python = "python3");

  // Added to pip's environment (after PIP_NO_INPUT=1). Tests pass PIP_NO_INDEX=1
  // so an unsatisfiable requirement fails without reaching for the network.
  void set_extra_pip_env(std::map<std::string, std::string> env) {
    extra_pip_env_ = std::move(env);
  }

  // Returns the venv for `spec`, building it first unless a finished build
  // exists. Errors: INVALID_PARAMETER_VALUE for a spec that fails validation or
  // needs an image/conda (not buildable locally); INVALID_STATE when apt packages
  // are missing or venv/pip fail (the message names the log, which is kept);
  // IO_ERROR when the cache root is unusable.
  Result<MaterializedEnvironment> Materialize(const EnvironmentSpec& spec);

 private:
  Status Build(const EnvironmentSpec& spec, const std::string& hash,
               const std::filesystem::path& root, const std::filesystem::path& log);
  Status CheckAptPackages(const EnvironmentSpec& spec, const std::string& hash,
                          const std::filesystem::path& log);
  Status RunLogged(const std::vector<std::string>& argv, const std::filesystem::path& log,
                   const std::map<std::string, std::string>& env, const std::string& hash,
                   const std::string& step, const std::filesystem::path& partial_root);

  std::filesystem::path cache_root_;
  std::string python_;
  std::map<std::string, std::string> extra_pip_env_;
};

}  // namespace cairn
