#include "api/tracking_routes.h"

#include "api/http_util.h"

#include <chrono>

#include "artifacts/path_safety.h"
#include "core/clock.h"
#include "tracking/tracking_service.h"

namespace cairn {
namespace {
using api::Args;
using api::Json;
using api::JsonDouble;

// ---- entities -> proto JSON (unset and empty fields omitted, as MLflow's) ----

Json TagsJson(const std::vector<Tag>& tags) {
  Json a = Json::array();
  for (const auto& t : tags) a.push_back({{"key", t.key}, {"value", t.value}});
  return a;
}

Json ExperimentJson(const Experiment& e) {
  Json j = {{"experiment_id", e.experiment_id},         {"name", e.name},
            {"artifact_location", e.artifact_location}, {"lifecycle_stage", e.lifecycle_stage},
            {"last_update_time", e.last_update_time},   {"creation_time", e.creation_time}};
  if (!e.tags.empty()) j["tags"] = TagsJson(e.tags);
  return j;
}

Json RunInfoJson(const RunInfo& r) {
  Json j = {{"run_id", r.run_id},
            {"run_uuid", r.run_id},
            {"run_name", r.run_name},
            {"experiment_id", r.experiment_id},
            {"user_id", r.user_id},
            {"status", r.status},
            {"artifact_uri", r.artifact_uri},
            {"lifecycle_stage", r.lifecycle_stage}};
  if (r.start_time) j["start_time"] = *r.start_time;
  if (r.end_time) j["end_time"] = *r.end_time;
  return j;
}

Json MetricJson(const Metric& m, bool with_run_id = false) {
  Json j = {
      {"key", m.key}, {"value", JsonDouble(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
  if (with_run_id) j["run_id"] = m.run_id;
  return j;
}

Json RunJson(const Run& run) {
  Json data = Json::object();
  if (!run.metrics.empty()) {
    Json a = Json::array();
    for (const auto& m : run.metrics) a.push_back(MetricJson(m));
    data["metrics"] = std::move(a);
  }
  if (!run.params.empty()) {
    Json a = Json::array();
    for (const auto& p : run.params) a.push_back({{"key", p.key}, {"value", p.value}});
    data["params"] = std::move(a);
  }
  if (!run.tags.empty()) data["tags"] = TagsJson(run.tags);
  Json inputs = Json::object();
  if (!run.inputs.empty()) {
    Json a = Json::array();
    for (const auto& in : run.inputs) {
      Json d = {{"name", in.dataset.name},
                {"digest", in.dataset.digest},
                {"source_type", in.dataset.source_type},
                {"source", in.dataset.source}};
      if (!in.dataset.schema.empty()) d["schema"] = in.dataset.schema;
      if (!in.dataset.profile.empty()) d["profile"] = in.dataset.profile;
      Json di = {{"dataset", d}};
      if (!in.tags.empty()) di["tags"] = TagsJson(in.tags);
      a.push_back(std::move(di));
    }
    inputs["dataset_inputs"] = std::move(a);
  }
  return {{"info", RunInfoJson(run.info)}, {"data", data}, {"inputs", inputs}};
}

// ---- JSON -> entities ----------------------------------------------------------

std::vector<Tag> ReadTags(Args& args, const char* field) {
  std::vector<Tag> tags;
  const Json* raw = args.Raw(field);
  if (!raw) return tags;
  if (!raw->is_array()) {
    args.Fail(InvalidParameter(std::string("'") + field + "' must be a list of {key, value}"));
    return tags;
  }
  for (const auto& t : *raw) {
    Args a = Args::Of(t);
    Tag tag{a.String("key"), a.OptString("value").value_or("")};
    if (!a.ok()) {
      args.Fail(InvalidParameter(std::string("in '") + field + "': " + a.status().message()));
      return {};
    }
    tags.push_back(std::move(tag));
  }
  return tags;
}

std::vector<Metric> ReadMetrics(Args& args) {
  std::vector<Metric> out;
  const Json* raw = args.Raw("metrics");
  if (!raw) return out;
  if (!raw->is_array()) {
    args.Fail(InvalidParameter("'metrics' must be a list of {key, value, timestamp, step}"));
    return out;
  }
  out.reserve(raw->size());
  for (const auto& m : *raw) {
    Args a = Args::Of(m);
    Metric metric{a.String("key"), a.Double("value"), a.OptInt("timestamp").value_or(0),
                  a.OptInt("step").value_or(0)};
    if (!a.Raw("timestamp") && a.ok()) {
      a.Fail(InvalidParameter("Missing value for required parameter 'timestamp'."));
    }
    if (!a.ok()) {
      args.Fail(InvalidParameter("in 'metrics': " + a.status().message()));
      return {};
    }
    out.push_back(std::move(metric));
  }
  return out;
}

std::string RunIdArg(Args& args) {
  if (auto id = args.OptString("run_id"); id && !id->empty()) return *id;
  if (auto id = args.OptString("run_uuid"); id && !id->empty()) return *id;
  args.Fail(InvalidParameter("Missing value for required parameter 'run_id'."));
  return "";
}

SearchRequest ReadSearch(Args& args, const char* view_field) {
  SearchRequest req;
  req.filter = args.OptString("filter").value_or("");
  req.order_by = args.Strings("order_by");
  if (auto v = args.OptString(view_field)) {
    auto view = ParseViewType(*v);
    if (view.ok()) {
      req.view = *view;
    } else {
      args.Fail(view.status());
    }
  }
  req.max_results = args.OptInt("max_results");
  req.page_token = args.OptString("page_token").value_or("");
  return req;
}

Json Empty() { return Json::object(); }

// Maps Status-returning service calls to `{}` responses.
Result<Json> Done(const Status& st) {
  if (!st.ok()) return st;
  return Empty();
}

void RegisterExperimentRoutes(api::MlflowRouter& r, TrackingService& t) {
  r.Add("POST", "experiments/create", [&t](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string location = a.OptString("artifact_location").value_or("");
    auto tags = ReadTags(a, "tags");
    if (!a.ok()) return a.status();
    auto id = t.CreateExperiment(name, location, tags);
    if (!id.ok()) return id.status();
    return Json{{"experiment_id", *id}};
  });
  r.Add("GET", "experiments/get", [&t](Args& a) -> Result<Json> {
    std::string id = a.String("experiment_id");
    if (!a.ok()) return a.status();
    auto e = t.GetExperiment(id);
    if (!e.ok()) return e.status();
    return Json{{"experiment", ExperimentJson(*e)}};
  });
  r.Add("GET", "experiments/get-by-name", [&t](Args& a) -> Result<Json> {
    std::string name = a.String("experiment_name");
    if (!a.ok()) return a.status();
    auto e = t.GetExperimentByName(name);
    if (!e.ok()) return e.status();
    return Json{{"experiment", ExperimentJson(*e)}};
  });
  auto search = [&t](Args& a) -> Result<Json> {
    SearchRequest req = ReadSearch(a, "view_type");
    if (!a.ok()) return a.status();
    auto page = t.SearchExperiments(req);
    if (!page.ok()) return page.status();
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& e : page->items) list.push_back(ExperimentJson(e));
    if (!list.empty()) out["experiments"] = std::move(list);
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    return out;
  };
  r.Add("POST", "experiments/search", search);
  r.Add("GET", "experiments/search", search);
  r.Add("POST", "experiments/update", [&t](Args& a) -> Result<Json> {
    std::string id = a.String("experiment_id");
    std::string name = a.String("new_name");
    if (!a.ok()) return a.status();
    return Done(t.RenameExperiment(id, name));
  });
  r.Add("POST", "experiments/delete", [&t](Args& a) -> Result<Json> {
    std::string id = a.String("experiment_id");
    if (!a.ok()) return a.status();
    return Done(t.DeleteExperiment(id));
  });
  r.Add("POST", "experiments/restore", [&t](Args& a) -> Result<Json> {
    std::string id = a.String("experiment_id");
    if (!a.ok()) return a.status();
    return Done(t.RestoreExperiment(id));
  });
  r.Add("POST", "experiments/set-experiment-tag", [&t](Args& a) -> Result<Json> {
    std::string id = a.String("experiment_id");
    Tag tag{a.String("key"), a.String("value")};
    if (!a.ok()) return a.status();
    return Done(t.SetExperimentTag(id, tag));
  });
}

void RegisterRunRoutes(api::MlflowRouter& r, TrackingService& t) {
  r.Add("POST", "runs/create", [&t](Args& a) -> Result<Json> {
    NewRun r;
    r.experiment_id = a.OptString("experiment_id").value_or("0");
    r.user_id = a.OptString("user_id").value_or("");
    r.run_name = a.OptString("run_name").value_or("");
    r.start_time = a.OptInt("start_time");
    r.tags = ReadTags(a, "tags");
    if (!a.ok()) return a.status();
    auto run = t.CreateRun(r);
    if (!run.ok()) return run.status();
    return Json{{"run", RunJson(*run)}};
  });
  r.Add("GET", "runs/get", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    if (!a.ok()) return a.status();
    auto run = t.GetRun(id);
    if (!run.ok()) return run.status();
    return Json{{"run", RunJson(*run)}};
  });
  r.Add("POST", "runs/update", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    auto status = a.OptString("status");
    auto end_time = a.OptInt("end_time");
    auto name = a.OptString("run_name");
    if (!a.ok()) return a.status();
    auto info = t.UpdateRun(id, status, end_time, name);
    if (!info.ok()) return info.status();
    return Json{{"run_info", RunInfoJson(*info)}};
  });
  r.Add("POST", "runs/delete", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    if (!a.ok()) return a.status();
    return Done(t.DeleteRun(id));
  });
  r.Add("POST", "runs/restore", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    if (!a.ok()) return a.status();
    return Done(t.RestoreRun(id));
  });
  r.Add("POST", "runs/log-metric", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    Metric m{a.String("key"), a.Double("value"), a.OptInt("timestamp").value_or(0),
             a.OptInt("step").value_or(0)};
    if (a.ok() && !a.Raw("timestamp")) {
      a.Fail(InvalidParameter("Missing value for required parameter 'timestamp'."));
    }
    if (!a.ok()) return a.status();
    return Done(t.LogMetric(id, m));
  });
  r.Add("POST", "runs/log-parameter", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    Param p{a.String("key"), a.String("value")};
    if (!a.ok()) return a.status();
    return Done(t.LogParam(id, p));
  });
  r.Add("POST", "runs/set-tag", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    Tag tag{a.String("key"), a.String("value")};
    if (!a.ok()) return a.status();
    return Done(t.SetTag(id, tag));
  });
  r.Add("POST", "runs/delete-tag", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    std::string key = a.String("key");
    if (!a.ok()) return a.status();
    return Done(t.DeleteTag(id, key));
  });
  r.Add("POST", "runs/log-batch", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    auto metrics = ReadMetrics(a);
    std::vector<Param> params;
    for (auto& tag : ReadTags(a, "params")) params.push_back({tag.key, tag.value});
    auto tags = ReadTags(a, "tags");
    if (!a.ok()) return a.status();
    return Done(t.LogBatch(id, metrics, params, tags));
  });
  r.Add("POST", "runs/log-model", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    std::string model = a.String("model_json");
    if (!a.ok()) return a.status();
    // Spliced into a JSON list tag: it must itself be one well-formed object.
    if (api::MaxJsonDepth(model) > api::kMaxJsonDepth || !Json::accept(model) ||
        !Json::parse(model).is_object()) {
      return InvalidParameter("model_json must be a JSON object (got malformed JSON)");
    }
    return Done(t.LogModel(id, model));
  });
  r.Add("POST", "runs/log-inputs", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    std::vector<DatasetInput> inputs;
    if (const Json* raw = a.Raw("datasets")) {
      if (!raw->is_array()) return InvalidParameter("'datasets' must be a list");
      for (const auto& d : *raw) {
        Args da = Args::Of(d);
        DatasetInput in;
        in.tags = ReadTags(da, "tags");
        const Json* ds = da.Raw("dataset");
        if (!ds || !ds->is_object()) {
          return InvalidParameter("each entry of 'datasets' needs a 'dataset' object");
        }
        Args dsa = Args::Of(*ds);
        in.dataset = {dsa.String("name"),
                      dsa.String("digest"),
                      dsa.String("source_type"),
                      dsa.String("source"),
                      dsa.OptString("schema").value_or(""),
                      dsa.OptString("profile").value_or("")};
        if (!da.ok()) return InvalidParameter("in 'datasets': " + da.status().message());
        if (!dsa.ok()) return InvalidParameter("in 'datasets': " + dsa.status().message());
        inputs.push_back(std::move(in));
      }
    }
    if (!a.ok()) return a.status();
    return Done(t.LogInputs(id, inputs));
  });
  r.Add("POST", "runs/search", [&t](Args& a) -> Result<Json> {
    std::vector<std::string> experiment_ids = a.Strings("experiment_ids");
    SearchRequest req = ReadSearch(a, "run_view_type");
    if (!a.ok()) return a.status();
    auto page = t.SearchRuns(experiment_ids, req);
    if (!page.ok()) return page.status();
    Json out = Json::object();
    Json list = Json::array();
    for (const auto& r : page->items) list.push_back(RunJson(r));
    if (!list.empty()) out["runs"] = std::move(list);
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    return out;
  });
  r.Add("GET", "metrics/get-history", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    std::string key = a.String("metric_key");
    auto max_results = a.OptInt("max_results");
    std::string token = a.OptString("page_token").value_or("");
    if (!a.ok()) return a.status();
    auto page = t.GetMetricHistory(id, key, max_results, token);
    if (!page.ok()) return page.status();
    Json list = Json::array();
    for (const auto& m : page->items) list.push_back(MetricJson(m));
    Json out = {{"metrics", std::move(list)}};
    if (!page->next_page_token.empty()) out["next_page_token"] = page->next_page_token;
    return out;
  });
  r.Add("GET", "metrics/get-history-bulk-interval", [&t](Args& a) -> Result<Json> {
    auto run_ids = a.Strings("run_ids");
    std::string key = a.String("metric_key");
    auto start = a.OptInt("start_step");
    auto end = a.OptInt("end_step");
    auto max_results = a.OptInt("max_results");
    if (!a.ok()) return a.status();
    auto metrics = t.GetMetricHistoryBulkInterval(run_ids, key, start, end, max_results);
    if (!metrics.ok()) return metrics.status();
    Json list = Json::array();
    for (const auto& m : *metrics) list.push_back(MetricJson(m, /*with_run_id=*/true));
    return Json{{"metrics", std::move(list)}};
  });
  r.Add("GET", "artifacts/list", [&t](Args& a) -> Result<Json> {
    std::string id = RunIdArg(a);
    std::string path = a.OptString("path").value_or("");
    if (!a.ok()) return a.status();
    auto listing = t.ListRunArtifacts(id, path);
    if (!listing.ok()) return listing.status();
    Json files = Json::array();
    for (const auto& f : listing->files) {
      Json j = {{"path", f.path}, {"is_dir", f.is_dir}};
      if (!f.is_dir) j["file_size"] = f.file_size;
      files.push_back(std::move(j));
    }
    Json out = {{"root_uri", listing->root_uri}};
    if (!files.empty()) out["files"] = std::move(files);
    return out;
  });
}

