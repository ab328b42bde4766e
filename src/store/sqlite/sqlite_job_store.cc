#include "store/sqlite/sqlite_job_store.h"

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_outbox.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn {

namespace sqlite {
namespace {

constexpr const char* kJobColumns =
    "name, display_name, type, status, experiment_id, run_id, plan, created, started, ended, "
    "error, schedule";
constexpr const char* kStepColumns =
    "job_name, step_name, position, status, run_id, attempt, pid, process_start, exit_code, "
    "cache_key, reused_from, outputs, started, ended, error, notes";

JobRecord ReadJob(const Stmt& s) {
  JobRecord j;
  j.name = s.Text(0);
  j.display_name = s.Text(1);
  j.type = s.Text(2);
  j.status = s.Text(3);
  j.experiment_id = s.Text(4);
  j.run_id = s.Text(5);
  j.plan = s.Text(6);
  j.created = s.Int(7);
  j.started = s.OptInt(8);
  j.ended = s.OptInt(9);
  j.error = s.Text(10);
  j.schedule = s.Text(11);
  return j;
}

JobStepRecord ReadStep(const Stmt& s) {
  JobStepRecord r;
  r.job_name = s.Text(0);
  r.step_name = s.Text(1);
  r.position = s.Int(2);
  r.status = s.Text(3);
  r.run_id = s.Text(4);
  r.attempt = s.Int(5);
  r.pid = s.OptInt(6);
  r.process_start = s.OptInt(7);
  r.exit_code = s.OptInt(8);
  r.cache_key = s.Text(9);
  r.reused_from = s.Text(10);
  r.outputs = s.Text(11);
  r.started = s.OptInt(12);
  r.ended = s.OptInt(13);
  r.error = s.Text(14);
  r.notes = s.Text(15);
  return r;
}

void LoadSteps(Db& db, JobRecord& job) {
  auto s = db.Prepare(std::string("SELECT ") + kStepColumns +
                      " FROM job_steps WHERE job_name = ?1 ORDER BY position");
  s.BindAll(job.name);
  while (s.Step()) job.steps.push_back(ReadStep(s));
}

void UpsertStep(Db& db, const JobStepRecord& r) {
  // An upsert updates the row in place (REPLACE deletes and reinserts it, and
  // its index entry, on every transition of the step).
  static const std::string sql =
      std::string("INSERT INTO job_steps (") + kStepColumns +
      ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
      "ON CONFLICT (job_name, step_name) DO UPDATE SET position = excluded.position, "
      "status = excluded.status, run_id = excluded.run_id, attempt = excluded.attempt, "
      "pid = excluded.pid, process_start = excluded.process_start, "
      "exit_code = excluded.exit_code, cache_key = excluded.cache_key, "
      "reused_from = excluded.reused_from, outputs = excluded.outputs, "
      "started = excluded.started, ended = excluded.ended, error = excluded.error, "
      "notes = excluded.notes";
  db.Prepare(sql)
      .BindAll(r.job_name, r.step_name, r.position, r.status, r.run_id, r.attempt, r.pid,
               r.process_start, r.exit_code, r.cache_key, r.reused_from, r.outputs, r.started,
               r.ended, r.error, r.notes)
      .Exec();
}

// Applies the parts of a transition shared by create and update.
void ApplyMirrorsAndEvents(Db& db, const JobTransition& t) {
  for (const RunStatusMirror& m : t.runs) {
    db.Prepare("UPDATE runs SET status = ?2, end_time = COALESCE(?3, end_time) WHERE run_uuid = ?1")
        .BindAll(m.run_id, m.status, m.end_time)
        .Exec();
  }
  for (const auto& [run_id, tag] : t.run_tags) {
    db.Prepare(
          "INSERT INTO tags (run_uuid, key, value) VALUES (?1, ?2, ?3) "
          "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value")
        .BindAll(run_id, tag.key, tag.value)
        .Exec();
  }
  for (const LineageEdge& e : t.lineage) {
    db.Prepare(
          "INSERT INTO lineage_edges (src, dst, relation, creation_time) VALUES (?1, ?2, ?3, ?4) "
          "ON CONFLICT DO NOTHING")
        .BindAll(e.src, e.dst, e.relation, e.creation_time)
        .Exec();
  }
  AppendOutboxEvents(db, t.events);
}

}  // namespace

Status SqliteJobStore::CreateCompute(const ComputeInfo& c, bool replace) {
  return db_.Write([&](Db& db) {
    auto s = db.Prepare("SELECT creation_time FROM computes WHERE name = ?1");
    s.BindAll(c.name);
    int64_t created = db_.clock().NowMillis();
    if (s.Step()) {
      if (!replace) Fail(AlreadyExists("compute '" + c.name + "' already exists"));
      created = s.Int(0);
    }
    db.Prepare(
          "INSERT OR REPLACE INTO computes (name, type, max_concurrency, description, "
          "creation_time) VALUES (?1, ?2, ?3, ?4, ?5)")
        .BindAll(c.name, c.type, c.max_concurrency, c.description, created)
        .Exec();
  });
}

Result<ComputeInfo> SqliteJobStore::GetCompute(const std::string& name) {
  std::optional<ComputeInfo> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(
        "SELECT name, type, max_concurrency, description, creation_time FROM computes WHERE "
        "name = ?1");
    s.BindAll(name);
    if (s.Step()) out = ComputeInfo{s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Int(4)};
  }));
  if (!out) {
    return NotFound("compute '" + name + "' does not exist; `cairn compute list` shows them");
  }
  return *out;
}

