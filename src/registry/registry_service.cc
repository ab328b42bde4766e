#include "registry/registry_service.h"

#include <algorithm>
#include <cctype>

#include "artifacts/path_safety.h"
#include "assets/asset_service.h"
#include "registry/mlmodel.h"
#include "tracking/search_filter.h"
#include "tracking/validation.h"

namespace cairn {
namespace {

constexpr size_t kMaxModelNameLength = 256;
constexpr size_t kMaxAliasLength = 255;
constexpr size_t kMaxRegistryTagValueLength = 5000;
constexpr const char* kArtifactScheme = "mlflow-artifacts:";

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

Status ValidateRegistryTag(const Tag& tag) {
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(tag.key, "tag"));
  if (tag.key.rfind(kCairnTagPrefix, 0) == 0) {
    return InvalidParameter("Tag key '" + tag.key +
                            "' is reserved: keys starting with 'cairn.' are set by the server "
                            "(use --parent, --converted, --quantized, --type instead).");
  }
  if (tag.value.size() > kMaxRegistryTagValueLength) {
    return InvalidParameter("Tag value for key '" + tag.key + "' has " +
                            std::to_string(tag.value.size()) + " characters; at most " +
                            std::to_string(kMaxRegistryTagValueLength) + " are allowed.");
  }
  return Status::Ok();
}

Result<RegistryQuery> ParseRegistrySearch(const SearchRequest& req, SearchTarget target,
                                          int64_t default_max, int64_t max_max) {
  RegistryQuery q;
  int64_t n = req.max_results.value_or(default_max);
  if (n <= 0 || n > max_max) {
    return InvalidParameter("Invalid value " + std::to_string(n) +
                            " for parameter 'max_results' supplied. It must be between 1 and " +
                            std::to_string(max_max) + ".");
  }
  q.max_results = n;
  CAIRN_ASSIGN_OR_RETURN(q.filter, ParseFilter(req.filter, target));
  for (const auto& c : q.filter) {
    if (c.type == EntityType::kAttribute && c.key == "name" &&
        (c.op == Comparator::kIn || c.op == Comparator::kNotIn) &&
        target == SearchTarget::kRegisteredModels) {
      return InvalidParameter("Invalid filter '" + req.filter +
                              "': registered models are filtered by name with =, !=, LIKE or "
                              "ILIKE, and by tags.<key>");
    }
  }
  for (const auto& o : req.order_by) {
    CAIRN_ASSIGN_OR_RETURN(OrderKey key, ParseOrderBy(o, target));
    if (key.type != EntityType::kAttribute) {
      return InvalidParameter(
          "Invalid order_by '" + o + "': " +
          (target == SearchTarget::kRegisteredModels
               ? "registered models are ordered by name, creation_timestamp or "
                 "last_updated_timestamp"
               : "model versions are ordered by name, version_number, creation_timestamp or "
                 "last_updated_timestamp") +
          ", each optionally followed by ASC or DESC");
    }
    if (target == SearchTarget::kModelVersions &&
        (key.key == "run_id" || key.key == "source_path")) {
      return InvalidParameter("Invalid order_by '" + o +
                              "': model versions are ordered by name, version_number, "
                              "creation_timestamp or last_updated_timestamp");
    }
    q.order_by.push_back(std::move(key));
  }
  CAIRN_ASSIGN_OR_RETURN(q.offset, DecodePageToken(req.page_token));
  return q;
}

Status BadSource(const std::string& source, const std::string& why) {
  return InvalidParameter(
      "Invalid model version source '" + source.substr(0, 300) + "': " + why +
      ". Accepted sources: runs:/<run_id>/<path>, models:/<name>/<version>, "
      "models:/<name>@<alias>, mlflow-artifacts:/<path>, or a path inside the run's "
      "artifact_uri (with run_id); local paths and external URIs (file:, s3:, http:) are "
      "refused.");
}

// `root` + "/" + the checked relative `rest` (which may be empty).
Result<std::string> JoinChecked(const std::string& source, const std::string& root,
                                const std::string& rest) {
  auto rel = NormalizeRelativePath(rest);
  if (!rel.ok()) return BadSource(source, rel.status().message());
  return rel->empty() ? root : root + "/" + *rel;
}

}  // namespace

