// CLI commands for pipelines (see job_commands.h). `job create` reads the YAML
// here (pipeline/job_spec), uploads local code folders as code snapshots and
// local uri_file/uri_folder inputs as data assets named
// "job-input-[<step>-]<input>" with version "sha256-<16 hex of the content
// hash>" (tagged cairn.job_input=true and with the job file), rewrites the plan into asset
// references and submits it.
#include "cli/job_commands.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "artifacts/path_safety.h"
#include "assets/manifest.h"
#include "cli/api_client.h"
#include "cli/asset_commands.h"
#include "cli/cli_context.h"
#include "cli/component_commands.h"
#include "core/fs.h"
#include "pipeline/job_spec.h"
#include "pipeline/plan_json.h"
#include "pipeline/schedule_json.h"
#include "pipeline/schedule_spec.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

// The answer of a Cairn route as JSON, or the failure as a Status
// (unreachable -> TEMPORARILY_UNAVAILABLE, which FailLocal maps to exit 3).
Result<Json> CairnAnswer(ApiClient& client, const std::string& endpoint, Result<std::string> body) {
  if (!body.ok()) {
    if (client.unreachable()) {
      return Status(ErrorCode::kTemporarilyUnavailable, body.status().message());
    }
    return body.status();
  }
  Json j = Json::parse(*body, nullptr, false);
  if (j.is_discarded()) return InternalError("the server's answer to " + endpoint + " is not JSON");
  return j;
}

// POSTs to a Cairn route (see CairnAnswer).
Result<Json> PostCairn(CliContext& ctx, const std::string& endpoint, const Json& args) {
  ApiClient client(ctx.server);
  return CairnAnswer(client, endpoint, client.Post(std::string(kCairnApi) + endpoint, args.dump()));
}

// GETs a Cairn route (see CairnAnswer).
Result<Json> GetCairn(CliContext& ctx, const std::string& endpoint,
                      const std::multimap<std::string, std::string>& query) {
  ApiClient client(ctx.server);
  return CairnAnswer(client, endpoint, client.Get(std::string(kCairnApi) + endpoint, query));
}

// Uploads through the server's asset routes.
class CliUploader : public pipeline::PlanUploader {
 public:
  CliUploader(CliContext& ctx, std::string job_file) : ctx_(ctx), job_file_(std::move(job_file)) {}

  Result<std::string> UploadCode(const std::string& folder) override {
    CAIRN_ASSIGN_OR_RETURN(Json args, CodeSnapshotArgs(ctx_, folder));
    CAIRN_ASSIGN_OR_RETURN(Json r, PostCairn(ctx_, "code/create", args));
    return AssetRef(r);
  }
  Result<std::string> UploadData(const std::string& asset_name, const std::string& path,
                                 bool is_file) override {
    Json args = {{"name", asset_name},
                 {"created_by", UserName()},
                 {"type", is_file ? "uri_file" : "uri_folder"},
                 {"description", "uploaded by cairn job create"},
                 {"tags", {{"cairn.job_input", "true"}, {"cairn.job_file", job_file_}}}};
    CAIRN_RETURN_IF_ERROR(AddLocalDataFiles(ctx_, path, args));
    // The version is named by the content, so submitting the same files again
    // reuses the version (the server answers created=false) instead of adding one.
    std::vector<ManifestFile> files;
    for (const auto& f : args["files"]) {
      files.push_back(
          {f["path"].get<std::string>(), f["sha256"].get<std::string>(), f["size"].get<int64_t>()});
    }
    args["version"] = "sha256-" + ManifestHash(files).substr(0, 16);
    CAIRN_ASSIGN_OR_RETURN(Json r, PostCairn(ctx_, "data/create", args));
    return AssetRef(r);
  }

 private:
  static Result<std::string> AssetRef(const Json& r) {
    if (!r.contains("asset") || !r["asset"].is_object()) {
      return InternalError("the server's answer has no asset");
    }
    return r["asset"].value("name", "") + ":" + r["asset"].value("version", "");
  }
  CliContext& ctx_;
  std::string job_file_;
};

// Reads registered components from the server (component/get).
class CliComponentSource : public pipeline::ComponentSource {
 public:
  explicit CliComponentSource(CliContext& ctx) : ctx_(ctx) {}
  Result<std::string> FetchComponentYaml(const std::string& ref) override {
    CAIRN_ASSIGN_OR_RETURN(Json j, GetCairn(ctx_, "component/get", {{"ref", ref}}));
    const Json* yaml = nullptr;
    if (j.contains("asset") && j["asset"].contains("spec")) {
      auto it = j["asset"]["spec"].find("yaml");
      if (it != j["asset"]["spec"].end() && it->is_string()) yaml = &*it;
    }
    if (!yaml) return InternalError("the server's answer to component/get has no spec.yaml");
    return yaml->get<std::string>();
  }

 private:
  CliContext& ctx_;
};

