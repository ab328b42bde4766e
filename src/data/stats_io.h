// Reading statistics back from their JSON form (format cairn.stats/1, written
// by StatsToJson), so stored statistics can serve as a validation or drift
// reference without re-reading the data they describe. Pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include <string_view>

#include "core/status.h"
#include "data/stats.h"

namespace cairn::data {

// The inverse of StatsToJson. A wrong format, a missing or mistyped field is
// INVALID_PARAMETER_VALUE naming the field's JSON path (features[2].numeric.mean).
// null numbers (how StatsToJson writes NaN) read back as NaN.
Result<DatasetStats> StatsFromJson(const nlohmann::json& json);
// The same from JSON text; `source` names the text in errors (a file name).
Result<DatasetStats> StatsFromJsonText(std::string_view text, std::string_view source);

// The ColumnType named by ColumnTypeName ("int", "float", ...).
Result<ColumnType> ColumnTypeFromName(std::string_view name);

}  // namespace cairn::data
