// MetadataStore: the one seam between Cairn's services and the database that
// holds experiments and runs. Backends: sqlite/ (embedded default); PostgreSQL
// follows behind the same interface. Every method is thread-safe. Mutations
// are atomic: a failed call changes nothing; a call that returned OK is durable
// to the degree the backend's sync mode promises (see docs/ARCHITECTURE.md).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/entities.h"
#include "store/search.h"

namespace cairn {

class MetadataStore {
 public:
  virtual ~MetadataStore() = default;

  virtual int SchemaVersion() = 0;

  // Experiments. An empty artifact_location gets "mlflow-artifacts:/<id>".
  virtual Result<std::string> CreateExperiment(const std::string& name,
                                               const std::string& artifact_location,
                                               const std::vector<Tag>& tags) = 0;
  virtual Result<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  virtual Result<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& query) = 0;
  virtual Status RenameExperiment(const std::string& experiment_id,
                                  const std::string& new_name) = 0;
  // Moves an experiment (and its runs) between "active" and "deleted".
  virtual Status SetExperimentLifecycle(const std::string& experiment_id,
                                        const std::string& stage) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) = 0;

  // Runs.
  virtual Result<Run> CreateRun(const NewRun& run) = 0;
  // Several runs at once, all or nothing (one transaction where the backend
  // can: a pipeline creates a run per step).
  virtual Result<std::vector<Run>> CreateRuns(const std::vector<NewRun>& runs) {
    std::vector<Run> out;
    for (const NewRun& r : runs) {
      CAIRN_ASSIGN_OR_RETURN(Run run, CreateRun(r));
      out.push_back(std::move(run));
    }
    return out;
  }
  virtual Result<Run> GetRun(const std::string& run_id) = 0;
  virtual Result<RunInfo> UpdateRun(const std::string& run_id,
                                    const std::optional<std::string>& status,
                                    const std::optional<int64_t>& end_time,
                                    const std::optional<std::string>& run_name) = 0;
  virtual Status SetRunLifecycle(const std::string& run_id, const std::string& stage) = 0;
  // All or nothing: either every metric, param and tag is stored or none is.
  // Re-logging a param with a different value fails with INVALID_PARAMETER_VALUE.
  virtual Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;
  // Read-modify-write of one run tag in a single transaction: `update` gets the
  // current value (nullptr when unset) and returns the new one or an error.
  using TagUpdate = std::function<Result<std::string>(const std::string* current)>;
  virtual Status UpdateRunTag(const std::string& run_id, const std::string& key,
                              const TagUpdate& update) = 0;
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) = 0;
  virtual Result<Page<Run>> SearchRuns(const RunQuery& query) = 0;
  virtual Result<std::vector<Metric>> GetMetricHistory(const std::string& run_id,
                                                       const std::string& key) = 0;
  // Up to max_results distinct steps in [start_step, end_step], spread evenly
  // (always keeping the first and last), with every run's values at those steps.
  virtual Result<std::vector<Metric>> GetMetricHistoryBulkInterval(
      const std::vector<std::string>& run_ids, const std::string& key,
      std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results) = 0;
};

struct StoreOptions {
  // "normal": a write acknowledged to a client survives a crash of the process
  // (kill -9); "full": it also survives power loss (one fsync per group commit).
  std::string sync_mode = "normal";
  int read_connections = 8;
  // Hold the database for this process alone (no other process may open it
  // while the store is open); faster commits. Off for tools that share a file.
  bool exclusive = true;
};

}  // namespace cairn
