// MLflow's input rules for tracking entities: names of metrics, params and
// tags, value lengths, batch limits and run statuses. Pure functions returning
// INVALID_PARAMETER_VALUE with MLflow-style messages.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "store/entities.h"

namespace cairn {

inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentTagValueLength = 5000;
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr int64_t kMaxSearchResults = 50000;

// `kind` is "metric", "param" or "tag" (used in messages).
Status ValidateEntityName(const std::string& name, const char* kind);
Status ValidateParam(const Param& p);
Status ValidateTag(const Tag& t);
Status ValidateMetric(const Metric& m);
Status ValidateBatch(const std::vector<Metric>& metrics, const std::vector<Param>& params,
                     const std::vector<Tag>& tags);
Status ValidateRunStatus(const std::string& status);
Status ValidateExperimentName(const std::string& name);
Status ValidateDatasetInputs(const std::vector<DatasetInput>& inputs);

}  // namespace cairn
