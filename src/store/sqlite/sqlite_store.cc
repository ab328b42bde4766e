#include "store/sqlite/sqlite_store.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string_view>
#include <tuple>
#include <utility>

#include "core/ids.h"
#include "core/thread_name.h"
#include "store/asset_ref.h"
#include "store/migrations.h"
#include "store/paging.h"
#include "store/sql_search.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn::sqlite {
namespace {

Status FromSqlError(const SqlError& e) {
  if (e.code == SQLITE_FULL || e.code == SQLITE_IOERR) {
    return Status(ErrorCode::kIoError, std::string("storage error: ") + e.what());
  }
  if ((e.code & 0xff) == SQLITE_BUSY || (e.code & 0xff) == SQLITE_LOCKED) {
    return Status(ErrorCode::kTemporarilyUnavailable, "database is busy, retry");
  }
  return InternalError(std::string("database error: ") + e.what());
}

// Runs one request's work, then `then` (RELEASE or COMMIT); any failure comes
// back as a Status and the caller rolls back.
Status RunOp(Db& db, const std::function<void(Db&)>& fn, const char* then) {
  try {
    fn(db);
    db.Prepare(then).Exec();
    return Status::Ok();
  } catch (const StatusError& e) {
    return e.status;
  } catch (const SqlError& e) {
    return FromSqlError(e);
  } catch (const std::exception& e) {
    return InternalError(e.what());
  }
}

// MLflow's log-inputs lands in the lineage graph too: dataset -> run, and,
// when the dataset's source names a Cairn data version ("azureml:flights:3",
// "azureml:flights@latest", as Azure ML writes it), data version -> dataset.
void RecordInputLineage(Db& db, const Dataset& d, const std::string& run_id, int64_t now) {
  const std::string dataset = "dataset:" + d.name + "@" + d.digest;
  auto edge = [&](const std::string& src, const std::string& dst) {
    db.Prepare(
          "INSERT INTO lineage_edges (src, dst, relation, creation_time) VALUES (?1, ?2, "
          "'input', ?3) ON CONFLICT DO NOTHING")
        .BindAll(src, dst, now)
        .Exec();
  };
  edge(dataset, "run:" + run_id);
  size_t at = d.source.find("azureml:");
  if (at == std::string::npos || d.source.compare(at, 10, "azureml://") == 0) return;
  size_t end = d.source.find_first_of("\"' ,}", at);
  auto ref = ParseAssetRef(d.source.substr(at, end == std::string::npos ? end : end - at));
  if (!ref.ok()) return;
  auto s = ref->label.empty()
               ? db.Prepare(
                     "SELECT version FROM asset_versions WHERE kind = 'data' AND name = ?1 AND "
                     "version = ?2")
               : db.Prepare(
                     "SELECT version FROM asset_versions WHERE kind = 'data' AND name = ?1 AND "
                     "archived = 0 AND ?2 = '' ORDER BY seq DESC LIMIT 1");
  s.BindAll(ref->name, ref->version);
  if (s.Step()) edge("data:" + ref->name + ":" + s.Text(0), dataset);
}

constexpr const char* kRunNameTag = "mlflow.runName";
constexpr const char* kUserTag = "mlflow.user";

std::vector<Tag> LoadTags(Db& db, const char* sql, const std::string& id_text,
                          std::optional<int64_t> id_int = std::nullopt) {
  std::vector<Tag> tags;
  auto s = db.Prepare(sql);
  if (id_int) {
    s.BindAll(*id_int);
  } else {
    s.BindAll(id_text);
  }
  while (s.Step()) tags.push_back({s.Text(0), s.Text(1)});
  return tags;
}

std::optional<int64_t> ParseExperimentId(const std::string& id) {
  if (id.empty() || id.size() > 18) return std::nullopt;
  for (char c : id) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  return std::stoll(id);
}

std::optional<Experiment> LoadExperiment(Db& db, int64_t id) {
  auto s = db.Prepare(
      "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
      "last_update_time FROM experiments WHERE experiment_id = ?1");
  s.BindAll(id);
  if (!s.Step()) return std::nullopt;
  Experiment e;
  e.experiment_id = std::to_string(s.Int(0));
  e.name = s.Text(1);
  e.artifact_location = s.Text(2);
  e.lifecycle_stage = s.Text(3);
  e.creation_time = s.Int(4);
  e.last_update_time = s.Int(5);
  e.tags = LoadTags(db, "SELECT key, value FROM experiment_tags WHERE experiment_id = ?1", "", id);
  return e;
}

Experiment MustLoadExperiment(Db& db, const std::string& experiment_id) {
  auto id = ParseExperimentId(experiment_id);
  std::optional<Experiment> e;
  if (id) e = LoadExperiment(db, *id);
  if (!e) Fail(NotFound("No Experiment with id=" + experiment_id + " exists"));
  return *e;
}

std::optional<RunInfo> LoadRunInfo(Db& db, const std::string& run_id) {
  auto s = db.Prepare(
      "SELECT run_uuid, experiment_id, name, user_id, status, start_time, end_time, "
      "artifact_uri, lifecycle_stage FROM runs WHERE run_uuid = ?1");
  s.BindAll(run_id);
  if (!s.Step()) return std::nullopt;
  RunInfo r;
  r.run_id = s.Text(0);
  r.experiment_id = std::to_string(s.Int(1));
  r.run_name = s.Text(2);
  r.user_id = s.Text(3);
  r.status = s.Text(4);
  r.start_time = s.OptInt(5);
  r.end_time = s.OptInt(6);
  r.artifact_uri = s.Text(7);
  r.lifecycle_stage = s.Text(8);
  return r;
}

RunInfo MustLoadRunInfo(Db& db, const std::string& run_id) {
  auto r = LoadRunInfo(db, run_id);
  if (!r) Fail(NotFound("Run with id=" + run_id + " not found"));
  return *r;
}

// Every logging call checks this first, so it reads one column, not the run.
void MustBeActiveRun(Db& db, const std::string& run_id) {
  auto s = db.Prepare("SELECT lifecycle_stage FROM runs WHERE run_uuid = ?1");
  s.BindAll(run_id);
  if (!s.Step()) Fail(NotFound("Run with id=" + run_id + " not found"));
  std::string stage = s.Text(0);
  if (stage != kActive) {
    Fail(InvalidParameter("The run " + run_id +
                          " must be in the 'active' state. Current state is " + stage + "."));
  }
}

double MetricValue(const Stmt& s, int value_col, int nan_col) {
  return s.Int(nan_col) ? std::nan("") : s.Double(value_col);
}

Run LoadRun(Db& db, RunInfo info) {
  Run run;
  run.info = std::move(info);
  const std::string& id = run.info.run_id;
  {
    auto s = db.Prepare(
        "SELECT key, value, timestamp, step, is_nan FROM latest_metrics WHERE run_uuid = ?1 "
        "ORDER BY key");
    s.BindAll(id);
    while (s.Step()) run.metrics.push_back({s.Text(0), MetricValue(s, 1, 4), s.Int(2), s.Int(3)});
  }
  {
    auto s = db.Prepare("SELECT key, value FROM params WHERE run_uuid = ?1 ORDER BY key");
    s.BindAll(id);
    while (s.Step()) run.params.push_back({s.Text(0), s.Text(1)});
  }
  run.tags = LoadTags(db, "SELECT key, value FROM tags WHERE run_uuid = ?1 ORDER BY key", id);
  {
    auto s = db.Prepare(
        "SELECT i.input_uuid, d.name, d.digest, d.source_type, d.source, d.schema, d.profile "
        "FROM inputs i JOIN datasets d ON d.dataset_uuid = i.source_id "
        "WHERE i.destination_id = ?1 AND i.destination_type = 'RUN' AND i.source_type = "
        "'DATASET' ORDER BY d.name, d.digest");
    s.BindAll(id);
    while (s.Step()) {
      DatasetInput in;
      in.dataset = {s.Text(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)};
      in.tags = LoadTags(
          db, "SELECT name, value FROM input_tags WHERE input_uuid = ?1 ORDER BY name", s.Text(0));
      run.inputs.push_back(std::move(in));
    }
  }
  return run;
}

void UpsertRunTag(Db& db, const std::string& run_id, const Tag& t) {
  db.Prepare(
        "INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3) "
        "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value")
      .BindAll(run_id, t.key, t.value)
      .Exec();
  if (t.key == kRunNameTag) {
    db.Prepare("UPDATE runs SET name = ?2 WHERE run_uuid = ?1").BindAll(run_id, t.value).Exec();
  }
}

}  // namespace

