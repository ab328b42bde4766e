// serving/router.h: the serving data plane. Router implements ServingPlane
// (serving_config.h): for every endpoint it keeps the deployments' loaded
// runtimes and an immutable routing table, swapped atomically (RCU-style
// shared_ptr) on every change, so a scoring request takes no lock shared with
// other endpoints or with the control plane. It splits live traffic by weight
// (a deterministic interleaved wheel), honours the deployment header, copies
// a share of live traffic to the mirror deployment on background threads
// (bounded queue, drops counted), gates traffic on readiness, loads a new
// generation beside the old one and swaps when it is ready, enforces keys,
// concurrency (429), queue wait and timeouts (504), and feeds the metrics and
// the sampled request log. Thread-safe.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "serving/runtime.h"
#include "serving/scoring_formats.h"
#include "serving/serving_config.h"

namespace cairn::serving {

struct RouterOptions {
  // Where request logs are written: <log_root>/<endpoint>/<deployment>/YYYY-MM-DD.jsonl
  // (the server uses <workspace>/serving/logs). Empty: request logging is off.
  std::string log_root;
  RuntimeFactory runtime_factory;  // default: LoadRuntime
  size_t mirror_queue_capacity = 1024;
  int mirror_threads = 1;
  size_t log_queue_capacity = 16384;
  size_t log_lines_kept = 2000;  // per deployment, for GetLogs
};

// One scoring request as the HTTP layer hands it over.
struct ScoreCall {
  Protocol protocol = Protocol::kMlflow;
  std::string_view endpoint;
  // A deployment the client pinned (the V2 URL's version, or the
  // cairn-model-deployment / azureml-model-deployment header); such requests
  // bypass the traffic split and are never mirrored.
  std::string_view deployment;
  std::string_view authorization;  // the Authorization header
  std::string_view content_type;
  std::string_view body;
  std::string_view request_id;  // x-request-id from the client, or empty
};

struct ScoreResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::string deployment;  // the deployment that answered (a response header)
  std::string request_id;
};

class Router final : public ServingPlane {
 public:
  explicit Router(RouterOptions options = {});
  ~Router() override;
  Router(const Router&) = delete;
  Router& operator=(const Router&) = delete;

  // ServingPlane
  void ApplyEndpoint(const EndpointConfig& config) override;
  void RemoveEndpoint(const std::string& endpoint) override;
  DeploymentState GetDeploymentState(const std::string& endpoint,
                                     const std::string& deployment) override;
  std::string GetLogs(const std::string& endpoint, const std::string& deployment,
                      int max_lines) override;
  void SetLoadListener(LoadListener listener) override;

  // The hot path.
  ScoreResponse Score(const ScoreCall& call);

  // Open Inference Protocol metadata: GET /v2/models/{e}[/versions/{d}] and
  // its /ready (V2 bodies; errors as {"error": ...}).
  ScoreResponse ModelMetadata(std::string_view endpoint, std::string_view deployment,
                              std::string_view authorization);
  ScoreResponse ModelReady(std::string_view endpoint, std::string_view deployment,
                           std::string_view authorization);
  // Server readiness: no deployment is still loading its first generation.
  bool Ready() const;

  // Prometheus text for GET /metrics.
  std::string MetricsText() const;

  // Tests and shutdown: waits until no model load is running (true) or the
  // timeout passed (false); then until the mirror queue drained; then until
  // the request log wrote what is queued.
  bool WaitForLoads(std::chrono::milliseconds timeout);
  void DrainMirror();
  void FlushRequestLog();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::serving
