// EndpointService: endpoints, deployments, traffic rules, keys, history and
// rollback (see the header). Files a deployment needs are materialized before
// its record is written, so the data plane never sees a record whose files
// are missing.
#include "serving/endpoint_service.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <set>

#include "artifacts/path_safety.h"
#include "assets/asset_service.h"
#include "assets/environment_builder.h"
#include "core/fs.h"
#include "registry/registry_service.h"

namespace cairn::serving {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

constexpr int kMaxMirrorPercent = 50;

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "(none)" : out;
}

Result<std::string> NewKey() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return InternalError("the system's random source failed; cannot generate an endpoint key");
  }
  static const char* kHex = "0123456789abcdef";
  std::string key;
  for (unsigned char b : bytes) {
    key.push_back(kHex[b >> 4]);
    key.push_back(kHex[b & 15]);
  }
  return key;
}

std::string TagsJson(const std::map<std::string, std::string>& tags) {
  Json j = Json::object();
  for (const auto& [k, v] : tags) j[k] = v;
  return j.dump();
}

std::map<std::string, std::string> ParseTags(const std::string& text) {
  std::map<std::string, std::string> out;
  Json j = Json::parse(text, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) out[k] = v.is_string() ? v.get<std::string>() : v.dump();
  return out;
}

int IntField(const Json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

ProbeSettings ParseProbe(const std::string& text) {
  Json j = Json::parse(text, nullptr, false);
  ProbeSettings p;
  if (!j.is_object()) return p;
  p.initial_delay_seconds = IntField(j, "initial_delay", p.initial_delay_seconds);
  p.period_seconds = IntField(j, "period", p.period_seconds);
  p.timeout_seconds = IntField(j, "timeout", p.timeout_seconds);
  p.failure_threshold = IntField(j, "failure_threshold", p.failure_threshold);
  p.success_threshold = IntField(j, "success_threshold", p.success_threshold);
  return p;
}

Status CheckRange(const std::string& what, int64_t value, int64_t lo, int64_t hi) {
  if (value < lo || value > hi) {
    return InvalidParameter(what + " must be between " + std::to_string(lo) + " and " +
                            std::to_string(hi) + "; got " + std::to_string(value));
  }
  return Status::Ok();
}

Status CheckProbe(const std::string& what, const ProbeSettings& p) {
  CAIRN_RETURN_IF_ERROR(CheckRange(what + ".initial_delay", p.initial_delay_seconds, 0, 3600));
  CAIRN_RETURN_IF_ERROR(CheckRange(what + ".period", p.period_seconds, 1, 3600));
  CAIRN_RETURN_IF_ERROR(CheckRange(what + ".timeout", p.timeout_seconds, 1, 3600));
  CAIRN_RETURN_IF_ERROR(CheckRange(what + ".failure_threshold", p.failure_threshold, 1, 1000));
  return CheckRange(what + ".success_threshold", p.success_threshold, 1, 1000);
}

// Copies one file of the artifact store to `dest`, streamed.
Status CopyFd(UniqueFd in, const fs::path& dest) {
  UniqueFd out(::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
  if (out.get() < 0) {
    return Status(ErrorCode::kIoError,
                  "cannot write " + dest.string() + ": " + std::strerror(errno));
  }
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(in.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0)
      return Status(ErrorCode::kIoError,
                    "reading a stored file: " + std::string(std::strerror(errno)));
    if (n == 0) break;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.get(), buf + done, static_cast<size_t>(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        return Status(ErrorCode::kIoError,
                      "writing " + dest.string() + ": " + std::strerror(errno));
      }
      done += w;
    }
  }
  return Status::Ok();
}

// Where a listed file goes under `root`, refusing anything that escapes it.
Result<fs::path> SafeDest(const fs::path& root, const std::string& listed) {
  CAIRN_ASSIGN_OR_RETURN(std::string rel, NormalizeRelativePath(listed));
  if (rel.empty()) return InvalidParameter("a stored file has an empty path");
  fs::path dest = root / rel;
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Status(ErrorCode::kIoError, "cannot create " + dest.parent_path().string());
  return dest;
}

// "azureml:churn:3", "churn@champion", "models:/churn/3", "models:/churn@champion".
struct ModelRefParts {
  std::string name, version, alias;
};
Result<ModelRefParts> ParseModelRef(const std::string& text) {
  std::string t = text;
  if (t.rfind("azureml:", 0) == 0) t = t.substr(8);
  ModelRefParts out;
  if (t.rfind("models:/", 0) == 0) {
    t = t.substr(8);
    if (auto at = t.find('@'); at != std::string::npos) {
      out.name = t.substr(0, at);
      out.alias = t.substr(at + 1);
    } else if (auto slash = t.find('/'); slash != std::string::npos) {
      out.name = t.substr(0, slash);
      out.version = t.substr(slash + 1);
    }
  } else if (auto at = t.rfind('@'); at != std::string::npos) {
    out.name = t.substr(0, at);
    out.alias = t.substr(at + 1);
  } else if (auto colon = t.rfind(':'); colon != std::string::npos) {
    out.name = t.substr(0, colon);
    out.version = t.substr(colon + 1);
  }
  if (out.name.empty() || (out.version.empty() && out.alias.empty())) {
    return InvalidParameter("model '" + text +
                            "' is not a registered model reference: write name:version or "
                            "name@alias (optionally azureml:-prefixed); a local folder is "
                            "registered first by `cairn deployment create -f`");
  }
  return out;
}

}  // namespace

