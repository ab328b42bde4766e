#include "cli/cli.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "api/server.h"
#include "cli/api_client.h"
#include "cli/asset_commands.h"
#include "cli/cli_context.h"
#include "cli/component_commands.h"
#include "cli/endpoint_commands.h"
#include "cli/event_commands.h"
#include "cli/job_commands.h"
#include "cli/model_commands.h"
#include "core/version.h"

namespace cairn {
namespace {

using Json = nlohmann::json;
constexpr const char* kApi = "/api/2.0/mlflow/";

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

class Commands {
 public:
  explicit Commands(CliContext& g) : g_(g) {}

  std::optional<Json> Send(const std::string& method, const std::string& path, const Json& args) {
    return g_.Send(method, path, args);
  }

  // An MLflow endpoint, e.g. "runs/get".
  std::optional<Json> Call(const std::string& method, const std::string& endpoint,
                           const Json& args) {
    return Send(method, kApi + endpoint, args);
  }

  void ArtifactsVerify() {
    auto r = Send("POST", "/api/2.0/cairn/artifacts/verify", Json::object());
    if (!r) return;
    bool ok = r->value("ok", false);
    if (!ok) g_.exit = kRefused;
    if (g_.json) return Emit(*r);
    std::cout << "checked " << (*r)["files_checked"].dump() << " artifact files and "
              << (*r)["blobs_checked"].dump() << " blobs (" << (*r)["bytes_checked"].dump()
              << " bytes)\n";
    auto list = [](const char* title, const Json& items) {
      for (const auto& i : items) std::cout << title << ": " << i.get<std::string>() << "\n";
    };
    list("corrupt blob", (*r)["corrupt_blobs"]);
    list("missing blob", (*r)["missing_blobs"]);
    list("damaged entry", (*r)["damaged_entries"]);
    std::cout << (ok ? "artifact store is consistent\n" : "artifact store has problems\n");
  }

  void ArtifactsGc(int64_t grace) {
    auto r = Send("POST", "/api/2.0/cairn/artifacts/gc", {{"grace_seconds", grace}});
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::cout << "removed " << (*r)["removed_blobs"].dump() << " unreferenced blobs ("
              << (*r)["freed_bytes"].dump() << " bytes) and " << (*r)["removed_temp_files"].dump()
              << " stale temp files; kept " << (*r)["kept_blobs"].dump() << " blobs\n";
  }

  // Accepts an experiment id or name.
  std::optional<std::string> ResolveExperiment(const std::string& id_or_name) {
    bool numeric =
        !id_or_name.empty() && id_or_name.find_first_not_of("0123456789") == std::string::npos;
    if (numeric) return id_or_name;
    auto r = Call("GET", "experiments/get-by-name", {{"experiment_name", id_or_name}});
    if (!r) return std::nullopt;
    return (*r)["experiment"]["experiment_id"].get<std::string>();
  }

  void Emit(const Json& j) { g_.Emit(j); }

  void ExperimentList(const std::string& view, const std::string& filter, int64_t max) {
    Json args = {{"view_type", view}, {"max_results", max}};
    if (!filter.empty()) args["filter"] = filter;
    auto r = Call("POST", "experiments/search", args);
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : r->value("experiments", Json::array())) {
      rows.push_back({e["experiment_id"], e["name"], e["lifecycle_stage"],
                      FormatTime(e["creation_time"]), e["artifact_location"]});
    }
    PrintTable({"ID", "NAME", "STAGE", "CREATED", "ARTIFACT_LOCATION"}, rows);
  }

  void ExperimentCreate(const std::string& name, const std::string& location,
                        const std::vector<std::string>& tags) {
    Json args = {{"name", name}};
    if (!location.empty()) args["artifact_location"] = location;
    if (!ParseTags(tags, args["tags"])) return;
    auto r = Call("POST", "experiments/create", args);
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::cout << "created experiment " << (*r)["experiment_id"].get<std::string>() << " ('" << name
              << "')\n";
  }

  void ExperimentShow(const std::string& ref) {
    auto id = ResolveExperiment(ref);
    if (!id) return;
    auto r = Call("GET", "experiments/get", {{"experiment_id", *id}});
    if (!r) return;
    if (g_.json) return Emit(*r);
    const Json& e = (*r)["experiment"];
    std::cout << "id:                " << e["experiment_id"].get<std::string>() << "\n"
              << "name:              " << e["name"].get<std::string>() << "\n"
              << "lifecycle_stage:   " << e["lifecycle_stage"].get<std::string>() << "\n"
              << "artifact_location: " << e["artifact_location"].get<std::string>() << "\n"
              << "created:           " << FormatTime(e["creation_time"]) << "\n"
              << "last_updated:      " << FormatTime(e["last_update_time"]) << "\n";
    for (const auto& t : e.value("tags", Json::array())) {
      std::cout << "tag " << t["key"].get<std::string>() << " = " << t["value"].get<std::string>()
                << "\n";
    }
  }

