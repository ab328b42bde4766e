#include "cli/model_commands.h"

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>

#include "artifacts/path_safety.h"
#include "cli/api_client.h"
#include "cli/asset_commands.h"
#include "cli/cli_context.h"
#include "core/fs.h"
#include "registry/model_gate.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
constexpr const char* kMlflowApi = "/api/2.0/mlflow/";

std::string StripAzurePrefix(std::string s) {
  return s.rfind("azureml:", 0) == 0 && s.rfind("azureml://", 0) != 0 ? s.substr(8) : s;
}

// "name:version" or "name@alias" (optionally "azureml:"-prefixed).
struct ModelRef {
  std::string name;
  std::string version;
  std::string alias;
  std::string str() const { return name + (alias.empty() ? ":" + version : "@" + alias); }
};

Result<ModelRef> ParseModelRef(const std::string& raw) {
  std::string text = StripAzurePrefix(raw);
  size_t at = text.rfind('@');
  size_t colon = text.rfind(':');
  ModelRef r;
  if (at != std::string::npos && (colon == std::string::npos || at > colon)) {
    r.name = text.substr(0, at);
    r.alias = text.substr(at + 1);
  } else if (colon != std::string::npos) {
    r.name = text.substr(0, colon);
    r.version = text.substr(colon + 1);
  }
  if (r.name.empty() || (r.version.empty() && r.alias.empty())) {
    return InvalidParameter("'" + raw +
                            "' is not a model version; write NAME:VERSION or NAME@ALIAS");
  }
  return r;
}

// Azure ML's model YAML. `path` is a local folder (relative to the YAML),
// runs:/<id>/<p>, or azureml://jobs/<run id>/outputs/artifacts/paths/<p>.
Result<ModelSpec> LoadModelYaml(const std::string& file) {
  CAIRN_ASSIGN_OR_RETURN(AssetYaml y, LoadAssetYaml(file, "model"));
  ModelSpec m;
  m.name = y.name;
  m.version = y.version;
  m.type = y.type;
  m.path = y.path;
  m.description = y.description;
  m.tags = y.tags;
  m.name = StripAzurePrefix(m.name);
  const std::string jobs = "azureml://jobs/";
  if (m.path.rfind("runs:/", 0) == 0) {
    std::string rest = m.path.substr(6);
    m.run = rest.substr(0, rest.find('/'));
    m.artifact_path = rest.find('/') == std::string::npos ? "" : rest.substr(rest.find('/') + 1);
    m.path.clear();
  } else if (m.path.rfind(jobs, 0) == 0) {
    std::string rest = m.path.substr(jobs.size());
    const std::string outputs = "/outputs/artifacts/paths/";
    size_t o = rest.find(outputs);
    if (o == std::string::npos) {
      return InvalidParameter(
          file + ": path '" + m.path +
          "' must look like azureml://jobs/<run id>/outputs/artifacts/paths/<p>");
    }
    m.run = rest.substr(0, o);
    m.artifact_path = rest.substr(o + outputs.size());
    m.path.clear();
  } else if (m.path.find("://") != std::string::npos) {
    return InvalidParameter(file + ": path '" + m.path +
                            "' is a URL Cairn does not read; give a local folder, runs:/<id>/<p> "
                            "or azureml://jobs/<id>/outputs/artifacts/paths/<p>");
  } else if (fs::path(m.path).is_relative()) {
    m.path = (fs::path(file).parent_path() / m.path).lexically_normal().string();
  }
  return m;
}

std::string TagValue(const Json& version, const std::string& key) {
  for (const auto& t : version.value("tags", Json::array())) {
    if (t.value("key", "") == key) return t.value("value", "");
  }
  return "";
}

std::string JoinStrings(const Json& list) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : ", ") + s.get<std::string>();
  return out;
}

}  // namespace