// ---- pure rules and conversions -------------------------------------------------------------

Status ValidateServingName(const std::string& what, const std::string& name) {
  bool ok =
      name.size() >= 3 && name.size() <= 32 && std::isalpha(static_cast<unsigned char>(name[0]));
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') ok = false;
  }
  if (!ok) {
    return InvalidParameter(what + " name '" + name +
                            "' is invalid: it must start with a letter and contain only letters, "
                            "digits and '-', 3 to 32 characters (Azure ML's rule)");
  }
  return Status::Ok();
}

Status ValidateTraffic(const std::string& endpoint, TrafficMap& traffic, TrafficMap& mirror,
                       const std::vector<std::string>& deployments) {
  const std::set<std::string> known(deployments.begin(), deployments.end());
  auto check_entries = [&](const char* which, TrafficMap& m, int max) -> Status {
    for (auto it = m.begin(); it != m.end();) {
      if (it->second < 0 || it->second > max) {
        return InvalidParameter(std::string(which) + " for '" + it->first +
                                "' must be between 0 and " + std::to_string(max) + "; got " +
                                std::to_string(it->second));
      }
      if (it->second == 0) {
        it = m.erase(it);
        continue;
      }
      if (!known.count(it->first)) {
        return InvalidParameter(std::string(which) + " names deployment '" + it->first +
                                "', which does not exist on endpoint '" + endpoint +
                                "' (deployments: " + Join(deployments) +
                                "); create it first with `cairn deployment create`");
      }
      ++it;
    }
    return Status::Ok();
  };
  CAIRN_RETURN_IF_ERROR(check_entries("traffic", traffic, 100));
  CAIRN_RETURN_IF_ERROR(check_entries("mirror_traffic", mirror, kMaxMirrorPercent));
  int sum = 0;
  for (const auto& [name, pct] : traffic) sum += pct;
  if (sum != 0 && sum != 100) {
    return InvalidParameter("live traffic of endpoint '" + endpoint +
                            "' must sum to 100 (or 0 for none); got " + std::to_string(sum) +
                            " in " + TrafficJson(traffic));
  }
  if (mirror.size() > 1) {
    return InvalidParameter("mirror_traffic goes to one deployment only; got " +
                            TrafficJson(mirror));
  }
  for (const auto& [name, pct] : mirror) {
    if (traffic.count(name)) {
      return InvalidParameter(
          "mirror_traffic can only go to a deployment with no live traffic, "
          "but '" +
          name + "' takes " + std::to_string(traffic.at(name)) +
          "% of live traffic; set its live traffic to 0 or mirror to "
          "another deployment");
    }
  }
  return Status::Ok();
}

Status ValidateDeploymentSettings(const DeploymentSpec& s) {
  CAIRN_RETURN_IF_ERROR(CheckRange("instance_count", s.instance_count, 1, 64));
  CAIRN_RETURN_IF_ERROR(
      CheckRange("request_settings.request_timeout_ms", s.request.request_timeout_ms, 1, 300000));
  CAIRN_RETURN_IF_ERROR(CheckRange("request_settings.max_concurrent_requests_per_instance",
                                   s.request.max_concurrent_requests_per_instance, 1, 1000));
  CAIRN_RETURN_IF_ERROR(
      CheckRange("request_settings.max_queue_wait_ms", s.request.max_queue_wait_ms, 0, 300000));
  CAIRN_RETURN_IF_ERROR(CheckProbe("liveness_probe", s.liveness_probe));
  CAIRN_RETURN_IF_ERROR(CheckProbe("readiness_probe", s.readiness_probe));
  if (!(s.data_collector.sampling_rate >= 0.0 && s.data_collector.sampling_rate <= 1.0)) {
    return InvalidParameter("data_collector.sampling_rate must be between 0 and 1; got " +
                            std::to_string(s.data_collector.sampling_rate));
  }
  if (s.code.empty() != s.scoring_script.empty()) {
    return InvalidParameter(
        "code_configuration needs both 'code' (a code snapshot) and 'scoring_script' (its path "
        "inside the code), or neither");
  }
  if (!s.scoring_script.empty()) {
    auto rel = NormalizeRelativePath(s.scoring_script);
    if (!rel.ok() || rel->empty()) {
      return InvalidParameter("code_configuration.scoring_script '" + s.scoring_script +
                              "' must be a relative path inside the code folder");
    }
  }
  if (!s.environment.empty() && s.scoring_script.empty()) {
    return InvalidParameter(
        "an environment is used by a scoring script; give code_configuration too, or drop "
        "'environment' to serve the model natively");
  }
  return Status::Ok();
}

std::string TrafficJson(const TrafficMap& traffic) {
  Json j = Json::object();
  for (const auto& [k, v] : traffic) j[k] = v;
  return j.dump();
}