Result<std::string> CanonicalStage(const std::string& stage) {
  for (const char* s : {kStageNone, kStageStaging, kStageProduction, kStageArchived}) {
    if (Lower(stage) == Lower(s)) return std::string(s);
  }
  return InvalidParameter("Invalid Model Version stage: " + stage.substr(0, 100) +
                          ". Value must be one of None, Staging, Production, Archived.");
}

Result<int64_t> ParseModelVersion(const std::string& version) {
  bool digits = !version.empty() && version.size() <= 18;
  for (char c : version) digits = digits && std::isdigit(static_cast<unsigned char>(c));
  if (!digits || std::stoll(version) <= 0) {
    return InvalidParameter("Model version must be a positive integer such as '1'; got '" +
                            version.substr(0, 100) + "'.");
  }
  return std::stoll(version);
}

Status ValidateModelName(const std::string& name) {
  if (name.empty()) {
    return InvalidParameter("Registered model name cannot be empty. Pass a name such as 'churn'.");
  }
  if (name.size() > kMaxModelNameLength) {
    return InvalidParameter("Registered model name has " + std::to_string(name.size()) +
                            " characters; at most " + std::to_string(kMaxModelNameLength) +
                            " are allowed.");
  }
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) {
      return InvalidParameter("Registered model name must not contain control characters.");
    }
    if (c == '/') {
      return InvalidParameter("Invalid registered model name '" + name +
                              "': '/' is not allowed (names appear in models:/<name>/<version> "
                              "URIs).");
    }
  }
  return Status::Ok();
}

Status ValidateAliasName(const std::string& alias) {
  if (alias.empty() || alias.size() > kMaxAliasLength) {
    return InvalidParameter("Alias must have 1 to " + std::to_string(kMaxAliasLength) +
                            " characters.");
  }
  for (unsigned char c : alias) {
    if (!std::isalnum(c) && c != '_' && c != '-') {
      return InvalidParameter("Invalid alias '" + alias.substr(0, 100) +
                              "': use letters, digits, '_' and '-' only.");
    }
  }
  std::string lower = Lower(alias);
  bool version_like = lower.size() > 1 && lower[0] == 'v';
  for (size_t i = 1; i < lower.size(); ++i) {
    version_like = version_like && std::isdigit(static_cast<unsigned char>(lower[i]));
  }
  if (lower == "latest" || version_like) {
    return InvalidParameter("Alias '" + alias +
                            "' is reserved ('latest' and v<number> name versions); choose "
                            "another alias.");
  }
  return Status::Ok();
}

// ---- registered models ------------------------------------------------------------------------

Result<RegisteredModel> RegistryService::CreateRegisteredModel(const std::string& name,
                                                               const std::string& description,
                                                               const std::vector<Tag>& tags) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  for (const auto& t : tags) CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(t));
  return registry_.CreateRegisteredModel(name, description, tags);
}

Result<RegisteredModel> RegistryService::GetRegisteredModel(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_.GetRegisteredModel(name);
}

Result<RegisteredModel> RegistryService::RenameRegisteredModel(const std::string& name,
                                                               const std::string& new_name) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateModelName(new_name));
  return registry_.RenameRegisteredModel(name, new_name);
}

Result<RegisteredModel> RegistryService::UpdateRegisteredModel(const std::string& name,
                                                               const std::string& description) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_.UpdateRegisteredModel(name, description);
}

Status RegistryService::DeleteRegisteredModel(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_.DeleteRegisteredModel(name);
}

Result<Page<RegisteredModel>> RegistryService::SearchRegisteredModels(const SearchRequest& req) {
  CAIRN_ASSIGN_OR_RETURN(RegistryQuery q,
                         ParseRegistrySearch(req, SearchTarget::kRegisteredModels, 100, 1000));
  return registry_.SearchRegisteredModels(q);
}

