#include "assets/asset_service.h"

#include <nlohmann/json.hpp>

#include <algorithm>

#include "artifacts/path_safety.h"
#include "assets/datastore.h"
#include "assets/environment.h"
#include "assets/environment_builder.h"
#include "assets/hash_cache.h"
#include "core/sha256.h"
#include "store/asset_ref.h"
#include "store/paging.h"

namespace cairn {
namespace {

constexpr int64_t kMaxDescription = 5000;
constexpr int64_t kMaxLineageEdges = 10000;

Status CheckTags(const std::vector<Tag>& tags) {
  for (const Tag& t : tags) {
    if (t.key.empty() || t.key.size() > 250) {
      return InvalidParameter("tag keys must be 1 to 250 characters, got '" + t.key + "'");
    }
    if (t.value.size() > 5000) {
      return InvalidParameter("tag '" + t.key + "' is longer than 5000 characters");
    }
  }
  return Status::Ok();
}

}  // namespace

std::string AssetStoragePath(const std::string& kind, const std::string& content_hash) {
  return "assets/" + kind + "/" + content_hash;
}

Result<std::string> StoreManifestFiles(ArtifactStore& artifacts, const std::string& kind,
                                       const std::vector<ManifestFile>& raw) {
  if (raw.empty()) return InvalidParameter("the upload holds no files");
  if (raw.size() > 1000000) return InvalidParameter("an asset holds at most 1,000,000 files");
  CAIRN_ASSIGN_OR_RETURN(std::vector<ManifestFile> files, CheckManifest(raw));
  std::string storage_path = AssetStoragePath(kind, ManifestHash(files));
  std::vector<std::string> missing;
  for (const ManifestFile& f : files) {
    Status st = artifacts.LinkBlob(storage_path + "/" + f.path, {f.sha256, f.size});
    if (st.code() == ErrorCode::kResourceDoesNotExist) {
      missing.push_back(f.sha256);
    } else if (!st.ok()) {
      return st;
    }
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kInvalidState,
                  std::to_string(missing.size()) +
                      " blob(s) of the manifest are not in the store (first: sha256:" +
                      missing.front() + "); upload them, then register again");
  }
  return storage_path;
}

AssetService::AssetService(AssetStore& assets, MetadataStore& tracking, ArtifactStore& artifacts,
                           HashCache* server_hash_cache, EnvironmentBuilder* environments)
    : assets_(assets),
      tracking_(tracking),
      artifacts_(artifacts),
      hash_cache_(server_hash_cache),
      environments_(environments) {}

Result<std::vector<std::string>> AssetService::MissingBlobs(
    const std::vector<std::string>& sha256s) {
  if (sha256s.size() > 100000) {
    return InvalidParameter("ask about at most 100000 blobs per request, got " +
                            std::to_string(sha256s.size()));
  }
  std::vector<std::string> missing;
  for (const std::string& h : sha256s) {
    if (!BlobStore::IsValidHash(h)) {
      return InvalidParameter("'" + h + "' is not a SHA-256 (64 lowercase hex characters)");
    }
    if (!artifacts_.HasBlob(h)) missing.push_back(h);
  }
  std::sort(missing.begin(), missing.end());
  missing.erase(std::unique(missing.begin(), missing.end()), missing.end());
  return missing;
}

Result<BlobInfo> AssetService::PutBlob(const std::string& sha256, const std::string& spooled_file,
                                       const BlobInfo& received, std::string_view body) {
  if (!sha256.empty() && !BlobStore::IsValidHash(sha256)) {
    return InvalidParameter("'" + sha256 + "' is not a SHA-256 (64 lowercase hex characters)");
  }
  if (!spooled_file.empty()) return artifacts_.PutBlobSpooled(spooled_file, sha256, &received);
  // Small bodies arrive in memory: check them there, then store them in one
  // write (no spool file to write, fsync and rename first).
  if (!sha256.empty()) {
    std::string actual = Sha256Hex(body);
    if (actual != sha256) {
      return InvalidParameter("uploaded bytes hash to sha256:" + actual + ", not sha256:" + sha256 +
                              "; the upload was corrupted or named wrongly, send it again");
    }
  }
  return artifacts_.PutBlobBytes(body);
}

