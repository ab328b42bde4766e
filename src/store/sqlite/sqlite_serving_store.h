// SqliteServingStore: the ServingStore of the embedded backend. Endpoints,
// deployments and traffic history live in the SqliteStore's database; writes
// join its group commit, so a deployment, its lineage edge and its
// ModelDeployed outbox event commit together. Thread-safe, as the SqliteStore
// it borrows.
#pragma once

#include "store/serving_store.h"

namespace cairn::sqlite {

class SqliteStore;

class SqliteServingStore final : public ServingStore {
 public:
  // `db` must outlive this object (its migrations create the serving tables).
  explicit SqliteServingStore(SqliteStore& db) : db_(db) {}

  Status CreateEndpoint(const EndpointRecord& endpoint) override;
  Result<EndpointRecord> GetEndpoint(const std::string& name) override;
  Result<std::vector<EndpointRecord>> ListEndpoints() override;
  Result<EndpointRecord> UpdateEndpoint(const std::string& name, const EndpointMutator& mutate,
                                        const std::string& who, const std::string& reason) override;
  Status DeleteEndpoint(const std::string& name) override;
  Result<std::vector<TrafficChange>> TrafficHistory(const std::string& endpoint,
                                                    int64_t limit) override;

  Result<DeploymentRecord> CreateDeployment(const DeploymentRecord& deployment,
                                            const DeploymentEffects& effects) override;
  Result<DeploymentRecord> RecordDeploymentState(const std::string& endpoint,
                                                 const std::string& name,
                                                 const DeploymentMutator& mutate,
                                                 bool replace_lineage,
                                                 const std::vector<LineageEdge>& lineage) override;
  Result<DeploymentRecord> UpdateDeployment(const DeploymentRecord& deployment,
                                            const DeploymentEffects& effects) override;
  Result<DeploymentRecord> GetDeployment(const std::string& endpoint,
                                         const std::string& name) override;
  Result<std::vector<DeploymentRecord>> ListDeployments(const std::string& endpoint) override;
  Status DeleteDeployment(const std::string& endpoint, const std::string& name,
                          const DeploymentCheck& check) override;

 private:
  SqliteStore& db_;
};

}  // namespace cairn::sqlite
