#include "store/asset_ref.h"

#include <array>

namespace cairn {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-' || c == '.';
}

constexpr std::string_view kAzurePrefix = "azureml:";

}  // namespace

bool IsValidAssetName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  if (!IsNameChar(name[0]) || name[0] == '_' || name[0] == '-' || name[0] == '.') return false;
  for (char c : name) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsValidAssetVersion(std::string_view version) {
  if (version.empty() || version.size() > 64) return false;
  for (char c : version) {
    if (!IsNameChar(c)) return false;
  }
  return version != "." && version != "..";
}

Result<AssetRef> ParseAssetRef(std::string_view text, bool allow_bare_name) {
  std::string_view rest = text;
  if (rest.substr(0, kAzurePrefix.size()) == kAzurePrefix) rest.remove_prefix(kAzurePrefix.size());
  AssetRef ref;
  size_t at = rest.find('@');
  size_t colon = rest.find(':');
  if (at != std::string_view::npos) {
    ref.name = std::string(rest.substr(0, at));
    ref.label = std::string(rest.substr(at + 1));
    if (ref.label != "latest") {
      return InvalidParameter("unknown label '" + ref.label + "' in '" + std::string(text) +
                              "'; the only label is @latest (use name:version for a version)");
    }
  } else if (colon != std::string_view::npos) {
    ref.name = std::string(rest.substr(0, colon));
    ref.version = std::string(rest.substr(colon + 1));
    if (!IsValidAssetVersion(ref.version)) {
      return InvalidParameter("invalid version '" + ref.version + "' in '" + std::string(text) +
                              "'; expected name:version such as flights:3");
    }
  } else if (allow_bare_name) {
    ref.name = std::string(rest);
    ref.label = "latest";
  } else {
    return InvalidParameter("'" + std::string(text) +
                            "' is not an asset reference; expected name:version or name@latest");
  }
  if (!IsValidAssetName(ref.name)) {
    return InvalidParameter("invalid asset name '" + ref.name + "' in '" + std::string(text) +
                            "'; names use letters, digits, '_', '-', '.' and start with a "
                            "letter or digit");
  }
  return ref;
}

Result<EntityId> ParseEntityId(std::string_view text) {
  static constexpr std::array<std::string_view, 7> kKinds = {
      "data", "environment", "code", "run", "model", "deployment", "dataset"};
  size_t colon = text.find(':');
  std::string_view kind = colon == std::string_view::npos ? "" : text.substr(0, colon);
  bool known = false;
  for (auto k : kKinds) known = known || k == kind;
  if (!known) {
    return InvalidParameter("'" + std::string(text) +
                            "' is not a lineage entity; write <kind>:<id> with kind one of "
                            "data, environment, code, run, model, deployment, dataset (e.g. "
                            "data:flights:3, run:<run id>)");
  }
  EntityId e{std::string(kind), std::string(text.substr(colon + 1))};
  if (e.id.empty() || e.id.size() > 512) {
    return InvalidParameter("lineage entity '" + std::string(text) + "' has no id after '" +
                            e.kind + ":'");
  }
  for (char c : e.id) {
    if (static_cast<unsigned char>(c) < 0x20) {
      return InvalidParameter("lineage entity ids may not contain control characters");
    }
  }
  return e;
}

}  // namespace cairn