std::optional<nlohmann::json> CreateModelVersion(CliContext& ctx, const ModelSpec& m,
                                                 bool converted, bool quantized) {
  Json args = {{"name", StripAzurePrefix(m.name)}, {"tags", m.tags}};
  if (!m.version.empty()) args["version"] = m.version;
  if (!m.type.empty()) args["type"] = m.type;
  if (!m.description.empty()) args["description"] = m.description;
  if (!m.parent.empty()) args["parent"] = StripAzurePrefix(m.parent);
  if (converted) args["converted"] = true;
  if (quantized) args["quantized"] = true;
  if (!m.run.empty()) {
    std::string run = m.run.rfind("run:", 0) == 0 ? m.run.substr(4) : m.run;
    args["run_id"] = run;
    if (m.path.empty()) {
      args["source"] = "runs:/" + run + (m.artifact_path.empty() ? "" : "/" + m.artifact_path);
    }
  }
  if (!m.path.empty()) {
    // Uploaded files; a run given too is recorded as the version's source run (lineage).
    bool is_file = false;
    auto files = CollectLocalFiles(m.path, &is_file);
    if (!files.ok()) {
      ctx.FailLocal(files.status());
      return std::nullopt;
    }
    auto manifest = UploadFiles(ctx, *files);
    if (!manifest.ok()) {
      ctx.FailLocal(manifest.status());
      return std::nullopt;
    }
    args["files"] = ManifestJson(*manifest);
  }
  return ctx.Send("POST", std::string(kCairnApi) + "models/create", args);
}

namespace {

class ModelCommands {
 public:
  explicit ModelCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(ModelSpec m, const std::vector<std::string>& tag_args, bool converted,
              bool quantized) {
    for (const auto& t : tag_args) {
      size_t eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        return ctx_.Fail(kUsage, "BAD_REQUEST", "--tag expects KEY=VALUE, got '" + t + "'");
      }
      m.tags[t.substr(0, eq)] = t.substr(eq + 1);
    }
    if (m.name.empty() || (m.path.empty() == m.run.empty())) {
      return ctx_.Fail(kUsage, "BAD_REQUEST",
                       "model create needs --name and either --path DIR or --run RUN_ID "
                       "--artifact-path P (or -f model.yml)");
    }
    auto r = CreateModelVersion(ctx_, m, converted, quantized);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& v = (*r)["model_version"];
    std::cout << "registered model " << v["name"].get<std::string>() << ":"
              << v["version"].get<std::string>() << " (" << TagValue(v, "cairn.model_type")
              << ", source " << v["source"].get<std::string>() << ")\n";
  }