Result<std::vector<ComputeInfo>> SqliteJobStore::ListComputes() {
  std::vector<ComputeInfo> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(
        "SELECT name, type, max_concurrency, description, creation_time FROM computes ORDER BY "
        "name");
    while (s.Step()) out.push_back({s.Text(0), s.Text(1), s.Int(2), s.Text(3), s.Int(4)});
  }));
  return out;
}

Status SqliteJobStore::DeleteCompute(const std::string& name) {
  return db_.Write([&](Db& db) {
    db.Prepare("DELETE FROM computes WHERE name = ?1").BindAll(name).Exec();
    if (db.Changes() == 0) Fail(NotFound("compute '" + name + "' does not exist"));
  });
}

Status SqliteJobStore::CreateJob(const JobRecord& j, const JobTransition& initial) {
  return db_.Write([&](Db& db) {
    {
      auto s = db.Prepare("SELECT 1 FROM jobs WHERE name = ?1");
      s.BindAll(j.name);
      if (s.Step()) {
        Fail(AlreadyExists("a job named '" + j.name +
                           "' already exists; job names are unique: choose another name or omit "
                           "it to get a generated one"));
      }
    }
    int64_t seq = 1;
    {
      auto s = db.Prepare("SELECT MAX(seq) FROM jobs");
      if (s.Step() && !s.IsNull(0)) seq = s.Int(0) + 1;
    }
    db.Prepare(
          "INSERT INTO jobs (name, seq, display_name, type, status, experiment_id, run_id, plan, "
          "created, started, ended, error, schedule) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
          "?10, ?11, ?12, ?13)")
        .BindAll(j.name, seq, j.display_name, j.type, j.status, j.experiment_id, j.run_id, j.plan,
                 j.created, j.started, j.ended, j.error, j.schedule)
        .Exec();
    for (const JobStepRecord& r : j.steps) UpsertStep(db, r);
    ApplyMirrorsAndEvents(db, initial);
  });
}

Result<JobRecord> SqliteJobStore::GetJob(const std::string& name) {
  std::optional<JobRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE name = ?1");
    s.BindAll(name);
    if (!s.Step()) return;
    out = ReadJob(s);
    LoadSteps(db, *out);
  }));
  if (!out) return NotFound("job '" + name + "' does not exist; `cairn job list` shows them");
  return std::move(*out);
}

Result<std::vector<JobRecord>> SqliteJobStore::ListJobs(const std::vector<std::string>& statuses,
                                                        int64_t max_results, bool with_steps) {
  std::vector<JobRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    std::string sql = std::string("SELECT ") + kJobColumns + " FROM jobs";
    if (!statuses.empty()) {
      sql += " WHERE status IN (";
      for (size_t i = 0; i < statuses.size(); ++i) {
        sql += (i ? ", ?" : "?") + std::to_string(i + 2);
      }
      sql += ")";
    }
    sql += " ORDER BY seq DESC LIMIT ?1";
    auto s = db.PrepareOnce(sql);
    s.Bind(1, max_results);
    for (size_t i = 0; i < statuses.size(); ++i) s.Bind(static_cast<int>(i + 2), statuses[i]);
    while (s.Step()) out.push_back(ReadJob(s));
    if (with_steps) {
      for (JobRecord& j : out) LoadSteps(db, j);
    }
  }));
  return out;
}

Status SqliteJobStore::Apply(const JobTransition& t) {
  return db_.Write([&](Db& db) {
    if (t.job) {
      const JobRecord& j = *t.job;
      db.Prepare(
            "UPDATE jobs SET status = ?2, started = ?3, ended = ?4, error = ?5 WHERE name = ?1")
          .BindAll(t.job_name, j.status, j.started, j.ended, j.error)
          .Exec();
      if (db.Changes() == 0) Fail(NotFound("job '" + t.job_name + "' does not exist"));
    }
    for (const JobStepRecord& r : t.steps) UpsertStep(db, r);
    ApplyMirrorsAndEvents(db, t);
  });
}

Result<std::vector<JobRecord>> SqliteJobStore::ListJobsBySchedule(const std::string& schedule,
                                                                  int64_t max_results) {
  std::vector<JobRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kJobColumns +
                        " FROM jobs WHERE schedule = ?1 ORDER BY seq DESC LIMIT ?2");
    s.BindAll(schedule, max_results);
    while (s.Step()) out.push_back(ReadJob(s));
  }));
  return out;
}

Result<std::optional<JobStepRecord>> SqliteJobStore::FindCompletedStep(const std::string& key) {
  std::optional<JobStepRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kStepColumns +
                        " FROM job_steps WHERE cache_key = ?1 AND status = 'Completed' ORDER BY "
                        "ended DESC LIMIT 1");
    s.BindAll(key);
    if (s.Step()) out = ReadStep(s);
  }));
  return out;
}

}  // namespace sqlite
}  // namespace cairn