struct SqliteStore::WriteOp {
  const std::function<void(Db&)>* fn;
  Status status;
  bool done = false;
  std::condition_variable cv;
};

SqliteStore::SqliteStore(std::string path, StoreOptions options, const Clock& clock)
    : path_(std::move(path)), options_(std::move(options)), clock_(clock) {}

Result<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& path,
                                                       const StoreOptions& options,
                                                       const Clock& clock) {
  std::unique_ptr<SqliteStore> store(new SqliteStore(path, options, clock));
  CAIRN_RETURN_IF_ERROR(store->Init());
  store->checkpointer_ = std::thread([s = store.get()] {
    NameThisThread("cairn-checkpt");
    s->CheckpointLoop();
  });
  return store;
}

Status SqliteStore::Init() {
  try {
    writer_db_ = std::make_unique<Db>(path_, options_.sync_mode, options_.exclusive);
    Db& db = *writer_db_;
    db.Exec("BEGIN IMMEDIATE");
    try {
      db.Exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
      int version = 0;
      bool has_row = false;
      {
        auto s = db.Prepare("SELECT version FROM schema_version");
        if (s.Step()) {
          version = static_cast<int>(s.Int(0));
          has_row = true;
        }
      }
      if (version > LatestSchemaVersion()) {
        db.Exec("ROLLBACK");
        return Status(ErrorCode::kInvalidState,
                      "workspace database " + path_ + " has schema version " +
                          std::to_string(version) + " but this Cairn knows only up to version " +
                          std::to_string(LatestSchemaVersion()) +
                          "; it was written by a newer Cairn. Upgrade cairn to open it.");
      }
      for (int v = version; v < LatestSchemaVersion(); ++v)
        db.Exec(MigrationSql(v, SqliteDialect()));
      if (!has_row) {
        db.Exec("INSERT INTO schema_version (version) VALUES (" +
                std::to_string(LatestSchemaVersion()) + ")");
        int64_t now = clock_.NowMillis();
        db.Prepare(
              "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
              "creation_time, last_update_time) VALUES (0, 'Default', 'mlflow-artifacts:/0', "
              "'active', ?1, ?1)")
            .BindAll(now)
            .Exec();
      } else if (version != LatestSchemaVersion()) {
        db.Exec("UPDATE schema_version SET version = " + std::to_string(LatestSchemaVersion()));
      }
      db.Exec("COMMIT");
    } catch (...) {
      sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
      throw;
    }
  } catch (const SqlError& e) {
    if ((e.code & 0xff) == SQLITE_BUSY || (e.code & 0xff) == SQLITE_LOCKED) {
      return Status(ErrorCode::kInvalidState,
                    "workspace database " + path_ +
                        " is in use by another process (is another cairn server running on this "
                        "workspace?)");
    }
    return Status(ErrorCode::kIoError, "cannot open workspace database " + path_ + ": " + e.what());
  }
  return Status::Ok();
}

