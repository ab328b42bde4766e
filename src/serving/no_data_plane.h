// NoDataPlane: the ServingPlane a server uses while this build has no data
// plane (the scoring runtimes arrive with serving/router.*). It serves
// nothing: every deployment reports "Creating", not ready, with an error that
// says why, so the control plane (records, traffic rules, keys, history) is
// usable and honest about it. Replaced by the real data plane at merge.
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "serving/serving_config.h"

namespace cairn::serving {

class NoDataPlane final : public ServingPlane {
 public:
  void ApplyEndpoint(const EndpointConfig& config) override {
    std::lock_guard lock(mu_);
    generations_[config.name].clear();
    for (const auto& d : config.deployments) generations_[config.name][d.name] = d.generation;
  }
  void RemoveEndpoint(const std::string& endpoint) override {
    std::lock_guard lock(mu_);
    generations_.erase(endpoint);
  }
  DeploymentState GetDeploymentState(const std::string&, const std::string&) override {
    DeploymentState s;
    s.provisioning_state = "Creating";
    s.ready = false;
    s.error = "this server has no data plane yet: deployments are recorded but not served";
    return s;
  }
  std::string GetLogs(const std::string& endpoint, const std::string& deployment, int) override {
    std::lock_guard lock(mu_);
    auto e = generations_.find(endpoint);
    std::string gen = "?";
    if (e != generations_.end()) {
      if (auto d = e->second.find(deployment); d != e->second.end())
        gen = std::to_string(d->second);
    }
    return "deployment " + endpoint + "/" + deployment + " generation " + gen +
           " recorded; this server has no data plane yet, so nothing is loaded or served\n";
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::map<std::string, int64_t>> generations_;
};

}  // namespace cairn::serving
