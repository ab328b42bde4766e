#include "tracking/tracking_service.h"

#include <cctype>
#include <cmath>

#include "artifacts/path_safety.h"
#include "core/ids.h"
#include "tracking/search_filter.h"
#include "tracking/validation.h"

namespace cairn {
namespace {
constexpr const char* kArtifactScheme = "mlflow-artifacts:";
}  // namespace

namespace {

Result<int64_t> CheckMaxResults(std::optional<int64_t> requested, int64_t fallback) {
  int64_t n = requested.value_or(fallback);
  if (n <= 0 || n > kMaxSearchResults) {
    return InvalidParameter("Invalid value " + std::to_string(n) +
                            " for parameter 'max_results' supplied. It must be between 1 and " +
                            std::to_string(kMaxSearchResults) + ".");
  }
  return n;
}

}  // namespace

Result<std::string> ArtifactUriToPath(const std::string& uri) {
  if (uri.rfind(kArtifactScheme, 0) != 0) {
    return InvalidParameter("artifact location '" + uri +
                            "' is not served by this server; only mlflow-artifacts:/ URIs are");
  }
  std::string rest = uri.substr(std::char_traits<char>::length(kArtifactScheme));
  size_t start = rest.find_first_not_of('/');
  return NormalizeRelativePath(start == std::string::npos ? "" : rest.substr(start));
}

Result<ViewType> ParseViewType(const std::string& text) {
  if (text.empty() || text == "ACTIVE_ONLY" || text == "1") return ViewType::kActiveOnly;
  if (text == "DELETED_ONLY" || text == "2") return ViewType::kDeletedOnly;
  if (text == "ALL" || text == "3") return ViewType::kAll;
  return InvalidParameter("Invalid view type '" + text +
                          "'; expected ACTIVE_ONLY, DELETED_ONLY or ALL");
}

Result<std::string> TrackingService::CreateExperiment(const std::string& name,
                                                      const std::string& artifact_location,
                                                      const std::vector<Tag>& tags) {
  CAIRN_RETURN_IF_ERROR(ValidateExperimentName(name));
  if (!artifact_location.empty()) {
    // Only locations this server can serve; a host path here is how MLflow's
    // CVE-2023-1177 family started.
    auto path = ArtifactUriToPath(artifact_location);
    if (!path.ok()) return path.status();
  }
  for (const auto& t : tags) {
    CAIRN_RETURN_IF_ERROR(ValidateEntityName(t.key, "tag"));
    if (t.value.size() > kMaxExperimentTagValueLength) {
      return InvalidParameter("Experiment tag value for key '" + t.key + "' exceeds " +
                              std::to_string(kMaxExperimentTagValueLength) + " characters");
    }
  }
  return store_.CreateExperiment(name, artifact_location, tags);
}

Result<Experiment> TrackingService::GetExperimentByName(const std::string& name) {
  if (name.empty())
    return InvalidParameter("Missing value for required parameter 'experiment_name'");
  return store_.GetExperimentByName(name);
}

Result<Page<Experiment>> TrackingService::SearchExperiments(const SearchRequest& req) {
  ExperimentQuery q;
  auto filter = ParseFilter(req.filter, SearchTarget::kExperiments);
  if (!filter.ok()) return filter.status();
  q.filter = std::move(filter).value();
  for (const auto& o : req.order_by) {
    auto key = ParseOrderBy(o, SearchTarget::kExperiments);
    if (!key.ok()) return key.status();
    q.order_by.push_back(*key);
  }
  q.view = req.view;
  CAIRN_ASSIGN_OR_RETURN(q.max_results, CheckMaxResults(req.max_results, 1000));
  CAIRN_ASSIGN_OR_RETURN(q.offset, DecodePageToken(req.page_token));
  return store_.SearchExperiments(q);
}

Status TrackingService::RenameExperiment(const std::string& id, const std::string& new_name) {
  CAIRN_RETURN_IF_ERROR(ValidateExperimentName(new_name));
  return store_.RenameExperiment(id, new_name);
}

Status TrackingService::SetExperimentTag(const std::string& id, const Tag& tag) {
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(tag.key, "tag"));
  if (tag.value.size() > kMaxExperimentTagValueLength) {
    return InvalidParameter("Experiment tag value for key '" + tag.key + "' exceeds " +
                            std::to_string(kMaxExperimentTagValueLength) + " characters");
  }
  return store_.SetExperimentTag(id, tag);
}

