// Translates RunQuery / ExperimentQuery into parameterised SQL that any
// SqlDialect can run. Pure functions; the caller binds the parameters and
// loads the matching entities. Keys and values are always bound, never spliced.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "store/search.h"
#include "store/sql_dialect.h"

namespace cairn {

using SqlValue = std::variant<int64_t, double, std::string>;

struct SqlQuery {
  std::string sql;
  std::vector<SqlValue> params;
};

// Selects run_uuid of one page (LIMIT max_results + 1, so the caller can tell
// whether another page exists).
SqlQuery BuildRunSearchSql(const RunQuery& query, const SqlDialect& dialect);
// Selects experiment_id of one page, likewise with one extra row.
SqlQuery BuildExperimentSearchSql(const ExperimentQuery& query, const SqlDialect& dialect);

}  // namespace cairn