bool IsTerminal(const std::string& status) {
  return status == "Completed" || status == "Failed" || status == "Canceled";
}

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// "runs:/<run>/<path>" or ".../<run>/artifacts/<path>" -> the path inside the run.
std::optional<std::string> RunArtifactPath(const std::string& uri, const std::string& run_id) {
  if (uri.rfind("runs:/", 0) == 0) {
    std::string rest = uri.substr(6);
    size_t slash = rest.find('/');
    if (slash == std::string::npos) return std::string();
    return rest.substr(slash + 1);
  }
  std::string marker = run_id + "/artifacts/";
  size_t at = uri.find(marker);
  if (!run_id.empty() && at != std::string::npos) return uri.substr(at + marker.size());
  if (!run_id.empty() && uri.size() >= run_id.size() + 10 &&
      uri.compare(uri.size() - run_id.size() - 10, std::string::npos, run_id + "/artifacts") == 0) {
    return std::string();
  }
  return std::nullopt;
}

class JobCommands {
 public:
  explicit JobCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(const std::string& file, const std::vector<std::string>& sets,
              const std::string& name, bool stream) {
    std::vector<pipeline::SpecOverride> overrides;
    for (const auto& s : sets) {
      auto o = pipeline::ParseOverride(s);
      if (!o.ok()) return ctx_.Fail(kUsage, "BAD_REQUEST", o.status().message());
      overrides.push_back(*o);
    }
    if (!name.empty()) overrides.push_back({"name", name});
    CliComponentSource components(ctx_);
    auto plan = pipeline::LoadJobSpec(file, overrides, &components);
    if (!plan.ok()) return ctx_.FailLocal(plan.status());
    CliUploader uploader(ctx_, fs::absolute(file).lexically_normal().string());
    if (Status st = pipeline::UploadLocalParts(*plan, uploader); !st.ok()) {
      return ctx_.FailLocal(st);
    }
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "jobs/create",
                       {{"plan", pipeline::PlanToJson(*plan)}});
    if (!r) return;
    const Json& job = (*r)["job"];
    std::string job_name = Str(job, "name");
    if (ctx_.json && !stream) return ctx_.Emit(*r);
    if (!ctx_.json) {
      std::cout << "submitted " << Str(job, "type") << " job " << job_name << " ("
                << Str(job, "status") << ", " << job.value("steps", Json::array()).size()
                << " step(s))\n"
                << "  follow it:  cairn job stream " << job_name << "\n"
                << "  details:    cairn job show " << job_name << "\n";
      if (!Str(job, "run_id").empty()) {
        std::cout << "  run:        " << Str(job, "run_id") << " (experiment "
                  << Str(job, "experiment_id") << ")\n";
      }
    }
    if (stream) Stream(job_name);
  }

  void List(const std::string& status, int64_t max) {
    Json args = {{"max_results", max}};
    if (!status.empty()) args["status"] = status;
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "jobs/list", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& j : r->value("jobs", Json::array())) {
      rows.push_back({Str(j, "name"), Str(j, "type"), Str(j, "status"), Str(j, "display_name"),
                      FormatTime(j.value("created", Json())),
                      std::to_string(j.value("steps", Json::array()).size())});
    }
    PrintTable({"NAME", "TYPE", "STATUS", "DISPLAY_NAME", "CREATED", "STEPS"}, rows);
  }

  std::optional<Json> Get(const std::string& name) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "jobs/get", {{"name", name}});
    if (!r) return std::nullopt;
    return (*r)["job"];
  }

  void Show(const std::string& name) {
    auto job = Get(name);
    if (!job) return;
    if (ctx_.json) return ctx_.Emit({{"job", *job}});
    const Json& j = *job;
    std::cout << "job " << Str(j, "name") << "\n"
              << "  type:          " << Str(j, "type") << "\n"
              << "  status:        " << Str(j, "status") << "\n";
    if (!Str(j, "display_name").empty()) {
      std::cout << "  display name:  " << Str(j, "display_name") << "\n";
    }
    std::cout << "  experiment:    " << Str(j, "experiment_id") << "\n"
              << "  run:           " << Str(j, "run_id") << "\n"
              << "  created:       " << FormatTime(j.value("created", Json())) << "\n"
              << "  started:       " << FormatTime(j.value("started", Json())) << "\n"
              << "  ended:         " << FormatTime(j.value("ended", Json())) << "\n";
    if (!Str(j, "error").empty()) std::cout << "  error:         " << Str(j, "error") << "\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& s : j.value("steps", Json::array())) {
      std::string note = Str(s, "reused_from").empty() ? Str(s, "error")
                                                       : "reused from run " + Str(s, "reused_from");
      rows.push_back({Str(s, "name"), Str(s, "status"), Str(s, "attempt"), Str(s, "exit_code"),
                      Str(s, "run_id"), note});
    }
    PrintTable({"STEP", "STATUS", "ATTEMPT", "EXIT", "RUN", "NOTE"}, rows);
    for (const auto& s : j.value("steps", Json::array())) {
      const Json outputs = s.value("outputs", Json::object());
      for (auto& [o, uri] : outputs.items()) {
        std::cout << "  output " << Str(s, "name") << "." << o << ": " << FormatValue(uri) << "\n";
      }
    }
  }

  // Follows every step's log until the job ends; exit 0 when it completed.
  void Stream(const std::string& name) {
    std::map<std::string, int64_t> offsets;
    std::set<std::string> done;
    ApiClient client(ctx_.server);
    bool prefix = false;
    // Poll fast first and back off to 300 ms: a job whose steps are all
    // reused ends within milliseconds of its submission, and a fixed 300 ms
    // sleep would be most of its wall time; a long job costs a poll per 300 ms.
    auto poll = std::chrono::milliseconds(10);
    for (;;) {
      auto job = Get(name);
      if (!job) return;
      const std::string status = Str(*job, "status");
      const Json steps = job->value("steps", Json::array());
      prefix = steps.size() > 1;
      bool all_complete = true;
      for (const auto& s : steps) {
        const std::string step = Str(s, "name");
        const std::string step_status = Str(s, "status");
        if (done.count(step) || step_status == "NotStarted" || step_status == "Queued") {
          if (!done.count(step) && !IsTerminal(status)) all_complete = false;
          continue;
        }
        // Read what is there now, in pieces, until the server says no more.
        for (;;) {
          auto body = client.Get(
              std::string(kCairnApi) + "jobs/logs",
              {{"name", name}, {"step", step}, {"offset", std::to_string(offsets[step])}});
          if (!body.ok() && body.status().code() == ErrorCode::kResourceDoesNotExist &&
              IsTerminal(step_status)) {
            done.insert(step);  // a step that ended without ever writing a log
            break;
          }
          if (!body.ok()) {
            return ctx_.Fail(client.unreachable() ? kUnreachable : kRefused,
                             ErrorCodeName(body.status().code()), body.status().message());
          }
          Json chunk = Json::parse(*body, nullptr, false);
          if (!chunk.is_object()) {
            return ctx_.Fail(kRefused, "INTERNAL_ERROR", "jobs/logs answered with no JSON object");
          }
          std::string data = chunk.value("data", "");
          if (!data.empty() && !ctx_.json) Print(step, data, prefix);
          offsets[step] = chunk.value("next_offset", offsets[step]);
          if (chunk.value("complete", false)) {
            done.insert(step);
            break;
          }
          if (data.empty()) {
            all_complete = false;
            break;
          }
        }
      }
      if (IsTerminal(status) && all_complete) {
        if (ctx_.json) {
          ctx_.Emit({{"job", *job}});
        } else {
          std::cout << std::flush;
          std::cerr << "job " << name << " " << status
                    << (Str(*job, "error").empty() ? "" : ": " + Str(*job, "error")) << "\n";
        }
        ctx_.exit = status == "Completed" ? kOk : kRefused;
        return;
      }
      std::this_thread::sleep_for(poll);
      poll = std::min(poll * 2, std::chrono::milliseconds(300));
    }
  }

  void Cancel(const std::string& name) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "jobs/cancel", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "job " << name << ": " << Str((*r)["job"], "status") << "\n";
  }

  // Downloads step outputs (the step runs' artifacts) to DIR/<step>/<output>/.
  void Download(const std::string& name, const std::string& out_dir, const std::string& only) {
    auto job = Get(name);
    if (!job) return;
    fs::path dest = out_dir.empty() ? fs::path(name) : fs::path(out_dir);
    int64_t files = 0;
    bool found_step = only.empty();
    Json written = Json::array();
    for (const auto& s : job->value("steps", Json::array())) {
      std::string step = Str(s, "name");
      if (!only.empty() && step != only) continue;
      found_step = true;
      std::string run_id = Str(s, "run_id");
      const Json outputs = s.value("outputs", Json::object());  // items() must not outlive it
      for (auto& [output, uri_json] : outputs.items()) {
        std::string uri = uri_json.is_string() ? uri_json.get<std::string>() : "";
        auto path = RunArtifactPath(uri, run_id);
        if (!path) {
          return ctx_.Fail(kRefused, "INVALID_STATE",
                           "output " + step + "." + output + " has location '" + uri +
                               "', which is not in the step run's artifacts");
        }
        fs::path target = dest / step / output;
        auto n = DownloadTree(run_id, *path, *path, target);
        if (!n) return;
        files += *n;
        written.push_back({{"step", step}, {"output", output}, {"path", target.string()}});
      }
    }
    if (!found_step) {
      return ctx_.Fail(kUsage, "RESOURCE_DOES_NOT_EXIST",
                       "job " + name + " has no step '" + only + "'");
    }
    if (ctx_.json) return ctx_.Emit({{"outputs", written}, {"files", files}});
    if (written.empty()) {
      std::cout << "job " << name << " has no outputs to download (yet)\n";
      return;
    }
    for (const auto& w : written) {
      std::cout << "downloaded " << w["step"].get<std::string>() << "."
                << w["output"].get<std::string>() << " to " << w["path"].get<std::string>() << "\n";
    }
    std::cout << files << " file(s)\n";
  }

 private:
  // Lists `dir` in the run's artifacts recursively and downloads each file
  // under `target` (relative to `root`). Returns the file count.
  std::optional<int64_t> DownloadTree(const std::string& run_id, const std::string& root,
                                      const std::string& dir, const fs::path& target) {
    Json args = {{"run_id", run_id}};
    if (!dir.empty()) args["path"] = dir;
    auto r = ctx_.Send("GET", "/api/2.0/mlflow/artifacts/list", args);
    if (!r) return std::nullopt;
    int64_t count = 0;
    ApiClient client(ctx_.server);
    for (const auto& f : r->value("files", Json::array())) {
      std::string path = Str(f, "path");
      if (f.value("is_dir", false)) {
        auto n = DownloadTree(run_id, root, path, target);
        if (!n) return std::nullopt;
        count += *n;
        continue;
      }
      std::string rel = root.empty() ? path : path.substr(std::min(path.size(), root.size() + 1));
      auto clean = NormalizeRelativePath(rel);
      if (rel.empty() || !clean.ok() || *clean != rel) {
        ctx_.FailLocal(
            InvalidParameter("refusing to write '" + path + "' outside " + target.string()));
        return std::nullopt;
      }
      fs::path file = target / rel;
      if (Status st = EnsureDirectory(file.parent_path()); !st.ok()) {
        ctx_.FailLocal(st);
        return std::nullopt;
      }
      Status st =
          client.Download("/get-artifact", {{"run_id", run_id}, {"path", path}}, file.string());
      if (!st.ok()) {
        ctx_.Fail(client.unreachable() ? kUnreachable : kRefused, ErrorCodeName(st.code()),
                  st.message());
        return std::nullopt;
      }
      ++count;
    }
    return count;
  }

  static void Print(const std::string& step, const std::string& data, bool prefix) {
    if (!prefix) {
      std::cout << data << std::flush;
      return;
    }
    // One "[step] " per line; a partial last line is continued by the next chunk.
    static std::map<std::string, bool> at_line_start;
    bool& start = at_line_start.try_emplace(step, true).first->second;
    for (char c : data) {
      if (start) std::cout << "[" << step << "] ";
      std::cout << c;
      start = c == '\n';
    }
    std::cout << std::flush;
  }

  CliContext& ctx_;
};

