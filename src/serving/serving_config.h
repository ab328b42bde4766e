// serving/serving_config.h: the seam between the serving control plane
// (endpoints and deployments as stored records, traffic rules, keys, history:
// serving/endpoint_service.*) and the data plane that scores requests
// (serving/router.*, runtimes). The control plane validates and stores a
// change, then hands the data plane the endpoint's whole new configuration;
// the data plane loads models in the background and only routes to a
// deployment once it is ready. Plain data, no JSON or HTTP here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace cairn::serving {

struct RequestSettings {
  int request_timeout_ms = 5000;                 // exceeded: 504
  int max_concurrent_requests_per_instance = 1;  // per instance; beyond (after queueing): 429
  int max_queue_wait_ms = 500;                   // how long a request may wait for a slot
};

struct ProbeSettings {
  int initial_delay_seconds = 0;
  int period_seconds = 10;
  int timeout_seconds = 2;
  int failure_threshold = 30;
  int success_threshold = 1;
};

struct DataCollectorSettings {
  bool enabled = false;        // request/response logging
  double sampling_rate = 1.0;  // fraction of requests logged, in [0, 1]
};

struct DeploymentConfig {
  std::string endpoint;
  std::string name;
  // The registered model version this deployment serves (empty model_name
  // when deployed from a local path).
  std::string model_name;
  std::string model_version;
  // A local directory holding the model's files (MLmodel and the model file),
  // materialized by the control plane before it applies the config.
  std::string model_dir;
  // MLflow signature inputs as JSON text ("[{\"name\":..,\"type\":..},...]"), or empty.
  std::string signature_inputs_json;
  // Worker-process runtime when scoring_script is set: code_dir holds it and
  // `python` is the interpreter (from the deployment's built environment).
  std::string code_dir;
  std::string scoring_script;
  std::string python;
  int instance_count = 1;
  RequestSettings request;
  ProbeSettings liveness_probe;
  ProbeSettings readiness_probe;
  DataCollectorSettings data_collector;
  // Bumped by every deployment update; a changed generation makes the data
  // plane load the new version beside the old and swap once it is ready.
  int64_t generation = 1;
};

struct EndpointConfig {
  std::string name;
  std::string auth_mode = "key";  // "key": Authorization: Bearer <primary|secondary key>
  std::string primary_key;
  std::string secondary_key;
  std::map<std::string, int> traffic;         // deployment -> percent; sums to 0 or 100
  std::map<std::string, int> mirror_traffic;  // at most one deployment, <= 50, no live traffic
  std::vector<DeploymentConfig> deployments;
};

// What the data plane reports about a deployment.
struct DeploymentState {
  std::string provisioning_state = "Creating";  // Creating | Succeeded | Failed
  std::string error;                            // why it failed, when it did
  bool ready = false;
};

// What the data plane reports when a deployment's load ends: the generation
// it loaded (ok) or failed to load (error), and the generation serving now
// (0: none) with its config, so the control plane can record the truth — a
// failed update leaves the previous generation serving.
struct LoadReport {
  std::string endpoint;
  std::string deployment;
  int64_t generation = 0;
  bool ok = false;
  std::string error;
  int64_t serving_generation = 0;
};
using LoadListener = std::function<void(const LoadReport&)>;

// Implemented by the data plane; called by the control plane after every
// committed change (and for every stored endpoint at server start).
class ServingPlane {
 public:
  virtual ~ServingPlane() = default;
  // Called on the loading thread after every load that was not superseded,
  // with no data-plane lock held (the listener may call back in). Setting a
  // new listener (or an empty one) waits for a running call to finish.
  virtual void SetLoadListener(LoadListener listener) { (void)listener; }
  virtual void ApplyEndpoint(const EndpointConfig& config) = 0;
  virtual void RemoveEndpoint(const std::string& endpoint) = 0;
  virtual DeploymentState GetDeploymentState(const std::string& endpoint,
                                             const std::string& deployment) = 0;
  // The deployment's recent log lines (model load, worker stderr), newest last.
  virtual std::string GetLogs(const std::string& endpoint, const std::string& deployment,
                              int max_lines) = 0;
};

}  // namespace cairn::serving
