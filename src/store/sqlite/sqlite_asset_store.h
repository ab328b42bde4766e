// SqliteAssetStore: the AssetStore of the embedded backend. Its tables live in
// the SqliteStore's database and its writes join that store's group commit.
// Thread-safe, as the SqliteStore it borrows.
#pragma once

#include "store/asset_store.h"

namespace cairn::sqlite {

class SqliteStore;

class SqliteAssetStore final : public AssetStore {
 public:
  explicit SqliteAssetStore(SqliteStore& db) : db_(db) {}

  Result<Created> CreateAssetVersion(const AssetVersion& asset) override;
  Result<AssetVersion> GetAssetVersion(const std::string& kind, const std::string& name,
                                       const std::string& version) override;
  Result<AssetVersion> GetLatestAssetVersion(const std::string& kind,
                                             const std::string& name) override;
  Result<Page<AssetVersion>> ListAssetVersions(const AssetQuery& query) override;
  Status SetAssetArchived(const std::string& kind, const std::string& name,
                          const std::string& version, bool archived) override;
  Result<std::vector<AssetVersion>> FindAssetsByHash(const std::string& kind,
                                                     const std::string& hash) override;

  Status CreateDatastore(const DatastoreInfo& datastore) override;
  Result<DatastoreInfo> GetDatastore(const std::string& name) override;
  Result<std::vector<DatastoreInfo>> ListDatastores() override;

  Status AddLineageEdges(const std::vector<LineageEdge>& edges) override;
  Result<std::vector<LineageEdge>> WalkLineage(const std::string& entity, bool upstream, int depth,
                                               int64_t max_edges) override;

 private:
  SqliteStore& db_;
};

}  // namespace cairn::sqlite