Result<std::vector<ModelVersion>> RegistryService::GetLatestVersions(
    const std::string& name, const std::vector<std::string>& stages) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  std::vector<std::string> canonical;
  for (const auto& s : stages) {
    CAIRN_ASSIGN_OR_RETURN(std::string c, CanonicalStage(s));
    canonical.push_back(std::move(c));
  }
  return registry_.GetLatestVersions(name, canonical);
}

Status RegistryService::SetRegisteredModelTag(const std::string& name, const Tag& tag) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  return registry_.SetRegisteredModelTag(name, tag);
}

Status RegistryService::DeleteRegisteredModelTag(const std::string& name, const std::string& key) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(key, "tag"));
  return registry_.DeleteRegisteredModelTag(name, key);
}

// ---- aliases ----------------------------------------------------------------------------------

Status RegistryService::SetAlias(const std::string& name, const std::string& alias,
                                 const std::string& version, const std::string& user,
                                 const std::string& reason) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateAliasName(alias));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  if (user.size() > 256) return InvalidParameter("user is longer than 256 characters");
  if (reason.size() > kMaxRegistryTagValueLength) {
    return InvalidParameter("reason is longer than 5000 characters");
  }
  return registry_.SetAlias(name, alias, v, user, reason);
}

Result<std::vector<AliasChange>> RegistryService::AliasHistory(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  return registry_.AliasHistory(name);
}

Status RegistryService::DeleteAlias(const std::string& name, const std::string& alias) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateAliasName(alias));
  return registry_.DeleteAlias(name, alias);
}

Result<ModelVersion> RegistryService::GetModelVersionByAlias(const std::string& name,
                                                             const std::string& alias) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_RETURN_IF_ERROR(ValidateAliasName(alias));
  return registry_.GetModelVersionByAlias(name, alias);
}

// ---- model versions ---------------------------------------------------------------------------

Result<std::string> RegistryService::ResolveSource(const std::string& source,
                                                   const std::string& run_id) {
  if (source.empty()) return InvalidParameter("Missing value for required parameter 'source'.");
  if (source.size() > 4096) return BadSource(source, "longer than 4096 characters");
  // A source inside the run's own artifact root is where log_model put the model.
  if (!run_id.empty()) {
    CAIRN_ASSIGN_OR_RETURN(Run run, tracking_.GetRun(run_id));
    const std::string& root = run.info.artifact_uri;
    if (source == root) return root;
    if (StartsWith(source, root + "/")) {
      return JoinChecked(source, root, source.substr(root.size() + 1));
    }
  }
  if (StartsWith(source, "runs:/")) {
    std::string rest = source.substr(6);
    size_t slash = rest.find('/');
    std::string id = rest.substr(0, slash);
    if (id.empty()) return BadSource(source, "runs:/ needs a run id, as in runs:/<run_id>/model");
    auto run = tracking_.GetRun(id);
    if (!run.ok()) return BadSource(source, "run '" + id + "' does not exist");
    return JoinChecked(source, run->info.artifact_uri,
                       slash == std::string::npos ? "" : rest.substr(slash + 1));
  }
  if (StartsWith(source, "models:/")) {
    std::string rest = source.substr(8);
    size_t at = rest.rfind('@');
    size_t slash = rest.find('/');
    if (at == std::string::npos && slash == std::string::npos) {
      return BadSource(source, "models:/ needs a version or an alias");
    }
    Result<ModelVersion> target =
        at != std::string::npos ? GetModelVersionByAlias(rest.substr(0, at), rest.substr(at + 1))
                                : GetModelVersion(rest.substr(0, slash), rest.substr(slash + 1));
    if (!target.ok()) return BadSource(source, target.status().message());
    return target->storage_location;
  }
  if (StartsWith(source, kArtifactScheme)) {
    std::string rest = source.substr(std::char_traits<char>::length(kArtifactScheme));
    size_t start = rest.find_first_not_of('/');
    rest = start == std::string::npos ? "" : rest.substr(start);
    auto rel = NormalizeRelativePath(rest);
    if (!rel.ok()) return BadSource(source, rel.status().message());
    if (rel->empty()) {
      return BadSource(source, "it names the root of the artifact store, not a model directory");
    }
    return "mlflow-artifacts:/" + *rel;
  }
  return BadSource(source, "it is outside this server's artifact store");
}