  void ExperimentDelete(const std::string& ref) {
    auto id = ResolveExperiment(ref);
    if (!id) return;
    auto r = Call("POST", "experiments/delete", {{"experiment_id", *id}});
    if (!r) return;
    if (g_.json) return Emit({{"experiment_id", *id}, {"lifecycle_stage", "deleted"}});
    std::cout << "deleted experiment " << *id << " (restore with the experiments/restore API)\n";
  }

  void RunSearch(const std::vector<std::string>& experiments, const std::string& filter,
                 const std::vector<std::string>& order_by, const std::string& view, int64_t max) {
    Json ids = Json::array();
    for (const auto& e : experiments.empty() ? std::vector<std::string>{"0"} : experiments) {
      auto id = ResolveExperiment(e);
      if (!id) return;
      ids.push_back(*id);
    }
    Json args = {{"experiment_ids", ids}, {"max_results", max}, {"run_view_type", view}};
    if (!filter.empty()) args["filter"] = filter;
    if (!order_by.empty()) args["order_by"] = order_by;
    auto r = Call("POST", "runs/search", args);
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& run : r->value("runs", Json::array())) {
      const Json& info = run["info"];
      std::string metrics;
      for (const auto& m : run["data"].value("metrics", Json::array())) {
        if (metrics.size() > 60) {
          metrics += " ...";
          break;
        }
        metrics += (metrics.empty() ? "" : " ") + m["key"].get<std::string>() + "=" +
                   FormatValue(m["value"]);
      }
      rows.push_back({info["run_id"], info.value("run_name", ""), info["status"],
                      FormatTime(info.value("start_time", Json())), metrics});
    }
    PrintTable({"RUN_ID", "NAME", "STATUS", "STARTED", "METRICS"}, rows);
    if (r->contains("next_page_token")) std::cout << "(more runs: raise --max-results)\n";
  }

  void RunShow(const std::string& run_id) {
    auto r = Call("GET", "runs/get", {{"run_id", run_id}});
    if (!r) return;
    if (g_.json) return Emit(*r);
    const Json& info = (*r)["run"]["info"];
    const Json& data = (*r)["run"]["data"];
    std::cout << "run:          " << info["run_id"].get<std::string>() << "\n"
              << "name:         " << info.value("run_name", "") << "\n"
              << "experiment:   " << info["experiment_id"].get<std::string>() << "\n"
              << "status:       " << info["status"].get<std::string>() << "\n"
              << "started:      " << FormatTime(info.value("start_time", Json())) << "\n"
              << "ended:        " << FormatTime(info.value("end_time", Json())) << "\n"
              << "artifact_uri: " << info["artifact_uri"].get<std::string>() << "\n";
    auto section = [](const char* title, const Json& list, bool metric) {
      if (list.empty()) return;
      std::cout << title << ":\n";
      for (const auto& e : list) {
        std::cout << "  " << e["key"].get<std::string>() << " = " << FormatValue(e["value"]);
        if (metric) std::cout << "  (step " << e["step"].dump() << ")";
        std::cout << "\n";
      }
    };
    section("params", data.value("params", Json::array()), false);
    section("metrics", data.value("metrics", Json::array()), true);
    section("tags", data.value("tags", Json::array()), false);
  }

  void RunCreate(const std::string& experiment, const std::string& name,
                 const std::vector<std::string>& tags) {
    auto id = ResolveExperiment(experiment);
    if (!id) return;
    Json args = {{"experiment_id", *id}, {"start_time", NowMillis()}};
    if (!name.empty()) args["run_name"] = name;
    if (const char* user = std::getenv("USER")) args["user_id"] = user;
    if (!ParseTags(tags, args["tags"])) return;
    auto r = Call("POST", "runs/create", args);
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::cout << (*r)["run"]["info"]["run_id"].get<std::string>() << "\n";
  }

  void RunEnd(const std::string& run_id, const std::string& status) {
    auto r = Call("POST", "runs/update",
                  {{"run_id", run_id}, {"status", status}, {"end_time", NowMillis()}});
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::cout << "run " << run_id << " " << status << "\n";
  }

  void Log(const std::string& endpoint, const Json& args, const std::string& what) {
    auto r = Call("POST", endpoint, args);
    if (!r) return;
    if (g_.json) return Emit(Json::object());
    std::cout << what << "\n";
  }

