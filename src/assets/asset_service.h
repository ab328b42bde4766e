// AssetService: versioned, immutable, content-addressed assets - data versions
// (Azure ML data-asset semantics), code snapshots and environments - on the
// artifact store, the datastores their paths resolve through, and the lineage
// graph that links them to runs and models. Content arrives either as blobs a
// client uploaded first (the manifest names them by hash, so identical files
// are sent and stored once) or from a datastore the server reads itself.
// Never sees HTTP. Thread-safe.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/artifact_store.h"
#include "assets/manifest.h"
#include "core/status.h"
#include "store/asset_store.h"
#include "store/metadata_store.h"

namespace cairn {

class HashCache;
class EnvironmentBuilder;
struct MaterializedEnvironment;

struct NewDataVersion {
  std::string name;
  std::string version;  // empty: next number
  std::string type;     // uri_file | uri_folder; empty: from the content
  std::string description;
  std::vector<Tag> tags;
  std::string source;               // where the client read it (recorded only)
  std::vector<ManifestFile> files;  // uploaded content, or
  std::string datastore_uri;        // content the server reads from a datastore
  std::string created_by;
};

struct NewCodeSnapshot {
  std::vector<ManifestFile> files;
  std::string source;    // the snapshotted directory
  std::string git_json;  // {"commit","branch","remote","dirty"} or "" outside git
  std::string created_by;
};

// A lineage answer: the edges found walking each way from `root`.
struct LineageGraph {
  std::string root;
  std::vector<LineageEdge> upstream;
  std::vector<LineageEdge> downstream;
  bool truncated = false;
};

// Answers whether model version `name`:`version` exists (OK or NOT_FOUND); the
// registry provides it, so assets need not depend on the registry.
using ModelVersionChecker =
    std::function<Status(const std::string& name, const std::string& version)>;

class AssetService {
 public:
  // `environments` builds Python environments locally (may be null: then
  // environments are recorded but not built).
  AssetService(AssetStore& assets, MetadataStore& tracking, ArtifactStore& artifacts,
               HashCache* server_hash_cache, EnvironmentBuilder* environments = nullptr);

  // Content-addressed upload: which of these blobs the store lacks.
  Result<std::vector<std::string>> MissingBlobs(const std::vector<std::string>& sha256s);
  // Stores one uploaded blob, refused unless its bytes hash to `sha256` (empty:
  // named by whatever they hash to). The bytes arrive spooled to a file (large
  // uploads, with the hash computed while receiving them) or in memory.
  Result<BlobInfo> PutBlob(const std::string& sha256, const std::string& spooled_file,
                           const BlobInfo& received, std::string_view body);

  Result<AssetStore::Created> CreateData(NewDataVersion data);
  Result<AssetStore::Created> CreateCodeSnapshot(NewCodeSnapshot code);
  // An environment from its spec as JSON (environment.h's JSON form). Its
  // version's content hash covers what determines the build, so the same spec
  // under two names shares one built environment.
  Result<AssetStore::Created> CreateEnvironment(const std::string& spec_json,
                                                const std::string& created_by);
  // A registered component version. `yaml` is its spec, validated by the
  // caller (the pipeline layer reads components); stored as {"yaml": ...} with
  // the text's hash as content, so registering the same text again is a no-op.
  Result<AssetStore::Created> CreateComponent(const std::string& name, const std::string& version,
                                              const std::string& description,
                                              const std::string& yaml,
                                              const std::string& created_by);
  // Materializes an environment version locally (cached by content hash).
  Result<MaterializedEnvironment> BuildEnvironment(const std::string& ref);

  // "name:version", "name@latest", optionally "azureml:"-prefixed.
  Result<AssetVersion> Resolve(const std::string& kind, const std::string& ref);
  Result<Page<AssetVersion>> List(const std::string& kind, const std::string& name,
                                  bool include_archived, int64_t max_results,
                                  const std::string& page_token);
  Result<AssetVersion> SetArchived(const std::string& kind, const std::string& ref, bool archived);
  Result<AssetVersion> GetCode(const std::string& hash);

  // Every file of an asset version (recursive), paths relative to the asset.
  Result<std::vector<FileInfo>> ListFiles(const AssetVersion& asset);
  // One file of an asset version, for streaming.
  Result<UniqueFd> OpenFile(const AssetVersion& asset, const std::string& path, int64_t* size);

  Status CreateDatastore(const DatastoreInfo& datastore);
  // When set, a datastore's root must lie inside one of these folders (the
  // server's --datastore-root); otherwise any folder the server can read.
  void SetDatastoreRoots(std::vector<std::filesystem::path> allowed);
  Result<DatastoreInfo> GetDatastore(const std::string& name);
  Result<std::vector<DatastoreInfo>> ListDatastores();

  // Canonical entity id for user input: "data:flights@latest" -> "data:flights:3",
  // a bare "flights:3" is a data version; checks the entity exists.
  // model: ids are checked with the checker when one is set (else syntax only).
  Result<std::string> CanonicalEntity(const std::string& text);
  void SetModelVersionChecker(ModelVersionChecker checker) { model_checker_ = std::move(checker); }
  Status Link(const std::string& from, const std::string& to, const std::string& relation);
  Result<LineageGraph> Lineage(const std::string& entity, bool upstream, bool downstream,
                               int depth);

 private:
  Result<AssetStore::Created> Register(AssetVersion asset, const std::vector<ManifestFile>& files);
  Result<std::vector<ManifestFile>> IngestFromDatastore(const std::string& uri);

  AssetStore& assets_;
  MetadataStore& tracking_;
  ArtifactStore& artifacts_;
  HashCache* hash_cache_;
  EnvironmentBuilder* environments_;
  std::vector<std::filesystem::path> datastore_roots_;
  ModelVersionChecker model_checker_;
};

// Where an asset's files live on the artifact store: content-addressed, so two
// versions with the same content share one directory.
std::string AssetStoragePath(const std::string& kind, const std::string& content_hash);

// Links a client's manifest of uploaded blobs under AssetStoragePath(kind,
// manifest hash) and returns that path (how the registry stores a model
// folder uploaded with `cairn model create --path`). INVALID_STATE naming the
// first missing blob when some were not uploaded; a bad manifest is
// INVALID_PARAMETER_VALUE. Identical content maps to the same directory.
Result<std::string> StoreManifestFiles(ArtifactStore& artifacts, const std::string& kind,
                                       const std::vector<ManifestFile>& files);

}  // namespace cairn