Result<ModelVersion> RegistryService::CreateModelVersion(const ModelVersionRequest& request) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(request.name));
  for (const auto& t : request.tags) CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(t));
  if (!request.model_type.empty() && request.model_type != "custom_model" &&
      request.model_type != "mlflow_model") {
    return InvalidParameter("model type '" + request.model_type.substr(0, 100) +
                            "' is not supported; use custom_model or mlflow_model");
  }
  NewModelVersion nv;
  CAIRN_ASSIGN_OR_RETURN(nv.storage_location, ResolveSource(request.source, request.run_id));
  nv.name = request.name;
  nv.source = request.source;
  nv.run_id = request.run_id;
  if (nv.run_id.empty() && StartsWith(request.source, "runs:/")) {
    std::string rest = request.source.substr(6);
    nv.run_id = rest.substr(0, rest.find('/'));  // ResolveSource checked the run exists
  }
  nv.run_link = request.run_link;
  nv.description = request.description;
  nv.tags = request.tags;
  nv.expected_version = request.expected_version;
  if (!nv.run_id.empty()) nv.lineage_inputs.emplace_back("run:" + nv.run_id, "produced");
  auto set_tag = [&nv](const std::string& key, const std::string& value) {
    std::erase_if(nv.tags, [&](const Tag& t) { return t.key == key; });
    nv.tags.push_back({key, value});
  };
  if (!request.parent.empty()) {
    size_t colon = request.parent.rfind(':');
    if (colon == std::string::npos) {
      return InvalidParameter("parent '" + request.parent.substr(0, 300) +
                              "' must name a model version as NAME:VERSION");
    }
    auto parent =
        GetModelVersion(request.parent.substr(0, colon), request.parent.substr(colon + 1));
    if (!parent.ok()) {
      return InvalidParameter("parent " + request.parent.substr(0, 300) + ": " +
                              parent.status().message());
    }
    std::string ref = parent->name + ":" + std::to_string(parent->version);
    set_tag(kParentTag, ref);
    nv.lineage_inputs.emplace_back("model:" + ref, "derived");
  }
  if (request.converted) set_tag(kConvertedTag, "true");
  if (request.quantized) set_tag(kQuantizedTag, "true");

  // An MLmodel at the root makes it an MLflow model; its flavors and signature
  // are kept with the version so they can be shown without reading files.
  std::string type = request.model_type;
  auto root = ArtifactUriToPath(nv.storage_location);
  std::optional<MLmodelInfo> mlmodel;
  if (root.ok()) {
    std::string dir = root->empty() ? "" : *root + "/";
    auto text = artifacts_.Get(dir + "MLmodel");
    if (text.ok()) {
      std::string shown = request.source;
      while (!shown.empty() && shown.back() == '/') shown.pop_back();
      CAIRN_ASSIGN_OR_RETURN(MLmodelInfo info, ParseMLmodel(*text, shown + "/MLmodel"));
      auto listing = artifacts_.List(*root);
      if (listing.ok()) {
        for (const FileInfo& f : *listing) {
          std::string base = f.path.substr(f.path.rfind('/') + 1);
          info.has_requirements_txt |= !f.is_dir && base == "requirements.txt";
          info.has_conda_yaml |= !f.is_dir && base == "conda.yaml";
        }
      }
      mlmodel = std::move(info);
    }
  }
  if (mlmodel) {
    set_tag(kMLmodelTag, MLmodelToJson(*mlmodel).dump());
    if (type.empty()) type = "mlflow_model";
  } else if (type == "mlflow_model") {
    return InvalidParameter("model type mlflow_model needs an MLmodel file at the root of '" +
                            request.source.substr(0, 300) +
                            "'; register it as custom_model or point at the MLflow model folder");
  }
  if (!type.empty() || request.record_model_type) {
    set_tag(kModelTypeTag, type.empty() ? "custom_model" : type);
  }
  return registry_.CreateModelVersion(nv);
}