TrafficMap ParseTrafficJson(const std::string& json) {
  TrafficMap out;
  Json j = Json::parse(json, nullptr, false);
  if (!j.is_object()) return out;
  for (const auto& [k, v] : j.items()) {
    if (v.is_number_integer()) out[k] = v.get<int>();
  }
  return out;
}

std::string RequestSettingsJson(const RequestSettings& r) {
  return Json{{"request_timeout_ms", r.request_timeout_ms},
              {"max_concurrent_requests_per_instance", r.max_concurrent_requests_per_instance},
              {"max_queue_wait_ms", r.max_queue_wait_ms}}
      .dump();
}

std::string ProbeJson(const ProbeSettings& p) {
  return Json{{"initial_delay", p.initial_delay_seconds},
              {"period", p.period_seconds},
              {"timeout", p.timeout_seconds},
              {"failure_threshold", p.failure_threshold},
              {"success_threshold", p.success_threshold}}
      .dump();
}

std::string DataCollectorJson(const DataCollectorSettings& d) {
  return Json{{"enabled", d.enabled}, {"sampling_rate", d.sampling_rate}}.dump();
}

DeploymentSpec SpecOf(const DeploymentRecord& r) {
  DeploymentSpec s;
  s.endpoint = r.endpoint;
  s.name = r.name;
  s.model = r.model_ref;
  s.code = r.code_ref;
  s.scoring_script = r.scoring_script;
  s.environment = r.environment_ref;
  s.instance_count = static_cast<int>(r.instance_count);
  Json req = Json::parse(r.request_settings_json, nullptr, false);
  if (req.is_object()) {
    s.request.request_timeout_ms =
        IntField(req, "request_timeout_ms", s.request.request_timeout_ms);
    s.request.max_concurrent_requests_per_instance =
        IntField(req, "max_concurrent_requests_per_instance",
                 s.request.max_concurrent_requests_per_instance);
    s.request.max_queue_wait_ms = IntField(req, "max_queue_wait_ms", s.request.max_queue_wait_ms);
  }
  s.liveness_probe = ParseProbe(r.liveness_probe_json);
  s.readiness_probe = ParseProbe(r.readiness_probe_json);
  Json dc = Json::parse(r.data_collector_json, nullptr, false);
  if (dc.is_object()) {
    s.data_collector.enabled = dc.value("enabled", false);
    s.data_collector.sampling_rate = dc.value("sampling_rate", 1.0);
  }
  s.description = r.description;
  s.tags = ParseTags(r.tags_json);
  return s;
}

namespace {

// The generation whose files the record's model fields name: after a failed
// update they were restored to the generation that still serves.
int64_t FilesGeneration(const DeploymentRecord& r) {
  return !r.failed_model.empty() && r.serving_generation > 0 && r.serving_generation < r.generation
             ? r.serving_generation
             : r.generation;
}

// The model, code and file fields a generation's load depends on.
void CopyServedFields(const DeploymentRecord& from, DeploymentRecord& to) {
  to.model_ref = from.model_ref;
  to.model_name = from.model_name;
  to.model_version = from.model_version;
  to.code_ref = from.code_ref;
  to.scoring_script = from.scoring_script;
  to.environment_ref = from.environment_ref;
  to.instance_count = from.instance_count;
  to.model_dir = from.model_dir;
  to.code_dir = from.code_dir;
  to.python = from.python;
  to.signature_inputs_json = from.signature_inputs_json;
}

DeploymentConfig ConfigOf(const DeploymentRecord& r) {
  DeploymentSpec s = SpecOf(r);
  DeploymentConfig c;
  c.endpoint = r.endpoint;
  c.name = r.name;
  c.model_name = r.model_name;
  c.model_version = r.model_version;
  c.model_dir = r.model_dir;
  c.signature_inputs_json = r.signature_inputs_json;
  c.code_dir = r.code_dir;
  c.scoring_script = r.scoring_script;
  c.python = r.python;
  c.instance_count = s.instance_count;
  c.request = s.request;
  c.liveness_probe = s.liveness_probe;
  c.readiness_probe = s.readiness_probe;
  c.data_collector = s.data_collector;
  c.generation = FilesGeneration(r);
  return c;
}

std::vector<std::string> Names(const std::vector<DeploymentRecord>& deployments) {
  std::vector<std::string> out;
  for (const auto& d : deployments) out.push_back(d.name);
  return out;
}

}  // namespace

// ---- the service ----------------------------------------------------------------------------

EndpointService::EndpointService(ServingStore& store, RegistryService& registry,
                                 AssetService& assets, ServingPlane& plane,
                                 std::filesystem::path serving_root)
    : store_(store),
      registry_(registry),
      assets_(assets),
      plane_(plane),
      serving_root_(std::move(serving_root)) {
  plane_.SetLoadListener([this](const LoadReport& report) { OnLoadResult(report); });
}

EndpointService::~EndpointService() { plane_.SetLoadListener(nullptr); }

void EndpointService::Remember(const DeploymentRecord& r) {
  std::lock_guard lk(known_mu_);
  known_[r.endpoint + "/" + r.name][FilesGeneration(r)] = r;
}

