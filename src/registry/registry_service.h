// RegistryService: MLflow's model registry — registered models, numbered
// versions, stages, tags and aliases — over a RegistryStore, with the tracking
// store to resolve `runs:/` sources. Validates every input (names, stages,
// aliases, tags, filters, page tokens) and confines every version's source to
// artifacts this server holds (MLflow's CVE-2023-1177 family). Knows nothing of
// HTTP. Thread-safe (stateless over thread-safe stores).
#pragma once

#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "assets/manifest.h"
#include "store/metadata_store.h"
#include "store/registry_store.h"
#include "tracking/tracking_service.h"

namespace cairn {

// "production" -> "Production"; INVALID_PARAMETER_VALUE for anything but
// None, Staging, Production, Archived (any letter case).
Result<std::string> CanonicalStage(const std::string& stage);
// A version number as clients send it ("3"); must be a positive integer.
Result<int64_t> ParseModelVersion(const std::string& version);
Status ValidateModelName(const std::string& name);
Status ValidateAliasName(const std::string& alias);

// What a client asks for when it creates a model version.
struct ModelVersionRequest {
  std::string name;
  std::string source;
  std::string run_id;
  std::string run_link;
  std::string description;
  std::vector<Tag> tags;
  // Cairn's additions (Azure ML model assets); all optional.
  std::string model_type;  // custom_model | mlflow_model; empty: mlflow_model iff MLmodel exists
  std::string parent;      // "name:version" this one derives from (lineage edge "derived")
  bool converted = false;  // tag cairn.converted=true
  bool quantized = false;  // tag cairn.quantized=true
  int64_t expected_version = 0;  // > 0: refuse unless the version gets this number
  // Created through Cairn's model-asset API: always tag cairn.model_type. (The
  // MLflow API adds it only with an MLmodel, so MLflow clients see their tags.)
  bool record_model_type = false;
};

// Tags Cairn writes on model versions. Clients cannot set "cairn." tags, and
// the MLflow API does not show them (so MLflow clients see MLflow's answers).
inline constexpr const char* kCairnTagPrefix = "cairn.";
inline constexpr const char* kMLmodelTag = "cairn.mlmodel";  // MLmodelToJson, as JSON text
inline constexpr const char* kModelTypeTag = "cairn.model_type";
inline constexpr const char* kParentTag = "cairn.parent";
inline constexpr const char* kConvertedTag = "cairn.converted";
inline constexpr const char* kQuantizedTag = "cairn.quantized";

class RegistryService {
 public:
  RegistryService(RegistryStore& registry, MetadataStore& tracking, ArtifactStore& artifacts)
      : registry_(registry), tracking_(tracking), artifacts_(artifacts) {}

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                const std::string& description,
                                                const std::vector<Tag>& tags);
  Result<RegisteredModel> GetRegisteredModel(const std::string& name);
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name);
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                const std::string& description);
  Status DeleteRegisteredModel(const std::string& name);
  // max_results: default 100, at most 1000.
  Result<Page<RegisteredModel>> SearchRegisteredModels(const SearchRequest& request);
  Result<std::vector<ModelVersion>> GetLatestVersions(const std::string& name,
                                                      const std::vector<std::string>& stages);
  Status SetRegisteredModelTag(const std::string& name, const Tag& tag);
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key);

  // `user` and `reason` are recorded in the ModelAliasChanged event (history).
  Status SetAlias(const std::string& name, const std::string& alias, const std::string& version,
                  const std::string& user = "", const std::string& reason = "");
  Result<std::vector<AliasChange>> AliasHistory(const std::string& name);
  Status DeleteAlias(const std::string& name, const std::string& alias);
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name, const std::string& alias);

  // Also: run:<id> -> model:<name>:<version> ("produced") for a version with a
  // run (run_id, or the id in a runs:/ source, which then fills run_id) and
  // parent -> version ("derived"), in the version's transaction; and when the
  // source directory holds an MLmodel file, its flavors and signature in tag
  // cairn.mlmodel (a malformed MLmodel refuses the version, naming line:column).
  Result<ModelVersion> CreateModelVersion(const ModelVersionRequest& request);
  // A version from uploaded blobs (`cairn model create --path`): the files are
  // linked content-addressed under assets/model/<manifest hash> and the source
  // is mlflow-artifacts:/assets/model/<hash>. The request's source is ignored.
  Result<ModelVersion> CreateModelVersionFromFiles(ModelVersionRequest request,
                                                   const std::vector<ManifestFile>& files);
  // Every file of the version (recursive), paths relative to its root.
  Result<std::vector<FileInfo>> ListModelVersionFiles(const std::string& name,
                                                      const std::string& version);
  Result<ModelVersion> GetModelVersion(const std::string& name, const std::string& version);
  Result<ModelVersion> UpdateModelVersion(const std::string& name, const std::string& version,
                                          const std::string& description);
  Status DeleteModelVersion(const std::string& name, const std::string& version);
  // max_results: default 10000, at most 200000 (MLflow's limits).
  Result<Page<ModelVersion>> SearchModelVersions(const SearchRequest& request);
  Result<ModelVersion> TransitionModelVersionStage(const std::string& name,
                                                   const std::string& version,
                                                   const std::string& stage,
                                                   bool archive_existing_versions);
  Status SetModelVersionTag(const std::string& name, const std::string& version, const Tag& tag);
  Status DeleteModelVersionTag(const std::string& name, const std::string& version,
                               const std::string& key);

  // The mlflow-artifacts:/ URI of the version's files, fetchable through the proxy.
  Result<std::string> GetDownloadUri(const std::string& name, const std::string& version);
  // Where file `path` (relative to the version's artifact root) lives in the artifact store.
  Result<std::string> ModelVersionArtifactPath(const std::string& name, const std::string& version,
                                               const std::string& path);

  // The artifact URI a client-supplied source resolves to, or INVALID_PARAMETER_VALUE
  // when it points anywhere but this server's artifacts. `run_id` may be empty.
  Result<std::string> ResolveSource(const std::string& source, const std::string& run_id);

  ArtifactStore& artifacts() { return artifacts_; }

 private:
  RegistryStore& registry_;
  MetadataStore& tracking_;
  ArtifactStore& artifacts_;
};

}  // namespace cairn
