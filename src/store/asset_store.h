// AssetStore: the seam between the asset service and the database that records
// asset versions, datastores and lineage edges. Implemented by each metadata
// backend next to its MetadataStore (sqlite/sqlite_asset_store.h), in the same
// database. Thread-safe; every mutation is one transaction.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/asset_entities.h"

namespace cairn {

class AssetStore {
 public:
  virtual ~AssetStore() = default;

  // Creates name:version. With an empty version, the next number after the
  // highest numeric version of the name (1 for a new name). An existing version
  // with the same content_hash and type is returned as it is (`created` false);
  // different content is refused: versions are immutable.
  struct Created {
    AssetVersion asset;
    bool created = false;
  };
  virtual Result<Created> CreateAssetVersion(const AssetVersion& asset) = 0;
  virtual Result<AssetVersion> GetAssetVersion(const std::string& kind, const std::string& name,
                                               const std::string& version) = 0;
  // The newest version (by creation) that is not archived.
  virtual Result<AssetVersion> GetLatestAssetVersion(const std::string& kind,
                                                     const std::string& name) = 0;
  // With query.name: that name's versions, newest first. Without: the latest
  // version of every name, sorted by name.
  virtual Result<Page<AssetVersion>> ListAssetVersions(const AssetQuery& query) = 0;
  virtual Status SetAssetArchived(const std::string& kind, const std::string& name,
                                  const std::string& version, bool archived) = 0;
  // Versions of `kind` whose content_hash is `hash` (an environment's builds, a
  // code snapshot registered under several names).
  virtual Result<std::vector<AssetVersion>> FindAssetsByHash(const std::string& kind,
                                                             const std::string& hash) = 0;

  virtual Status CreateDatastore(const DatastoreInfo& datastore) = 0;
  virtual Result<DatastoreInfo> GetDatastore(const std::string& name) = 0;
  virtual Result<std::vector<DatastoreInfo>> ListDatastores() = 0;

  // Adds edges in one transaction (existing ones are kept as they are). The
  // caller checks the endpoints exist.
  virtual Status AddLineageEdges(const std::vector<LineageEdge>& edges) = 0;
  // Edges reachable from `entity` walking against (upstream) or along
  // (downstream) the edges, breadth first, up to `depth` hops and `max_edges`.
  virtual Result<std::vector<LineageEdge>> WalkLineage(const std::string& entity, bool upstream,
                                                       int depth, int64_t max_edges) = 0;
};

}  // namespace cairn
