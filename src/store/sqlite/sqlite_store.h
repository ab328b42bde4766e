// SqliteStore: the embedded MetadataStore backend. One SQLite file in WAL mode.
// Reads run concurrently on a small pool of connections. Writes queue up; the
// caller at the head of the queue becomes the leader and commits every queued
// write in one transaction (group commit, as LevelDB's writer queue does),
// each caller's work inside its own SAVEPOINT so a failing request rolls back
// alone. A lone writer therefore commits on its own thread with no hand-off,
// and concurrent writers share one commit. Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/metadata_store.h"

namespace cairn::sqlite {

class Db;

class SqliteStore final : public MetadataStore {
 public:
  // Opens or creates the database, runs missing migrations, and refuses a
  // database written by a newer Cairn (FAILED_PRECONDITION-style INVALID_STATE).
  static Result<std::unique_ptr<SqliteStore>> Open(const std::string& path,
                                                   const StoreOptions& options,
                                                   const Clock& clock = SystemClock());
  ~SqliteStore() override;

  int SchemaVersion() override;
  Result<std::string> CreateExperiment(const std::string& name,
                                       const std::string& artifact_location,
                                       const std::vector<Tag>& tags) override;
  Result<Experiment> GetExperiment(const std::string& experiment_id) override;
  Result<Experiment> GetExperimentByName(const std::string& name) override;
  Result<Page<Experiment>> SearchExperiments(const ExperimentQuery& query) override;
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name) override;
  Status SetExperimentLifecycle(const std::string& experiment_id,
                                const std::string& stage) override;
  Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) override;

  Result<Run> CreateRun(const NewRun& run) override;
  Result<std::vector<Run>> CreateRuns(const std::vector<NewRun>& runs) override;
  Result<Run> GetRun(const std::string& run_id) override;
  Result<RunInfo> UpdateRun(const std::string& run_id, const std::optional<std::string>& status,
                            const std::optional<int64_t>& end_time,
                            const std::optional<std::string>& run_name) override;
  Status SetRunLifecycle(const std::string& run_id, const std::string& stage) override;
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const std::vector<Param>& params, const std::vector<Tag>& tags) override;
  Status DeleteTag(const std::string& run_id, const std::string& key) override;
  Status UpdateRunTag(const std::string& run_id, const std::string& key,
                      const TagUpdate& update) override;
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) override;
  Result<Page<Run>> SearchRuns(const RunQuery& query) override;
  Result<std::vector<Metric>> GetMetricHistory(const std::string& run_id,
                                               const std::string& key) override;
  Result<std::vector<Metric>> GetMetricHistoryBulkInterval(const std::vector<std::string>& run_ids,
                                                           const std::string& key,
                                                           std::optional<int64_t> start_step,
                                                           std::optional<int64_t> end_step,
                                                           int64_t max_results) override;

  // Transactions for the sibling stores of this backend (assets, registry),
  // which keep their tables in the same database file. `fn` may throw
  // StatusError (sqlite_tx.h) to fail the request; that rolls back its work only.
  // Runs `fn` inside the next group commit and waits until it is durable.
  Status Write(const std::function<void(Db&)>& fn);
  // Runs `fn` on a pooled read connection, in one snapshot.
  Status Read(const std::function<void(Db&)>& fn);
  const Clock& clock() const { return clock_; }

  // A seam for watchers (the schedule runner's data and event triggers): after
  // a write group commits rows into any of `tables`, `listener` is called
  // (on the committing thread, so it must be quick) with those that got rows.
  // Pass an empty list or a null listener to stop. Costs nothing while unset.
  using InsertListener = std::function<void(const std::vector<std::string>& tables)>;
  void SetInsertListener(std::vector<std::string> tables, InsertListener listener);

 private:
  // Inside a write transaction: inserts a run and its tags and returns it as
  // GetRun would.
  Run InsertRun(Db& db, const NewRun& run);
  struct WriteOp;
  SqliteStore(std::string path, StoreOptions options, const Clock& clock);
  Status Init();
  // Commits `batch` on writer_db_; only the current leader calls it.
  void CommitBatch(const std::vector<WriteOp*>& batch);

  std::string path_;
  StoreOptions options_;
  const Clock& clock_;

  std::unique_ptr<Db> writer_db_;  // used only by the leader of the write queue
  // Insert watching (SetInsertListener): the update hook marks watched tables
  // (bit i = watched_tables_[i]) during a commit; the leader reports them after it.
  static void OnRowChange(void* self, int op, const char* db, const char* table, int64_t rowid);
  std::mutex listener_mu_;
  std::vector<std::string> watched_tables_;  // fixed while the hook is set
  InsertListener listener_;
  uint32_t inserted_mask_ = 0;  // leader only
  std::mutex queue_mu_;
  std::deque<WriteOp*> queue_;

  // Background WAL checkpoints (PASSIVE: never blocks readers or writers).
  void CheckpointLoop();
  std::mutex checkpoint_mu_;
  std::condition_variable checkpoint_cv_;
  bool stopping_ = false;
  std::thread checkpointer_;

  std::mutex pool_mu_;
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<Db>> idle_readers_;
  int open_readers_ = 0;
};

}  // namespace cairn::sqlite