class ComputeCommands {
 public:
  explicit ComputeCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(const std::string& name, const std::string& type, int64_t max_concurrency) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "computes/create",
                       {{"name", name}, {"type", type}, {"max_concurrency", max_concurrency}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "created compute " << name << " (" << type << ", max concurrency "
              << max_concurrency << ")\n";
  }
  void List() {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "computes/list", Json::object());
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& c : r->value("computes", Json::array())) {
      rows.push_back({Str(c, "name"), Str(c, "type"), Str(c, "max_concurrency")});
    }
    PrintTable({"NAME", "TYPE", "MAX_CONCURRENCY"}, rows);
  }
  void Show(const std::string& name) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "computes/get", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "compute " << name << "\n";
    const Json compute = r->value("compute", Json::object());
    for (auto& [k, v] : compute.items()) {
      if (k != "name") std::cout << "  " << k << ": " << FormatValue(v) << "\n";
    }
  }
  void Delete(const std::string& name) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "computes/delete", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "deleted compute " << name << "\n";
  }

 private:
  CliContext& ctx_;
};

const char* TriggerTypeName(pipeline::Trigger::Type t) {
  switch (t) {
    case pipeline::Trigger::Type::kCron:
      return "cron";
    case pipeline::Trigger::Type::kRecurrence:
      return "recurrence";
    case pipeline::Trigger::Type::kDataAsset:
      return "data_asset";
    case pipeline::Trigger::Type::kEvent:
      return "event";
  }
  return "?";
}