Result<ModelVersion> RegistryService::CreateModelVersionFromFiles(
    ModelVersionRequest request, const std::vector<ManifestFile>& files) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(request.name));
  CAIRN_ASSIGN_OR_RETURN(std::string path, StoreManifestFiles(artifacts_, "model", files));
  request.source = std::string(kArtifactScheme) + "/" + path;
  return CreateModelVersion(request);
}

Result<std::vector<FileInfo>> RegistryService::ListModelVersionFiles(const std::string& name,
                                                                     const std::string& version) {
  CAIRN_ASSIGN_OR_RETURN(ModelVersion v, GetModelVersion(name, version));
  CAIRN_ASSIGN_OR_RETURN(std::string root, ArtifactUriToPath(v.storage_location));
  CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> out, ListRecursive(artifacts_, root));
  if (out.empty() && !root.empty()) {
    // A source naming one file (runs:/<id>/model.pkl) is listed as that file.
    int64_t size = 0;
    if (artifacts_.Open(root, &size).ok()) {
      FileInfo f;
      f.path = root.substr(root.rfind('/') + 1);
      f.file_size = size;
      out.push_back(std::move(f));
    }
  }
  return out;
}

Result<ModelVersion> RegistryService::GetModelVersion(const std::string& name,
                                                      const std::string& version) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  return registry_.GetModelVersion(name, v);
}

Result<ModelVersion> RegistryService::UpdateModelVersion(const std::string& name,
                                                         const std::string& version,
                                                         const std::string& description) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  return registry_.UpdateModelVersion(name, v, description);
}

Status RegistryService::DeleteModelVersion(const std::string& name, const std::string& version) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  return registry_.DeleteModelVersion(name, v);
}

Result<Page<ModelVersion>> RegistryService::SearchModelVersions(const SearchRequest& req) {
  CAIRN_ASSIGN_OR_RETURN(RegistryQuery q,
                         ParseRegistrySearch(req, SearchTarget::kModelVersions, 10000, 200000));
  return registry_.SearchModelVersions(q);
}

Result<ModelVersion> RegistryService::TransitionModelVersionStage(const std::string& name,
                                                                  const std::string& version,
                                                                  const std::string& stage,
                                                                  bool archive_existing_versions) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  CAIRN_ASSIGN_OR_RETURN(std::string canonical, CanonicalStage(stage));
  if (archive_existing_versions && canonical != kStageStaging && canonical != kStageProduction) {
    return InvalidParameter(
        "archive_existing_versions can only be true when transitioning to Staging or "
        "Production; the target stage is " +
        canonical + ".");
  }
  return registry_.TransitionModelVersionStage(name, v, canonical, archive_existing_versions);
}

Status RegistryService::SetModelVersionTag(const std::string& name, const std::string& version,
                                           const Tag& tag) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  CAIRN_RETURN_IF_ERROR(ValidateRegistryTag(tag));
  return registry_.SetModelVersionTag(name, v, tag);
}

Status RegistryService::DeleteModelVersionTag(const std::string& name, const std::string& version,
                                              const std::string& key) {
  CAIRN_RETURN_IF_ERROR(ValidateModelName(name));
  CAIRN_ASSIGN_OR_RETURN(int64_t v, ParseModelVersion(version));
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(key, "tag"));
  return registry_.DeleteModelVersionTag(name, v, key);
}

Result<std::string> RegistryService::GetDownloadUri(const std::string& name,
                                                    const std::string& version) {
  CAIRN_ASSIGN_OR_RETURN(ModelVersion v, GetModelVersion(name, version));
  return v.storage_location;
}

Result<std::string> RegistryService::ModelVersionArtifactPath(const std::string& name,
                                                              const std::string& version,
                                                              const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(ModelVersion v, GetModelVersion(name, version));
  CAIRN_ASSIGN_OR_RETURN(std::string root, ArtifactUriToPath(v.storage_location));
  CAIRN_ASSIGN_OR_RETURN(std::string rel, NormalizeRelativePath(path));
  if (rel.empty()) return InvalidParameter("'path' must name a file inside the model version.");
  return root.empty() ? rel : root + "/" + rel;
}

}  // namespace cairn