void EndpointService::OnLoadResult(const LoadReport& report) {
  std::lock_guard lock(DeploymentLock(report.endpoint, report.deployment));
  std::optional<DeploymentRecord> serving;  // the record of the generation still serving
  {
    std::lock_guard lk(known_mu_);
    auto& generations = known_[report.endpoint + "/" + report.deployment];
    if (report.serving_generation > 0) {
      auto it = generations.find(report.serving_generation);
      if (it != generations.end()) serving = it->second;
      // Older generations will not serve again.
      generations.erase(generations.begin(), generations.lower_bound(report.serving_generation));
    }
  }
  const bool restore = !report.ok && serving && report.serving_generation != report.generation;
  std::vector<LineageEdge> lineage;
  if (restore) lineage = Effects(*serving).lineage;
  auto mutate = [&](DeploymentRecord& d, std::vector<OutboxEvent>& events) -> Status {
    if (report.generation != FilesGeneration(d)) {
      // Superseded by a newer update: its own load will report.
      return Status(ErrorCode::kInvalidState, "stale load report");
    }
    if (report.ok) {
      d.serving_generation = report.generation;
      if (report.generation == d.generation) {
        d.provisioning_state = "Succeeded";
        d.provisioning_error.clear();
        d.failed_model.clear();
      }  // else: a restored generation reloaded at start; the failed update stays on record
      return Status::Ok();
    }
    d.provisioning_state = "Failed";
    d.provisioning_error = report.error;
    d.failed_model = d.model_name + ":" + d.model_version;
    d.serving_generation = report.serving_generation;
    if (restore) CopyServedFields(*serving, d);
    // ModelDeployed went out when the update was accepted; this says it did
    // not take, and what serves instead (nothing when no generation loaded).
    Json data = {{"ServiceName", d.endpoint + "/" + d.name},
                 {"ModelIds", d.failed_model},
                 {"Error", report.error},
                 {"ServingModelIds", restore ? d.model_name + ":" + d.model_version : ""},
                 {"ServiceProperties",
                  {{"endpoint", report.endpoint},
                   {"deployment", report.deployment},
                   {"generation", std::to_string(report.generation)},
                   {"serving_generation", std::to_string(report.serving_generation)}}}};
    OutboxEvent e;
    e.type = "ModelDeploymentFailed";
    e.subject = "endpoints/" + report.endpoint + "/deployments/" + report.deployment;
    e.data = data.dump();
    events.push_back(std::move(e));
    return Status::Ok();
  };
  // Errors (a deployment deleted meanwhile, a stale report) leave nothing to record.
  (void)store_.RecordDeploymentState(report.endpoint, report.deployment, mutate, restore, lineage);
}

fs::path EndpointService::DeploymentRoot(const std::string& endpoint,
                                         const std::string& name) const {
  return serving_root_ / endpoint / name;
}

std::mutex& EndpointService::DeploymentLock(const std::string& endpoint, const std::string& name) {
  std::lock_guard lock(locks_mu_);
  auto& m = locks_[endpoint + "/" + name];
  if (!m) m = std::make_unique<std::mutex>();
  return *m;
}

Status EndpointService::Apply(const std::string& endpoint) {
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.GetEndpoint(endpoint));
  CAIRN_ASSIGN_OR_RETURN(std::vector<DeploymentRecord> deployments,
                         store_.ListDeployments(endpoint));
  EndpointConfig config;
  config.name = e.name;
  config.auth_mode = e.auth_mode;
  config.primary_key = e.primary_key;
  config.secondary_key = e.secondary_key;
  config.traffic = ParseTrafficJson(e.traffic_json);
  config.mirror_traffic = ParseTrafficJson(e.mirror_traffic_json);
  for (const auto& d : deployments) {
    Remember(d);
    config.deployments.push_back(ConfigOf(d));
  }
  plane_.ApplyEndpoint(config);
  return Status::Ok();
}

Status EndpointService::ApplyAll() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<EndpointRecord> all, store_.ListEndpoints());
  for (const auto& e : all) CAIRN_RETURN_IF_ERROR(Apply(e.name));
  return Status::Ok();
}

Result<EndpointInfo> EndpointService::Info(const EndpointRecord& record) {
  EndpointInfo info;
  info.record = record;
  info.traffic = ParseTrafficJson(record.traffic_json);
  info.mirror_traffic = ParseTrafficJson(record.mirror_traffic_json);
  CAIRN_ASSIGN_OR_RETURN(std::vector<DeploymentRecord> deployments,
                         store_.ListDeployments(record.name));
  for (auto& d : deployments) {
    DeploymentState state = plane_.GetDeploymentState(record.name, d.name);
    info.deployments.push_back({std::move(d), std::move(state)});
  }
  return info;
}