namespace {
Result<NewRun> CheckedNewRun(const NewRun& run) {
  for (const auto& t : run.tags) CAIRN_RETURN_IF_ERROR(ValidateTag(t));
  if (run.tags.size() > kMaxEntitiesPerBatch) {
    return InvalidParameter("A run can be created with at most 1000 tags");
  }
  if (run.run_name.size() > kMaxEntityKeyLength) {
    return InvalidParameter("run_name is longer than 250 characters");
  }
  NewRun r = run;
  if (r.experiment_id.empty()) r.experiment_id = "0";
  return r;
}
}  // namespace

Result<Run> TrackingService::CreateRun(const NewRun& run) {
  CAIRN_ASSIGN_OR_RETURN(NewRun r, CheckedNewRun(run));
  return store_.CreateRun(r);
}

Result<std::vector<Run>> TrackingService::CreateRuns(const std::vector<NewRun>& runs) {
  std::vector<NewRun> checked;
  checked.reserve(runs.size());
  for (const NewRun& run : runs) {
    CAIRN_ASSIGN_OR_RETURN(NewRun r, CheckedNewRun(run));
    checked.push_back(std::move(r));
  }
  return store_.CreateRuns(checked);
}

Result<RunInfo> TrackingService::UpdateRun(const std::string& run_id,
                                           const std::optional<std::string>& status,
                                           const std::optional<int64_t>& end_time,
                                           const std::optional<std::string>& run_name) {
  if (status) CAIRN_RETURN_IF_ERROR(ValidateRunStatus(*status));
  if (run_name && run_name->size() > kMaxEntityKeyLength) {
    return InvalidParameter("run_name is longer than 250 characters");
  }
  return store_.UpdateRun(run_id, status, end_time, run_name);
}

Status TrackingService::LogMetric(const std::string& run_id, const Metric& m) {
  CAIRN_RETURN_IF_ERROR(ValidateMetric(m));
  return store_.LogBatch(run_id, {m}, {}, {});
}

Status TrackingService::LogParam(const std::string& run_id, const Param& p) {
  CAIRN_RETURN_IF_ERROR(ValidateParam(p));
  return store_.LogBatch(run_id, {}, {p}, {});
}

Status TrackingService::SetTag(const std::string& run_id, const Tag& t) {
  CAIRN_RETURN_IF_ERROR(ValidateTag(t));
  return store_.LogBatch(run_id, {}, {}, {t});
}

Status TrackingService::DeleteTag(const std::string& run_id, const std::string& key) {
  CAIRN_RETURN_IF_ERROR(ValidateEntityName(key, "tag"));
  return store_.DeleteTag(run_id, key);
}

Status TrackingService::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                 const std::vector<Param>& params, const std::vector<Tag>& tags) {
  CAIRN_RETURN_IF_ERROR(ValidateBatch(metrics, params, tags));
  return store_.LogBatch(run_id, metrics, params, tags);
}

Status TrackingService::LogInputs(const std::string& run_id,
                                  const std::vector<DatasetInput>& inputs) {
  CAIRN_RETURN_IF_ERROR(ValidateDatasetInputs(inputs));
  return store_.LogInputs(run_id, inputs);
}

Status TrackingService::LogModel(const std::string& run_id, const std::string& model_json) {
  if (model_json.empty() || model_json.front() != '{') {
    return InvalidParameter("model_json must be a JSON object");
  }
  // Appended inside the store's transaction, so concurrent calls never lose a model.
  return store_.UpdateRunTag(
      run_id, "mlflow.log-model.history", [&](const std::string* current) -> Result<std::string> {
        std::string history = current ? *current : "[]";
        size_t close = history.rfind(']');
        if (close == std::string::npos) {
          history = "[]";
          close = 1;
        }
        bool empty = history.find_first_not_of(" \n\t", 1) == close;
        history = history.substr(0, close) + (empty ? "" : ", ") + model_json + "]";
        if (history.size() > kMaxTagValueLength) {
          return InvalidParameter(
              "the run's logged-model history would exceed the tag value limit");
        }
        return history;
      });
}

Result<Page<Run>> TrackingService::SearchRuns(const std::vector<std::string>& experiment_ids,
                                              const SearchRequest& req) {
  RunQuery q;
  q.experiment_ids = experiment_ids;
  auto filter = ParseFilter(req.filter, SearchTarget::kRuns);
  if (!filter.ok()) return filter.status();
  q.filter = std::move(filter).value();
  for (const auto& o : req.order_by) {
    auto key = ParseOrderBy(o, SearchTarget::kRuns);
    if (!key.ok()) return key.status();
    q.order_by.push_back(*key);
  }
  q.view = req.view;
  CAIRN_ASSIGN_OR_RETURN(q.max_results, CheckMaxResults(req.max_results, 1000));
  CAIRN_ASSIGN_OR_RETURN(q.offset, DecodePageToken(req.page_token));
  return store_.SearchRuns(q);
}