// Callers of Write() hold a reference to the store, so none can be queued here.
SqliteStore::~SqliteStore() {
  {
    std::lock_guard lk(checkpoint_mu_);
    stopping_ = true;
  }
  checkpoint_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  // Fold the WAL into the database on a clean close.
  if (writer_db_)
    sqlite3_wal_checkpoint_v2(writer_db_->raw(), nullptr, SQLITE_CHECKPOINT_TRUNCATE, nullptr,
                              nullptr);
}

void SqliteStore::CheckpointLoop() {
  std::unique_ptr<Db> db;
  std::unique_lock lk(checkpoint_mu_);
  while (!checkpoint_cv_.wait_for(lk, std::chrono::milliseconds(250), [&] { return stopping_; })) {
    lk.unlock();
    try {
      if (!db) db = std::make_unique<Db>(path_, options_.sync_mode, options_.exclusive);
      int wal_frames = 0, copied = 0;
      sqlite3_wal_checkpoint_v2(db->raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames,
                                &copied);
    } catch (const SqlError&) {
      db.reset();  // retried on the next tick
    }
    lk.lock();
  }
}

int SqliteStore::SchemaVersion() {
  int version = 0;
  Status st = Read([&](Db& db) {
    auto s = db.Prepare("SELECT version FROM schema_version");
    if (s.Step()) version = static_cast<int>(s.Int(0));
  });
  return st.ok() ? version : -1;
}

// ---- the write path: group commit -------------------------------------------------------------

void SqliteStore::OnRowChange(void* self, int op, const char*, const char* table, int64_t) {
  if (op != SQLITE_INSERT) return;
  auto* store = static_cast<SqliteStore*>(self);
  for (size_t i = 0; i < store->watched_tables_.size(); ++i) {
    if (store->watched_tables_[i] == table) store->inserted_mask_ |= 1u << i;
  }
}

void SqliteStore::SetInsertListener(std::vector<std::string> tables, InsertListener listener) {
  if (tables.size() > 32) tables.resize(32);
  if (!listener) tables.clear();
  {
    std::lock_guard listening(listener_mu_);
    listener_ = tables.empty() ? nullptr : std::move(listener);
  }
  // The hook and its table list belong to the writer connection: change them
  // as a write of its own, between write groups.
  (void)Write([&](Db& db) {
    watched_tables_ = std::move(tables);
    if (watched_tables_.empty()) {
      sqlite3_update_hook(db.raw(), nullptr, nullptr);
      return;
    }
    sqlite3_update_hook(
        db.raw(),
        [](void* self, int op, const char* name, const char* table, sqlite3_int64 rowid) {
          OnRowChange(self, op, name, table, rowid);
        },
        this);
  });
}