Result<std::vector<ManifestFile>> AssetService::IngestFromDatastore(const std::string& text) {
  CAIRN_ASSIGN_OR_RETURN(DatastoreUri uri, ParseDatastoreUri(text));
  CAIRN_ASSIGN_OR_RETURN(DatastoreInfo info, assets_.GetDatastore(uri.datastore));
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<Datastore> ds, OpenDatastore(info));
  CAIRN_ASSIGN_OR_RETURN(std::vector<DatastoreFile> listed, ds->ListFiles(uri.path));
  if (listed.empty()) return InvalidParameter("'" + text + "' holds no files to register");
  std::vector<ManifestFile> files;
  for (const DatastoreFile& f : listed) {
    CAIRN_ASSIGN_OR_RETURN(BlobInfo blob, ds->Ingest(f.path, artifacts_, hash_cache_));
    // A single file keeps its own name; a folder's files keep their layout.
    std::string path = f.relative.empty() ? f.path.substr(f.path.rfind('/') + 1) : f.relative;
    files.push_back({path, blob.sha256, blob.size});
  }
  return files;
}

Result<AssetStore::Created> AssetService::CreateData(NewDataVersion data) {
  if (!IsValidAssetName(data.name)) {
    return InvalidParameter("invalid data asset name '" + data.name +
                            "'; use letters, digits, '_', '-', '.', starting with a letter or "
                            "digit (at most 255)");
  }
  if (!data.version.empty() && !IsValidAssetVersion(data.version)) {
    return InvalidParameter("invalid version '" + data.version +
                            "'; use letters, digits, '_', '-', '.' (at most 64)");
  }
  if (!data.type.empty() && data.type != "uri_file" && data.type != "uri_folder") {
    return InvalidParameter("data type '" + data.type +
                            "' is not supported; use uri_file or uri_folder");
  }
  if (static_cast<int64_t>(data.description.size()) > kMaxDescription) {
    return InvalidParameter("description is longer than 5000 characters");
  }
  CAIRN_RETURN_IF_ERROR(CheckTags(data.tags));
  bool from_datastore = !data.datastore_uri.empty();
  if (from_datastore && !data.files.empty()) {
    return InvalidParameter("give either uploaded files or a datastore path, not both");
  }
  if (from_datastore) {
    if (data.version.size() && !data.name.empty()) {
      // Refuse a conflicting version before reading any bytes.
      auto existing = assets_.GetAssetVersion(kDataAsset, data.name, data.version);
      if (existing.ok() && existing->source != data.datastore_uri) {
        return AlreadyExists("data asset " + data.name + ":" + data.version +
                             " already exists (from " + existing->source +
                             "); versions are immutable");
      }
    }
    CAIRN_ASSIGN_OR_RETURN(data.files, IngestFromDatastore(data.datastore_uri));
    data.source = data.datastore_uri;
  }
  if (data.files.empty()) {
    return InvalidParameter("a data version needs content: upload files or give a path");
  }
  if (data.type.empty()) data.type = data.files.size() == 1 ? "uri_file" : "uri_folder";
  if (data.type == "uri_file" && data.files.size() != 1) {
    return InvalidParameter("a uri_file data asset holds exactly one file, got " +
                            std::to_string(data.files.size()) + "; use --type uri_folder");
  }
  AssetVersion a;
  a.kind = kDataAsset;
  a.name = data.name;
  a.version = data.version;
  a.type = data.type;
  a.description = data.description;
  a.tags = data.tags;
  a.source = data.source;
  a.created_by = data.created_by;
  a.spec = "{}";
  return Register(std::move(a), data.files);
}

Result<AssetStore::Created> AssetService::CreateCodeSnapshot(NewCodeSnapshot code) {
  if (code.files.empty()) return InvalidParameter("a code snapshot needs at least one file");
  AssetVersion a;
  a.kind = kCodeAsset;
  a.type = "snapshot";
  a.version = "1";
  a.source = code.source;
  a.spec = code.git_json.empty() ? "{}" : code.git_json;
  a.created_by = code.created_by;
  return Register(std::move(a), code.files);
}

