// `cairn endpoint ...` and `cairn deployment ...` (see the header). YAML is
// read here and turned into the JSON bodies of /api/2.0/cairn/endpoints/* and
// /deployments/*; the server applies every rule. Local paths in a deployment
// YAML resolve relative to the YAML file, as Azure ML's CLI does.
#include "cli/endpoint_commands.h"

#include <yaml-cpp/yaml.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

#include "cli/api_client.h"
#include "cli/asset_commands.h"
#include "cli/cli_context.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// A YAML scalar as JSON: integers, numbers and booleans typed, the rest strings.
Json ScalarJson(const YAML::Node& v) {
  const std::string s = v.as<std::string>();
  if (v.Tag() == "!") return s;  // quoted in the file: a string
  if (!s.empty() && s.find_first_not_of("-0123456789") == std::string::npos &&
      s.find('-', 1) == std::string::npos && s != "-") {
    try {
      return std::stoll(s);
    } catch (...) {
    }
  }
  char* end = nullptr;
  double d = std::strtod(s.c_str(), &end);
  if (!s.empty() && end && *end == '\0') return d;
  if (s == "true" || s == "True") return true;
  if (s == "false" || s == "False") return false;
  return s;
}

// Nested settings (request_settings, probes, data_collector): mappings of scalars.
Result<Json> NodeJson(const std::string& file, const YAML::Node& v) {
  if (v.IsScalar()) return ScalarJson(v);
  if (v.IsNull()) return Json(nullptr);
  if (v.IsSequence()) {
    Json a = Json::array();
    for (const auto& e : v) {
      CAIRN_ASSIGN_OR_RETURN(Json j, NodeJson(file, e));
      a.push_back(std::move(j));
    }
    return a;
  }
  Json o = Json::object();
  for (const auto& kv : v) {
    CAIRN_ASSIGN_OR_RETURN(Json j, NodeJson(file, kv.second));
    o[kv.first.as<std::string>()] = std::move(j);
  }
  return o;
}

Result<std::string> ScalarString(const std::string& file, const std::string& key,
                                 const YAML::Node& v) {
  if (!v.IsScalar()) return YamlError(file, v.Mark(), key + " must be a single value");
  return v.as<std::string>();
}

Result<Json> StringMap(const std::string& file, const std::string& key, const YAML::Node& v) {
  if (!v.IsMap()) return YamlError(file, v.Mark(), key + " must be a mapping of key: value");
  Json o = Json::object();
  for (const auto& kv : v) {
    if (!kv.second.IsScalar()) {
      return YamlError(file, kv.second.Mark(),
                       key + "." + kv.first.as<std::string>() + " must be a single value");
    }
    o[kv.first.as<std::string>()] = kv.second.as<std::string>();
  }
  return o;
}

// traffic: {blue: 90, green: 10}
Result<Json> TrafficMapYaml(const std::string& file, const std::string& key, const YAML::Node& v) {
  if (!v.IsMap())
    return YamlError(file, v.Mark(), key + " must be a mapping of deployment: percent");
  Json o = Json::object();
  for (const auto& kv : v) {
    Json pct = kv.second.IsScalar() ? ScalarJson(kv.second) : Json();
    if (!pct.is_number_integer()) {
      return YamlError(file, kv.second.Mark(),
                       key + "." + kv.first.as<std::string>() + " must be a whole percent (0-100)");
    }
    o[kv.first.as<std::string>()] = pct;
  }
  return o;
}

Result<Json> LoadEndpointYaml(const std::string& file) {
  CAIRN_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlMap(file, "endpoint"));
  Json body = Json::object();
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "$schema") continue;
    if (key == "name" || key == "auth_mode" || key == "description") {
      CAIRN_ASSIGN_OR_RETURN(body[key], ScalarString(file, key, v));
    } else if (key == "tags") {
      CAIRN_ASSIGN_OR_RETURN(body[key], StringMap(file, key, v));
    } else if (key == "traffic" || key == "mirror_traffic") {
      CAIRN_ASSIGN_OR_RETURN(body[key], TrafficMapYaml(file, key, v));
    } else {
      return YamlError(file, kv.first.Mark(),
                       "unknown field '" + key +
                           "'; an endpoint has name, auth_mode, description, tags, traffic, "
                           "mirror_traffic");
    }
  }
  return body;
}

