#include "api/asset_args.h"

namespace cairn::api {

// Tags as Azure ML writes them ({k: v}) or as MLflow does ([{key, value}]).
std::vector<Tag> AssetTagsArg(Args& a) {
  std::vector<Tag> tags;
  const Json* raw = a.Raw("tags");
  if (!raw || raw->is_null()) return tags;
  if (raw->is_object()) {
    for (auto& [k, v] : raw->items())
      tags.push_back({k, v.is_string() ? v.get<std::string>() : v.dump()});
  } else if (raw->is_array()) {
    for (const Json& t : *raw) {
      if (!t.is_object() || !t.contains("key") || !t["key"].is_string()) {
        a.Fail(InvalidParameter("tags must be an object {key: value} or a list of {key, value}"));
        return {};
      }
      tags.push_back({t["key"].get<std::string>(), t.value("value", "")});
    }
  } else {
    a.Fail(InvalidParameter("tags must be an object {key: value} or a list of {key, value}"));
  }
  return tags;
}

std::vector<ManifestFile> ManifestArg(Args& a) {
  std::vector<ManifestFile> files;
  const Json* raw = a.Raw("files");
  if (!raw || raw->is_null()) return files;
  if (!raw->is_array()) {
    a.Fail(InvalidParameter("files must be a list of {path, sha256, size}"));
    return {};
  }
  files.reserve(raw->size());
  for (const Json& f : *raw) {
    Args fa = Args::Of(f);
    if (!f.is_object()) {
      a.Fail(InvalidParameter("files must be a list of {path, sha256, size}"));
      return {};
    }
    ManifestFile m{fa.String("path"), fa.String("sha256"), fa.OptInt("size").value_or(-1)};
    if (!fa.ok()) {
      a.Fail(fa.status());
      return {};
    }
    files.push_back(std::move(m));
  }
  return files;
}

}  // namespace cairn::api
