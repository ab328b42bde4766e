// The outbox events of the model registry, in the shape of Azure ML's Event
// Grid events, built the same way by every store backend (which writes them in
// the transaction of the change they describe). Pure functions.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "store/registry_entities.h"

namespace cairn {

// An outbox event about `version`:
// data {ModelName, ModelVersion, ModelTags, ModelProperties, ...extra string fields}.
// `version.version` 0 means the event concerns the registered model as a whole.
OutboxEvent MakeModelEvent(const std::string& type, const ModelVersion& version,
                           const std::vector<std::pair<std::string, std::string>>& extra,
                           int64_t time);

}  // namespace cairn
