// RegistryStore: the database seam of the model registry (registered models,
// versions, tags, aliases) and of the events outbox: every mutation writes its
// events in the same transaction, so a rolled-back change emits nothing.
// Inputs arrive validated by RegistryService; the store enforces existence,
// uniqueness and the alias/stage invariants. Every method is thread-safe and
// atomic (a failed call changes nothing).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/registry_entities.h"

namespace cairn {

class RegistryStore {
 public:
  virtual ~RegistryStore() = default;

  virtual Result<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                        const std::string& description,
                                                        const std::vector<Tag>& tags) = 0;
  virtual Result<RegisteredModel> GetRegisteredModel(const std::string& name) = 0;
  virtual Result<RegisteredModel> RenameRegisteredModel(const std::string& name,
                                                        const std::string& new_name) = 0;
  virtual Result<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                        const std::string& description) = 0;
  // Deletes the model with its versions, tags and aliases.
  virtual Status DeleteRegisteredModel(const std::string& name) = 0;
  virtual Result<Page<RegisteredModel>> SearchRegisteredModels(const RegistryQuery& query) = 0;
  virtual Status SetRegisteredModelTag(const std::string& name, const Tag& tag) = 0;
  virtual Status DeleteRegisteredModelTag(const std::string& name, const std::string& key) = 0;
  // The newest version in each of `stages` (all stages when empty).
  virtual Result<std::vector<ModelVersion>> GetLatestVersions(
      const std::string& name, const std::vector<std::string>& stages) = 0;

  // Points `alias` at an existing version (moving it if it pointed elsewhere).
  // `user` and `reason` go into the ModelAliasChanged event (may be empty).
  virtual Status SetAlias(const std::string& name, const std::string& alias, int64_t version,
                          const std::string& user, const std::string& reason) = 0;
  // Every alias change of the model, oldest first (read from the outbox, which
  // keeps delivered events).
  virtual Result<std::vector<AliasChange>> AliasHistory(const std::string& name) = 0;
  virtual Status DeleteAlias(const std::string& name, const std::string& alias) = 0;
  virtual Result<ModelVersion> GetModelVersionByAlias(const std::string& name,
                                                      const std::string& alias) = 0;

  // Numbers versions 1, 2, 3... per model; a number is never reused. Writes
  // `version.lineage_inputs` as lineage edges in the same transaction.
  virtual Result<ModelVersion> CreateModelVersion(const NewModelVersion& version) = 0;
  virtual Result<ModelVersion> GetModelVersion(const std::string& name, int64_t version) = 0;
  virtual Result<ModelVersion> UpdateModelVersion(const std::string& name, int64_t version,
                                                  const std::string& description) = 0;
  // Refused with INVALID_STATE while an alias points at the version.
  virtual Status DeleteModelVersion(const std::string& name, int64_t version) = 0;
  virtual Result<Page<ModelVersion>> SearchModelVersions(const RegistryQuery& query) = 0;
  // `stage` is canonical. With `archive_existing`, the other versions in that
  // stage move to Archived in the same transaction.
  virtual Result<ModelVersion> TransitionModelVersionStage(const std::string& name, int64_t version,
                                                           const std::string& stage,
                                                           bool archive_existing) = 0;
  virtual Status SetModelVersionTag(const std::string& name, int64_t version, const Tag& tag) = 0;
  virtual Status DeleteModelVersionTag(const std::string& name, int64_t version,
                                       const std::string& key) = 0;

  // Outbox: undelivered events in the order they were written, and marking them sent.
  virtual Result<std::vector<OutboxEvent>> UndeliveredEvents(int64_t limit) = 0;
  virtual Status MarkDelivered(const std::vector<int64_t>& event_ids) = 0;
};

}  // namespace cairn