Status SqliteStore::Write(const std::function<void(Db&)>& fn) {
  WriteOp op{&fn};
  std::unique_lock lk(queue_mu_);
  queue_.push_back(&op);
  op.cv.wait(lk, [&] { return op.done || queue_.front() == &op; });
  if (op.done) return op.status;  // a leader committed it for us

  // This caller leads: it commits itself and everyone queued behind it. New
  // arrivals keep queueing meanwhile and form the next group.
  constexpr size_t kMaxGroup = 512;
  std::vector<WriteOp*> batch(queue_.begin(), queue_.begin() + std::min(queue_.size(), kMaxGroup));
  lk.unlock();
  inserted_mask_ = 0;
  try {
    CommitBatch(batch);
  } catch (const std::exception& e) {
    // Whatever went wrong, every queued caller must be answered and dequeued.
    sqlite3_exec(writer_db_->raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    for (WriteOp* w : batch) w->status = InternalError(std::string("write failed: ") + e.what());
  }
  if (uint32_t mask = std::exchange(inserted_mask_, 0)) {
    // Something committed (an op failing alone only rolled back its own rows;
    // a spurious report merely wakes a watcher for nothing).
    bool any_ok = false;
    for (WriteOp* w : batch) any_ok = any_ok || w->status.ok();
    std::lock_guard listening(listener_mu_);
    if (any_ok && listener_) {
      std::vector<std::string> tables;
      for (size_t i = 0; i < watched_tables_.size(); ++i) {
        if (mask & (1u << i)) tables.push_back(watched_tables_[i]);
      }
      listener_(tables);
    }
  }
  lk.lock();
  for (WriteOp* w : batch) {
    queue_.pop_front();
    w->done = true;
    if (w != &op) w->cv.notify_one();
  }
  if (!queue_.empty()) queue_.front()->cv.notify_one();  // hand leadership on
  return op.status;
}

void SqliteStore::CommitBatch(const std::vector<WriteOp*>& batch) {
  Db& db = *writer_db_;
  try {
    db.Prepare("BEGIN IMMEDIATE").Exec();
  } catch (const SqlError& e) {
    for (WriteOp* op : batch) op->status = FromSqlError(e);
    return;
  }
  // A lone write needs no savepoint: the transaction is its unit of rollback.
  if (batch.size() == 1) {
    WriteOp* op = batch.front();
    op->status = RunOp(db, *op->fn, "COMMIT");
    if (!op->status.ok()) sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    return;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    WriteOp* op = batch[i];
    try {
      db.Prepare("SAVEPOINT op").Exec();
      op->status = RunOp(db, *op->fn, "RELEASE op");
      if (!op->status.ok() && !sqlite3_get_autocommit(db.raw())) {
        db.Prepare("ROLLBACK TO op").Exec();
        db.Prepare("RELEASE op").Exec();
      }
    } catch (const SqlError& e) {
      op->status = FromSqlError(e);
    }
    // Some errors (I/O, out of memory, disk full) make SQLite abandon the whole
    // transaction: then nothing of this group is committed, and saying so to
    // every caller is the only truthful answer.
    if (sqlite3_get_autocommit(db.raw())) {
      Status lost(ErrorCode::kIoError, "the group commit was aborted by a storage error (" +
                                           op->status.message() + "); retry");
      for (WriteOp* w : batch) w->status = lost;
      return;
    }
  }
  try {
    db.Prepare("COMMIT").Exec();
  } catch (const SqlError& e) {
    sqlite3_exec(db.raw(), "ROLLBACK", nullptr, nullptr, nullptr);
    for (WriteOp* op : batch) {
      if (op->status.ok()) op->status = FromSqlError(e);
    }
  }
}

Status SqliteStore::Read(const std::function<void(Db&)>& fn) {
  std::unique_ptr<Db> db;
  {
    std::unique_lock lk(pool_mu_);
    pool_cv_.wait(lk, [&] {
      return !idle_readers_.empty() || open_readers_ < std::max(1, options_.read_connections);
    });
    if (!idle_readers_.empty()) {
      db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
    } else {
      ++open_readers_;
    }
  }
  Status st;
  try {
    if (!db) db = std::make_unique<Db>(path_, options_.sync_mode, options_.exclusive);
    // One snapshot for the whole read, so a page never mixes two commits.
    db->Prepare("BEGIN").Exec();
    try {
      fn(*db);
    } catch (...) {
      db->Prepare("COMMIT").Exec();
      throw;
    }
    db->Prepare("COMMIT").Exec();
  } catch (const StatusError& e) {
    st = e.status;
  } catch (const SqlError& e) {
    st = FromSqlError(e);
  } catch (const std::exception& e) {
    st = InvalidParameter(e.what());
  }
  {
    std::lock_guard lk(pool_mu_);
    if (db) {
      idle_readers_.push_back(std::move(db));
    } else {
      --open_readers_;
    }
  }
  pool_cv_.notify_one();
  return st;
}

// ---- experiments ------------------------------------------------------------------------------

Result<std::string> SqliteStore::CreateExperiment(const std::string& name,
                                                  const std::string& artifact_location,
                                                  const std::vector<Tag>& tags) {
  std::string id;
  Status st = Write([&](Db& db) {
    {
      auto s = db.Prepare("SELECT lifecycle_stage FROM experiments WHERE name = ?1");
      s.BindAll(name);
      if (s.Step()) {
        if (s.Text(0) == kDeleted) {
          Fail(AlreadyExists("Experiment '" + name +
                             "' already exists in deleted state. Restore it with "
                             "experiments/restore, or choose another name."));
        }
        Fail(AlreadyExists("Experiment '" + name + "' already exists."));
      }
    }
    int64_t next = 1;
    {
      auto s = db.Prepare("SELECT COALESCE(MAX(experiment_id), 0) + 1 FROM experiments");
      if (s.Step()) next = s.Int(0);
    }
    id = std::to_string(next);
    int64_t now = clock_.NowMillis();
    db.Prepare(
          "INSERT INTO experiments (experiment_id, name, artifact_location, lifecycle_stage, "
          "creation_time, last_update_time) VALUES (?1, ?2, ?3, 'active', ?4, ?4)")
        .BindAll(next, name,
                 artifact_location.empty() ? "mlflow-artifacts:/" + id : artifact_location, now)
        .Exec();
    for (const auto& t : tags) {
      db.Prepare(
            "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3) "
            "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
          .BindAll(next, t.key, t.value)
          .Exec();
    }
  });
  if (!st.ok()) return st;
  return id;
}

Result<Experiment> SqliteStore::GetExperiment(const std::string& experiment_id) {
  Experiment e;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) { e = MustLoadExperiment(db, experiment_id); }));
  return e;
}