// Checks a schedule file offline and shows when it would fire.
void ScheduleValidate(CliContext& ctx, const std::string& file, int count) {
  CliComponentSource components(ctx);  // asked only for registered components
  auto s = pipeline::LoadScheduleSpec(file, "/usr/share/zoneinfo", &components);
  if (!s.ok()) return ctx.FailLocal(s.status());
  const pipeline::Trigger& t = s->trigger;
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  Json fires = Json::array();
  int64_t after = now;
  for (int i = 0; i < count && t.is_time_based(); ++i) {
    auto next = pipeline::NextFireTime(t, after);
    if (!next) break;
    fires.push_back({{"utc", pipeline::FormatUtc(*next)},
                     {"local", pipeline::FormatLocal(*next, *t.zone)},
                     {"ms", *next}});
    after = *next;
  }
  Json out = {{"name", s->name},
              {"trigger", TriggerTypeName(t.type)},
              {"job_type", s->job.type},
              {"job_steps", s->job.steps.size()},
              {"next_fire_times", fires}};
  if (!s->create_job_file.empty()) out["create_job"] = s->create_job_file;
  if (ctx.json) return ctx.Emit(out);
  std::cout << "schedule " << s->name << " is valid\n"
            << "  trigger:  " << TriggerTypeName(t.type);
  if (t.type == pipeline::Trigger::Type::kCron) std::cout << " \"" << t.expression << "\"";
  if (t.type == pipeline::Trigger::Type::kRecurrence) {
    std::cout << " every " << t.interval << " " << t.frequency << "(s)";
  }
  if (t.is_time_based()) std::cout << " (" << t.time_zone << ")";
  std::cout << "\n  job:      " << s->job.type << ", " << s->job.steps.size() << " step(s)"
            << (s->create_job_file.empty() ? " (inline)" : " from " + s->create_job_file) << "\n";
  if (t.type == pipeline::Trigger::Type::kDataAsset) {
    std::cout << "  fires when a new version of data asset '" << t.data_asset
              << "' is registered\n";
  } else if (t.type == pipeline::Trigger::Type::kEvent) {
    std::cout << "  fires on " << t.event_type << " events";
    for (auto& [k, v] : t.filter) std::cout << " " << k << "=" << v;
    std::cout << "\n";
  } else if (fires.empty()) {
    std::cout << "  it will not fire again (past its end_time, or no date matches)\n";
  } else {
    std::cout << "  next fire times:\n";
    for (const auto& f : fires) {
      std::cout << "    " << f["utc"].get<std::string>() << "  (" << f["local"].get<std::string>()
                << ")\n";
    }
  }
}