  void List(const std::string& name) {
    if (name.empty()) {
      auto r = ctx_.Send("GET", std::string(kMlflowApi) + "registered-models/search",
                         {{"max_results", 1000}});
      if (!r) return;
      if (ctx_.json) return ctx_.Emit(*r);
      std::vector<std::vector<std::string>> rows;
      for (const auto& m : r->value("registered_models", Json::array())) {
        int64_t latest = 0;
        for (const auto& v : m.value("latest_versions", Json::array())) {
          latest = std::max<int64_t>(latest, std::stoll(v["version"].get<std::string>()));
        }
        std::string aliases;
        for (const auto& a : m.value("aliases", Json::array())) {
          aliases += (aliases.empty() ? "" : ", ") + a["alias"].get<std::string>() + "=" +
                     a["version"].get<std::string>();
        }
        rows.push_back({m["name"], latest ? std::to_string(latest) : "-", aliases,
                        FormatTime(m["last_updated_timestamp"])});
      }
      return PrintTable({"NAME", "LATEST", "ALIASES", "UPDATED"}, rows);
    }
    std::string quoted;
    for (char c : name) quoted += c == '\'' ? std::string("\\'") : std::string(1, c);
    auto r = ctx_.Send("GET", std::string(kMlflowApi) + "model-versions/search",
                       {{"filter", "name = '" + quoted + "'"}, {"max_results", 10000}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& v : r->value("model_versions", Json::array())) {
      rows.push_back({v["version"], v["current_stage"],
                      JoinStrings(v.value("aliases", Json::array())), v.value("run_id", ""),
                      FormatTime(v["creation_timestamp"])});
    }
    PrintTable({"VERSION", "STAGE", "ALIASES", "RUN", "CREATED"}, rows);
  }

  void Show(const std::string& ref_text) {
    auto ref = ParseModelRef(ref_text);
    if (!ref.ok()) return LocalError(ref.status());
    auto v = Quiet(GetVersion(*ref));
    if (!v) return;
    std::string name = (*v)["name"], version = (*v)["version"];
    std::string entity = "model:" + name + ":" + version;
    auto up = ctx_.Send("GET", std::string(kCairnApi) + "lineage/show",
                        {{"entity", entity}, {"direction", "upstream"}, {"depth", 10}});
    if (!up) return;
    auto down = ctx_.Send("GET", std::string(kCairnApi) + "lineage/show",
                          {{"entity", entity}, {"direction", "downstream"}, {"depth", 1}});
    if (!down) return;
    auto history =
        ctx_.Send("GET", std::string(kCairnApi) + "models/alias-history", {{"name", name}});
    if (!history) return;
    Json deployments = Json::array();
    for (const auto& e : (*down)["downstream"]) {
      std::string to = e["to"];
      if (e["from"] == entity && to.rfind("deployment:", 0) == 0)
        deployments.push_back(to.substr(11));
    }
    Json mlmodel = Json::parse(TagValue(*v, "cairn.mlmodel"), nullptr, false);
    if (mlmodel.is_discarded()) mlmodel = nullptr;
    Json versions_history = Json::array();
    for (const auto& h : (*history)["history"]) versions_history.push_back(h);
    if (ctx_.json) {
      return ctx_.Emit({{"model_version", *v},
                        {"mlmodel", mlmodel},
                        {"lineage", {{"upstream", (*up)["upstream"]}}},
                        {"deployments", deployments},
                        {"alias_history", versions_history}});
    }
    const Json& mv = *v;
    std::cout << "model " << name << ":" << version << "\n"
              << "  stage:       " << mv.value("current_stage", "") << "\n"
              << "  aliases:     "
              << (mv.contains("aliases") ? JoinStrings(mv["aliases"]) : std::string("(none)"))
              << "\n"
              << "  type:        " << TagValue(mv, "cairn.model_type") << "\n"
              << "  source:      " << mv.value("source", "") << "\n"
              << "  created:     " << FormatTime(mv["creation_timestamp"]) << "\n";
    if (!mv.value("description", "").empty()) {
      std::cout << "  description: " << mv.value("description", "") << "\n";
    }
    std::string flags;
    if (TagValue(mv, "cairn.converted") == "true") flags += " converted";
    if (TagValue(mv, "cairn.quantized") == "true") flags += " quantized";
    if (!flags.empty()) std::cout << "  flags:      " << flags << "\n";
    for (const auto& t : mv.value("tags", Json::array())) {
      std::string k = t["key"];
      if (k.rfind("cairn.", 0) == 0) continue;
      std::cout << "  tag:         " << k << "=" << t.value("value", "") << "\n";
    }
    if (mlmodel.is_object()) {
      std::string flavors;
      for (auto& [f, cfg] : mlmodel["flavors"].items()) {
        std::string detail;
        for (const char* k : {"loader_module", "sklearn_version", "xgb_version", "model_class"}) {
          if (cfg.contains(k) && cfg[k].is_string()) {
            detail +=
                (detail.empty() ? "" : ", ") + std::string(k) + " " + cfg[k].get<std::string>();
          }
        }
        flavors += (flavors.empty() ? "" : "; ") + f + (detail.empty() ? "" : " (" + detail + ")");
      }
      std::cout << "  flavors:     " << flavors << "\n";
      if (mlmodel.value("requirements_txt", false)) std::cout << "  requirements.txt: yes\n";
      if (mlmodel.value("conda_yaml", false)) std::cout << "  conda.yaml:  yes\n";
      for (const char* side : {"inputs", "outputs"}) {
        const Json& specs = mlmodel["signature"][side];
        if (!specs.is_array()) continue;
        std::cout << "signature " << side << ":\n";
        std::vector<std::vector<std::string>> rows;
        for (const auto& s : specs) {
          std::string type = s.value("type", "");
          if (type == "tensor" && s.contains("tensor-spec")) {
            type = "tensor " + s["tensor-spec"].value("dtype", "") + " " +
                   s["tensor-spec"]["shape"].dump();
          }
          rows.push_back({s.value("name", "-"), type, s.value("required", true) ? "yes" : "no"});
        }
        PrintTable({"NAME", "TYPE", "REQUIRED"}, rows);
      }
    }
    PrintLineage(entity, (*up)["upstream"]);
    std::cout << "deployed to:\n";
    if (deployments.empty()) std::cout << "  (not deployed)\n";
    for (const auto& d : deployments) std::cout << "  " << d.get<std::string>() << "\n";
    std::cout << "alias history:\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& h : versions_history) {
      rows.push_back({FormatTime(h["time"]), h["alias"], h["action"], h["version"],
                      h.value("previous_version", "-"), h.value("user", ""),
                      h.value("reason", "")});
    }
    PrintTable({"TIME", "ALIAS", "ACTION", "VERSION", "PREVIOUS", "USER", "REASON"}, rows);
  }