Result<AssetStore::Created> AssetService::CreateEnvironment(const std::string& spec_json,
                                                            const std::string& created_by) {
  auto json = nlohmann::json::parse(spec_json, nullptr, false);
  if (json.is_discarded() || !json.is_object()) {
    return InvalidParameter("an environment spec must be a JSON object");
  }
  CAIRN_ASSIGN_OR_RETURN(EnvironmentSpec spec, EnvironmentFromJson(json));
  CAIRN_RETURN_IF_ERROR(ValidateEnvironment(spec));
  if (spec.name.empty()) return InvalidParameter("an environment needs a name");
  AssetVersion a;
  a.kind = kEnvironmentAsset;
  a.name = spec.name;
  a.version = spec.version;
  a.type = !spec.image.empty() ? "image" : !spec.conda_file.empty() ? "conda" : "python";
  a.description = spec.description;
  for (const auto& [k, v] : spec.tags) a.tags.push_back({k, v});
  CAIRN_RETURN_IF_ERROR(CheckTags(a.tags));
  a.content_hash = EnvironmentContentHash(spec);
  // The stored spec is the environment's definition; name and version live in
  // the row, so the same content under another name stays comparable.
  a.spec = ToJson(spec).dump();
  a.created_by = created_by;
  return assets_.CreateAssetVersion(a);
}

Result<AssetStore::Created> AssetService::CreateComponent(const std::string& name,
                                                          const std::string& version,
                                                          const std::string& description,
                                                          const std::string& yaml,
                                                          const std::string& created_by) {
  if (!IsValidAssetName(name)) {
    return InvalidParameter("invalid component name '" + name +
                            "'; use letters, digits, '_', '-', '.', starting with a letter or "
                            "digit (at most 255)");
  }
  if (!version.empty() && !IsValidAssetVersion(version)) {
    return InvalidParameter("invalid component version '" + version +
                            "'; use letters, digits, '_', '-', '.' (at most 64)");
  }
  AssetVersion a;
  a.kind = kComponentAsset;
  a.name = name;
  a.version = version;
  a.type = "command";
  a.description = description;
  a.content_hash = Sha256Hex(yaml);
  a.spec = nlohmann::json{{"yaml", yaml}}.dump();
  a.created_by = created_by;
  return assets_.CreateAssetVersion(a);
}

Result<MaterializedEnvironment> AssetService::BuildEnvironment(const std::string& ref) {
  if (!environments_) {
    return Status(ErrorCode::kInvalidState, "this server does not build environments");
  }
  CAIRN_ASSIGN_OR_RETURN(AssetVersion v, Resolve(kEnvironmentAsset, ref));
  auto json = nlohmann::json::parse(v.spec, nullptr, false);
  CAIRN_ASSIGN_OR_RETURN(EnvironmentSpec spec, EnvironmentFromJson(json));
  return environments_->Materialize(spec);
}

Result<AssetStore::Created> AssetService::Register(AssetVersion asset,
                                                   const std::vector<ManifestFile>& raw) {
  if (raw.size() > 1000000) return InvalidParameter("an asset holds at most 1,000,000 files");
  CAIRN_ASSIGN_OR_RETURN(std::vector<ManifestFile> files, CheckManifest(raw));
  asset.content_hash = ManifestHash(files);
  if (asset.kind == kCodeAsset) asset.name = asset.content_hash;
  asset.storage_path = AssetStoragePath(asset.kind, asset.content_hash);
  asset.file_count = static_cast<int64_t>(files.size());
  asset.size_bytes = 0;
  for (const ManifestFile& f : files) asset.size_bytes += f.size;

  if (!asset.version.empty()) {
    auto existing = assets_.GetAssetVersion(asset.kind, asset.name, asset.version);
    if (existing.ok() &&
        (existing->content_hash != asset.content_hash || existing->type != asset.type)) {
      return AlreadyExists(asset.kind + " asset " + asset.name + ":" + asset.version +
                           " already exists with different content; versions are immutable: "
                           "register the new content under a new version, or omit the version "
                           "to get the next one");
    }
  }
  // Files first, then the version row: a version that exists always has its
  // files. Identical content maps to the same paths, so relinking is harmless.
  std::vector<std::string> missing;
  for (const ManifestFile& f : files) {
    Status st = artifacts_.LinkBlob(asset.storage_path + "/" + f.path, {f.sha256, f.size});
    if (st.code() == ErrorCode::kResourceDoesNotExist) {
      missing.push_back(f.sha256);
    } else if (!st.ok()) {
      return st;
    }
  }
  if (!missing.empty()) {
    return Status(ErrorCode::kInvalidState, std::to_string(missing.size()) +
                                                " blob(s) of the manifest are not in the store "
                                                "(first: sha256:" +
                                                missing.front() +
                                                "); upload them, then register again");
  }
  return assets_.CreateAssetVersion(asset);
}

