// Translates registry searches (RegistryQuery) into parameterised SQL any
// SqlDialect runs, so every backend searches alike. Pure functions; values are
// bound, never spliced.
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

}  // namespace cairn