// What a deployment YAML holds before local paths are uploaded.
struct DeploymentYaml {
  Json body = Json::object();
  fs::path base;           // the YAML's folder: local paths are relative to it
  std::string model_path;  // a local model folder to register first
  std::string model_name;  // its registered name (inline model's name, or <ep>-<dep>)
  std::string code_path;   // a local code folder to snapshot first
};

bool LooksLikeCodeHash(const std::string& s) {
  std::string h = s.rfind("code:", 0) == 0 ? s.substr(5) : s;
  return h.size() == 64 && h.find_first_not_of("0123456789abcdef") == std::string::npos;
}

Result<DeploymentYaml> LoadDeploymentYaml(const std::string& file) {
  CAIRN_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlMap(file, "deployment"));
  DeploymentYaml y;
  y.base = fs::absolute(file).parent_path();
  static const std::set<std::string> kNested = {"request_settings", "liveness_probe",
                                                "readiness_probe", "data_collector"};
  for (const auto& kv : root) {
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "$schema") continue;
    if (key == "name" || key == "endpoint_name" || key == "description") {
      CAIRN_ASSIGN_OR_RETURN(y.body[key], ScalarString(file, key, v));
    } else if (key == "instance_count") {
      Json n = v.IsScalar() ? ScalarJson(v) : Json();
      if (!n.is_number_integer())
        return YamlError(file, v.Mark(), "instance_count must be a whole number");
      y.body[key] = n;
    } else if (key == "instance_type") {
      continue;  // Azure ML's VM size: this machine is the instance
    } else if (key == "tags") {
      CAIRN_ASSIGN_OR_RETURN(y.body[key], StringMap(file, key, v));
    } else if (kNested.count(key)) {
      if (!v.IsMap()) return YamlError(file, v.Mark(), key + " must be a mapping");
      CAIRN_ASSIGN_OR_RETURN(y.body[key], NodeJson(file, v));
    } else if (key == "model") {
      if (v.IsMap()) {  // Azure ML's inline model: {path, name?}
        for (const auto& m : v) {
          const std::string mk = m.first.as<std::string>();
          if (mk == "path") {
            CAIRN_ASSIGN_OR_RETURN(y.model_path, ScalarString(file, "model.path", m.second));
          } else if (mk == "name") {
            CAIRN_ASSIGN_OR_RETURN(y.model_name, ScalarString(file, "model.name", m.second));
          } else if (mk != "type" && mk != "version" && mk != "description") {
            return YamlError(
                file, m.first.Mark(),
                "unknown field 'model." + mk + "'; an inline model has path, name, type");
          }
        }
        if (y.model_path.empty()) return YamlError(file, v.Mark(), "an inline model needs a path");
        y.model_path = (y.base / y.model_path).lexically_normal().string();
        if (!fs::exists(y.model_path)) {
          return YamlError(file, v.Mark(), "model path " + y.model_path + " does not exist");
        }
        continue;
      }
      CAIRN_ASSIGN_OR_RETURN(std::string ref, ScalarString(file, key, v));
      // A registered reference unless it names a local folder or file.
      fs::path local = y.base / ref;
      if (ref.rfind("azureml:", 0) != 0 && ref.rfind("models:/", 0) != 0 &&
          (ref.find(':') == std::string::npos && ref.find('@') == std::string::npos)) {
        if (!fs::exists(local)) {
          return YamlError(file, v.Mark(),
                           "model '" + ref +
                               "' is neither a registered name:version / name@alias nor an "
                               "existing local path (" +
                               local.string() + ")");
        }
        y.model_path = local.lexically_normal().string();
      } else {
        y.body["model"] = ref;
      }
    } else if (key == "code_configuration") {
      if (!v.IsMap()) return YamlError(file, v.Mark(), "code_configuration must be a mapping");
      Json cc = Json::object();
      for (const auto& c : v) {
        const std::string ck = c.first.as<std::string>();
        if (ck != "code" && ck != "scoring_script") {
          return YamlError(
              file, c.first.Mark(),
              "unknown field 'code_configuration." + ck + "'; it has code, scoring_script");
        }
        CAIRN_ASSIGN_OR_RETURN(std::string s,
                               ScalarString(file, "code_configuration." + ck, c.second));
        if (ck == "code" && !LooksLikeCodeHash(s) && s.rfind("azureml:", 0) != 0) {
          fs::path local = y.base / s;
          if (!fs::is_directory(local)) {
            return YamlError(file, c.second.Mark(),
                             "code folder " + local.string() + " does not exist");
          }
          y.code_path = local.lexically_normal().string();
          continue;
        }
        if (ck == "code" && s.rfind("azureml:", 0) == 0) s = s.substr(8);
        cc[ck] = s;
      }
      y.body["code_configuration"] = cc;
    } else if (key == "environment") {
      if (!v.IsScalar()) {
        return YamlError(file, v.Mark(),
                         "environment must reference a registered environment (name:version or "
                         "name@latest); register inline ones with `cairn environment create -f`");
      }
      std::string env = v.as<std::string>();
      y.body["environment"] = env.rfind("azureml:", 0) == 0 ? env.substr(8) : env;
    } else {
      return YamlError(file, kv.first.Mark(),
                       "unknown field '" + key +
                           "'; a deployment has name, endpoint_name, model, code_configuration, "
                           "environment, instance_count, request_settings, liveness_probe, "
                           "readiness_probe, data_collector, description, tags");
    }
  }
  return y;
}

