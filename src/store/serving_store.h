// ServingStore: the database seam of the serving control plane — online
// endpoints (keys, traffic and mirror maps), their deployments, and the history
// of every traffic change. Records are plain values; maps and settings travel
// as JSON text the service writes and reads (the store never interprets them).
// The rules (traffic sums, mirror limits, what may be deleted) belong to
// serving/endpoint_service.*; they run inside the store's transaction as a
// callback, so a rule is checked against exactly the state it changes.
// Every method is thread-safe and atomic (a failed call changes nothing).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/asset_entities.h"
#include "store/registry_entities.h"

namespace cairn {

struct EndpointRecord {
  std::string name;
  std::string auth_mode;  // "key"
  std::string primary_key;
  std::string secondary_key;
  std::string description;
  std::string tags_json = "{}";            // {"k": "v"}
  std::string traffic_json = "{}";         // {"blue": 90, "green": 10}
  std::string mirror_traffic_json = "{}";  // {"green": 10}
  std::string created_by;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
};

struct DeploymentRecord {
  std::string endpoint;
  std::string name;
  std::string model_ref;  // as the user wrote it ("churn@champion", "azureml:churn:3")
  std::string model_name;
  std::string model_version;  // resolved at deploy time
  std::string code_ref;       // code snapshot hash, or ""
  std::string scoring_script;
  std::string environment_ref;  // "name:version" as resolved, or ""
  int64_t instance_count = 1;
  std::string request_settings_json = "{}";
  std::string liveness_probe_json = "{}";
  std::string readiness_probe_json = "{}";
  std::string data_collector_json = "{}";
  std::string description;
  std::string tags_json = "{}";
  int64_t generation = 1;
  std::string state;  // the control plane's last word: Creating | Updating
  // What the data plane last reported (migration 8): "Succeeded" or "Failed"
  // ("" before any report), the load error, the model ("name:version") whose
  // load failed, and the generation whose files serve (0: none yet). After a
  // failed update the model fields and paths above are those of the serving
  // generation again, so the record and lineage name what actually serves.
  std::string provisioning_state;
  std::string provisioning_error;
  std::string failed_model;
  int64_t serving_generation = 0;
  // Materialized for the data plane (DeploymentConfig).
  std::string model_dir;
  std::string code_dir;
  std::string python;
  std::string signature_inputs_json;
  std::string created_by;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
};

// One recorded change of an endpoint's traffic or mirror map.
struct TrafficChange {
  std::string endpoint;
  int64_t seq = 0;  // 1, 2, 3... per endpoint
  std::string changed_by;
  int64_t time = 0;
  std::string traffic_before_json;
  std::string traffic_after_json;
  std::string mirror_before_json;
  std::string mirror_after_json;
  std::string reason;
};

// What a rule sees inside the transaction, besides the endpoint itself.
struct EndpointContext {
  std::vector<DeploymentRecord> deployments;
  std::optional<TrafficChange> last_change;
};

class ServingStore {
 public:
  virtual ~ServingStore() = default;

  // ALREADY_EXISTS when the name is taken.
  virtual Status CreateEndpoint(const EndpointRecord& endpoint) = 0;
  virtual Result<EndpointRecord> GetEndpoint(const std::string& name) = 0;
  virtual Result<std::vector<EndpointRecord>> ListEndpoints() = 0;

  // Loads the endpoint, lets `mutate` change it (or refuse with a Status), and
  // writes it back. When the traffic or mirror map changed, a TrafficChange
  // (by `who`, with `reason`) is recorded in the same transaction.
  using EndpointMutator = std::function<Status(EndpointRecord&, const EndpointContext&)>;
  virtual Result<EndpointRecord> UpdateEndpoint(const std::string& name,
                                                const EndpointMutator& mutate,
                                                const std::string& who,
                                                const std::string& reason) = 0;
  // Deletes the endpoint with its deployments, their lineage edges and its history.
  virtual Status DeleteEndpoint(const std::string& name) = 0;
  // Oldest first; the newest `limit` when limit > 0.
  virtual Result<std::vector<TrafficChange>> TrafficHistory(const std::string& endpoint,
                                                            int64_t limit) = 0;

  // What else a deployment write records in its transaction: lineage edges
  // into the deployment (replacing the ones it had) and outbox events.
  struct DeploymentEffects {
    std::vector<LineageEdge> lineage;
    std::vector<OutboxEvent> events;
  };
  // A rule DeleteDeployment runs against the endpoint inside its transaction.
  using DeploymentCheck = std::function<Status(const EndpointRecord&, const EndpointContext&)>;
  // ALREADY_EXISTS when the deployment exists; NOT_FOUND without the endpoint.
  // Its generation is 1.
  virtual Result<DeploymentRecord> CreateDeployment(const DeploymentRecord& deployment,
                                                    const DeploymentEffects& effects) = 0;
  // Replaces the stored deployment. The record's generation must be the stored
  // one + 1 (INVALID_STATE otherwise: another update won). NOT_FOUND when
  // missing. Events with time 0 get the commit time.
  virtual Result<DeploymentRecord> UpdateDeployment(const DeploymentRecord& deployment,
                                                    const DeploymentEffects& effects) = 0;
  virtual Result<DeploymentRecord> GetDeployment(const std::string& endpoint,
                                                 const std::string& name) = 0;
  virtual Result<std::vector<DeploymentRecord>> ListDeployments(const std::string& endpoint) = 0;
  // Records a load result: `mutate` edits the stored record (provisioning
  // fields, a restored model) unless it refuses, and may add outbox events
  // (written in the same transaction; time 0 gets the commit time); lineage
  // edges are replaced by `lineage` when `replace_lineage`. The generation
  // stays. NOT_FOUND when the deployment is gone (deleted meanwhile).
  using DeploymentMutator =
      std::function<Status(DeploymentRecord&, std::vector<OutboxEvent>& events)>;
  virtual Result<DeploymentRecord> RecordDeploymentState(
      const std::string& endpoint, const std::string& name, const DeploymentMutator& mutate,
      bool replace_lineage, const std::vector<LineageEdge>& lineage) = 0;
  // Deletes it and its lineage edges, after `check` accepted the endpoint's state.
  virtual Status DeleteDeployment(const std::string& endpoint, const std::string& name,
                                  const DeploymentCheck& check) = 0;
};

// The lineage id of a deployment: "deployment:<endpoint>/<deployment>".
inline std::string DeploymentEntity(const std::string& endpoint, const std::string& deployment) {
  return "deployment:" + endpoint + "/" + deployment;
}

}  // namespace cairn
