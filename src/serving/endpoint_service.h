// EndpointService: the serving control plane, Azure ML managed-online style.
// Endpoints (keys, traffic, mirror traffic) and their deployments (a
// registered model version, optional scoring code and environment, request
// settings, probes, data collection) are validated, stored through a
// ServingStore and handed whole to the data plane (ServingPlane::ApplyEndpoint)
// after every committed change. It enforces the traffic rules (live traffic
// sums to 0 or 100 over existing deployments; mirror to one deployment, at most
// 50%, with no live traffic; no deleting a deployment that takes traffic),
// records every traffic change for history and rollback, materializes a
// deployment's model and code files under <serving root>/<endpoint>/
// <deployment>/<generation>/, links model version -> deployment in the lineage
// graph and writes a ModelDeployed outbox event in the same transaction.
// Never sees HTTP. Thread-safe: the store serializes writes, and a
// per-deployment lock covers materializing files outside the transaction.
#pragma once

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/serving_config.h"
#include "store/serving_store.h"

namespace cairn {
class RegistryService;
class AssetService;
}  // namespace cairn

namespace cairn::serving {

using TrafficMap = std::map<std::string, int>;

// What a client asks for when it creates an endpoint (endpoint.yml).
struct EndpointSpec {
  std::string name;
  std::string auth_mode = "key";
  std::string description;
  std::map<std::string, std::string> tags;
  TrafficMap traffic;
  TrafficMap mirror_traffic;
};

// An endpoint update: only the fields that are set change.
struct EndpointUpdate {
  std::optional<TrafficMap> traffic;
  std::optional<TrafficMap> mirror_traffic;
  std::optional<std::string> description;
  std::optional<std::map<std::string, std::string>> tags;
  std::string reason;  // recorded with a traffic change
};

// A deployment as a client describes it (deployment.yml, Azure ML's
// managed-online schema).
struct DeploymentSpec {
  std::string endpoint;
  std::string name;
  // "name:version", "name@alias" (resolved now, the version is recorded),
  // optionally "azureml:"-prefixed; "name@latest" is the newest version unless
  // an alias named "latest" exists.
  std::string model;
  std::string code;  // code snapshot: its hash or "code:<hash>" ("" for none)
  std::string scoring_script;
  std::string environment;  // environment asset "name:version" / "name@latest" ("" for none)
  int instance_count = 1;
  RequestSettings request;
  ProbeSettings liveness_probe;
  ProbeSettings readiness_probe;
  DataCollectorSettings data_collector;
  std::string description;
  std::map<std::string, std::string> tags;
};

struct DeploymentInfo {
  DeploymentRecord record;
  DeploymentState state;  // as the data plane reports it
};

struct EndpointInfo {
  EndpointRecord record;
  TrafficMap traffic;
  TrafficMap mirror_traffic;
  std::vector<DeploymentInfo> deployments;
};

struct TrafficChangeInfo {
  TrafficChange change;
  TrafficMap traffic_before, traffic_after, mirror_before, mirror_after;
};

// Pure rules, exposed for tests and for clients' messages. Zero entries are
// dropped from both maps first (a 0% entry means "no traffic").
// INVALID_PARAMETER_VALUE naming what to fix when any rule fails.
Status ValidateTraffic(const std::string& endpoint, TrafficMap& traffic, TrafficMap& mirror,
                       const std::vector<std::string>& deployments);
// Endpoint and deployment names: Azure ML's rule, a letter then letters,
// digits or '-', 3 to 32 characters.
Status ValidateServingName(const std::string& what, const std::string& name);
// Request settings, probes, instance count and data collector within bounds.
Status ValidateDeploymentSettings(const DeploymentSpec& spec);

// Settings <-> the JSON text the store keeps (also what the REST API shows).
std::string TrafficJson(const TrafficMap& traffic);
TrafficMap ParseTrafficJson(const std::string& json);
DeploymentSpec SpecOf(const DeploymentRecord& record);
std::string RequestSettingsJson(const RequestSettings& r);
std::string ProbeJson(const ProbeSettings& p);
std::string DataCollectorJson(const DataCollectorSettings& d);

class EndpointService {
 public:
  // `serving_root` holds the materialized files (<workspace>/serving).
  // Registers itself as the plane's load listener (until destroyed): a load
  // result is recorded on the deployment (provisioning state and error), and
  // a failed update restores the record's model fields and lineage edge to
  // the generation that still serves.
  EndpointService(ServingStore& store, RegistryService& registry, AssetService& assets,
                  ServingPlane& plane, std::filesystem::path serving_root);
  ~EndpointService();
  EndpointService(const EndpointService&) = delete;
  EndpointService& operator=(const EndpointService&) = delete;