Result<Experiment> SqliteStore::GetExperimentByName(const std::string& name) {
  Experiment e;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) {
    auto s = db.Prepare("SELECT experiment_id FROM experiments WHERE name = ?1");
    s.BindAll(name);
    if (!s.Step()) Fail(NotFound("Could not find experiment with name '" + name + "'"));
    e = *LoadExperiment(db, s.Int(0));
  }));
  return e;
}

Result<Page<Experiment>> SqliteStore::SearchExperiments(const ExperimentQuery& query) {
  Page<Experiment> page;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) {
    SqlQuery q = BuildExperimentSearchSql(query, SqliteDialect());
    auto s = db.PrepareOnce(q.sql);
    BindSqlValues(s, q.params);
    std::vector<int64_t> ids;
    while (s.Step()) ids.push_back(s.Int(0));
    page.next_page_token = NextPageToken(query.offset, ids.size(), query.max_results);
    if (static_cast<int64_t>(ids.size()) > query.max_results) ids.resize(query.max_results);
    for (int64_t id : ids) page.items.push_back(*LoadExperiment(db, id));
  }));
  return page;
}

Status SqliteStore::RenameExperiment(const std::string& experiment_id,
                                     const std::string& new_name) {
  return Write([&](Db& db) {
    Experiment e = MustLoadExperiment(db, experiment_id);
    if (e.lifecycle_stage != kActive) {
      Fail(InvalidParameter("Cannot rename a non-active experiment (id " + experiment_id + ")."));
    }
    if (e.name == new_name) return;
    auto s = db.Prepare("SELECT 1 FROM experiments WHERE name = ?1");
    s.BindAll(new_name);
    if (s.Step()) Fail(AlreadyExists("Experiment '" + new_name + "' already exists."));
    db.Prepare("UPDATE experiments SET name = ?2, last_update_time = ?3 WHERE experiment_id = ?1")
        .BindAll(std::stoll(experiment_id), new_name, clock_.NowMillis())
        .Exec();
  });
}

Status SqliteStore::SetExperimentLifecycle(const std::string& experiment_id,
                                           const std::string& stage) {
  return Write([&](Db& db) {
    Experiment e = MustLoadExperiment(db, experiment_id);
    if (stage == kDeleted && e.experiment_id == "0") {  // "00" names it too
      Fail(InvalidParameter("The default experiment (id 0) cannot be deleted."));
    }
    if (e.lifecycle_stage == stage) {
      Fail(InvalidParameter("Experiment " + experiment_id + " is already " + stage + "."));
    }
    int64_t now = clock_.NowMillis();
    int64_t id = std::stoll(experiment_id);
    db.Prepare(
          "UPDATE experiments SET lifecycle_stage = ?2, last_update_time = ?3 "
          "WHERE experiment_id = ?1")
        .BindAll(id, stage, now)
        .Exec();
    // As MLflow does: deleting an experiment deletes its runs, restoring restores them.
    if (stage == kDeleted) {
      db.Prepare(
            "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?2 "
            "WHERE experiment_id = ?1 AND lifecycle_stage = 'active'")
          .BindAll(id, now)
          .Exec();
    } else {
      db.Prepare(
            "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL "
            "WHERE experiment_id = ?1")
          .BindAll(id)
          .Exec();
    }
  });
}

Status SqliteStore::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  return Write([&](Db& db) {
    Experiment e = MustLoadExperiment(db, experiment_id);
    if (e.lifecycle_stage != kActive) {
      Fail(InvalidParameter("The experiment " + experiment_id +
                            " must be in the 'active' state. Current state is " +
                            e.lifecycle_stage + "."));
    }
    db.Prepare(
          "INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value")
        .BindAll(std::stoll(experiment_id), tag.key, tag.value)
        .Exec();
  });
}

// ---- runs -------------------------------------------------------------------------------------

