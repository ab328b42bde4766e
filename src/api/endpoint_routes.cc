// Endpoint and deployment routes (see the header). Parsing is strict: an
// unknown field inside request_settings, a probe or data_collector is refused
// by name, so a typo in a YAML file never silently means "the default".
#include "api/endpoint_routes.h"

#include <set>

#include "api/http_util.h"
#include "serving/endpoint_service.h"

namespace cairn {
namespace {

using api::Args;
using api::Json;
using serving::DataCollectorSettings;
using serving::DeploymentInfo;
using serving::DeploymentSpec;
using serving::EndpointInfo;
using serving::ProbeSettings;
using serving::TrafficMap;

Json ParsedJson(const std::string& text, Json fallback) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

Json DeploymentJson(const DeploymentInfo& info) {
  const DeploymentRecord& r = info.record;
  Json j = {{"name", r.name},
            {"endpoint_name", r.endpoint},
            {"model", r.model_ref},
            {"model_name", r.model_name},
            {"model_version", r.model_version},
            {"instance_count", r.instance_count},
            {"request_settings", ParsedJson(r.request_settings_json, Json::object())},
            {"liveness_probe", ParsedJson(r.liveness_probe_json, Json::object())},
            {"readiness_probe", ParsedJson(r.readiness_probe_json, Json::object())},
            {"data_collector", ParsedJson(r.data_collector_json, Json::object())},
            {"description", r.description},
            {"tags", ParsedJson(r.tags_json, Json::object())},
            {"generation", r.generation},
            {"model_dir", r.model_dir},
            {"created_by", r.created_by},
            {"creation_time", r.creation_time},
            {"last_updated_time", r.last_updated_time},
            {"provisioning_state", info.state.provisioning_state},
            {"ready", info.state.ready},
            {"serving_generation", r.serving_generation}};
  if (!info.state.error.empty()) j["error"] = info.state.error;
  // The recorded result of the last load, which outlives a restart: a failed
  // update names the model that failed while the record names what serves.
  const bool loading =
      info.state.provisioning_state == "Creating" || info.state.provisioning_state == "Updating";
  if (!loading && !r.provisioning_state.empty()) {
    j["provisioning_state"] = r.provisioning_state;
    if (!r.provisioning_error.empty()) j["error"] = r.provisioning_error;
  }
  if (!r.failed_model.empty()) j["failed_model"] = r.failed_model;
  if (!r.code_ref.empty()) {
    j["code_configuration"] = {
        {"code", r.code_ref}, {"scoring_script", r.scoring_script}, {"code_dir", r.code_dir}};
  }
  if (!r.environment_ref.empty()) {
    j["environment"] = r.environment_ref;
    j["python"] = r.python;
  }
  return j;
}

Json MapJson(const TrafficMap& m) {
  Json j = Json::object();
  for (const auto& [k, v] : m) j[k] = v;
  return j;
}

Json EndpointJson(const EndpointInfo& info) {
  const EndpointRecord& e = info.record;
  Json deployments = Json::array();
  for (const auto& d : info.deployments) deployments.push_back(DeploymentJson(d));
  return {{"name", e.name},
          {"auth_mode", e.auth_mode},
          {"description", e.description},
          {"tags", ParsedJson(e.tags_json, Json::object())},
          {"traffic", MapJson(info.traffic)},
          {"mirror_traffic", MapJson(info.mirror_traffic)},
          {"created_by", e.created_by},
          {"creation_time", e.creation_time},
          {"last_updated_time", e.last_updated_time},
          {"scoring_uri", "/endpoints/" + e.name + "/score"},
          {"deployments", std::move(deployments)}};
}

// {"blue": 90, "green": 10}: deployment -> integer percent.
std::optional<TrafficMap> TrafficArg(Args& a, const char* key) {
  const Json* raw = a.Raw(key);
  if (!raw || raw->is_null()) return std::nullopt;
  if (!raw->is_object()) {
    a.Fail(InvalidParameter(std::string("'") + key +
                            "' must be an object of deployment -> percent, e.g. {\"blue\": 90, "
                            "\"green\": 10}"));
    return std::nullopt;
  }
  TrafficMap out;
  for (const auto& [name, pct] : raw->items()) {
    if (!pct.is_number_integer()) {
      a.Fail(InvalidParameter(std::string("'") + key + "." + name +
                              "' must be a whole percent (0-100); got " + pct.dump()));
      return std::nullopt;
    }
    out[name] = pct.get<int>();
  }
  return out;
}

// {"k": "v"} (Azure ML's form).
std::optional<std::map<std::string, std::string>> TagsArg(Args& a) {
  const Json* raw = a.Raw("tags");
  if (!raw || raw->is_null()) return std::nullopt;
  if (!raw->is_object()) {
    a.Fail(InvalidParameter("'tags' must be an object of key -> value"));
    return std::nullopt;
  }
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : raw->items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

// A nested settings object: refuses unknown fields, reads integers.
class Section {
 public:
  Section(Args& parent, const char* name, std::set<std::string> fields)
      : parent_(parent), name_(name) {
    raw_ = parent.Raw(name);
    if (!raw_ || raw_->is_null()) {
      raw_ = nullptr;
      return;
    }
    if (!raw_->is_object()) {
      parent.Fail(InvalidParameter(std::string("'") + name + "' must be an object"));
      raw_ = nullptr;
      return;
    }
    for (const auto& [k, v] : raw_->items()) {
      if (!fields.count(k)) {
        std::string known;
        for (const auto& f : fields) known += (known.empty() ? "" : ", ") + f;
        parent.Fail(InvalidParameter(std::string("'") + name + "' has no field '" + k +
                                     "'; its fields are: " + known));
      }
    }
  }
  bool present() const { return raw_ != nullptr; }
  void Int(const char* field, int& out) {
    if (!raw_ || !raw_->contains(field)) return;
    const Json& v = (*raw_)[field];
    if (!v.is_number_integer()) {
      parent_.Fail(InvalidParameter(std::string("'") + name_ + "." + field +
                                    "' must be a whole number; got " + v.dump()));
      return;
    }
    out = v.get<int>();
  }
  const Json* Get(const char* field) const {
    return raw_ && raw_->contains(field) ? &(*raw_)[field] : nullptr;
  }
  Args& parent() { return parent_; }

 private:
  Args& parent_;
  const char* name_;
  const Json* raw_ = nullptr;
};

void ProbeArg(Args& a, const char* key, ProbeSettings& p) {
  Section s(a, key,
            {"initial_delay", "period", "timeout", "failure_threshold", "success_threshold"});
  s.Int("initial_delay", p.initial_delay_seconds);
  s.Int("period", p.period_seconds);
  s.Int("timeout", p.timeout_seconds);
  s.Int("failure_threshold", p.failure_threshold);
  s.Int("success_threshold", p.success_threshold);
}

// "True"/"true"/true, as Azure ML's YAML writes collection switches.
std::optional<bool> BoolValue(const Json& v) {
  if (v.is_boolean()) return v.get<bool>();
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return std::nullopt;
}

void DataCollectorArg(Args& a, DataCollectorSettings& d) {
  Section s(a, "data_collector", {"enabled", "sampling_rate", "collections"});
  if (!s.present()) return;
  if (const Json* v = s.Get("sampling_rate")) {
    if (!v->is_number()) {
      return a.Fail(InvalidParameter("'data_collector.sampling_rate' must be a number in [0, 1]"));
    }
    d.sampling_rate = v->get<double>();
  }
  bool any_switch = false;
  bool enabled = false;
  if (const Json* v = s.Get("enabled")) {
    auto b = BoolValue(*v);
    if (!b) return a.Fail(InvalidParameter("'data_collector.enabled' must be true or false"));
    any_switch = true;
    enabled = *b;
  }
  // Azure ML's form: collections: {model_inputs: {enabled: 'True'}, model_outputs: {...}}.
  if (const Json* c = s.Get("collections")) {
    if (!c->is_object()) {
      return a.Fail(InvalidParameter("'data_collector.collections' must be an object"));
    }
    for (const auto& [name, col] : c->items()) {
      auto b = col.is_object() && col.contains("enabled") ? BoolValue(col["enabled"])
                                                          : std::optional<bool>();
      if (!b) {
        return a.Fail(InvalidParameter("'data_collector.collections." + name +
                                       ".enabled' must be true or false"));
      }
      any_switch = true;
      enabled = enabled || *b;
    }
  }
  // A data_collector section without any switch means "on", as in Azure ML.
  d.enabled = any_switch ? enabled : true;
}

// Applies the fields present in the body onto `spec` (create: onto defaults;
// update: onto the stored deployment).
Status ApplyDeploymentArgs(Args& a, DeploymentSpec& spec) {
  if (auto v = a.OptString("model")) spec.model = *v;
  if (auto v = a.OptString("environment")) spec.environment = *v;
  if (auto v = a.OptString("description")) spec.description = *v;
  if (auto v = a.OptInt("instance_count")) spec.instance_count = static_cast<int>(*v);
  if (auto tags = TagsArg(a)) spec.tags = *tags;
  {
    Section code(a, "code_configuration", {"code", "scoring_script"});
    if (code.present()) {
      const Json* c = code.Get("code");
      const Json* s = code.Get("scoring_script");
      if ((c && !c->is_string()) || (s && !s->is_string())) {
        a.Fail(InvalidParameter("'code_configuration.code' and '.scoring_script' are strings"));
      } else {
        spec.code = c ? c->get<std::string>() : "";
        spec.scoring_script = s ? s->get<std::string>() : "";
      }
    }
  }
  {
    Section r(a, "request_settings",
              {"request_timeout_ms", "max_concurrent_requests_per_instance", "max_queue_wait_ms"});
    r.Int("request_timeout_ms", spec.request.request_timeout_ms);
    r.Int("max_concurrent_requests_per_instance",
          spec.request.max_concurrent_requests_per_instance);
    r.Int("max_queue_wait_ms", spec.request.max_queue_wait_ms);
  }
  ProbeArg(a, "liveness_probe", spec.liveness_probe);
  ProbeArg(a, "readiness_probe", spec.readiness_probe);
  DataCollectorArg(a, spec.data_collector);
  return a.status();
}

std::string User(Args& a) { return a.OptString("user").value_or(""); }

void RegisterEndpoints(api::MlflowRouter& r, serving::EndpointService& s) {
  r.Add("POST", "create", [&s](Args& a) -> Result<Json> {
    serving::EndpointSpec spec;
    spec.name = a.String("name");
    spec.auth_mode = a.OptString("auth_mode").value_or("key");
    spec.description = a.OptString("description").value_or("");
    if (auto tags = TagsArg(a)) spec.tags = *tags;
    if (auto t = TrafficArg(a, "traffic")) spec.traffic = *t;
    if (auto m = TrafficArg(a, "mirror_traffic")) spec.mirror_traffic = *m;
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(EndpointInfo e, s.CreateEndpoint(spec, User(a)));
    return Json{{"endpoint", EndpointJson(e)}};
  });
  r.Add("POST", "update", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    serving::EndpointUpdate u;
    u.traffic = TrafficArg(a, "traffic");
    u.mirror_traffic = TrafficArg(a, "mirror_traffic");
    u.description = a.OptString("description");
    u.tags = TagsArg(a);
    u.reason = a.OptString("reason").value_or("");
    if (auto mode = a.OptString("auth_mode"); mode && *mode != "key") {
      a.Fail(InvalidParameter("auth_mode '" + *mode + "' is not supported; use 'key'"));
    }
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(EndpointInfo e, s.UpdateEndpoint(name, u, User(a)));
    return Json{{"endpoint", EndpointJson(e)}};
  });
  r.Add("GET", "get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(EndpointInfo e, s.GetEndpoint(name));
    return Json{{"endpoint", EndpointJson(e)}};
  });
  r.Add("GET", "list", [&s](Args&) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::vector<EndpointInfo> all, s.ListEndpoints());
    Json out = Json::array();
    for (const auto& e : all) out.push_back(EndpointJson(e));
    return Json{{"endpoints", std::move(out)}};
  });
  r.Add("POST", "delete", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.DeleteEndpoint(name));
    return Json::object();
  });
  r.Add("POST", "regenerate-keys", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string which = a.OptString("key_type").value_or("primary");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.RegenerateKeys(name, which).status());
    return Json{{"key_type", which}};
  });
  r.Add("POST", "get-credentials", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, s.GetCredentials(name));
    return Json{{"auth_mode", e.auth_mode},
                {"primary_key", e.primary_key},
                {"secondary_key", e.secondary_key}};
  });
  r.Add("POST", "rollback", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string reason = a.OptString("reason").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(EndpointInfo e, s.Rollback(name, User(a), reason));
    return Json{{"endpoint", EndpointJson(e)}};
  });
  r.Add("GET", "history", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    int64_t limit = a.OptInt("max_results").value_or(0);
    if (!a.ok()) return a.status();
    if (limit < 0) return InvalidParameter("max_results must be positive");
    CAIRN_ASSIGN_OR_RETURN(std::vector<serving::TrafficChangeInfo> history, s.History(name, limit));
    Json out = Json::array();
    for (const auto& h : history) {
      out.push_back({{"seq", h.change.seq},
                     {"user", h.change.changed_by},
                     {"time", h.change.time},
                     {"reason", h.change.reason},
                     {"traffic_before", MapJson(h.traffic_before)},
                     {"traffic_after", MapJson(h.traffic_after)},
                     {"mirror_traffic_before", MapJson(h.mirror_before)},
                     {"mirror_traffic_after", MapJson(h.mirror_after)}});
    }
    return Json{{"history", std::move(out)}};
  });
}