  // Hands every stored endpoint to the data plane (at server start).
  Status ApplyAll();

  Result<EndpointInfo> CreateEndpoint(const EndpointSpec& spec, const std::string& who);
  Result<EndpointInfo> UpdateEndpoint(const std::string& name, const EndpointUpdate& update,
                                      const std::string& who);
  Result<EndpointInfo> GetEndpoint(const std::string& name);
  Result<std::vector<EndpointInfo>> ListEndpoints();
  // Deletes the endpoint and all its deployments (and their files).
  Status DeleteEndpoint(const std::string& name);
  // `which`: "primary" or "secondary". The old key stops working at once.
  Result<EndpointRecord> RegenerateKeys(const std::string& name, const std::string& which);
  Result<EndpointRecord> GetCredentials(const std::string& name);
  // Restores the traffic and mirror maps from before the latest change; the
  // rollback is itself recorded, so rolling back twice returns to where you were.
  Result<EndpointInfo> Rollback(const std::string& name, const std::string& who,
                                const std::string& reason);
  // Oldest first; the newest `limit` when limit > 0.
  Result<std::vector<TrafficChangeInfo>> History(const std::string& name, int64_t limit);

  Result<DeploymentInfo> CreateDeployment(const DeploymentSpec& spec, const std::string& who);
  // `edit` changes the stored spec (the caller applies the fields it was given).
  Result<DeploymentInfo> UpdateDeployment(const std::string& endpoint, const std::string& name,
                                          const std::function<Status(DeploymentSpec&)>& edit,
                                          const std::string& who);
  Result<DeploymentInfo> GetDeployment(const std::string& endpoint, const std::string& name);
  Result<std::vector<DeploymentInfo>> ListDeployments(const std::string& endpoint);
  // Refused (INVALID_STATE, saying how to proceed) while it takes live or mirror traffic.
  Status DeleteDeployment(const std::string& endpoint, const std::string& name);
  Result<std::string> GetLogs(const std::string& endpoint, const std::string& name, int max_lines);

 private:
  Result<DeploymentRecord> Prepare(const DeploymentSpec& spec, int64_t generation,
                                   const std::string& who);
  Status Materialize(DeploymentRecord& record, const DeploymentSpec& spec,
                     const std::filesystem::path& dir);
  ServingStore::DeploymentEffects Effects(const DeploymentRecord& record);
  void OnLoadResult(const LoadReport& report);
  // Keeps a record by the generation of its files, to restore it when a later
  // generation fails to load while this one serves.
  void Remember(const DeploymentRecord& record);
  Status Apply(const std::string& endpoint);
  Result<EndpointInfo> Info(const EndpointRecord& record);
  std::filesystem::path DeploymentRoot(const std::string& endpoint, const std::string& name) const;
  // Held while a deployment's files are written and its record committed, so
  // two requests for the same deployment never materialize into one folder.
  std::mutex& DeploymentLock(const std::string& endpoint, const std::string& name);

  ServingStore& store_;
  RegistryService& registry_;
  AssetService& assets_;
  ServingPlane& plane_;
  std::filesystem::path serving_root_;
  std::mutex locks_mu_;
  std::map<std::string, std::unique_ptr<std::mutex>> locks_;  // "<endpoint>/<deployment>"
  std::mutex known_mu_;
  std::map<std::string, std::map<int64_t, DeploymentRecord>> known_;  // key -> generation -> record
};

}  // namespace cairn::serving