// `cairn schedule create|list|show|enable|disable|delete`: the server stores
// the schedule and fires it (pipeline/schedule_runner.h).
class ScheduleCommands {
 public:
  explicit ScheduleCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(const std::string& file, bool disabled) {
    CliComponentSource components(ctx_);
    auto s = pipeline::LoadScheduleSpec(file, "/usr/share/zoneinfo", &components);
    if (!s.ok()) return ctx_.FailLocal(s.status());
    std::string job_file = s->create_job_file.empty() ? file : s->create_job_file;
    CliUploader uploader(ctx_, fs::absolute(job_file).lexically_normal().string());
    if (Status st = pipeline::UploadLocalParts(s->job, uploader); !st.ok()) {
      return ctx_.FailLocal(st);
    }
    Json args = {{"name", s->name},
                 {"display_name", s->display_name},
                 {"description", s->description},
                 {"tags", s->tags},
                 {"trigger", pipeline::TriggerToJson(s->trigger)},
                 {"plan", pipeline::PlanToJson(s->job)},
                 {"enabled", !disabled},
                 {"user", UserName()}};
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "schedules/create", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& sc = (*r)["schedule"];
    std::cout << "created schedule " << Str(sc, "name") << " (" << Str(sc, "trigger_type")
              << (sc.value("enabled", false) ? ", enabled" : ", disabled") << ")\n";
    if (!sc["next_fire_time"].is_null()) {
      std::cout << "  next fire time: " << FormatTime(sc["next_fire_time"]) << "\n";
    }
    std::cout << "  details: cairn schedule show " << Str(sc, "name") << "\n";
  }