Result<EndpointInfo> EndpointService::CreateEndpoint(const EndpointSpec& spec,
                                                     const std::string& who) {
  CAIRN_RETURN_IF_ERROR(ValidateServingName("endpoint", spec.name));
  if (spec.auth_mode != "key") {
    return InvalidParameter("auth_mode '" + spec.auth_mode +
                            "' is not supported; use 'key' (token modes come with access "
                            "control)");
  }
  TrafficMap traffic = spec.traffic, mirror = spec.mirror_traffic;
  // A new endpoint has no deployments yet, so only empty or all-zero maps pass.
  CAIRN_RETURN_IF_ERROR(ValidateTraffic(spec.name, traffic, mirror, {}));
  EndpointRecord e;
  e.name = spec.name;
  e.auth_mode = spec.auth_mode;
  CAIRN_ASSIGN_OR_RETURN(e.primary_key, NewKey());
  CAIRN_ASSIGN_OR_RETURN(e.secondary_key, NewKey());
  e.description = spec.description;
  e.tags_json = TagsJson(spec.tags);
  e.traffic_json = TrafficJson(traffic);
  e.mirror_traffic_json = TrafficJson(mirror);
  e.created_by = who;
  CAIRN_RETURN_IF_ERROR(store_.CreateEndpoint(e));
  CAIRN_RETURN_IF_ERROR(Apply(e.name));
  return GetEndpoint(e.name);
}

Result<EndpointInfo> EndpointService::UpdateEndpoint(const std::string& name,
                                                     const EndpointUpdate& update,
                                                     const std::string& who) {
  auto mutate = [&](EndpointRecord& e, const EndpointContext& ctx) -> Status {
    TrafficMap traffic = update.traffic ? *update.traffic : ParseTrafficJson(e.traffic_json);
    TrafficMap mirror =
        update.mirror_traffic ? *update.mirror_traffic : ParseTrafficJson(e.mirror_traffic_json);
    CAIRN_RETURN_IF_ERROR(ValidateTraffic(name, traffic, mirror, Names(ctx.deployments)));
    e.traffic_json = TrafficJson(traffic);
    e.mirror_traffic_json = TrafficJson(mirror);
    if (update.description) e.description = *update.description;
    if (update.tags) e.tags_json = TagsJson(*update.tags);
    return Status::Ok();
  };
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.UpdateEndpoint(name, mutate, who, update.reason));
  CAIRN_RETURN_IF_ERROR(Apply(name));
  return Info(e);
}

Result<EndpointInfo> EndpointService::GetEndpoint(const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.GetEndpoint(name));
  return Info(e);
}

Result<std::vector<EndpointInfo>> EndpointService::ListEndpoints() {
  CAIRN_ASSIGN_OR_RETURN(std::vector<EndpointRecord> all, store_.ListEndpoints());
  std::vector<EndpointInfo> out;
  for (const auto& e : all) {
    CAIRN_ASSIGN_OR_RETURN(EndpointInfo info, Info(e));
    out.push_back(std::move(info));
  }
  return out;
}

Status EndpointService::DeleteEndpoint(const std::string& name) {
  CAIRN_RETURN_IF_ERROR(store_.DeleteEndpoint(name));
  plane_.RemoveEndpoint(name);
  std::error_code ec;
  fs::remove_all(serving_root_ / name, ec);  // best effort: the record is gone either way
  return Status::Ok();
}

Result<EndpointRecord> EndpointService::RegenerateKeys(const std::string& name,
                                                       const std::string& which) {
  if (which != "primary" && which != "secondary") {
    return InvalidParameter("key_type must be 'primary' or 'secondary'; got '" + which + "'");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string key, NewKey());
  auto mutate = [&](EndpointRecord& e, const EndpointContext&) -> Status {
    (which == "primary" ? e.primary_key : e.secondary_key) = key;
    return Status::Ok();
  };
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.UpdateEndpoint(name, mutate, "", ""));
  CAIRN_RETURN_IF_ERROR(Apply(name));
  return e;
}

Result<EndpointRecord> EndpointService::GetCredentials(const std::string& name) {
  return store_.GetEndpoint(name);
}

Result<EndpointInfo> EndpointService::Rollback(const std::string& name, const std::string& who,
                                               const std::string& reason) {
  auto mutate = [&](EndpointRecord& e, const EndpointContext& ctx) -> Status {
    if (!ctx.last_change) {
      return Status(ErrorCode::kInvalidState,
                    "endpoint '" + name +
                        "' has no traffic change to roll back; see `cairn endpoint show " + name +
                        "`");
    }
    TrafficMap traffic = ParseTrafficJson(ctx.last_change->traffic_before_json);
    TrafficMap mirror = ParseTrafficJson(ctx.last_change->mirror_before_json);
    Status st = ValidateTraffic(name, traffic, mirror, Names(ctx.deployments));
    if (!st.ok()) {
      return Status(ErrorCode::kInvalidState, "cannot restore the traffic from before change #" +
                                                  std::to_string(ctx.last_change->seq) + ": " +
                                                  st.message());
    }
    e.traffic_json = TrafficJson(traffic);
    e.mirror_traffic_json = TrafficJson(mirror);
    if (e.traffic_json == ctx.last_change->traffic_after_json &&
        e.mirror_traffic_json == ctx.last_change->mirror_after_json) {
      return Status(ErrorCode::kInvalidState,
                    "the latest change of endpoint '" + name +
                        "' left the traffic as it was; nothing to roll back");
    }
    return Status::Ok();
  };
  // The reason names the change being undone; read it first for the record.
  CAIRN_ASSIGN_OR_RETURN(std::vector<TrafficChange> last, store_.TrafficHistory(name, 1));
  std::string why =
      last.empty() ? "rollback" : "rollback of change #" + std::to_string(last[0].seq);
  if (!reason.empty()) why += ": " + reason;
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.UpdateEndpoint(name, mutate, who, why));
  CAIRN_RETURN_IF_ERROR(Apply(name));
  return Info(e);
}

