// References to asset versions as users write them, Azure ML style:
// "name:version", "name@latest", each with an optional "azureml:" prefix so
// Azure ML YAML files work unchanged; and lineage entity ids "<kind>:<id>".
// Pure string functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

// Azure ML's asset-name rule, for error messages.
inline constexpr std::string_view kAssetNamePattern = "^[A-Za-z0-9][A-Za-z0-9_.-]{0,254}$";
// True when `name` matches kAssetNamePattern: starts with a letter or digit;
// letters, digits, '_', '-', '.'; at most 255 characters.
bool IsValidAssetName(std::string_view name);
// A version: letters, digits, '_', '-', '.'; at most 64 characters.
bool IsValidAssetVersion(std::string_view version);

struct AssetRef {
  std::string name;
  std::string version;  // empty when `label` is set
  std::string label;    // "latest"
};

// Parses "[azureml:]name:version" or "[azureml:]name@latest". A bare name is
// refused unless `allow_bare_name` (then it means @latest).
Result<AssetRef> ParseAssetRef(std::string_view text, bool allow_bare_name = false);

// Lineage entity ids: "data:flights:3", "environment:py:1", "code:<sha256>",
// "run:<run id>", "model:churn:2", "deployment:<endpoint>/<deployment>",
// "dataset:<name>@<digest>" (what MLflow's log-inputs records).
struct EntityId {
  std::string kind;
  std::string id;  // everything after "<kind>:"
  std::string str() const { return kind + ":" + id; }
};
Result<EntityId> ParseEntityId(std::string_view text);

}  // namespace cairn
