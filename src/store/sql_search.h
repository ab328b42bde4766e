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

// A run search as ordered tiers: the result is tier 0's rows, then tier 1's, and
// so on. Ordering by a metric, param or tag becomes "runs with a value, in value
// order" (walked in index order, so a page costs about its own size, not the
// experiment's), then "NaN" (metrics), then "runs without it" — MLflow's order,
// which puts NaN and missing values last in either direction. Each tier selects
// run_uuid without LIMIT; the executor appends LIMIT/OFFSET and, when a page
// spans tiers, uses `count_sql` to find how much of the offset a tier used.
struct RunSearchTier {
  SqlQuery select;
  SqlQuery count;
};
std::vector<RunSearchTier> BuildRunSearchPlan(const RunQuery& query, const SqlDialect& dialect);
// Selects experiment_id of one page, likewise with one extra row.
SqlQuery BuildExperimentSearchSql(const ExperimentQuery& query, const SqlDialect& dialect);

}  // namespace cairn