Result<std::vector<TrafficChangeInfo>> EndpointService::History(const std::string& name,
                                                                int64_t limit) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<TrafficChange> changes, store_.TrafficHistory(name, limit));
  std::vector<TrafficChangeInfo> out;
  for (auto& c : changes) {
    TrafficChangeInfo i;
    i.traffic_before = ParseTrafficJson(c.traffic_before_json);
    i.traffic_after = ParseTrafficJson(c.traffic_after_json);
    i.mirror_before = ParseTrafficJson(c.mirror_before_json);
    i.mirror_after = ParseTrafficJson(c.mirror_after_json);
    i.change = std::move(c);
    out.push_back(std::move(i));
  }
  return out;
}

// ---- deployments ----------------------------------------------------------------------------

Status EndpointService::Materialize(DeploymentRecord& r, const DeploymentSpec& spec,
                                    const fs::path& dir) {
  // The model version's files, as the registry lists them.
  const fs::path model_dir = dir / "model";
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(model_dir));
  CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> files,
                         registry_.ListModelVersionFiles(r.model_name, r.model_version));
  if (files.empty()) {
    return Status(ErrorCode::kInvalidState,
                  "model " + r.model_name + ":" + r.model_version + " has no files to serve");
  }
  for (const FileInfo& f : files) {
    if (f.is_dir) continue;
    CAIRN_ASSIGN_OR_RETURN(std::string stored, registry_.ModelVersionArtifactPath(
                                                   r.model_name, r.model_version, f.path));
    int64_t size = 0;
    CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, registry_.artifacts().Open(stored, &size));
    CAIRN_ASSIGN_OR_RETURN(fs::path dest, SafeDest(model_dir, f.path));
    CAIRN_RETURN_IF_ERROR(CopyFd(std::move(fd), dest));
  }
  r.model_dir =
      (serving_root_ / r.endpoint / r.name / std::to_string(r.generation) / "model").string();

  // Scoring code: a code snapshot, with the script inside it.
  if (!spec.code.empty()) {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion code, assets_.Resolve(kCodeAsset, spec.code));
    const fs::path code_dir = dir / "code";
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(code_dir));
    CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> code_files, assets_.ListFiles(code));
    bool script_found = false;
    CAIRN_ASSIGN_OR_RETURN(std::string script, NormalizeRelativePath(spec.scoring_script));
    for (const FileInfo& f : code_files) {
      if (f.is_dir) continue;
      int64_t size = 0;
      CAIRN_ASSIGN_OR_RETURN(UniqueFd fd, assets_.OpenFile(code, f.path, &size));
      CAIRN_ASSIGN_OR_RETURN(fs::path dest, SafeDest(code_dir, f.path));
      CAIRN_RETURN_IF_ERROR(CopyFd(std::move(fd), dest));
      if (f.path == script) script_found = true;
    }
    if (!script_found) {
      return InvalidParameter("scoring_script '" + spec.scoring_script +
                              "' is not in code snapshot " + code.name.substr(0, 12) +
                              "; give its path relative to the code folder");
    }
    r.code_ref = code.name;
    r.scoring_script = script;
    r.code_dir =
        (serving_root_ / r.endpoint / r.name / std::to_string(r.generation) / "code").string();
  }
  return Status::Ok();
}