Result<Page<Metric>> TrackingService::GetMetricHistory(const std::string& run_id,
                                                       const std::string& key,
                                                       std::optional<int64_t> max_results,
                                                       const std::string& page_token) {
  if (key.empty()) return InvalidParameter("Missing value for required parameter 'metric_key'");
  CAIRN_ASSIGN_OR_RETURN(int64_t offset, DecodePageToken(page_token));
  CAIRN_ASSIGN_OR_RETURN(std::vector<Metric> all, store_.GetMetricHistory(run_id, key));
  Page<Metric> page;
  if (!max_results && offset == 0) {
    page.items = std::move(all);
    return page;
  }
  int64_t limit = max_results.value_or(25000);
  if (limit <= 0 || limit > 25000) {
    return InvalidParameter("max_results must be between 1 and 25000; got " +
                            std::to_string(limit));
  }
  if (offset > static_cast<int64_t>(all.size())) offset = static_cast<int64_t>(all.size());
  for (int64_t i = offset; i < static_cast<int64_t>(all.size()) && i < offset + limit; ++i) {
    page.items.push_back(all[static_cast<size_t>(i)]);
  }
  if (offset + limit < static_cast<int64_t>(all.size())) {
    page.next_page_token = Base64Encode("{\"offset\": " + std::to_string(offset + limit) + "}");
  }
  return page;
}

Result<std::vector<Metric>> TrackingService::GetMetricHistoryBulkInterval(
    const std::vector<std::string>& run_ids, const std::string& key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step,
    std::optional<int64_t> max_results) {
  if (run_ids.empty()) return InvalidParameter("Missing value for required parameter 'run_ids'");
  if (run_ids.size() > 100) {
    return InvalidParameter(
        "GetMetricHistoryBulkInterval request must specify at most 100 run_ids. "
        "Received " +
        std::to_string(run_ids.size()) + " run_ids.");
  }
  if (key.empty()) return InvalidParameter("Missing value for required parameter 'metric_key'");
  if (start_step.has_value() != end_step.has_value()) {
    return InvalidParameter(
        "If either start step or end step are specified, both must be specified.");
  }
  if (start_step && *start_step > *end_step) {
    return InvalidParameter("end_step must be greater than start_step.");
  }
  int64_t n = max_results.value_or(320);
  if (n <= 0 || n > 2500) {
    return InvalidParameter("max_results must be between 1 and 2500; got " + std::to_string(n));
  }
  return store_.GetMetricHistoryBulkInterval(run_ids, key, start_step, end_step, n);
}

Result<std::string> TrackingService::RunArtifactRoot(const std::string& run_id) {
  CAIRN_ASSIGN_OR_RETURN(Run run, store_.GetRun(run_id));
  return ArtifactUriToPath(run.info.artifact_uri);
}

Result<ArtifactListing> TrackingService::ListRunArtifacts(const std::string& run_id,
                                                          const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(Run run, store_.GetRun(run_id));
  CAIRN_ASSIGN_OR_RETURN(std::string root, ArtifactUriToPath(run.info.artifact_uri));
  CAIRN_ASSIGN_OR_RETURN(std::string rel, NormalizeRelativePath(path));
  CAIRN_ASSIGN_OR_RETURN(auto files, artifacts_.List(rel.empty() ? root : root + "/" + rel));
  ArtifactListing out;
  out.root_uri = run.info.artifact_uri;
  for (auto& f : files) {
    f.path = f.path.substr(root.size() + 1);  // relative to the run's root, as MLflow returns
    out.files.push_back(std::move(f));
  }
  return out;
}

Result<std::string> TrackingService::RunArtifactStorePath(const std::string& run_id,
                                                          const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string root, RunArtifactRoot(run_id));
  CAIRN_ASSIGN_OR_RETURN(std::string rel, NormalizeRelativePath(path));
  if (rel.empty()) return InvalidParameter("path must name a file inside the run's artifacts");
  return root + "/" + rel;
}

Result<std::string> TrackingService::GetRunArtifact(const std::string& run_id,
                                                    const std::string& path) {
  CAIRN_ASSIGN_OR_RETURN(std::string store_path, RunArtifactStorePath(run_id, path));
  return artifacts_.Get(store_path);
}

}  // namespace cairn