Run SqliteStore::InsertRun(Db& db, const NewRun& in) {
  Run run;
  Experiment e = MustLoadExperiment(db, in.experiment_id);
  if (e.lifecycle_stage != kActive) {
    Fail(InvalidParameter("The experiment " + in.experiment_id +
                          " must be in the 'active' state. Current state is " + e.lifecycle_stage +
                          "."));
  }
  std::vector<Tag> tags = in.tags;
  auto find_tag = [&](const char* key) -> std::string* {
    for (auto& t : tags) {
      if (t.key == key) return &t.value;
    }
    return nullptr;
  };
  std::string name = in.run_name;
  if (std::string* tag_name = find_tag(kRunNameTag); tag_name && !tag_name->empty()) {
    if (!name.empty() && name != *tag_name) {
      Fail(InvalidParameter("Both 'run_name' ('" + name + "') and tag '" + kRunNameTag + "' ('" +
                            *tag_name + "') were given and differ; send one of them."));
    }
    name = *tag_name;
  }
  if (name.empty()) name = NewRunName();
  if (std::string* t = find_tag(kRunNameTag)) {
    *t = name;
  } else {
    tags.push_back({kRunNameTag, name});
  }
  std::string user = in.user_id;
  if (user.empty()) {
    if (std::string* t = find_tag(kUserTag)) user = *t;
  }
  RunInfo info;
  info.run_id = NewRunId();
  info.experiment_id = e.experiment_id;
  info.run_name = name;
  info.user_id = user;
  info.start_time = in.start_time ? *in.start_time : clock_.NowMillis();
  info.artifact_uri = e.artifact_location + "/" + info.run_id + "/artifacts";
  db.Prepare(
        "INSERT INTO runs (run_uuid, experiment_id, name, user_id, status, start_time, "
        "end_time, lifecycle_stage, artifact_uri) VALUES (?1, ?2, ?3, ?4, 'RUNNING', ?5, NULL, "
        "'active', ?6)")
      .BindAll(info.run_id, std::stoll(info.experiment_id), name, user, info.start_time,
               info.artifact_uri)
      .Exec();
  for (const auto& t : tags) UpsertRunTag(db, info.run_id, t);
  // A new run holds exactly its tags (the last value of a repeated key, ordered
  // by key as LoadRun reads them back): no need to read the rows just written.
  std::map<std::string, std::string> by_key;
  for (const Tag& t : tags) by_key[t.key] = t.value;
  run.info = std::move(info);
  for (auto& [key, value] : by_key) run.tags.push_back({key, value});
  return run;
}

Result<Run> SqliteStore::CreateRun(const NewRun& in) {
  Run run;
  CAIRN_RETURN_IF_ERROR(Write([&](Db& db) { run = InsertRun(db, in); }));
  return run;
}

Result<std::vector<Run>> SqliteStore::CreateRuns(const std::vector<NewRun>& runs) {
  std::vector<Run> out;
  CAIRN_RETURN_IF_ERROR(Write([&](Db& db) {
    out.clear();
    out.reserve(runs.size());
    for (const NewRun& in : runs) out.push_back(InsertRun(db, in));
  }));
  return out;
}

Result<Run> SqliteStore::GetRun(const std::string& run_id) {
  Run run;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) { run = LoadRun(db, MustLoadRunInfo(db, run_id)); }));
  return run;
}

Result<RunInfo> SqliteStore::UpdateRun(const std::string& run_id,
                                       const std::optional<std::string>& status,
                                       const std::optional<int64_t>& end_time,
                                       const std::optional<std::string>& run_name) {
  RunInfo info;
  Status st = Write([&](Db& db) {
    MustBeActiveRun(db, run_id);
    if (status) {
      db.Prepare("UPDATE runs SET status = ?2 WHERE run_uuid = ?1").BindAll(run_id, *status).Exec();
    }
    if (end_time) {
      db.Prepare("UPDATE runs SET end_time = ?2 WHERE run_uuid = ?1")
          .BindAll(run_id, *end_time)
          .Exec();
    }
    if (run_name && !run_name->empty()) UpsertRunTag(db, run_id, {kRunNameTag, *run_name});
    info = MustLoadRunInfo(db, run_id);
  });
  if (!st.ok()) return st;
  return info;
}

Status SqliteStore::SetRunLifecycle(const std::string& run_id, const std::string& stage) {
  return Write([&](Db& db) {
    MustLoadRunInfo(db, run_id);
    if (stage == kDeleted) {
      db.Prepare(
            "UPDATE runs SET lifecycle_stage = 'deleted', deleted_time = ?2 WHERE run_uuid = ?1")
          .BindAll(run_id, clock_.NowMillis())
          .Exec();
    } else {
      db.Prepare(
            "UPDATE runs SET lifecycle_stage = 'active', deleted_time = NULL WHERE run_uuid = ?1")
          .BindAll(run_id)
          .Exec();
    }
  });
}

