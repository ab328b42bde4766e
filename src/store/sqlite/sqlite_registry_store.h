// SqliteRegistryStore: the model registry's tables in the workspace's SQLite
// file, written through SqliteStore's group-commit writer and read on its
// reader pool. Each mutation and its outbox events share one transaction.
// Thread-safe (it holds no state of its own besides the SqliteStore).
#pragma once

#include "store/registry_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn::sqlite {

class SqliteRegistryStore final : public RegistryStore {
 public:
  // `store` must outlive this object (its migrations create the registry tables).
  explicit SqliteRegistryStore(SqliteStore& store) : store_(store) {}

  Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                const std::string& description,
                                                const std::vector<Tag>& tags) override;
  Result<RegisteredModel> GetRegisteredModel(const std::string& name) override;
  Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                const std::string& new_name) override;
  Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                const std::string& description) override;
  Status DeleteRegisteredModel(const std::string& name) override;
  Result<Page<RegisteredModel>> SearchRegisteredModels(const RegistryQuery& query) override;
  Status SetRegisteredModelTag(const std::string& name, const Tag& tag) override;
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) override;
  Result<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) override;

  Status SetAlias(const std::string& name, const std::string& alias, int64_t version,
                  const std::string& user, const std::string& reason) override;
  Result<std::vector<AliasChange>> AliasHistory(const std::string& name) override;
  Status DeleteAlias(const std::string& name, const std::string& alias) override;
  Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                              const std::string& alias) override;

  Result<ModelVersion> CreateModelVersion(const NewModelVersion& version) override;
  Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) override;
  Result<ModelVersion> UpdateModelVersion(const std::string& name, int64_t version,
                                          const std::string& description) override;
  Status DeleteModelVersion(const std::string& name, int64_t version) override;
  Result<Page<ModelVersion>> SearchModelVersions(const RegistryQuery& query) override;
  Result<ModelVersion> TransitionModelVersionStage(const std::string& name, int64_t version,
                                                   const std::string& stage,
                                                   bool archive_existing) override;
  Status SetModelVersionTag(const std::string& name, int64_t version, const Tag& tag) override;
  Status DeleteModelVersionTag(const std::string& name, int64_t version,
                               const std::string& key) override;

  Result<std::vector<OutboxEvent>> UndeliveredEvents(int64_t limit) override;
  Status MarkDelivered(const std::vector<int64_t>& event_ids) override;

 private:
  SqliteStore& store_;
};

}  // namespace cairn::sqlite
