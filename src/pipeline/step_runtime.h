// Pure pieces of running a step, kept apart from the scheduler so they can be
// tested alone: server-side plan validation (names, edges, cycles), the
// command template's substitution (${{inputs.x}}, ${{outputs.y}}, optional
// $[[ ... ]] parts), and the reuse cache key. Stateless; thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

// Checks a submitted plan again on the server: a known type, at least one
// step, unique step names, depends_on and step-output bindings naming earlier
// declared steps and outputs, parent inputs that exist, no cycles. Returns the
// steps' execution order (indices into plan.steps).
Result<std::vector<size_t>> ValidatePlan(const JobPlan& plan);

// Substitutes ${{inputs.x}} and ${{outputs.y}}. A $[[ ... ]] part is kept
// (without its brackets) when every input it names is present, and dropped
// otherwise. An absent input outside $[[ ]] is an INVALID_PARAMETER_VALUE
// naming it; so is an unknown ${{...}} expression.
Result<std::string> SubstituteCommand(const std::string& command,
                                      const std::map<std::string, std::string>& inputs,
                                      const std::map<std::string, std::string>& outputs);

// What a step's result depends on, by content: never names or tags.
struct CacheKeyParts {
  std::string command;    // the template, before substitution
  std::string code_hash;  // the code snapshot's content hash ("" = no code)
  std::string environment_hash;
  std::map<std::string, std::string> input_hashes;  // name -> "kind:content hash or literal"
  std::map<std::string, std::string> outputs;       // name -> type
  std::map<std::string, std::string> environment_variables;
};
std::string StepCacheKey(const CacheKeyParts& parts);

// A content hash of a local file or folder: SHA-256 over the sorted
// (relative path, file SHA-256) pairs, the same for equal trees anywhere.
Result<std::string> HashLocalTree(const std::filesystem::path& path);

// SHA-256 over sorted (relative path, file SHA-256) pairs already known.
std::string HashFileList(std::vector<std::pair<std::string, std::string>> files);

// A step's PATH: the environment's bin folder (its python wins), then the
// server's own tools folder (so a step's `cairn component train` runs the
// server's binary with no installation), then the inherited PATH. Empty
// parts are skipped; a folder already listed is not repeated.
std::string StepSearchPath(const std::filesystem::path& env_bin,
                           const std::filesystem::path& tools_dir, const std::string& inherited);

// The folder of the running executable (/proc/self/exe), empty when unknown.
std::filesystem::path SelfExecutableDir();

}  // namespace cairn::pipeline