Status SqliteStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                             const std::vector<Param>& params, const std::vector<Tag>& tags) {
  return Write([&](Db& db) {
    MustBeActiveRun(db, run_id);
    for (const auto& p : params) {
      auto s = db.Prepare("SELECT value FROM params WHERE run_uuid = ?1 AND key = ?2");
      s.BindAll(run_id, p.key);
      if (s.Step()) {
        std::string old = s.Text(0);
        if (old != p.value) {
          Fail(InvalidParameter("Changing param values is not allowed. Param with key='" + p.key +
                                "' was already logged with value='" + old + "' for run ID='" +
                                run_id + "'. Attempted logging new value '" + p.value + "'."));
        }
        continue;
      }
      db.Prepare("INSERT INTO params (run_uuid, key, value) VALUES (?1, ?2, ?3)")
          .BindAll(run_id, p.key, p.value)
          .Exec();
    }
    // The latest value is the one with the greatest (step, timestamp, value), as
    // MLflow's; reduce the batch to one candidate per key before touching SQL.
    std::map<std::string_view, const Metric*> latest;
    auto newer = [](const Metric& a, const Metric& b) {
      double av = std::isnan(a.value) ? 0.0 : a.value, bv = std::isnan(b.value) ? 0.0 : b.value;
      return std::tie(a.step, a.timestamp, av) >= std::tie(b.step, b.timestamp, bv);
    };
    for (const auto& m : metrics) {
      bool is_nan = std::isnan(m.value);
      db.Prepare(
            "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING")
          .BindAll(run_id, m.key, is_nan ? 0.0 : m.value, m.timestamp, m.step, is_nan ? 1 : 0)
          .Exec();
      auto [it, inserted] = latest.emplace(m.key, &m);
      if (!inserted && newer(m, *it->second)) it->second = &m;
    }
    for (const auto& [key, m] : latest) {
      bool is_nan = std::isnan(m->value);
      db.Prepare(
            "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) "
            "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (run_uuid, key) DO UPDATE SET "
            "value = excluded.value, timestamp = excluded.timestamp, step = excluded.step, "
            "is_nan = excluded.is_nan WHERE excluded.step > latest_metrics.step OR "
            "(excluded.step = latest_metrics.step AND excluded.timestamp > "
            "latest_metrics.timestamp) OR (excluded.step = latest_metrics.step AND "
            "excluded.timestamp = latest_metrics.timestamp AND excluded.value >= "
            "latest_metrics.value)")
          .BindAll(run_id, m->key, is_nan ? 0.0 : m->value, m->timestamp, m->step, is_nan ? 1 : 0)
          .Exec();
    }
    for (const auto& t : tags) UpsertRunTag(db, run_id, t);
  });
}

Status SqliteStore::DeleteTag(const std::string& run_id, const std::string& key) {
  return Write([&](Db& db) {
    MustBeActiveRun(db, run_id);
    db.Prepare("DELETE FROM tags WHERE run_uuid = ?1 AND key = ?2").BindAll(run_id, key).Exec();
    if (db.Changes() == 0) {
      Fail(NotFound("No tag with name: " + key + " in run with id " + run_id));
    }
  });
}

Status SqliteStore::UpdateRunTag(const std::string& run_id, const std::string& key,
                                 const TagUpdate& update) {
  return Write([&](Db& db) {
    MustBeActiveRun(db, run_id);
    std::optional<std::string> current;
    {
      auto s = db.Prepare("SELECT value FROM tags WHERE run_uuid = ?1 AND key = ?2");
      s.BindAll(run_id, key);
      if (s.Step()) current = s.Text(0);
    }
    Result<std::string> next = update(current ? &*current : nullptr);
    if (!next.ok()) Fail(next.status());
    UpsertRunTag(db, run_id, {key, *next});
  });
}

Status SqliteStore::LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) {
  return Write([&](Db& db) {
    MustBeActiveRun(db, run_id);
    RunInfo run = MustLoadRunInfo(db, run_id);
    int64_t exp_id = std::stoll(run.experiment_id);
    for (const auto& in : inputs) {
      const Dataset& d = in.dataset;
      std::string dataset_uuid;
      {
        auto s = db.Prepare(
            "SELECT dataset_uuid FROM datasets WHERE experiment_id = ?1 AND name = ?2 AND "
            "digest = ?3");
        s.BindAll(exp_id, d.name, d.digest);
        if (s.Step()) dataset_uuid = s.Text(0);
      }
      if (dataset_uuid.empty()) {
        dataset_uuid = NewRunId();
        db.Prepare(
              "INSERT INTO datasets (dataset_uuid, experiment_id, name, digest, source_type, "
              "source, schema, profile) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")
            .BindAll(dataset_uuid, exp_id, d.name, d.digest, d.source_type, d.source, d.schema,
                     d.profile)
            .Exec();
      }
      std::string input_uuid;
      {
        auto s = db.Prepare(
            "SELECT input_uuid FROM inputs WHERE source_type = 'DATASET' AND source_id = ?1 AND "
            "destination_type = 'RUN' AND destination_id = ?2");
        s.BindAll(dataset_uuid, run_id);
        if (s.Step()) input_uuid = s.Text(0);
      }
      if (input_uuid.empty()) {
        input_uuid = NewRunId();
        db.Prepare(
              "INSERT INTO inputs (input_uuid, source_type, source_id, destination_type, "
              "destination_id) VALUES (?1, 'DATASET', ?2, 'RUN', ?3)")
            .BindAll(input_uuid, dataset_uuid, run_id)
            .Exec();
      }
      for (const auto& t : in.tags) {
        db.Prepare(
              "INSERT INTO input_tags (input_uuid, name, value) VALUES (?1, ?2, ?3) "
              "ON CONFLICT (input_uuid, name) DO UPDATE SET value = excluded.value")
            .BindAll(input_uuid, t.key, t.value)
            .Exec();
      }
      RecordInputLineage(db, d, run_id, clock_.NowMillis());
    }
  });
}