// Versioned assets keep their immutable files under "assets/" on the same
// store; the proxy may read them but never write or delete them.
Status RefuseReservedPath(const std::string& path) {
  auto clean = NormalizeRelativePath(path);
  if (!clean.ok()) return clean.status();
  if (*clean == "assets" || clean->rfind("assets/", 0) == 0) {
    return Status(ErrorCode::kPermissionDenied,
                  "'" + path +
                      "' is inside assets/, where versioned assets live; they are "
                      "immutable and cannot be written or deleted through the artifact proxy");
  }
  return Status::Ok();
}

void RegisterArtifactProxyRoutes(http::Server& s, TrackingService& t) {
  const std::string base = "/api/2.0/mlflow-artifacts/artifacts";
  ArtifactStore& store = t.artifacts();
  s.PrefixRoute("PUT", base + "/", [&store](const http::Request& req, http::Response& res) {
    if (Status st = RefuseReservedPath(req.match); !st.ok()) return api::WriteError(res, st);
    BlobInfo received{req.body_sha256, req.body_size};
    Status st = req.body_file.empty()
                    ? store.Put(req.match, req.body)
                    : store.PutSpooled(req.match, req.body_file, &received).status();
    if (!st.ok()) return api::WriteError(res, st);
    api::WriteJson(res, Json::object());
  });
  s.PrefixRoute("GET", base + "/", [&store](const http::Request& req, http::Response& res) {
    api::SendArtifact(res, store, req.match, req.match);
  });
  s.PrefixRoute("DELETE", base + "/", [&store](const http::Request& req, http::Response& res) {
    if (Status st = RefuseReservedPath(req.match); !st.ok()) return api::WriteError(res, st);
    Status st = store.Delete(req.match);
    if (!st.ok()) return api::WriteError(res, st);
    api::WriteJson(res, Json::object());
  });
  s.Route("GET", base, [&store](const http::Request& req, http::Response& res) {
    std::string dir = req.has_param("path") ? req.get_param_value("path") : "";
    auto clean = NormalizeRelativePath(dir);
    if (!clean.ok()) return api::WriteError(res, clean.status());
    auto files = store.List(*clean);
    if (!files.ok()) return api::WriteError(res, files.status());
    Json list = Json::array();
    for (const auto& f : *files) {
      // The proxy lists names relative to the listed directory; clients join them.
      Json j = {{"path", f.path.substr(f.path.rfind('/') + 1)}, {"is_dir", f.is_dir}};
      if (!f.is_dir) j["file_size"] = f.file_size;
      list.push_back(std::move(j));
    }
    Json out = Json::object();
    if (!list.empty()) out["files"] = std::move(list);
    api::WriteJson(res, out);
  });
  s.Route("GET", "/get-artifact", [&t](const http::Request& req, http::Response& res) {
    Args a = api::ParseArgs(req);
    std::string id = RunIdArg(a);
    std::string path = a.String("path");
    if (!a.ok()) return api::WriteError(res, a.status());
    auto store_path = t.RunArtifactStorePath(id, path);
    if (!store_path.ok()) return api::WriteError(res, store_path.status());
    api::SendArtifact(res, t.artifacts(), *store_path, path);
  });
}