Result<AssetVersion> AssetService::Resolve(const std::string& kind, const std::string& ref) {
  if (kind == kCodeAsset) return GetCode(ref);
  CAIRN_ASSIGN_OR_RETURN(AssetRef r, ParseAssetRef(ref));
  if (!r.label.empty()) return assets_.GetLatestAssetVersion(kind, r.name);
  return assets_.GetAssetVersion(kind, r.name, r.version);
}

Result<AssetVersion> AssetService::GetCode(const std::string& hash) {
  std::string h = hash.rfind("code:", 0) == 0 ? hash.substr(5) : hash;
  if (!BlobStore::IsValidHash(h)) {
    return InvalidParameter("'" + hash +
                            "' is not a code snapshot hash (64 hex characters, as "
                            "`cairn code snapshot` prints)");
  }
  return assets_.GetAssetVersion(kCodeAsset, h, "1");
}

Result<Page<AssetVersion>> AssetService::List(const std::string& kind, const std::string& name,
                                              bool include_archived, int64_t max_results,
                                              const std::string& page_token) {
  AssetQuery q;
  q.kind = kind;
  q.name = name;
  q.include_archived = include_archived;
  q.max_results = max_results;
  CAIRN_ASSIGN_OR_RETURN(q.offset, DecodePageToken(page_token));
  if (max_results < 1 || max_results > 1000) {
    return InvalidParameter("max_results must be between 1 and 1000");
  }
  return assets_.ListAssetVersions(q);
}

Result<AssetVersion> AssetService::SetArchived(const std::string& kind, const std::string& ref,
                                               bool archived) {
  CAIRN_ASSIGN_OR_RETURN(AssetRef r, ParseAssetRef(ref));
  if (!r.label.empty()) {
    return InvalidParameter("archive and restore take an exact name:version, not @latest");
  }
  CAIRN_RETURN_IF_ERROR(assets_.SetAssetArchived(kind, r.name, r.version, archived));
  return assets_.GetAssetVersion(kind, r.name, r.version);
}

Result<std::vector<FileInfo>> AssetService::ListFiles(const AssetVersion& asset) {
  return ListRecursive(artifacts_, asset.storage_path);
}

Result<UniqueFd> AssetService::OpenFile(const AssetVersion& asset, const std::string& path,
                                        int64_t* size) {
  CAIRN_ASSIGN_OR_RETURN(std::string clean, NormalizeRelativePath(path));
  if (clean.empty()) return InvalidParameter("name a file of the asset");
  return artifacts_.Open(asset.storage_path + "/" + clean, size);
}

Status AssetService::CreateDatastore(const DatastoreInfo& d) {
  if (!IsValidAssetName(d.name)) {
    return InvalidParameter("invalid datastore name '" + d.name +
                            "'; use letters, digits, '_', '-', '.'");
  }
  DatastoreInfo info = d;
  if (info.type.empty()) info.type = "local";
  if (info.root.empty() || info.root[0] != '/') {
    return InvalidParameter("a local datastore needs an absolute directory path, got '" +
                            info.root + "'");
  }
  std::error_code ec;
  auto canon = std::filesystem::canonical(info.root, ec);
  if (ec || !std::filesystem::is_directory(canon, ec)) {
    return InvalidParameter("datastore root '" + info.root +
                            "' is not an existing directory on the server");
  }
  info.root = canon.string();
  if (!datastore_roots_.empty()) {
    bool inside = false;
    for (const auto& allowed : datastore_roots_) {
      auto [end, _] = std::mismatch(allowed.begin(), allowed.end(), canon.begin(), canon.end());
      inside = inside || end == allowed.end();
    }
    if (!inside) {
      std::string list;
      for (const auto& allowed : datastore_roots_) list += " " + allowed.string();
      return Status(ErrorCode::kPermissionDenied,
                    "datastore root " + info.root +
                        " is outside the folders this server allows (--datastore-root:" + list +
                        ")");
    }
  }
  CAIRN_RETURN_IF_ERROR(OpenDatastore(info).status());
  return assets_.CreateDatastore(info);
}

