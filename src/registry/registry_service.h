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
};

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

  Status SetAlias(const std::string& name, const std::string& alias, const std::string& version);
  Status DeleteAlias(const std::string& name, const std::string& alias);
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name, const std::string& alias);

  Result<ModelVersion> CreateModelVersion(const ModelVersionRequest& request);
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