// Cairn's own maintenance routes for the artifact store (fsck and garbage collection).
void RegisterArtifactAdminRoutes(http::Server& s, ArtifactStore& store) {
  s.Route("POST", "/api/2.0/cairn/artifacts/verify",
          [&store](const http::Request&, http::Response& res) {
            auto check = store.Verify();
            if (!check.ok()) return api::WriteError(res, check.status());
            api::WriteJson(res, {{"ok", check->ok()},
                                 {"files_checked", check->files_checked},
                                 {"blobs_checked", check->blobs_checked},
                                 {"bytes_checked", check->bytes_checked},
                                 {"corrupt_blobs", check->corrupt_blobs},
                                 {"missing_blobs", check->missing_blobs},
                                 {"damaged_entries", check->damaged_entries}});
          });
  s.Route("POST", "/api/2.0/cairn/artifacts/gc",
          [&store](const http::Request& req, http::Response& res) {
            Args a = api::ParseArgs(req);
            int64_t grace = a.OptInt("grace_seconds").value_or(3600);
            if (a.ok() && grace < 0) a.Fail(InvalidParameter("grace_seconds must be >= 0"));
            if (!a.ok()) return api::WriteError(res, a.status());
            auto gc = store.CollectGarbage(std::chrono::seconds(grace));
            if (!gc.ok()) return api::WriteError(res, gc.status());
            api::WriteJson(res, {{"removed_blobs", gc->removed_blobs},
                                 {"freed_bytes", gc->freed_bytes},
                                 {"kept_blobs", gc->kept_blobs},
                                 {"removed_temp_files", gc->removed_temp_files}});
          });
}

}  // namespace

void RegisterTrackingRoutes(http::Server& server, api::MlflowRouter& router,
                            TrackingService& tracking) {
  RegisterExperimentRoutes(router, tracking);
  RegisterRunRoutes(router, tracking);
  RegisterArtifactProxyRoutes(server, tracking);
  RegisterArtifactAdminRoutes(server, tracking.artifacts());
}

}  // namespace cairn
