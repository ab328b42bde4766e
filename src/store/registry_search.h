// Translates registry searches (RegistryQuery) into parameterised SQL any
// SqlDialect runs, and builds the outbox payloads of registry events, so every
// backend writes the same rows. Pure functions; values are bound, never spliced.
#pragma once

#include <string>

#include "store/registry_entities.h"
#include "store/sql_search.h"

namespace cairn {

// Selects model_id of one page of registered models, with one extra row to
// tell whether another page follows.
SqlQuery BuildRegisteredModelSearchSql(const RegistryQuery& query, const SqlDialect& dialect);
// Selects (model_id, version) of one page of model versions, plus one row.
SqlQuery BuildModelVersionSearchSql(const RegistryQuery& query, const SqlDialect& dialect);

// An outbox event about `version` in the shape of Azure ML's Event Grid events:
// data {ModelName, ModelVersion, ModelTags, ModelProperties, ...extra string fields}.
// `version.version` 0 means the event concerns the registered model as a whole.
OutboxEvent MakeModelEvent(const std::string& type, const ModelVersion& version,
                           const std::vector<std::pair<std::string, std::string>>& extra,
                           int64_t time);

}  // namespace cairn