Result<Page<Run>> SqliteStore::SearchRuns(const RunQuery& query) {
  Page<Run> page;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) {
    for (const auto& id : query.experiment_ids) {
      if (!ParseExperimentId(id)) {
        Fail(InvalidParameter("experiment_ids must be numeric experiment ids; got '" + id + "'"));
      }
    }
    // Walk the tiers in order; one page may span several.
    std::vector<std::string> ids;
    int64_t need = query.max_results + 1;
    int64_t offset = query.offset;
    for (const RunSearchTier& tier : BuildRunSearchPlan(query, SqliteDialect())) {
      auto s = db.PrepareOnce(tier.select.sql + " LIMIT " + std::to_string(need) + " OFFSET " +
                              std::to_string(offset));
      BindSqlValues(s, tier.select.params);
      size_t before = ids.size();
      while (s.Step()) ids.push_back(s.Text(0));
      int64_t got = static_cast<int64_t>(ids.size() - before);
      need -= got;
      if (need == 0) break;
      if (got > 0) {
        offset = 0;  // this tier ran out after using up the offset
      } else if (offset > 0) {
        auto count = db.PrepareOnce(tier.count.sql);
        BindSqlValues(count, tier.count.params);
        int64_t n = count.Step() ? count.Int(0) : 0;
        offset = std::max<int64_t>(0, offset - n);
      }
    }
    page.next_page_token = NextPageToken(query.offset, ids.size(), query.max_results);
    if (static_cast<int64_t>(ids.size()) > query.max_results) ids.resize(query.max_results);
    page.items.reserve(ids.size());
    for (const auto& id : ids) page.items.push_back(LoadRun(db, *LoadRunInfo(db, id)));
  }));
  return page;
}

Result<std::vector<Metric>> SqliteStore::GetMetricHistory(const std::string& run_id,
                                                          const std::string& key) {
  std::vector<Metric> out;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) {
    MustLoadRunInfo(db, run_id);
    auto s = db.Prepare(
        "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 "
        "ORDER BY step, timestamp, value");
    s.BindAll(run_id, key);
    while (s.Step()) out.push_back({key, MetricValue(s, 0, 3), s.Int(1), s.Int(2)});
  }));
  return out;
}

Result<std::vector<Metric>> SqliteStore::GetMetricHistoryBulkInterval(
    const std::vector<std::string>& run_ids, const std::string& key,
    std::optional<int64_t> start_step, std::optional<int64_t> end_step, int64_t max_results) {
  std::vector<Metric> out;
  CAIRN_RETURN_IF_ERROR(Read([&](Db& db) {
    std::set<int64_t> steps;
    for (const auto& id : run_ids) {
      MustLoadRunInfo(db, id);
      auto s = db.Prepare(
          "SELECT DISTINCT step FROM metrics WHERE run_uuid = ?1 AND key = ?2 AND step >= ?3 AND "
          "step <= ?4");
      s.BindAll(id, key, start_step.value_or(INT64_MIN), end_step.value_or(INT64_MAX));
      while (s.Step()) steps.insert(s.Int(0));
    }
    // Evenly spaced samples over the distinct steps, always keeping both ends.
    std::vector<int64_t> all(steps.begin(), steps.end());
    std::set<int64_t> chosen;
    if (static_cast<int64_t>(all.size()) <= max_results) {
      chosen.insert(all.begin(), all.end());
    } else if (max_results == 1) {
      chosen.insert(all.front());
    } else {
      for (int64_t i = 0; i < max_results; ++i) {
        size_t idx =
            static_cast<size_t>(i * static_cast<int64_t>(all.size() - 1) / (max_results - 1));
        chosen.insert(all[idx]);
      }
    }
    for (const auto& id : run_ids) {
      auto s = db.Prepare(
          "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ?1 AND key = ?2 "
          "AND step >= ?3 AND step <= ?4 ORDER BY step, timestamp, value");
      s.BindAll(id, key, start_step.value_or(INT64_MIN), end_step.value_or(INT64_MAX));
      while (s.Step()) {
        if (chosen.count(s.Int(2))) {
          out.push_back({key, MetricValue(s, 0, 3), s.Int(1), s.Int(2), id});
        }
      }
    }
  }));
  return out;
}

}  // namespace cairn::sqlite
