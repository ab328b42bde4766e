// Parser for MLflow's search grammar: filter strings such as
//   metrics.auc > 0.9 AND params.model = 'xgb' AND tags."mlflow.user" LIKE 'a%'
// and order_by entries such as "metrics.auc DESC", for runs, experiments and
// the model registry (registered models, model versions). Produces the store's
// Clause/OrderKey values or INVALID_PARAMETER_VALUE saying what to fix. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/search.h"

namespace cairn {

enum class SearchTarget { kRuns, kExperiments, kRegisteredModels, kModelVersions };

Result<std::vector<Clause>> ParseFilter(std::string_view filter, SearchTarget target);
Result<OrderKey> ParseOrderBy(std::string_view order_by, SearchTarget target);

}  // namespace cairn