// "blue=90,green=10" or "blue=90 green=10"; "" or "none" clears.
Result<Json> ParseTrafficArg(const std::string& flag, const std::string& text) {
  Json o = Json::object();
  if (text.empty() || text == "none") return o;
  std::string norm = text;
  for (char& c : norm) {
    if (c == ',') c = ' ';
  }
  std::istringstream in(norm);
  std::string item;
  while (in >> item) {
    size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0) {
      return InvalidParameter(flag + " expects NAME=PERCENT[,NAME=PERCENT...]; got '" + item + "'");
    }
    std::string pct = item.substr(eq + 1);
    if (pct.empty() || pct.size() > 3 || pct.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidParameter(flag + ": '" + pct + "' is not a whole percent (in '" + item + "')");
    }
    o[item.substr(0, eq)] = std::stoi(pct);
  }
  return o;
}

std::string MapText(const Json& m) {
  std::string out;
  for (const auto& [k, v] : m.items()) out += (out.empty() ? "" : ", ") + k + "=" + v.dump();
  return out.empty() ? "(none)" : out;
}

class EndpointCommands {
 public:
  explicit EndpointCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(const std::string& file, const std::string& name) {
    Json body = Json::object();
    if (!file.empty()) {
      auto y = LoadEndpointYaml(file);
      if (!y.ok()) return ctx_.FailLocal(y.status());
      body = *y;
    }
    if (!name.empty()) body["name"] = name;
    if (!body.contains("name")) {
      return ctx_.Fail(kUsage, "BAD_REQUEST", "endpoint create needs -f endpoint.yml or --name");
    }
    body["user"] = UserName();
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "endpoints/create", body);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "created endpoint " << (*r)["endpoint"]["name"].get<std::string>()
              << " (keys: `cairn endpoint get-credentials "
              << (*r)["endpoint"]["name"].get<std::string>() << "`)\n";
  }

  void Update(const std::string& name_arg, const std::string& file, const std::string* traffic,
              const std::string* mirror, const std::string* description,
              const std::string& reason) {
    Json body = Json::object();
    if (!file.empty()) {
      auto y = LoadEndpointYaml(file);
      if (!y.ok()) return ctx_.FailLocal(y.status());
      body = *y;
    }
    if (!name_arg.empty()) body["name"] = name_arg;
    if (!body.contains("name")) {
      return ctx_.Fail(kUsage, "BAD_REQUEST", "endpoint update needs NAME or -f endpoint.yml");
    }
    if (traffic) {
      auto t = ParseTrafficArg("--traffic", *traffic);
      if (!t.ok()) return ctx_.FailLocal(t.status());
      body["traffic"] = *t;
    }
    if (mirror) {
      auto m = ParseTrafficArg("--mirror-traffic", *mirror);
      if (!m.ok()) return ctx_.FailLocal(m.status());
      body["mirror_traffic"] = *m;
    }
    if (description) body["description"] = *description;
    if (!reason.empty()) body["reason"] = reason;
    body.erase("auth_mode");
    body["user"] = UserName();
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "endpoints/update", body);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& e = (*r)["endpoint"];
    std::cout << "updated endpoint " << e["name"].get<std::string>()
              << "\n  traffic: " << MapText(e["traffic"])
              << "\n  mirror:  " << MapText(e["mirror_traffic"]) << "\n";
  }

  void Show(const std::string& name) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "endpoints/get", {{"name", name}});
    if (!r) return;
    auto h = ctx_.Send("GET", std::string(kCairnApi) + "endpoints/history",
                       {{"name", name}, {"max_results", 5}});
    if (!h) return;
    if (ctx_.json) return ctx_.Emit({{"endpoint", (*r)["endpoint"]}, {"history", (*h)["history"]}});
    const Json& e = (*r)["endpoint"];
    std::cout << "endpoint " << e["name"].get<std::string>()
              << " (auth: " << e["auth_mode"].get<std::string>() << ")\n"
              << "  scoring uri: " << ctx_.server << e["scoring_uri"].get<std::string>() << "\n";
    if (!e["description"].get<std::string>().empty()) {
      std::cout << "  description: " << e["description"].get<std::string>() << "\n";
    }
    std::cout << "  traffic:     " << MapText(e["traffic"]) << "\n"
              << "  mirror:      " << MapText(e["mirror_traffic"]) << "\n"
              << "  created:     " << FormatTime(e["creation_time"])
              << (e["created_by"].get<std::string>().empty()
                      ? std::string()
                      : " by " + e["created_by"].get<std::string>())
              << "\n\ndeployments:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : e["deployments"]) {
      rows.push_back(
          {d["name"],
           d["model_name"].get<std::string>() + ":" + d["model_version"].get<std::string>(),
           std::to_string(d["generation"].get<int64_t>()),
           std::to_string(d["instance_count"].get<int64_t>()), d["provisioning_state"],
           d["ready"].get<bool>() ? "yes" : "no"});
    }
    PrintTable({"NAME", "MODEL", "GENERATION", "INSTANCES", "STATE", "READY"}, rows);
    std::cout << "\nlast traffic changes:\n";
    rows.clear();
    for (const auto& c : (*h)["history"]) {
      rows.push_back(
          {"#" + std::to_string(c["seq"].get<int64_t>()), FormatTime(c["time"]), c["user"],
           MapText(c["traffic_before"]) + " -> " + MapText(c["traffic_after"]),
           MapText(c["mirror_traffic_before"]) + " -> " + MapText(c["mirror_traffic_after"]),
           c["reason"]});
    }
    PrintTable({"CHANGE", "TIME", "USER", "TRAFFIC", "MIRROR", "REASON"}, rows);
  }

  void List() {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "endpoints/list", Json::object());
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : (*r)["endpoints"]) {
      rows.push_back({e["name"], MapText(e["traffic"]), MapText(e["mirror_traffic"]),
                      std::to_string(e["deployments"].size()), FormatTime(e["last_updated_time"])});
    }
    PrintTable({"NAME", "TRAFFIC", "MIRROR", "DEPLOYMENTS", "UPDATED"}, rows);
  }

  void Simple(const std::string& route, const Json& body, const std::string& done) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + route, body);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << done << "\n";
  }

  void Rollback(const std::string& name, const std::string& reason) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "endpoints/rollback",
                       {{"name", name}, {"reason", reason}, {"user", UserName()}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& e = (*r)["endpoint"];
    std::cout << "rolled back endpoint " << name << "\n  traffic: " << MapText(e["traffic"])
              << "\n  mirror:  " << MapText(e["mirror_traffic"]) << "\n";
  }

  void Credentials(const std::string& name) {
    auto r =
        ctx_.Send("POST", std::string(kCairnApi) + "endpoints/get-credentials", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "primary_key:   " << (*r)["primary_key"].get<std::string>() << "\n"
              << "secondary_key: " << (*r)["secondary_key"].get<std::string>() << "\n";
  }

  void Logs(const std::string& endpoint, const std::string& deployment, int lines) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "deployments/get-logs",
                       {{"endpoint_name", endpoint}, {"name", deployment}, {"lines", lines}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << (*r)["logs"].get<std::string>();
  }

  // Scores a request through the data plane's routes with the endpoint's key.
  void Invoke(const std::string& name, const std::string& request_file,
              const std::string& deployment) {
    std::ifstream in(request_file, std::ios::binary);
    if (!in) return ctx_.FailLocal(NotFound("cannot read request file " + request_file));
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string body = ss.str();
    std::string route = "/endpoints/" + name + "/score";
    std::string content_type = "application/json";
    if (fs::path(request_file).extension() == ".csv") {
      route = "/endpoints/" + name + "/invocations";
      content_type = "text/csv";
    } else {
      Json j = Json::parse(body, nullptr, false);
      if (j.is_discarded()) {
        return ctx_.FailLocal(InvalidParameter(request_file + " is not valid JSON (nor a .csv)"));
      }
      // MLflow's scoring formats go to /invocations; {"data": ...} to /score.
      for (const char* k : {"dataframe_split", "dataframe_records", "instances", "inputs"}) {
        if (j.is_object() && j.contains(k)) route = "/endpoints/" + name + "/invocations";
      }
    }
    auto creds =
        ctx_.Send("POST", std::string(kCairnApi) + "endpoints/get-credentials", {{"name", name}});
    if (!creds) return;
    std::multimap<std::string, std::string> headers = {
        {"Authorization", "Bearer " + (*creds)["primary_key"].get<std::string>()}};
    if (!deployment.empty()) headers.emplace("azureml-model-deployment", deployment);
    ApiClient client(ctx_.server);
    auto res = client.PostRaw(route, body, content_type, headers);
    if (!res.ok()) return ctx_.FailLocal(res.status());
    if (res->status < 200 || res->status >= 300) {
      return ctx_.Fail(kRefused, "HTTP_" + std::to_string(res->status),
                       "scoring " + route + " answered HTTP " + std::to_string(res->status) + ": " +
                           res->body.substr(0, 2000));
    }
    std::cout << res->body;
    if (!res->body.empty() && res->body.back() != '\n') std::cout << "\n";
  }

 private:
  CliContext& ctx_;
};