  // Downloads a version's files into `out_dir` (default ./<name>-<version>);
  // errors are printed through ctx_. Returns what was downloaded.
  std::optional<DownloadedModel> DownloadVersion(const std::string& ref_text,
                                                 const std::string& out_dir) {
    auto ref = ParseModelRef(ref_text);
    if (!ref.ok()) {
      LocalError(ref.status());
      return std::nullopt;
    }
    auto v = Quiet(GetVersion(*ref));
    if (!v) return std::nullopt;
    DownloadedModel d;
    d.name = (*v)["name"];
    d.version = (*v)["version"];
    d.run_id = v->value("run_id", "");
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "models/files",
                       {{"name", d.name}, {"version", d.version}});
    if (!r) return std::nullopt;
    fs::path dest = out_dir.empty() ? fs::path(d.name + "-" + d.version) : fs::path(out_dir);
    d.path = dest.string();
    ApiClient client(ctx_.server);
    for (const auto& f : (*r)["files"]) {
      std::string rel = f["path"];
      auto clean = NormalizeRelativePath(rel);
      if (!clean.ok() || *clean != rel || rel.empty()) {
        LocalError(InvalidParameter("refusing to write '" + rel + "' outside " + dest.string()));
        return std::nullopt;
      }
      fs::path target = dest / rel;
      if (Status st = EnsureDirectory(target.parent_path()); !st.ok()) {
        LocalError(st);
        return std::nullopt;
      }
      Status st = client.Download("/model-versions/get-artifact",
                                  {{"name", d.name}, {"version", d.version}, {"path", rel}},
                                  target.string());
      if (!st.ok()) {
        ctx_.Fail(client.unreachable() ? kUnreachable : kRefused, ErrorCodeName(st.code()),
                  st.message());
        return std::nullopt;
      }
      ++d.files;
    }
    return d;
  }

  void Download(const std::string& ref_text, const std::string& out_dir) {
    auto d = DownloadVersion(ref_text, out_dir);
    if (!d) return;
    if (ctx_.json) {
      return ctx_.Emit(
          {{"name", d->name}, {"version", d->version}, {"path", d->path}, {"files", d->files}});
    }
    std::cout << "downloaded model " << d->name << ":" << d->version << " (" << d->files
              << " file(s)) to " << d->path << "\n";
  }

  // Archive = MLflow stage Archived (aliases keep pointing at the version).
  void Archive(const std::string& ref_text) {
    auto ref = ParseModelRef(ref_text);
    if (!ref.ok()) return LocalError(ref.status());
    auto v = Quiet(GetVersion(*ref));
    if (!v) return;
    auto r = ctx_.Send("POST", std::string(kMlflowApi) + "model-versions/transition-stage",
                       {{"name", (*v)["name"]},
                        {"version", (*v)["version"]},
                        {"stage", "Archived"},
                        {"archive_existing_versions", false}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "archived model " << (*v)["name"].get<std::string>() << ":"
              << (*v)["version"].get<std::string>() << " (stage Archived)\n";
  }

  // NAME deletes the model with all its versions; NAME:VERSION or NAME@ALIAS
  // one version. The server refuses a version an online deployment serves.
  void Delete(const std::string& ref_text) {
    if (ref_text.find_first_of(":@") == std::string::npos) {
      auto r = ctx_.Send("DELETE", std::string(kMlflowApi) + "registered-models/delete",
                         {{"name", ref_text}});
      if (!r) return;
      if (ctx_.json) return ctx_.Emit(*r);
      std::cout << "deleted model " << ref_text << " and all its versions\n";
      return;
    }
    auto ref = ParseModelRef(ref_text);
    if (!ref.ok()) return LocalError(ref.status());
    auto v = Quiet(GetVersion(*ref));
    if (!v) return;
    auto r = ctx_.Send("DELETE", std::string(kMlflowApi) + "model-versions/delete",
                       {{"name", (*v)["name"]}, {"version", (*v)["version"]}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "deleted model " << (*v)["name"].get<std::string>() << ":"
              << (*v)["version"].get<std::string>() << "\n";
  }

  // Points `alias` at the version; errors printed through ctx_. Returns the
  // version the alias pointed at before ("" when unset).
  std::optional<std::string> SetAlias(const std::string& name, const std::string& version,
                                      const std::string& alias, const std::string& reason) {
    std::string previous;
    auto before = Request("GET", std::string(kMlflowApi) + "registered-models/alias",
                          {{"name", name}, {"alias", alias}});
    if (before.ok()) previous = (*before)["model_version"]["version"];
    auto r = ctx_.Send("POST", std::string(kMlflowApi) + "registered-models/alias",
                       {{"name", name},
                        {"alias", alias},
                        {"version", version},
                        {"user", UserName()},
                        {"reason", reason}});
    if (!r) return std::nullopt;
    return previous;
  }

  void Promote(const std::string& ref_text, const std::string& alias, const std::string& reason) {
    auto ref = ParseModelRef(ref_text);
    if (!ref.ok()) return LocalError(ref.status());
    auto v = Quiet(GetVersion(*ref));
    if (!v) return;
    std::string name = (*v)["name"], version = (*v)["version"];
    auto set = SetAlias(name, version, alias, reason);
    if (!set) return;
    const std::string& previous = *set;
    if (ctx_.json) {
      return ctx_.Emit({{"name", name},
                        {"alias", alias},
                        {"version", version},
                        {"previous_version", previous.empty() ? Json() : Json(previous)}});
    }
    std::cout << "promoted " << name << ":" << version << " to @" << alias
              << (previous.empty() ? "" : " (was version " + previous + ")") << "\n";
  }

  // The gate's inputs resolved through the server and its decision.
  Result<ModelGateOutcome> Gate(const std::string& candidate, const std::string& against,
                                const std::string& metric, bool lower_is_better, double min_delta,
                                bool allow_no_champion) {
    ModelGateOutcome o;
    GateRequest& req = o.request;
    req.metric = metric;
    req.higher_is_better = !lower_is_better;
    req.min_delta = min_delta;
    req.allow_no_champion = allow_no_champion;
    CAIRN_RETURN_IF_ERROR(ResolveSide(candidate, metric, false, &req.candidate, &o.candidate_run));
    CAIRN_RETURN_IF_ERROR(ResolveSide(against, metric, true, &req.champion, &o.champion_run));
    CAIRN_ASSIGN_OR_RETURN(o.decision, DecideChampionChallenger(req));
    return o;
  }

  // The champion/challenger gate; every failure exits 2.
  void Compare(const std::string& candidate, const std::string& against, const std::string& metric,
               bool lower_is_better, double min_delta, bool allow_no_champion) {
    auto outcome = Gate(candidate, against, metric, lower_is_better, min_delta, allow_no_champion);
    if (!outcome.ok()) {
      return ctx_.Fail(kUsage, ErrorCodeName(outcome.status().code()), outcome.status().message());
    }
    const GateRequest& req = outcome->request;
    const GateDecision* d = &outcome->decision;
    const std::string& cand_run = outcome->candidate_run;
    const std::string& champ_run = outcome->champion_run;
    ctx_.exit = d->win ? kOk : kRefused;
    auto value = [](const std::optional<double>& v) { return v ? Json(*v) : Json(); };
    if (ctx_.json) {
      return ctx_.Emit({{"candidate",
                         {{"ref", req.candidate.ref},
                          {"run_id", cand_run},
                          {"value", value(req.candidate.value)}}},
                        {"champion",
                         {{"ref", req.champion.ref},
                          {"run_id", champ_run.empty() ? Json() : Json(champ_run)},
                          {"value", value(req.champion.value)}}},
                        {"metric", metric},
                        {"higher_is_better", req.higher_is_better},
                        {"min_delta", min_delta},
                        {"delta", d->delta ? Json(*d->delta) : Json()},
                        {"decision", d->win ? "win" : "lose"},
                        {"reason", d->reason}});
    }
    auto show = [&](const char* role, const GateSide& s, const std::string& run) {
      std::cout << role << s.ref;
      if (!s.exists) {
        std::cout << "  (not set)\n";
        return;
      }
      std::cout << "  run " << run << "  " << metric << " = " << FormatValue(*s.value) << "\n";
    };
    show("candidate: ", req.candidate, cand_run);
    show("champion:  ", req.champion, champ_run);
    if (d->delta)
      std::cout << "delta:     " << FormatValue(*d->delta) << " (candidate - champion)\n";
    std::cout << "decision:  " << (d->win ? "WIN" : "LOSE") << " - " << d->reason << "\n";
  }

 private:
  // A request that reports nothing itself.
  Result<Json> Request(const std::string& method, const std::string& path, const Json& args) {
    ApiClient client(ctx_.server);
    Result<std::string> body = Status();
    if (method == "GET") {
      std::multimap<std::string, std::string> q;
      for (auto& [k, v] : args.items())
        q.emplace(k, v.is_string() ? v.get<std::string>() : v.dump());
      body = client.Get(path, q);
    } else {
      body = client.Post(path, args.dump());
    }
    if (!body.ok()) {
      if (client.unreachable()) {
        return Status(ErrorCode::kTemporarilyUnavailable, body.status().message());
      }
      return body.status();
    }
    Json j = Json::parse(*body, nullptr, false);
    if (j.is_discarded()) return InternalError("the server's answer to " + path + " is not JSON");
    return j;
  }

  Result<Json> GetVersion(const ModelRef& ref) {
    Result<Json> r = Request("GET", std::string(kCairnApi) + "models/get",
                             ref.alias.empty() ? Json{{"name", ref.name}, {"version", ref.version}}
                                               : Json{{"name", ref.name}, {"alias", ref.alias}});
    if (!r.ok()) return r.status();
    return (*r)["model_version"];
  }

  std::optional<Json> Quiet(Result<Json> r) {
    if (r.ok()) return std::move(*r);
    LocalError(r.status());
    return std::nullopt;
  }

  // Fills `side` from a model reference or a run id: its source run's latest `metric`.
  Status ResolveSide(const std::string& text, const std::string& metric, bool champion,
                     GateSide* side, std::string* run_id) {
    side->ref = text;
    std::string stripped = StripAzurePrefix(text);
    bool is_run = stripped.rfind("run:", 0) == 0 || (stripped.find(':') == std::string::npos &&
                                                     stripped.find('@') == std::string::npos);
    if (is_run) {
      *run_id = stripped.rfind("run:", 0) == 0 ? stripped.substr(4) : stripped;
    } else {
      CAIRN_ASSIGN_OR_RETURN(ModelRef ref, ParseModelRef(text));
      auto v = GetVersion(ref);
      if (!v.ok()) {
        if (champion && !ref.alias.empty() &&
            v.status().code() == ErrorCode::kResourceDoesNotExist) {
          // An unknown model is an error; a known model without the alias has no champion yet.
          auto model = Request("GET", std::string(kMlflowApi) + "registered-models/get",
                               {{"name", ref.name}});
          if (!model.ok()) return model.status();
          side->exists = false;
          return Status::Ok();
        }
        return v.status();
      }
      *run_id = v->value("run_id", "");
      if (run_id->empty()) {
        return InvalidParameter("model version " + text +
                                " has no source run, so it has no metrics to compare; register "
                                "it with --run, or compare run ids");
      }
    }
    auto run = Request("GET", std::string(kMlflowApi) + "runs/get", {{"run_id", *run_id}});
    if (!run.ok()) return run.status();
    for (const auto& m : (*run)["run"]["data"].value("metrics", Json::array())) {
      if (m.value("key", "") == metric && m["value"].is_number())
        side->value = m["value"].get<double>();
    }
    return Status::Ok();
  }

  void PrintLineage(const std::string& entity, const Json& upstream) {
    std::string run, parent;
    std::set<std::string> data, code, environments;
    for (const auto& e : upstream) {
      std::string from = e["from"], to = e["to"], rel = e["relation"];
      if (to == entity && from.rfind("run:", 0) == 0) run = from;
      if (to == entity && from.rfind("model:", 0) == 0) parent = from.substr(6) + " (" + rel + ")";
      if (from.rfind("data:", 0) == 0 || from.rfind("dataset:", 0) == 0) data.insert(from);
      if (from.rfind("code:", 0) == 0) code.insert(from);
      if (from.rfind("environment:", 0) == 0) environments.insert(from);
    }
    auto list = [](const std::set<std::string>& s) {
      std::string out;
      for (const auto& x : s) out += (out.empty() ? "" : ", ") + x;
      return out.empty() ? std::string("(none recorded)") : out;
    };
    std::cout << "lineage:\n"
              << "  source run:  " << (run.empty() ? "(none)" : run) << "\n"
              << "  data:        " << list(data) << "\n"
              << "  code:        " << list(code) << "\n"
              << "  environment: " << list(environments) << "\n"
              << "  parent:      " << (parent.empty() ? "(none)" : parent) << "\n";
    for (const auto& e : upstream) {
      std::cout << "    " << e["from"].get<std::string>() << " -> " << e["to"].get<std::string>()
                << "  (" << e["relation"].get<std::string>() << ")\n";
    }
  }

  void LocalError(const Status& st) { ctx_.FailLocal(st); }

  CliContext& ctx_;
};

}  // namespace

Result<ModelGateOutcome> RunModelGate(CliContext& ctx, const std::string& candidate,
                                      const std::string& against, const std::string& metric,
                                      bool lower_is_better, double min_delta,
                                      bool allow_no_champion) {
  ModelCommands cmd(ctx);
  return cmd.Gate(candidate, against, metric, lower_is_better, min_delta, allow_no_champion);
}

std::optional<DownloadedModel> DownloadModelVersion(CliContext& ctx, const std::string& ref,
                                                    const std::string& out_dir) {
  ModelCommands cmd(ctx);
  return cmd.DownloadVersion(ref, out_dir);
}

std::optional<std::string> SetModelAlias(CliContext& ctx, const std::string& name,
                                         const std::string& version, const std::string& alias,
                                         const std::string& reason) {
  ModelCommands cmd(ctx);
  return cmd.SetAlias(name, version, alias, reason);
}

void AddModelCommands(CLI::App& app, CliContext& ctx) {
  // CLI11 keeps pointers to these; they live as long as the app parses.
  static ModelCommands cmd(ctx);
  static ModelSpec spec;
  static std::string file, ref, name, out, against, metric, alias, reason;
  static std::vector<std::string> tags;
  static bool converted = false, quantized = false, higher = false, lower = false,
              allow_no_champion = false;
  static double min_delta = 0;

  auto* m = app.add_subcommand("model", "registered models: versions, lineage, champion gate")
                ->require_subcommand(1);
  auto* create = m->add_subcommand(
      "create", "register a model version from a local folder or a run's artifacts");
  create->add_option("--name,-n", spec.name, "model name");
  create->add_option("--version,-v", spec.version,
                     "expected version number (versions are numbered 1, 2, 3...)");
  create->add_option("--path,-p", spec.path, "local model folder (or file) to upload");
  create->add_option("--run", spec.run, "run id whose artifacts hold the model");
  create->add_option("--artifact-path", spec.artifact_path, "the model's path in the run");
  create
      ->add_option("--type,-t", spec.type,
                   "custom_model or mlflow_model (default: mlflow_model "
                   "when the folder holds an MLmodel)")
      ->check(CLI::IsMember({"custom_model", "mlflow_model"}));
  create->add_option("--description,-d", spec.description);
  create->add_option("--tag,--tags", tags, "KEY=VALUE (repeatable)");
  create->add_option("--parent", spec.parent, "NAME:VERSION this model derives from");
  create->add_flag("--converted", converted, "derived by format conversion (e.g. to ONNX)");
  create->add_flag("--quantized", quantized, "derived by quantization");
  create->add_option("--file,-f", file,
                     "Azure ML model YAML (name, version, path, type, description, tags)");
  create->callback([&] {
    ModelSpec s = spec;
    if (!file.empty()) {
      auto loaded = LoadModelYaml(file);
      if (!loaded.ok()) {
        return ctx.Fail(kUsage, ErrorCodeName(loaded.status().code()), loaded.status().message());
      }
      s = *loaded;
      // Flags given with -f override the file, as Azure ML's --set does.
      for (auto [flag, field] : {std::pair{&spec.name, &s.name},
                                 {&spec.version, &s.version},
                                 {&spec.type, &s.type},
                                 {&spec.description, &s.description},
                                 {&spec.parent, &s.parent}}) {
        if (!flag->empty()) *field = *flag;
      }
      if (!spec.path.empty() || !spec.run.empty()) {
        s.path = spec.path;
        s.run = spec.run;
        s.artifact_path = spec.artifact_path;
      }
    }
    cmd.Create(s, tags, converted, quantized);
  });

  auto* list = m->add_subcommand("list", "list models, or one model's versions");
  list->add_option("--name,-n", name, "list this model's versions");
  list->callback([&] { cmd.List(name); });

  auto* show = m->add_subcommand(
      "show", "a version with its aliases, signature, lineage, deployments and alias history");
  show->add_option("ref", ref, "NAME:VERSION or NAME@ALIAS")->required();
  show->callback([&] { cmd.Show(ref); });

  auto* download = m->add_subcommand("download", "download a version's files");
  download->add_option("ref", ref, "NAME:VERSION or NAME@ALIAS")->required();
  download->add_option("--output,-o", out, "destination folder (default: ./<name>-<version>)");
  download->callback([&] { cmd.Download(ref, out); });

  auto* archive = m->add_subcommand("archive", "move a version to stage Archived");
  archive->add_option("ref", ref, "NAME:VERSION or NAME@ALIAS")->required();
  archive->callback([&] { cmd.Archive(ref); });

  auto* del = m->add_subcommand(
      "delete",
      "delete a version (NAME:VERSION, NAME@ALIAS) or a whole model (NAME); refused "
      "while an online deployment serves it");
  del->add_option("ref", ref, "NAME, NAME:VERSION or NAME@ALIAS")->required();
  del->callback([&] { cmd.Delete(ref); });

  auto* compare = m->add_subcommand(
      "compare", "champion/challenger gate: exit 0 if the candidate wins, 1 if not, 2 on error");
  compare->add_option("candidate", ref, "NAME:VERSION, NAME@ALIAS, run:<id> or a run id")
      ->required();
  compare->add_option("--against", against, "the champion, e.g. churn@champion")->required();
  compare->add_option("--metric", metric, "metric logged in both source runs")->required();
  auto* hi = compare->add_flag("--higher-is-better", higher, "(default)");
  compare->add_flag("--lower-is-better", lower, "for losses and errors")->excludes(hi);
  compare->add_option("--min-delta", min_delta, "required improvement (>= 0)")
      ->capture_default_str();
  compare->add_flag("--allow-no-champion", allow_no_champion,
                    "when the alias is not set yet, let the candidate win");
  compare->callback(
      [&] { cmd.Compare(ref, against, metric, lower, min_delta, allow_no_champion); });

  auto* promote = m->add_subcommand("promote", "point an alias at a version, recording why");
  promote->add_option("ref", ref, "NAME:VERSION")->required();
  promote->add_option("--alias", alias, "alias to move, e.g. champion")->required();
  promote->add_option("--reason", reason, "why (kept in the alias history)");
  promote->callback([&] { cmd.Promote(ref, alias, reason); });
}

}  // namespace cairn
