#include "store/registry_events.h"

#include <nlohmann/json.hpp>

namespace cairn {

OutboxEvent MakeModelEvent(const std::string& type, const ModelVersion& version,
                           const std::vector<std::pair<std::string, std::string>>& extra,
                           int64_t time) {
  nlohmann::json tags = nlohmann::json::object();
  for (const auto& t : version.tags) tags[t.key] = t.value;
  nlohmann::json data = {{"ModelName", version.name}, {"ModelTags", std::move(tags)}};
  OutboxEvent e;
  e.type = type;
  e.time = time;
  if (version.version > 0) {
    std::string v = std::to_string(version.version);
    data["ModelVersion"] = v;
    data["ModelProperties"] = {{"source", version.source},
                               {"artifact_uri", version.storage_location},
                               {"run_id", version.run_id},
                               {"stage", version.current_stage}};
    e.subject = "models/" + version.name + ":" + v;
  } else {
    data["ModelVersion"] = "";
    data["ModelProperties"] = nlohmann::json::object();
    e.subject = "models/" + version.name;
  }
  for (const auto& [k, v] : extra) data[k] = v;
  e.data = data.dump();
  return e;
}

}  // namespace cairn