Result<DeploymentRecord> EndpointService::Prepare(const DeploymentSpec& spec, int64_t generation,
                                                  const std::string& who) {
  CAIRN_RETURN_IF_ERROR(ValidateServingName("endpoint", spec.endpoint));
  CAIRN_RETURN_IF_ERROR(ValidateServingName("deployment", spec.name));
  CAIRN_RETURN_IF_ERROR(ValidateDeploymentSettings(spec));
  if (spec.model.empty()) {
    return InvalidParameter("a deployment needs 'model': a registered name:version or name@alias");
  }
  CAIRN_RETURN_IF_ERROR(store_.GetEndpoint(spec.endpoint).status());

  DeploymentRecord r;
  r.endpoint = spec.endpoint;
  r.name = spec.name;
  r.model_ref = spec.model;
  r.generation = generation;
  r.instance_count = spec.instance_count;
  r.request_settings_json = RequestSettingsJson(spec.request);
  r.liveness_probe_json = ProbeJson(spec.liveness_probe);
  r.readiness_probe_json = ProbeJson(spec.readiness_probe);
  r.data_collector_json = DataCollectorJson(spec.data_collector);
  r.description = spec.description;
  r.tags_json = TagsJson(spec.tags);
  r.state = generation == 1 ? "Creating" : "Updating";
  r.created_by = who;

  // The model version, with an alias resolved now: the record says which
  // version serves, whatever the alias points at later.
  CAIRN_ASSIGN_OR_RETURN(ModelRefParts ref, ParseModelRef(spec.model));
  auto lookup = [&]() -> Result<ModelVersion> {
    if (ref.alias.empty()) return registry_.GetModelVersion(ref.name, ref.version);
    auto aliased = registry_.GetModelVersionByAlias(ref.name, ref.alias);
    if (aliased.ok() || ref.alias != "latest" ||
        aliased.status().code() != ErrorCode::kResourceDoesNotExist) {
      return aliased;
    }
    // Azure ML's name@latest: the newest version, unless an alias says otherwise.
    CAIRN_ASSIGN_OR_RETURN(std::vector<ModelVersion> latest,
                           registry_.GetLatestVersions(ref.name, {}));
    if (latest.empty()) return NotFound("registered model '" + ref.name + "' has no versions");
    return *std::max_element(latest.begin(), latest.end(),
                             [](const auto& a, const auto& b) { return a.version < b.version; });
  };
  CAIRN_ASSIGN_OR_RETURN(ModelVersion version, lookup());
  r.model_name = version.name;
  r.model_version = std::to_string(version.version);
  for (const Tag& t : version.tags) {
    if (t.key != kMLmodelTag) continue;
    Json mlmodel = Json::parse(t.value, nullptr, false);
    if (mlmodel.is_object() && mlmodel.contains("signature") &&
        mlmodel["signature"].value("inputs", Json()).is_array()) {
      r.signature_inputs_json = mlmodel["signature"]["inputs"].dump();
    }
  }

  // The environment's interpreter runs the scoring script (built and cached by content hash).
  if (!spec.environment.empty()) {
    CAIRN_ASSIGN_OR_RETURN(AssetVersion env, assets_.Resolve(kEnvironmentAsset, spec.environment));
    r.environment_ref = env.name + ":" + env.version;
    CAIRN_ASSIGN_OR_RETURN(MaterializedEnvironment built,
                           assets_.BuildEnvironment(r.environment_ref));
    r.python = built.python.string();
  }

  // Files go to <generation>.partial first and are renamed into place whole.
  const fs::path root = DeploymentRoot(spec.endpoint, spec.name);
  const fs::path final_dir = root / std::to_string(generation);
  const fs::path partial = root / (std::to_string(generation) + ".partial");
  std::error_code ec;
  fs::remove_all(partial, ec);
  fs::remove_all(final_dir, ec);  // left by an attempt whose record was never written
  Status st = Materialize(r, spec, partial);
  if (st.ok()) {
    fs::rename(partial, final_dir, ec);
    if (ec) st = Status(ErrorCode::kIoError, "cannot move files into " + final_dir.string());
  }
  if (!st.ok()) {
    fs::remove_all(partial, ec);
    return st;
  }
  return r;
}

ServingStore::DeploymentEffects EndpointService::Effects(const DeploymentRecord& r) {
  ServingStore::DeploymentEffects effects;
  const std::string model = r.model_name + ":" + r.model_version;
  effects.lineage.push_back(
      {"model:" + model, DeploymentEntity(r.endpoint, r.name), "deployed", 0});
  // Azure ML's Event Grid ModelDeployed payload.
  Json data = {{"ServiceName", r.endpoint + "/" + r.name},
               {"ServiceComputeType", "Managed"},
               {"ModelIds", model},
               {"ServiceTags", Json::parse(r.tags_json, nullptr, false)},
               {"ServiceProperties",
                {{"endpoint", r.endpoint},
                 {"deployment", r.name},
                 {"model_ref", r.model_ref},
                 {"generation", std::to_string(r.generation)},
                 {"instance_count", std::to_string(r.instance_count)},
                 {"deployed_by", r.created_by}}}};
  if (data["ServiceTags"].is_discarded()) data["ServiceTags"] = Json::object();
  OutboxEvent e;
  e.type = "ModelDeployed";
  e.subject = "endpoints/" + r.endpoint + "/deployments/" + r.name;
  e.time = r.last_updated_time;
  e.data = data.dump();
  effects.events.push_back(std::move(e));
  return effects;
}

Result<DeploymentInfo> EndpointService::CreateDeployment(const DeploymentSpec& spec,
                                                         const std::string& who) {
  std::lock_guard lock(DeploymentLock(spec.endpoint, spec.name));
  // Refuse a duplicate before materializing files for it.
  auto existing = store_.GetDeployment(spec.endpoint, spec.name);
  if (existing.ok()) {
    return AlreadyExists("deployment '" + spec.name + "' already exists on endpoint '" +
                         spec.endpoint + "'; change it with `cairn deployment update`");
  }
  CAIRN_ASSIGN_OR_RETURN(DeploymentRecord r, Prepare(spec, 1, who));
  auto stored = store_.CreateDeployment(r, Effects(r));
  if (!stored.ok()) {
    std::error_code ec;
    fs::remove_all(DeploymentRoot(spec.endpoint, spec.name) / "1", ec);
    return stored.status();
  }
  Remember(*stored);
  CAIRN_RETURN_IF_ERROR(Apply(spec.endpoint));
  return GetDeployment(spec.endpoint, spec.name);
}