class DeploymentCommands {
 public:
  explicit DeploymentCommands(CliContext& ctx) : ctx_(ctx) {}

  // Builds the request body: YAML fields, flag overrides, local paths uploaded.
  std::optional<Json> Body(const std::string& file, const std::string& endpoint,
                           const std::string& name, const std::string& model, int instance_count) {
    DeploymentYaml y;
    if (!file.empty()) {
      auto loaded = LoadDeploymentYaml(file);
      if (!loaded.ok()) {
        ctx_.FailLocal(loaded.status());
        return std::nullopt;
      }
      y = std::move(*loaded);
    }
    if (!endpoint.empty()) y.body["endpoint_name"] = endpoint;
    if (!name.empty()) y.body["name"] = name;
    if (!model.empty()) y.body["model"] = model;
    if (instance_count > 0) y.body["instance_count"] = instance_count;
    if (!y.body.contains("endpoint_name") || !y.body.contains("name")) {
      ctx_.Fail(kUsage, "BAD_REQUEST",
                "a deployment needs endpoint_name and name (in -f deployment.yml or as "
                "--endpoint-name/--name)");
      return std::nullopt;
    }
    const std::string ep = y.body["endpoint_name"], dep = y.body["name"];
    if (!y.model_path.empty() && model.empty()) {
      // A local model is registered first, as Azure ML registers an anonymous one.
      bool is_file = false;
      auto files = CollectLocalFiles(y.model_path, &is_file);
      if (!files.ok()) {
        ctx_.FailLocal(files.status());
        return std::nullopt;
      }
      auto manifest = UploadFiles(ctx_, *files);
      if (!manifest.ok()) {
        ctx_.FailLocal(manifest.status());
        return std::nullopt;
      }
      std::string model_name = y.model_name.empty() ? ep + "-" + dep : y.model_name;
      auto r = ctx_.Send("POST", std::string(kCairnApi) + "models/create",
                         {{"name", model_name},
                          {"files", ManifestJson(*manifest)},
                          {"description", "uploaded for deployment " + ep + "/" + dep}});
      if (!r) return std::nullopt;
      const Json& v = (*r)["model_version"];
      y.body["model"] = v["name"].get<std::string>() + ":" + v["version"].get<std::string>();
      if (!ctx_.json) {
        std::cerr << "registered " << y.model_path << " as model "
                  << y.body["model"].get<std::string>() << "\n";
      }
    }
    if (!y.code_path.empty()) {
      auto r = SnapshotCode(ctx_, y.code_path);
      if (!r) return std::nullopt;
      y.body["code_configuration"]["code"] = (*r)["asset"]["content_hash"];
      if (!ctx_.json) {
        std::cerr << "snapshotted code " << y.code_path << " ("
                  << (*r)["asset"]["content_hash"].get<std::string>().substr(0, 12) << ")\n";
      }
    }
    y.body["user"] = UserName();
    return y.body;
  }

