// pipeline/spec_yaml.h: what the YAML readers in pipeline/ (jobs, components,
// schedules) share: the file a node came from, errors that point at
// file:line:column, and the check that a mapping holds only known keys. Only
// pipeline/*.cc include it (it pulls yaml-cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn::pipeline {
class ComponentSource;
}

namespace cairn::pipeline::spec_yaml {

// The file a node came from: names it in messages, anchors relative paths.
struct Doc {
  std::string file;
  std::filesystem::path dir;
  // Said in place of a position for a node that has none (one a reader built
  // itself, e.g. from a --set override).
  std::string unpositioned;
  // Where `component: azureml:<name>:<version>` references are fetched (null:
  // registered components cannot be read here).
  ComponentSource* components = nullptr;
};

inline Status Err(const Doc& d, const YAML::Mark& m, const std::string& what) {
  if (m.is_null()) {
    return InvalidParameter(d.file + (d.unpositioned.empty() ? "" : " " + d.unpositioned) + ": " +
                            what);
  }
  return InvalidParameter(d.file + ":" + std::to_string(m.line + 1) + ":" +
                          std::to_string(m.column + 1) + ": " + what);
}
inline Status Err(const Doc& d, const YAML::Node& n, const std::string& what) {
  return Err(d, n.Mark(), what);
}

// "a, b, c"; "(none)" for an empty list.
inline std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out.empty() ? "(none)" : out;
}

// A mapping whose keys must come from `allowed`.
inline Status CheckMap(const Doc& d, const YAML::Node& n, const std::vector<std::string>& allowed,
                       const std::string& what) {
  if (!n.IsMap()) return Err(d, n, what + " must be a mapping (key: value)");
  for (const auto& kv : n) {
    std::string key = kv.first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Err(d, kv.first,
                 "unknown key '" + key + "' in " + what + "; allowed: " + Join(allowed));
    }
  }
  return Status::Ok();
}

}  // namespace cairn::pipeline::spec_yaml
