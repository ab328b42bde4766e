// Model registry entities as plain values, shaped after MLflow's
// model_registry.proto (RegisteredModel, ModelVersion, aliases), plus the
// outbox events registry changes emit. No JSON and no SQL here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/entities.h"
#include "store/search.h"

namespace cairn {

// Stages as MLflow spells them (the canonical form; input is case-insensitive).
inline constexpr const char* kStageNone = "None";
inline constexpr const char* kStageStaging = "Staging";
inline constexpr const char* kStageProduction = "Production";
inline constexpr const char* kStageArchived = "Archived";

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string current_stage = kStageNone;
  std::string description;
  std::string source;            // as the client gave it
  std::string storage_location;  // resolved artifact URI (mlflow-artifacts:/...)
  std::string run_id;
  std::string run_link;
  std::string status = "READY";
  std::vector<Tag> tags;
  std::vector<std::string> aliases;
};

struct ModelAlias {
  std::string alias;
  int64_t version = 0;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_timestamp = 0;
  int64_t last_updated_timestamp = 0;
  std::string description;
  std::vector<ModelVersion> latest_versions;  // the newest version in each stage
  std::vector<Tag> tags;
  std::vector<ModelAlias> aliases;
};

// What the registry service hands the store to register a version (validated,
// source already resolved to storage_location).
struct NewModelVersion {
  std::string name;
  std::string source;
  std::string storage_location;
  std::string run_id;
  std::string run_link;
  std::string description;
  std::vector<Tag> tags;
  // Lineage edges into the new version, written in the same transaction:
  // (source entity id, relation), e.g. ("run:<id>", "produced").
  std::vector<std::pair<std::string, std::string>> lineage_inputs;
  // When > 0, the number the caller expects the version to get; refused
  // (RESOURCE_ALREADY_EXISTS / INVALID_PARAMETER_VALUE) when it would get another.
  int64_t expected_version = 0;
};

// Who moved an alias, when and why (from the ModelAliasChanged events).
struct AliasChange {
  std::string alias;
  std::string action;  // "Set" or "Deleted"
  int64_t version = 0;
  std::optional<int64_t> previous_version;
  std::string user;
  std::string reason;
  int64_t time = 0;
};

// A parsed registry search. Attribute keys are MLflow's: name, run_id,
// source_path, version_number, creation_timestamp, last_updated_timestamp.
struct RegistryQuery {
  std::vector<Clause> filter;
  std::vector<OrderKey> order_by;
  int64_t max_results = 100;
  int64_t offset = 0;
};

// One row of the events outbox; `data` is a JSON object (Event Grid's "data").
struct OutboxEvent {
  int64_t event_id = 0;
  std::string type;     // ModelRegistered, ModelAliasChanged, ModelStageChanged, ModelDeleted
  std::string subject;  // "models/<name>:<version>"
  int64_t time = 0;     // ms since the epoch
  std::string data;
  std::optional<int64_t> delivered_time;
};

}  // namespace cairn