  void CreateOrUpdate(bool create, const std::string& file, const std::string& endpoint,
                      const std::string& name, const std::string& model, int instance_count,
                      bool all_traffic) {
    auto body = Body(file, endpoint, name, model, instance_count);
    if (!body) return;
    auto r = ctx_.Send(
        "POST", std::string(kCairnApi) + (create ? "deployments/create" : "deployments/update"),
        *body);
    if (!r) return;
    const Json& d = (*r)["deployment"];
    if (all_traffic) {
      auto t = ctx_.Send("POST", std::string(kCairnApi) + "endpoints/update",
                         {{"name", d["endpoint_name"]},
                          {"traffic", {{d["name"].get<std::string>(), 100}}},
                          {"reason", "--all-traffic"},
                          {"user", UserName()}});
      if (!t) return;
    }
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << (create ? "created" : "updated") << " deployment "
              << d["endpoint_name"].get<std::string>() << "/" << d["name"].get<std::string>()
              << ": model " << d["model_name"].get<std::string>() << ":"
              << d["model_version"].get<std::string>() << ", generation "
              << d["generation"].get<int64_t>() << ", state "
              << d["provisioning_state"].get<std::string>()
              << (all_traffic ? ", 100% of traffic" : "") << "\n";
  }

  void Show(const std::string& endpoint, const std::string& name) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "deployments/get",
                       {{"endpoint_name", endpoint}, {"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& d = (*r)["deployment"];
    std::cout << "deployment " << endpoint << "/" << name << "\n"
              << "  model:       " << d["model_name"].get<std::string>() << ":"
              << d["model_version"].get<std::string>() << " (as " << d["model"].get<std::string>()
              << ")\n"
              << "  state:       " << d["provisioning_state"].get<std::string>()
              << (d["ready"].get<bool>() ? ", ready" : ", not ready") << "\n";
    if (d.contains("error"))
      std::cout << "  error:       " << d["error"].get<std::string>() << "\n";
    if (d.contains("failed_model")) {
      const int64_t serving = d.value("serving_generation", int64_t{0});
      std::cout << "  failed:      " << d["failed_model"].get<std::string>() << " did not load; "
                << (serving > 0
                        ? "generation " + std::to_string(serving) + " keeps serving the model above"
                        : std::string("nothing serves"))
                << "\n";
    }
    std::cout << "  generation:  " << d["generation"].get<int64_t>() << "\n"
              << "  instances:   " << d["instance_count"].get<int64_t>() << "\n"
              << "  request:     " << d["request_settings"].dump() << "\n"
              << "  data:        " << d["data_collector"].dump() << "\n";
    if (d.contains("code_configuration")) {
      std::cout << "  code:        "
                << d["code_configuration"]["code"].get<std::string>().substr(0, 12) << " ("
                << d["code_configuration"]["scoring_script"].get<std::string>() << ")\n";
    }
    if (d.contains("environment")) {
      std::cout << "  environment: " << d["environment"].get<std::string>() << "\n";
    }
    std::cout << "  updated:     " << FormatTime(d["last_updated_time"]) << "\n";
  }

  void List(const std::string& endpoint) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "deployments/list",
                       {{"endpoint_name", endpoint}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& d : (*r)["deployments"]) {
      rows.push_back(
          {d["name"],
           d["model_name"].get<std::string>() + ":" + d["model_version"].get<std::string>(),
           std::to_string(d["generation"].get<int64_t>()),
           std::to_string(d["instance_count"].get<int64_t>()), d["provisioning_state"]});
    }
    PrintTable({"NAME", "MODEL", "GENERATION", "INSTANCES", "STATE"}, rows);
  }