  void RunArtifacts(const std::string& run_id, const std::string& path) {
    Json args = {{"run_id", run_id}};
    if (!path.empty()) args["path"] = path;
    auto r = Call("GET", "artifacts/list", args);
    if (!r) return;
    if (g_.json) return Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& f : r->value("files", Json::array())) {
      rows.push_back({f["path"], f["is_dir"].get<bool>() ? "dir" : "file",
                      f.contains("file_size") ? f["file_size"].dump() : "-"});
    }
    std::cout << "root: " << r->value("root_uri", "") << "\n";
    PrintTable({"PATH", "TYPE", "SIZE"}, rows);
  }

  bool ParseTags(const std::vector<std::string>& tags, Json& out) {
    out = Json::array();
    for (const auto& t : tags) {
      size_t eq = t.find('=');
      if (eq == std::string::npos || eq == 0) {
        std::cerr << "error: --tag expects KEY=VALUE, got '" << t << "'\n";
        g_.exit = kUsage;
        return false;
      }
      out.push_back({{"key", t.substr(0, eq)}, {"value", t.substr(eq + 1)}});
    }
    return true;
  }

  int exit_code() const { return g_.exit; }

 private:
  CliContext& g_;
};

std::string DefaultServer() {
  const char* env = std::getenv("CAIRN_URL");
  return env && *env ? env : "http://127.0.0.1:5050";
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{
      "Cairn: a self-hosted MLOps workspace (experiment tracking with an "
      "MLflow-compatible API)",
      "cairn"};
  app.require_subcommand(1);
  CliContext g;
  g.server = DefaultServer();
  app.add_option("--server", g.server, "Cairn server URL (env CAIRN_URL)")->capture_default_str();
  app.add_flag("--json", g.json, "print JSON instead of tables");
  app.set_version_flag("--version", std::string("cairn ") + kVersion);
  Commands cmd(g);
  int exit_code = -1;

  // server
  ServerOptions so;
  auto* server = app.add_subcommand("server", "run the Cairn server on a workspace");
  server->add_option("--workspace,-w", so.workspace, "workspace directory (created on first use)")
      ->capture_default_str();
  server->add_option("--host", so.host, "address to listen on")->capture_default_str();
  server->add_option("--port,-p", so.port, "port (0 picks a free one)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  server->add_option("--port-file", so.port_file, "write the bound port to this file");
  server->add_option("--threads", so.threads, "HTTP worker threads")
      ->capture_default_str()
      ->check(CLI::Range(4, 4096));
  server
      ->add_option("--keep-alive", so.keep_alive_seconds,
                   "seconds an idle keep-alive connection stays open")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  server
      ->add_option("--header-timeout", so.header_timeout_seconds,
                   "seconds a request's header may take to arrive (slow clients get 408)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  server
      ->add_option("--spin-us", so.spin_microseconds,
                   "with a single client connected, poll this many µs for its next request "
                   "before sleeping (0 turns it off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10000));
  server->add_option("--datastore-root", so.datastore_roots,
                     "a folder datastores may point into (repeatable; default: any)");
  server->add_option("--python", so.python, "Python interpreter that builds environments (venvs)")
      ->capture_default_str();
  server
      ->add_option("--sync", so.sync_mode,
                   "normal: acknowledged writes survive a process crash; full: also power loss")
      ->capture_default_str()
      ->check(CLI::IsMember({"normal", "full"}));
  server->callback([&] { exit_code = RunServer(so); });

  // experiment
  auto* exp = app.add_subcommand("experiment", "manage experiments")->require_subcommand(1);
  std::string view = "ACTIVE_ONLY", filter, name, location, ref;
  int64_t max_results = 100;
  std::vector<std::string> tags, order_by, experiments;
  auto* exp_list = exp->add_subcommand("list", "list experiments");
  exp_list->add_option("--view", view, "ACTIVE_ONLY, DELETED_ONLY or ALL")->capture_default_str();
  exp_list->add_option("--filter", filter, "MLflow filter, e.g. \"name LIKE 'fraud%'\"");
  exp_list->add_option("--max-results", max_results)->capture_default_str();
  exp_list->callback([&] { cmd.ExperimentList(view, filter, max_results); });
  auto* exp_create = exp->add_subcommand("create", "create an experiment");
  exp_create->add_option("name", name, "experiment name")->required();
  exp_create->add_option("--artifact-location", location, "mlflow-artifacts:/ URI");
  exp_create->add_option("--tag", tags, "KEY=VALUE (repeatable)");
  exp_create->callback([&] { cmd.ExperimentCreate(name, location, tags); });
  auto* exp_show = exp->add_subcommand("show", "show one experiment");
  exp_show->add_option("experiment", ref, "id or name")->required();
  exp_show->callback([&] { cmd.ExperimentShow(ref); });
  auto* exp_delete = exp->add_subcommand("delete", "delete an experiment (and its runs)");
  exp_delete->add_option("experiment", ref, "id or name")->required();
  exp_delete->callback([&] { cmd.ExperimentDelete(ref); });

  // run
  auto* run = app.add_subcommand("run", "inspect and log runs")->require_subcommand(1);
  std::string run_id, key, value, path, status = "FINISHED";
  double metric_value = 0;
  int64_t step = 0;
  auto add_search_opts = [&](CLI::App* c) {
    c->add_option("--experiment,-e", experiments, "experiment id or name (repeatable)");
    c->add_option("--max-results", max_results)->capture_default_str();
    c->add_option("--view", view, "ACTIVE_ONLY, DELETED_ONLY or ALL")->capture_default_str();
  };
  auto* run_list = run->add_subcommand("list", "list the runs of experiments");
  add_search_opts(run_list);
  run_list->callback([&] { cmd.RunSearch(experiments, "", {}, view, max_results); });
  auto* run_search = run->add_subcommand("search", "search runs with MLflow's filter grammar");
  add_search_opts(run_search);
  run_search->add_option("--filter", filter, "e.g. \"metrics.auc > 0.9 AND params.model = 'xgb'\"");
  run_search->add_option("--order-by", order_by, "e.g. \"metrics.auc DESC\" (repeatable)");
  run_search->callback([&] { cmd.RunSearch(experiments, filter, order_by, view, max_results); });
  auto* run_show = run->add_subcommand("show", "show a run's params, metrics and tags");
  run_show->add_option("run_id", run_id)->required();
  run_show->callback([&] { cmd.RunShow(run_id); });
  auto* run_create = run->add_subcommand("create", "start a run (prints its id)");
  run_create->add_option("--experiment,-e", ref, "experiment id or name")->default_val("0");
  run_create->add_option("--name", name, "run name");
  run_create->add_option("--tag", tags, "KEY=VALUE (repeatable)");
  run_create->callback([&] { cmd.RunCreate(ref, name, tags); });
  auto* run_end = run->add_subcommand("end", "finish a run");
  run_end->add_option("run_id", run_id)->required();
  run_end->add_option("--status", status)
      ->capture_default_str()
      ->check(CLI::IsMember({"FINISHED", "FAILED", "KILLED"}));
  run_end->callback([&] { cmd.RunEnd(run_id, status); });
  auto* log_metric = run->add_subcommand("log-metric", "log a metric value");
  log_metric->add_option("run_id", run_id)->required();
  log_metric->add_option("key", key)->required();
  log_metric->add_option("value", metric_value)->required();
  log_metric->add_option("--step", step)->capture_default_str();
  log_metric->callback([&] {
    cmd.Log("runs/log-metric",
            {{"run_id", run_id},
             {"key", key},
             {"value", metric_value},
             {"step", step},
             {"timestamp", NowMillis()}},
            "logged metric " + key);
  });
  auto* log_param = run->add_subcommand("log-param", "log a parameter");
  log_param->add_option("run_id", run_id)->required();
  log_param->add_option("key", key)->required();
  log_param->add_option("value", value)->required();
  log_param->callback([&] {
    cmd.Log("runs/log-parameter", {{"run_id", run_id}, {"key", key}, {"value", value}},
            "logged param " + key);
  });
  auto* set_tag = run->add_subcommand("set-tag", "set a tag");
  set_tag->add_option("run_id", run_id)->required();
  set_tag->add_option("key", key)->required();
  set_tag->add_option("value", value)->required();
  set_tag->callback([&] {
    cmd.Log("runs/set-tag", {{"run_id", run_id}, {"key", key}, {"value", value}}, "set tag " + key);
  });
  auto* artifacts = run->add_subcommand("artifacts", "list a run's artifacts");
  artifacts->add_option("run_id", run_id)->required();
  artifacts->add_option("--path", path, "directory inside the run's artifacts");
  artifacts->callback([&] { cmd.RunArtifacts(run_id, path); });

  // artifacts (store maintenance)
  auto* art =
      app.add_subcommand("artifacts", "check and clean the artifact store")->require_subcommand(1);
  art->add_subcommand("verify",
                      "check every artifact's blob exists and matches its hash "
                      "(exit 1 on problems)")
      ->callback([&] { cmd.ArtifactsVerify(); });
  int64_t grace = 3600;
  auto* gc = art->add_subcommand("gc", "remove blobs no artifact references");
  gc->add_option("--grace", grace, "spare blobs younger than this many seconds")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  gc->callback([&] { cmd.ArtifactsGc(grace); });

  AddAssetCommands(app, g);
  AddModelCommands(app, g);
  AddEndpointCommands(app, g);
  AddJobCommands(app, g);
  AddEventCommands(app, g);
  AddComponentCommands(app, g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kUsage;
  }
  return exit_code >= 0 ? exit_code : cmd.exit_code();
}

}  // namespace cairn