void AssetService::SetDatastoreRoots(std::vector<std::filesystem::path> allowed) {
  datastore_roots_.clear();
  for (auto& p : allowed) {
    std::error_code ec;
    auto canon = std::filesystem::weakly_canonical(std::filesystem::absolute(p), ec);
    datastore_roots_.push_back(ec ? p : canon);
  }
}

Result<DatastoreInfo> AssetService::GetDatastore(const std::string& name) {
  return assets_.GetDatastore(name);
}

Result<std::vector<DatastoreInfo>> AssetService::ListDatastores() {
  return assets_.ListDatastores();
}

Result<std::string> AssetService::CanonicalEntity(const std::string& text) {
  auto parsed = ParseEntityId(text);
  if (!parsed.ok()) {
    // "flights:3" or "azureml:flights@latest": a data version, the common case.
    if (ParseAssetRef(text).ok()) {
      parsed = EntityId{kDataAsset, text};
    } else {
      return parsed.status();
    }
  }
  EntityId e = *parsed;
  if (e.kind == kDataAsset || e.kind == kEnvironmentAsset) {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion a, Resolve(e.kind, e.id));
    return e.kind + ":" + a.name + ":" + a.version;
  }
  if (e.kind == kCodeAsset) {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion a, GetCode(e.id));
    return "code:" + a.name;
  }
  if (e.kind == "run") {
    CAIRN_RETURN_IF_ERROR(tracking_.GetRun(e.id).status());
    return e.str();
  }
  if (e.kind == "model") {
    CAIRN_ASSIGN_OR_RETURN(AssetRef r, ParseAssetRef(e.id));
    if (!r.label.empty()) {
      return InvalidParameter("name a model version exactly in lineage (model:name:version)");
    }
    if (model_checker_) CAIRN_RETURN_IF_ERROR(model_checker_(r.name, r.version));
    return "model:" + r.name + ":" + r.version;
  }
  return e.str();  // deployments and MLflow datasets: recorded by their producers
}

Status AssetService::Link(const std::string& from, const std::string& to,
                          const std::string& relation) {
  CAIRN_ASSIGN_OR_RETURN(std::string src, CanonicalEntity(from));
  CAIRN_ASSIGN_OR_RETURN(std::string dst, CanonicalEntity(to));
  if (src == dst) return InvalidParameter("an entity cannot be its own lineage");
  std::string rel = relation.empty() ? "input" : relation;
  if (rel.size() > 64) return InvalidParameter("relation names are at most 64 characters");
  return assets_.AddLineageEdges({{src, dst, rel, 0}});
}

Result<LineageGraph> AssetService::Lineage(const std::string& entity, bool upstream,
                                           bool downstream, int depth) {
  if (depth < 1 || depth > 100) return InvalidParameter("depth must be between 1 and 100");
  LineageGraph g;
  CAIRN_ASSIGN_OR_RETURN(g.root, CanonicalEntity(entity));
  if (upstream) {
    CAIRN_ASSIGN_OR_RETURN(g.upstream, assets_.WalkLineage(g.root, true, depth, kMaxLineageEdges));
    g.truncated |= static_cast<int64_t>(g.upstream.size()) >= kMaxLineageEdges;
  }
  if (downstream) {
    CAIRN_ASSIGN_OR_RETURN(g.downstream,
                           assets_.WalkLineage(g.root, false, depth, kMaxLineageEdges));
    g.truncated |= static_cast<int64_t>(g.downstream.size()) >= kMaxLineageEdges;
  }
  return g;
}

}  // namespace cairn