void RegisterDeployments(api::MlflowRouter& r, serving::EndpointService& s) {
  r.Add("POST", "create", [&s](Args& a) -> Result<Json> {
    DeploymentSpec spec;
    spec.endpoint = a.String("endpoint_name");
    spec.name = a.String("name");
    CAIRN_RETURN_IF_ERROR(ApplyDeploymentArgs(a, spec));
    CAIRN_ASSIGN_OR_RETURN(DeploymentInfo d, s.CreateDeployment(spec, User(a)));
    return Json{{"deployment", DeploymentJson(d)}};
  });
  r.Add("POST", "update", [&s](Args& a) -> Result<Json> {
    std::string endpoint = a.String("endpoint_name");
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(
        DeploymentInfo d,
        s.UpdateDeployment(
            endpoint, name, [&a](DeploymentSpec& spec) { return ApplyDeploymentArgs(a, spec); },
            User(a)));
    return Json{{"deployment", DeploymentJson(d)}};
  });
  r.Add("GET", "get", [&s](Args& a) -> Result<Json> {
    std::string endpoint = a.String("endpoint_name");
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(DeploymentInfo d, s.GetDeployment(endpoint, name));
    return Json{{"deployment", DeploymentJson(d)}};
  });
  r.Add("GET", "list", [&s](Args& a) -> Result<Json> {
    std::string endpoint = a.String("endpoint_name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<DeploymentInfo> all, s.ListDeployments(endpoint));
    Json out = Json::array();
    for (const auto& d : all) out.push_back(DeploymentJson(d));
    return Json{{"deployments", std::move(out)}};
  });
  r.Add("POST", "delete", [&s](Args& a) -> Result<Json> {
    std::string endpoint = a.String("endpoint_name");
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.DeleteDeployment(endpoint, name));
    return Json::object();
  });
  r.Add("GET", "get-logs", [&s](Args& a) -> Result<Json> {
    std::string endpoint = a.String("endpoint_name");
    std::string name = a.String("name");
    int64_t lines = a.OptInt("lines").value_or(100);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::string logs, s.GetLogs(endpoint, name, static_cast<int>(lines)));
    return Json{{"logs", std::move(logs)}};
  });
}

}  // namespace

void RegisterEndpointRoutes(http::Server& server, serving::EndpointService& endpoints) {
  api::MlflowRouter endpoint_router({"/api/2.0/cairn/endpoints/"});
  RegisterEndpoints(endpoint_router, endpoints);
  endpoint_router.Install(server);
  api::MlflowRouter deployment_router({"/api/2.0/cairn/deployments/"});
  RegisterDeployments(deployment_router, endpoints);
  deployment_router.Install(server);
}

}  // namespace cairn