Result<DeploymentInfo> EndpointService::UpdateDeployment(
    const std::string& endpoint, const std::string& name,
    const std::function<Status(DeploymentSpec&)>& edit, const std::string& who) {
  std::lock_guard lock(DeploymentLock(endpoint, name));
  CAIRN_ASSIGN_OR_RETURN(DeploymentRecord old, store_.GetDeployment(endpoint, name));
  DeploymentSpec spec = SpecOf(old);
  CAIRN_RETURN_IF_ERROR(edit(spec));
  if (spec.endpoint != endpoint || spec.name != name) {
    return InvalidParameter(
        "a deployment's name and endpoint cannot change; create a new "
        "deployment instead");
  }
  const int64_t generation = old.generation + 1;
  CAIRN_ASSIGN_OR_RETURN(DeploymentRecord r, Prepare(spec, generation, who));
  auto stored = store_.UpdateDeployment(r, Effects(r));
  const fs::path root = DeploymentRoot(endpoint, name);
  std::error_code ec;
  if (!stored.ok()) {
    fs::remove_all(root / std::to_string(generation), ec);
    return stored.status();
  }
  Remember(*stored);
  CAIRN_RETURN_IF_ERROR(Apply(endpoint));
  // Files are removed only for generations that can no longer serve: not the
  // new one, not the one the old record's files belong to, and not any the
  // data plane has not yet reported superseded (two quick updates: generation
  // 1 keeps serving while 2 is still loading when 3 arrives; a worker of
  // generation 1 restarted meanwhile needs its code folder).
  const int64_t previous = FilesGeneration(old);
  std::set<int64_t> may_serve = {generation, previous};
  {
    std::lock_guard lk(known_mu_);
    for (const auto& [g, _] : known_[endpoint + "/" + name]) may_serve.insert(g);
  }
  for (const auto& entry : fs::directory_iterator(root, ec)) {
    const std::string n = entry.path().filename().string();
    if (n.empty() || !std::all_of(n.begin(), n.end(), ::isdigit) || n.size() > 18) continue;
    const int64_t g = std::stoll(n);
    if (g < generation && !may_serve.count(g)) fs::remove_all(entry.path(), ec);
  }
  return GetDeployment(endpoint, name);
}

Result<DeploymentInfo> EndpointService::GetDeployment(const std::string& endpoint,
                                                      const std::string& name) {
  CAIRN_ASSIGN_OR_RETURN(DeploymentRecord r, store_.GetDeployment(endpoint, name));
  DeploymentState state = plane_.GetDeploymentState(endpoint, name);
  return DeploymentInfo{std::move(r), std::move(state)};
}

Result<std::vector<DeploymentInfo>> EndpointService::ListDeployments(const std::string& endpoint) {
  CAIRN_ASSIGN_OR_RETURN(EndpointRecord e, store_.GetEndpoint(endpoint));
  CAIRN_ASSIGN_OR_RETURN(EndpointInfo info, Info(e));
  return std::move(info.deployments);
}

Status EndpointService::DeleteDeployment(const std::string& endpoint, const std::string& name) {
  auto check = [&](const EndpointRecord& e, const EndpointContext&) -> Status {
    TrafficMap traffic = ParseTrafficJson(e.traffic_json);
    TrafficMap mirror = ParseTrafficJson(e.mirror_traffic_json);
    if (auto it = traffic.find(name); it != traffic.end() && it->second > 0) {
      return Status(ErrorCode::kInvalidState,
                    "deployment '" + name + "' takes " + std::to_string(it->second) +
                        "% of live traffic on endpoint '" + endpoint +
                        "'; move its traffic to other deployments first (e.g. `cairn endpoint "
                        "update " +
                        endpoint + " --traffic other=100`, or --traffic " + name +
                        "=0 to stop serving), then delete it");
    }
    if (auto it = mirror.find(name); it != mirror.end() && it->second > 0) {
      return Status(ErrorCode::kInvalidState,
                    "deployment '" + name + "' receives " + std::to_string(it->second) +
                        "% mirrored traffic on endpoint '" + endpoint +
                        "'; stop mirroring first (`cairn endpoint update " + endpoint +
                        " --mirror-traffic " + name + "=0`), then delete it");
    }
    return Status::Ok();
  };
  std::lock_guard lock(DeploymentLock(endpoint, name));
  CAIRN_RETURN_IF_ERROR(store_.DeleteDeployment(endpoint, name, check));
  CAIRN_RETURN_IF_ERROR(Apply(endpoint));
  std::error_code ec;
  fs::remove_all(DeploymentRoot(endpoint, name), ec);  // best effort
  return Status::Ok();
}

Result<std::string> EndpointService::GetLogs(const std::string& endpoint, const std::string& name,
                                             int max_lines) {
  CAIRN_RETURN_IF_ERROR(store_.GetDeployment(endpoint, name).status());
  if (max_lines < 1 || max_lines > 10000) {
    return InvalidParameter("lines must be between 1 and 10000; got " + std::to_string(max_lines));
  }
  return plane_.GetLogs(endpoint, name, max_lines);
}

}  // namespace cairn::serving
