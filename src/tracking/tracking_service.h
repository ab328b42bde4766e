// TrackingService: experiment tracking as MLflow defines it — experiments,
// runs, metrics, params, tags, dataset inputs, searches and run artifacts —
// over a MetadataStore and an ArtifactStore. Validates every input (names,
// lengths, batch limits, filter grammar, page tokens) before the store sees it.
// Knows nothing of HTTP. Thread-safe (stateless over thread-safe backends).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/clock.h"
#include "store/metadata_store.h"
#include "store/paging.h"

namespace cairn {

struct SearchRequest {
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view = ViewType::kActiveOnly;
  std::optional<int64_t> max_results;
  std::string page_token;
};

struct ArtifactListing {
  std::string root_uri;
  std::vector<FileInfo> files;  // paths relative to the run's artifact root
};

// "mlflow-artifacts:/0/abc/artifacts" -> "0/abc/artifacts"; error for other schemes.
Result<std::string> ArtifactUriToPath(const std::string& uri);
// Parses a view type given as a name ("ACTIVE_ONLY") or its proto number ("1").
Result<ViewType> ParseViewType(const std::string& text);

class TrackingService {
 public:
  TrackingService(MetadataStore& store, ArtifactStore& artifacts,
                  const Clock& clock = SystemClock())
      : store_(store), artifacts_(artifacts), clock_(clock) {}

  Result<std::string> CreateExperiment(const std::string& name,
                                       const std::string& artifact_location,
                                       const std::vector<Tag>& tags);
  Result<Experiment> GetExperiment(const std::string& id) { return store_.GetExperiment(id); }
  Result<Experiment> GetExperimentByName(const std::string& name);
  Result<Page<Experiment>> SearchExperiments(const SearchRequest& req);
  Status RenameExperiment(const std::string& id, const std::string& new_name);
  Status DeleteExperiment(const std::string& id) {
    return store_.SetExperimentLifecycle(id, kDeleted);
  }
  Status RestoreExperiment(const std::string& id) {
    return store_.SetExperimentLifecycle(id, kActive);
  }
  Status SetExperimentTag(const std::string& id, const Tag& tag);

  Result<Run> CreateRun(const NewRun& run);
  // Several runs in one transaction: all are created, or none.
  Result<std::vector<Run>> CreateRuns(const std::vector<NewRun>& runs);
  Result<Run> GetRun(const std::string& run_id) { return store_.GetRun(run_id); }
  Result<RunInfo> UpdateRun(const std::string& run_id, const std::optional<std::string>& status,
                            const std::optional<int64_t>& end_time,
                            const std::optional<std::string>& run_name);
  Status DeleteRun(const std::string& run_id) { return store_.SetRunLifecycle(run_id, kDeleted); }
  Status RestoreRun(const std::string& run_id) { return store_.SetRunLifecycle(run_id, kActive); }
  Status LogMetric(const std::string& run_id, const Metric& m);
  Status LogParam(const std::string& run_id, const Param& p);
  Status SetTag(const std::string& run_id, const Tag& t);
  Status DeleteTag(const std::string& run_id, const std::string& key);
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags);
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs);
  // Appends a logged model's JSON to the run's "mlflow.log-model.history" tag.
  Status LogModel(const std::string& run_id, const std::string& model_json);
  Result<Page<Run>> SearchRuns(const std::vector<std::string>& experiment_ids,
                               const SearchRequest& req);
  Result<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                        std::optional<int64_t> max_results,
                                        const std::string& page_token);
  Result<std::vector<Metric>> GetMetricHistoryBulkInterval(const std::vector<std::string>& run_ids,
                                                           const std::string& key,
                                                           std::optional<int64_t> start_step,
                                                           std::optional<int64_t> end_step,
                                                           std::optional<int64_t> max_results);

  // Run artifacts, addressed relative to the run's artifact root.
  Result<ArtifactListing> ListRunArtifacts(const std::string& run_id, const std::string& path);
  Result<std::string> GetRunArtifact(const std::string& run_id, const std::string& path);
  // Where a run's artifact file lives in the artifact store (validated path).
  Result<std::string> RunArtifactStorePath(const std::string& run_id, const std::string& path);

  ArtifactStore& artifacts() { return artifacts_; }

 private:
  Result<std::string> RunArtifactRoot(const std::string& run_id);

  MetadataStore& store_;
  ArtifactStore& artifacts_;
  const Clock& clock_;
};

}  // namespace cairn