 private:
  CliContext& ctx_;
};

}  // namespace

void AddEndpointCommands(CLI::App& app, CliContext& ctx) {
  // CLI11 keeps pointers to these; they live as long as the app parses.
  static EndpointCommands ep(ctx);
  static DeploymentCommands dep(ctx);
  static std::string file, name, traffic, mirror, description, reason, request_file, deployment,
      endpoint, model, key_type = "primary";
  static int lines = 100, instance_count = 0;
  static bool all_traffic = false;

  auto* e = app.add_subcommand("endpoint", "online endpoints (Azure ML managed-online style)")
                ->require_subcommand(1);
  auto* create = e->add_subcommand("create", "create an endpoint from endpoint.yml");
  create->add_option("--file,-f", file, "endpoint YAML (name, auth_mode, description, tags)");
  create->add_option("--name,-n", name, "endpoint name (overrides the YAML's)");
  create->callback([&] { ep.Create(file, name); });

  auto* update = e->add_subcommand("update", "change traffic, mirror traffic or description");
  update->add_option("name", name, "endpoint name (or give it in -f)");
  update->add_option("--file,-f", file, "endpoint YAML");
  auto* traffic_opt =
      update->add_option("--traffic", traffic, "live traffic, e.g. blue=90,green=10 (sums to 100)");
  auto* mirror_opt =
      update->add_option("--mirror-traffic", mirror,
                         "mirrored traffic, e.g. green=10 (one deployment, <= 50; '' clears)");
  auto* desc_opt = update->add_option("--description", description);
  update->add_option("--reason", reason, "recorded with the traffic change");
  update->callback([&, traffic_opt, mirror_opt, desc_opt] {
    ep.Update(name, file, traffic_opt->count() ? &traffic : nullptr,
              mirror_opt->count() ? &mirror : nullptr, desc_opt->count() ? &description : nullptr,
              reason);
  });

  auto* show = e->add_subcommand("show", "traffic, mirror, deployments and the last changes");
  show->add_option("name", name)->required();
  show->callback([&] { ep.Show(name); });
  e->add_subcommand("list", "every endpoint")->callback([&] { ep.List(); });

  auto* del = e->add_subcommand("delete", "delete an endpoint and all its deployments");
  del->add_option("name", name)->required();
  del->callback([&] {
    ep.Simple("endpoints/delete", {{"name", name}}, "deleted endpoint " + name);
  });

  auto* invoke = e->add_subcommand("invoke", "score a request with the endpoint's key");
  invoke->add_option("name", name)->required();
  invoke
      ->add_option("--request-file,-r", request_file,
                   "JSON ({\"data\": ...} or an MLflow format) or a .csv file")
      ->required();
  invoke->add_option("--deployment,-d", deployment, "target one deployment (no mirroring)");
  invoke->callback([&] { ep.Invoke(name, request_file, deployment); });

  auto* logs = e->add_subcommand("get-logs", "a deployment's recent log lines");
  logs->add_option("name", name)->required();
  logs->add_option("--deployment,-d", deployment)->required();
  logs->add_option("--lines", lines)->capture_default_str();
  logs->callback([&] { ep.Logs(name, deployment, lines); });

  auto* creds = e->add_subcommand("get-credentials", "the endpoint's primary and secondary keys");
  creds->add_option("name", name)->required();
  creds->callback([&] { ep.Credentials(name); });

  auto* regen = e->add_subcommand("regenerate-keys", "replace one key (the old one stops working)");
  regen->add_option("name", name)->required();
  regen->add_option("--key-type", key_type)
      ->check(CLI::IsMember({"primary", "secondary"}))
      ->capture_default_str();
  regen->callback([&] {
    ep.Simple("endpoints/regenerate-keys", {{"name", name}, {"key_type", key_type}},
              "regenerated the " + key_type + " key of " + name);
  });

  auto* rollback = e->add_subcommand("rollback", "restore the traffic from before the last change");
  rollback->add_option("name", name)->required();
  rollback->add_option("--reason", reason);
  rollback->callback([&] { ep.Rollback(name, reason); });

  auto* d =
      app.add_subcommand("deployment", "deployments of online endpoints")->require_subcommand(1);
  for (bool is_create : {true, false}) {
    auto* c = d->add_subcommand(is_create ? "create" : "update",
                                is_create ? "deploy a model to an endpoint from deployment.yml"
                                          : "change a deployment (a new generation swaps in)");
    c->add_option("--file,-f", file, "deployment YAML (Azure ML managed-online schema)");
    c->add_option("--endpoint-name,-e", endpoint, "endpoint (overrides the YAML's)");
    c->add_option("--name,-n", name, "deployment name (overrides the YAML's)");
    c->add_option("--model", model, "registered model name:version or name@alias");
    c->add_option("--instance-count", instance_count)->check(CLI::Range(1, 64));
    c->add_flag("--all-traffic", all_traffic, "then send 100% of live traffic to it");
    c->callback([&, is_create] {
      dep.CreateOrUpdate(is_create, file, endpoint, name, model, instance_count, all_traffic);
    });
  }
  auto* dshow = d->add_subcommand("show", "a deployment's model, state and settings");
  dshow->add_option("--endpoint-name,-e", endpoint)->required();
  dshow->add_option("--name,-n", name)->required();
  dshow->callback([&] { dep.Show(endpoint, name); });
  auto* dlist = d->add_subcommand("list", "an endpoint's deployments");
  dlist->add_option("--endpoint-name,-e", endpoint)->required();
  dlist->callback([&] { dep.List(endpoint); });
  auto* ddel = d->add_subcommand("delete", "delete a deployment (refused while it takes traffic)");
  ddel->add_option("--endpoint-name,-e", endpoint)->required();
  ddel->add_option("--name,-n", name)->required();
  ddel->callback([&] {
    ep.Simple("deployments/delete", {{"endpoint_name", endpoint}, {"name", name}},
              "deleted deployment " + endpoint + "/" + name);
  });
  auto* dlogs = d->add_subcommand("get-logs", "a deployment's recent log lines");
  dlogs->add_option("--endpoint-name,-e", endpoint)->required();
  dlogs->add_option("--name,-n", name)->required();
  dlogs->add_option("--lines", lines)->capture_default_str();
  dlogs->callback([&] { ep.Logs(endpoint, name, lines); });
}

}  // namespace cairn
