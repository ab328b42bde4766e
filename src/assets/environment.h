// Environment specs: what a job's software environment is made of (Azure ML's
// environment fields plus Cairn's python/apt/variables), how it is read from
// YAML or JSON, validated, and named by a content hash. Pure values and pure
// functions (LoadEnvironmentYaml reads files); safe from any thread.
#pragma once

#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn {

struct EnvironmentSpec {
  std::string name;
  std::string version;  // empty: the registry assigns the next one
  std::string description;
  std::string image;       // a container image reference; recorded, not pulled
  std::string conda_file;  // the conda YAML's text, inlined
  std::vector<std::string> python_requirements;  // pip requirement strings, in order
  bool system_site_packages = false;
  std::vector<std::string> apt_packages;         // recorded and checked, never installed
  std::map<std::string, std::string> variables;  // environment variables for jobs
  std::map<std::string, std::string> tags;

  bool operator==(const EnvironmentSpec&) const = default;
};

// Reads an environment YAML file in Azure ML's format:
//   $schema (ignored), name, version (string or number), description, image,
//   conda_file (path relative to the YAML file's directory, or an inline mapping),
//   tags, and Cairn's
//   python: {requirements: [..] | requirements_file: reqs.txt, system_site_packages: bool},
//   apt: [..], variables: {K: V}.
// Errors are INVALID_PARAMETER_VALUE with "<file>:<line>:<column>: " and what
// was expected, e.g. "env.yml:4:3: python.requirements must be a list of strings".
Result<EnvironmentSpec> LoadEnvironmentYaml(const std::filesystem::path& file);
// The same from text already in memory; relative paths resolve against `base_dir`
// and errors name `source_name`.
Result<EnvironmentSpec> ParseEnvironmentYaml(std::string_view text,
                                             const std::filesystem::path& base_dir,
                                             std::string_view source_name);

// JSON form used by the REST API, mirroring the YAML structure:
// {"name","version","description","image","conda_file",
//  "python":{"requirements":[..],"system_site_packages":b},"apt":[..],"variables":{},"tags":{}}.
// Empty fields are omitted by ToJson and optional in EnvironmentFromJson, which
// applies the same validation as the YAML reader and rejects unknown keys.
nlohmann::json ToJson(const EnvironmentSpec& spec);
Result<EnvironmentSpec> EnvironmentFromJson(const nlohmann::json& json);

// Checks every field of a spec built in code (the readers above call it too).
// INVALID_PARAMETER_VALUE naming the first bad field and what it must look like.
Status ValidateEnvironment(const EnvironmentSpec& spec);

// 64 lowercase hex chars: SHA-256 over a canonical serialization of what
// determines the built environment (image, conda file text, requirements in
// order, system_site_packages, apt packages in order, variables), and not of
// name, version, description or tags, so equal content under two names shares
// one build.
std::string EnvironmentContentHash(const EnvironmentSpec& spec);

}  // namespace cairn