  void List() {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "schedules/list", Json::object());
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& sc : r->value("schedules", Json::array())) {
      rows.push_back({Str(sc, "name"), Str(sc, "trigger_type"),
                      sc.value("enabled", false) ? "yes" : "no",
                      FormatTime(sc.value("next_fire_time", Json())),
                      FormatTime(sc.value("last_fire_time", Json())), Str(sc, "last_job")});
    }
    PrintTable({"NAME", "TRIGGER", "ENABLED", "NEXT_FIRE", "LAST_FIRE", "LAST_JOB"}, rows);
  }

  void Show(const std::string& name) {
    auto r =
        ctx_.Send("GET", std::string(kCairnApi) + "schedules/get", {{"name", name}, {"count", 5}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& sc = (*r)["schedule"];
    const Json& t = sc["trigger"];
    std::cout << "schedule " << Str(sc, "name") << "\n"
              << "  enabled:   " << (sc.value("enabled", false) ? "yes" : "no") << "\n"
              << "  trigger:   " << Str(sc, "trigger_type");
    std::string type = Str(sc, "trigger_type");
    if (type == "cron") std::cout << " \"" << Str(t, "expression") << "\"";
    if (type == "recurrence") {
      std::cout << " every " << Str(t, "interval") << " " << Str(t, "frequency") << "(s)";
    }
    if (type == "cron" || type == "recurrence") std::cout << " (" << Str(t, "time_zone") << ")";
    if (type == "data_asset") {
      std::cout << " on new versions of " << Str(t, "name");
      if (!Str(t, "input").empty()) std::cout << " (bound to input " << Str(t, "input") << ")";
      std::cout << "; last seen version: "
                << (Str(sc, "last_seen_version").empty() ? "-" : Str(sc, "last_seen_version"));
    }
    if (type == "event") {
      std::cout << " on " << Str(t, "event_type") << " events (after event id "
                << Str(sc, "last_seen_event_id") << ")";
    }
    std::cout << "\n  last fire: " << FormatTime(sc.value("last_fire_time", Json()))
              << (Str(sc, "last_job").empty() ? "" : " (job " + Str(sc, "last_job") + ")") << "\n";
    if (!Str(sc, "last_error").empty())
      std::cout << "  last error: " << Str(sc, "last_error") << "\n";
    const Json fires = sc.value("next_fire_times", Json::array());
    if (!fires.empty()) {
      std::cout << "  next fire times:\n";
      for (const auto& f : fires) {
        std::cout << "    " << Str(f, "utc") << "  (" << Str(f, "local") << ")\n";
      }
    } else if (type == "cron" || type == "recurrence") {
      std::cout << "  next fire times: none ("
                << (sc.value("enabled", false) ? "past its end_time" : "disabled") << ")\n";
    }
    const Json runs = sc.value("recent_jobs", Json::array());
    if (!runs.empty()) {
      std::cout << "  recent jobs:\n";
      for (const auto& j : runs) {
        std::cout << "    " << Str(j, "name") << "  " << Str(j, "status") << "  "
                  << FormatTime(j.value("created", Json())) << "\n";
      }
    }
  }

  void SetEnabled(const std::string& name, bool enabled) {
    auto r = ctx_.Send(
        "POST", std::string(kCairnApi) + (enabled ? "schedules/enable" : "schedules/disable"),
        {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << (enabled ? "enabled" : "disabled") << " schedule " << name << "\n";
  }

  void Delete(const std::string& name) {
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "schedules/delete", {{"name", name}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::cout << "deleted schedule " << name << "\n";
  }

 private:
  CliContext& ctx_;
};

// `cairn pipeline publish|list|show|run`: versioned job plans run by name.
// `cairn component create | list | show`: registered (versioned) components.
class RegisteredComponentCommands {
 public:
  explicit RegisteredComponentCommands(CliContext& ctx) : ctx_(ctx) {}

  void Create(const std::string& file, const std::string& version) {
    CliUploader uploader(ctx_, fs::absolute(file).lexically_normal().string());
    auto c = pipeline::PrepareComponentRegistration(file, uploader);
    if (!c.ok()) return ctx_.FailLocal(c.status());
    Json args = {{"yaml", c->yaml}, {"created_by", UserName()}};
    if (!version.empty()) args["version"] = version;
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "component/create", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& a = (*r)["asset"];
    std::string ref = Str(a, "name") + ":" + Str(a, "version");
    std::cout << (r->value("created", false) ? "registered component " : "unchanged: component ")
              << ref << "\n  use it in a pipeline step as  component: azureml:" << ref
              << "  (or azureml:" << Str(a, "name") << "@latest)\n";
  }

  void List(const std::string& name, bool include_archived) {
    Json args = Json::object();
    if (!name.empty()) args["name"] = name;
    if (include_archived) args["include_archived"] = "true";
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "component/list", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const Json& a : r->value("assets", Json::array())) {
      rows.push_back({Str(a, "name"), Str(a, "version"), Str(a, "description"),
                      FormatTime(a.value("creation_time", Json())), Str(a, "created_by"),
                      a.value("archived", false) ? "archived" : ""});
    }
    PrintTable({"NAME", "VERSION", "DESCRIPTION", "CREATED", "BY", ""}, rows);
  }

  void Show(const std::string& ref) {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "component/get", {{"ref", ref}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& a = (*r)["asset"];
    std::cout << "component " << Str(a, "name") << ":" << Str(a, "version") << "\n"
              << "  description: " << Str(a, "description") << "\n"
              << "  created:     " << FormatTime(a.value("creation_time", Json())) << " by "
              << Str(a, "created_by") << "\n"
              << "  content:     " << Str(a, "content_hash") << "\n---\n";
    std::string yaml = a.value("spec", Json::object()).value("yaml", "");
    std::cout << yaml << (yaml.empty() || yaml.back() == '\n' ? "" : "\n");
  }

 private:
  CliContext& ctx_;
};

class PipelineCommands {
 public:
  explicit PipelineCommands(CliContext& ctx) : ctx_(ctx) {}

  void Publish(const std::string& file, const std::string& name, const std::string& description) {
    CliComponentSource components(ctx_);
    auto plan = pipeline::LoadJobSpec(file, {}, &components);
    if (!plan.ok()) return ctx_.FailLocal(plan.status());
    CliUploader uploader(ctx_, fs::absolute(file).lexically_normal().string());
    if (Status st = pipeline::UploadLocalParts(*plan, uploader); !st.ok()) {
      return ctx_.FailLocal(st);
    }
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "pipelines/publish",
                       {{"name", name},
                        {"description", description},
                        {"plan", pipeline::PlanToJson(*plan)},
                        {"user", UserName()}});
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& p = (*r)["pipeline"];
    std::cout << "published pipeline " << Str(p, "name") << " version " << Str(p, "version")
              << "\n  run it: cairn pipeline run " << Str(p, "name")
              << " [--set inputs.<name>=<value>]\n"
              << "  or POST " << kCairnApi << "pipelines/" << Str(p, "name") << "/runs\n";
  }

  void List() {
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "pipelines/list", Json::object());
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : r->value("pipelines", Json::array())) {
      std::string inputs;
      for (auto& [k, v] : p.value("inputs", Json::object()).items()) {
        inputs += (inputs.empty() ? "" : ",") + k;
      }
      rows.push_back({Str(p, "name"), Str(p, "version"), Str(p, "type"), inputs,
                      FormatTime(p.value("creation_time", Json()))});
    }
    PrintTable({"NAME", "LATEST", "TYPE", "INPUTS", "PUBLISHED"}, rows);
  }

  void Show(const std::string& name, int64_t version) {
    Json args = {{"name", name}};
    if (version > 0) args["version"] = version;
    auto r = ctx_.Send("GET", std::string(kCairnApi) + "pipelines/get", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& p = (*r)["pipeline"];
    std::cout << "pipeline " << Str(p, "name") << " version " << Str(p, "version") << " ("
              << Str(p, "type") << ", published " << FormatTime(p.value("creation_time", Json()))
              << ")\n";
    if (!Str(p, "description").empty()) std::cout << "  " << Str(p, "description") << "\n";
    std::cout << "  inputs:\n";
    for (auto& [k, v] : p.value("inputs", Json::object()).items()) {
      std::string value = Str(v, "literal");
      if (value.empty()) value = Str(v, "asset_ref");
      std::cout << "    " << k << " = " << value << "\n";
    }
    std::cout << "  steps: " << p["plan"].value("steps", Json::array()).size() << "\n";
  }

  void Run(const std::string& name, const std::vector<std::string>& sets, int64_t version,
           const std::string& experiment) {
    Json inputs = Json::object();
    for (const auto& s : sets) {
      auto o = pipeline::ParseOverride(s);
      if (!o.ok()) return ctx_.Fail(kUsage, "BAD_REQUEST", o.status().message());
      if (o->key.rfind("inputs.", 0) != 0 || o->key.size() <= 7) {
        return ctx_.Fail(
            kUsage, "BAD_REQUEST",
            "--set takes inputs.<name>=<value> for a published pipeline, not '" + s + "'");
      }
      inputs[o->key.substr(7)] = o->value;
    }
    Json args = {{"inputs", inputs}, {"user", UserName()}};
    if (version > 0) args["version"] = version;
    if (!experiment.empty()) args["experiment_name"] = experiment;
    auto r = ctx_.Send("POST", std::string(kCairnApi) + "pipelines/" + name + "/runs", args);
    if (!r) return;
    if (ctx_.json) return ctx_.Emit(*r);
    const Json& job = (*r)["job"];
    std::cout << "submitted job " << Str(job, "name") << " (" << Str(job, "status") << ")\n"
              << "  follow it: cairn job stream " << Str(job, "name") << "\n";
  }

 private:
  CliContext& ctx_;
};

}  // namespace

void AddJobCommands(CLI::App& app, CliContext& ctx) {
  // CLI11 keeps pointers to these; they live as long as the app parses.
  static JobCommands jobs(ctx);
  static ComputeCommands computes(ctx);
  static std::string file, name, status, out, step, type = "local";
  static std::vector<std::string> sets;
  static bool stream = false;
  static int64_t max_results = 100, max_concurrency = 1;
  static int count = 5;

  auto* job = app.add_subcommand("job", "run command and pipeline jobs from Azure ML job YAML")
                  ->require_subcommand(1);
  auto* create = job->add_subcommand(
      "create", "submit a job: local code and input files are uploaded as assets first");
  create->add_option("--file,-f", file, "job YAML (type: command or pipeline)")->required();
  create->add_option("--set", sets,
                     "KEY=VALUE override applied to the YAML before checking, e.g. inputs.lr=0.1 "
                     "or jobs.train.compute=local (repeatable)");
  create->add_option("--name,-n", name, "job name (default: chosen by the server)");
  create->add_flag("--stream,-s", stream,
                   "follow the logs until the job ends (exit 0 Completed, 1 Failed/Canceled)");
  create->callback([&] { jobs.Create(file, sets, name, stream); });

  auto* list = job->add_subcommand("list", "list jobs, newest first");
  list->add_option("--status", status, "only jobs in this status")
      ->check(
          CLI::IsMember({"NotStarted", "Queued", "Running", "Completed", "Failed", "Canceled"}));
  list->add_option("--max-results", max_results)
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  list->callback([&] { jobs.List(status, max_results); });

  auto* show = job->add_subcommand("show", "a job, its steps and outputs");
  show->add_option("name", name)->required();
  show->callback([&] { jobs.Show(name); });

  auto* stream_cmd = job->add_subcommand(
      "stream", "follow a job's logs until it ends (exit 0 Completed, 1 Failed/Canceled)");
  stream_cmd->add_option("name", name)->required();
  stream_cmd->callback([&] { jobs.Stream(name); });

  auto* cancel = job->add_subcommand("cancel", "cancel a job (kills its running steps)");
  cancel->add_option("name", name)->required();
  cancel->callback([&] { jobs.Cancel(name); });

  auto* download = job->add_subcommand("download", "download step outputs");
  download->add_option("name", name)->required();
  download->add_option("--output,-o", out, "destination folder (default: ./<job name>)");
  download->add_option("--step", step, "only this step's outputs");
  download->callback([&] { jobs.Download(name, out, step); });

  static RegisteredComponentCommands registered(ctx);
  static std::string component_version, component_name;
  static bool component_archived = false;
  CLI::App* component = ComponentGroup(app);
  auto* k_create = component->add_subcommand(
      "create",
      "register a command component from its YAML (a local code folder is uploaded as a snapshot)");
  k_create->add_option("--file,-f", file, "component YAML (Azure ML command component)")
      ->required();
  k_create->add_option("--version", component_version,
                       "version (default: the YAML's version:, else the next number)");
  k_create->callback([&] { registered.Create(file, component_version); });
  auto* k_list = component->add_subcommand(
      "list", "registered components (latest version of each; --name: every version of one)");
  k_list->add_option("--name", component_name, "only this component's versions");
  k_list->add_flag("--include-archived", component_archived, "archived versions too");
  k_list->callback([&] { registered.List(component_name, component_archived); });
  auto* k_show = component->add_subcommand("show", "a registered component version and its YAML");
  k_show->add_option("ref", name, "NAME:VERSION or NAME@latest")->required();
  k_show->callback([&] { registered.Show(name); });
  auto* k_archive = component->add_subcommand(
      "archive", "hide a version from @latest and listings (NAME:VERSION still runs)");
  k_archive->add_option("ref", name, "NAME:VERSION")->required();
  k_archive->callback([&] { SetAssetArchived(ctx, "component", name, true); });
  auto* k_restore = component->add_subcommand("restore", "undo archive");
  k_restore->add_option("ref", name, "NAME:VERSION")->required();
  k_restore->callback([&] { SetAssetArchived(ctx, "component", name, false); });

  auto* compute =
      app.add_subcommand("compute", "named compute targets for job steps")->require_subcommand(1);
  auto* c_create = compute->add_subcommand("create", "create a compute target");
  c_create->add_option("--name,-n", name)->required();
  c_create->add_option("--type,-t", type, "compute type")
      ->capture_default_str()
      ->check(CLI::IsMember({"local"}));
  c_create->add_option("--max-concurrency", max_concurrency, "steps run at once")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  c_create->callback([&] { computes.Create(name, type, max_concurrency); });
  compute->add_subcommand("list", "list compute targets")->callback([&] { computes.List(); });
  auto* c_show = compute->add_subcommand("show", "show a compute target");
  c_show->add_option("name", name)->required();
  c_show->callback([&] { computes.Show(name); });
  auto* c_delete = compute->add_subcommand("delete", "delete a compute target");
  c_delete->add_option("name", name)->required();
  c_delete->callback([&] { computes.Delete(name); });

  auto* schedule =
      app.add_subcommand("schedule", "schedules that start jobs")->require_subcommand(1);
  auto* validate = schedule->add_subcommand(
      "validate", "check a schedule YAML (and its job) offline and print its next fire times");
  validate->add_option("--file,-f", file, "schedule YAML")->required();
  validate->add_option("--count", count, "how many fire times to show")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  validate->callback([&] { ScheduleValidate(ctx, file, count); });
  static ScheduleCommands schedules(ctx);
  static bool disabled = false;
  auto* s_create = schedule->add_subcommand(
      "create", "create a schedule from YAML (uploads the job's local code and inputs)");
  s_create->add_option("--file,-f", file, "schedule YAML")->required();
  s_create->add_flag("--disabled", disabled, "create it disabled");
  s_create->callback([&] { schedules.Create(file, disabled); });
  schedule->add_subcommand("list", "list schedules")->callback([&] { schedules.List(); });
  auto* s_show =
      schedule->add_subcommand("show", "a schedule, its next 5 fire times and last jobs");
  s_show->add_option("name", name)->required();
  s_show->callback([&] { schedules.Show(name); });
  auto* s_enable = schedule->add_subcommand("enable", "enable a schedule (fires from now on)");
  s_enable->add_option("name", name)->required();
  s_enable->callback([&] { schedules.SetEnabled(name, true); });
  auto* s_disable = schedule->add_subcommand("disable", "disable a schedule");
  s_disable->add_option("name", name)->required();
  s_disable->callback([&] { schedules.SetEnabled(name, false); });
  auto* s_delete = schedule->add_subcommand("delete", "delete a schedule (its jobs stay)");
  s_delete->add_option("name", name)->required();
  s_delete->callback([&] { schedules.Delete(name); });

  static PipelineCommands pipelines(ctx);
  static std::string description, experiment;
  static int64_t version = 0;
  auto* pipeline_cmd =
      app.add_subcommand("pipeline", "published pipelines: versioned job plans run by name")
          ->require_subcommand(1);
  auto* p_publish = pipeline_cmd->add_subcommand(
      "publish", "publish a job YAML as the next version of a named pipeline");
  p_publish->add_option("--file,-f", file, "job or pipeline YAML")->required();
  p_publish->add_option("--name,-n", name, "pipeline name")->required();
  p_publish->add_option("--description,-d", description);
  p_publish->callback([&] { pipelines.Publish(file, name, description); });
  pipeline_cmd->add_subcommand("list", "list published pipelines (latest versions)")->callback([&] {
    pipelines.List();
  });
  auto* p_show = pipeline_cmd->add_subcommand("show", "a published pipeline and its inputs");
  p_show->add_option("name", name)->required();
  p_show->add_option("--version", version, "version (default: latest)");
  p_show->callback([&] { pipelines.Show(name, version); });
  auto* p_run = pipeline_cmd->add_subcommand("run", "submit a job from a published pipeline");
  p_run->add_option("name", name)->required();
  p_run->add_option("--set", sets, "override an input: inputs.<name>=<value> (repeatable)");
  p_run->add_option("--version", version, "version (default: latest)");
  p_run->add_option("--experiment-name", experiment, "experiment of the job's runs");
  p_run->callback([&] { pipelines.Run(name, sets, version, experiment); });
}

}  // namespace cairn
