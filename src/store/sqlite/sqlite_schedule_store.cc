// SqliteScheduleStore (see sqlite_schedule_store.h): schedules, published
// pipelines and the outbox reads/appends event triggers need.
#include "store/sqlite/sqlite_schedule_store.h"

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_outbox.h"
#include "store/sqlite/sqlite_store.h"
#include "store/sqlite/sqlite_tx.h"

namespace cairn::sqlite {
namespace {

constexpr const char* kScheduleColumns =
    "name, display_name, description, tags, trigger_kind, trigger_spec, plan, enabled, "
    "next_fire_time, last_fire_time, last_job, last_error, watched, last_seen_version, "
    "last_seen_event_id, "
    "created_by, creation_time, last_updated_time";

ScheduleRecord ReadSchedule(const Stmt& s) {
  ScheduleRecord r;
  r.name = s.Text(0);
  r.display_name = s.Text(1);
  r.description = s.Text(2);
  r.tags = s.Text(3);
  r.trigger_kind = s.Text(4);
  r.trigger_spec = s.Text(5);
  r.plan = s.Text(6);
  r.enabled = s.Int(7) != 0;
  r.next_fire_time = s.OptInt(8);
  r.last_fire_time = s.OptInt(9);
  r.last_job = s.Text(10);
  r.last_error = s.Text(11);
  r.watched = s.Text(12);
  r.last_seen_version = s.Text(13);
  r.last_seen_event_id = s.Int(14);
  r.created_by = s.Text(15);
  r.creation_time = s.Int(16);
  r.last_updated_time = s.Int(17);
  return r;
}

void WriteSchedule(Db& db, const ScheduleRecord& r, bool replace) {
  db.Prepare(std::string(replace ? "INSERT OR REPLACE" : "INSERT") + " INTO schedules (" +
             kScheduleColumns +
             ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, "
             "?17, ?18)")
      .BindAll(r.name, r.display_name, r.description, r.tags, r.trigger_kind, r.trigger_spec,
               r.plan, int64_t{r.enabled ? 1 : 0}, r.next_fire_time, r.last_fire_time, r.last_job,
               r.last_error, r.watched, r.last_seen_version, r.last_seen_event_id, r.created_by,
               r.creation_time, r.last_updated_time)
      .Exec();
}

PublishedPipeline ReadPipeline(const Stmt& s) {
  return {s.Text(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Int(5)};
}

constexpr const char* kPipelineColumns =
    "name, version, plan, description, created_by, creation_time";

}  // namespace

Status SqliteScheduleStore::CreateSchedule(const ScheduleRecord& r) {
  return db_.Write([&](Db& db) {
    auto s = db.Prepare("SELECT 1 FROM schedules WHERE name = ?1");
    s.BindAll(r.name);
    if (s.Step()) {
      Fail(AlreadyExists("a schedule named '" + r.name +
                         "' already exists; delete it first or choose another name"));
    }
    WriteSchedule(db, r, false);
  });
}

Result<ScheduleRecord> SqliteScheduleStore::GetSchedule(const std::string& name) {
  std::optional<ScheduleRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s =
        db.Prepare(std::string("SELECT ") + kScheduleColumns + " FROM schedules WHERE name = ?1");
    s.BindAll(name);
    if (s.Step()) out = ReadSchedule(s);
  }));
  if (!out) {
    return NotFound("schedule '" + name + "' does not exist; `cairn schedule list` shows them");
  }
  return std::move(*out);
}

Result<std::vector<ScheduleRecord>> SqliteScheduleStore::ListSchedules() {
  std::vector<ScheduleRecord> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s =
        db.Prepare(std::string("SELECT ") + kScheduleColumns + " FROM schedules ORDER BY name");
    while (s.Step()) out.push_back(ReadSchedule(s));
  }));
  return out;
}

Status SqliteScheduleStore::UpdateSchedule(const ScheduleRecord& r) {
  return db_.Write([&](Db& db) {
    auto s = db.Prepare("SELECT 1 FROM schedules WHERE name = ?1");
    s.BindAll(r.name);
    if (!s.Step()) Fail(NotFound("schedule '" + r.name + "' does not exist"));
    WriteSchedule(db, r, true);
  });
}

Status SqliteScheduleStore::DeleteSchedule(const std::string& name) {
  return db_.Write([&](Db& db) {
    db.Prepare("DELETE FROM schedules WHERE name = ?1").BindAll(name).Exec();
    if (db.Changes() == 0) Fail(NotFound("schedule '" + name + "' does not exist"));
  });
}

Result<PublishedPipeline> SqliteScheduleStore::PublishPipeline(const PublishedPipeline& p) {
  PublishedPipeline out = p;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) {
    auto s = db.Prepare("SELECT MAX(version) FROM published_pipelines WHERE name = ?1");
    s.BindAll(p.name);
    out.version = (s.Step() && !s.IsNull(0)) ? s.Int(0) + 1 : 1;
    out.creation_time = db_.clock().NowMillis();
    db.Prepare(std::string("INSERT INTO published_pipelines (") + kPipelineColumns +
               ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
        .BindAll(out.name, out.version, out.plan, out.description, out.created_by,
                 out.creation_time)
        .Exec();
  }));
  return out;
}

Result<PublishedPipeline> SqliteScheduleStore::GetPublishedPipeline(const std::string& name,
                                                                    int64_t version) {
  std::optional<PublishedPipeline> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    std::string sql =
        std::string("SELECT ") + kPipelineColumns + " FROM published_pipelines WHERE name = ?1";
    sql += version > 0 ? " AND version = ?2" : " AND ?2 = ?2 ORDER BY version DESC LIMIT 1";
    auto s = db.PrepareOnce(sql);
    s.BindAll(name, version);
    if (s.Step()) out = ReadPipeline(s);
  }));
  if (!out) {
    return NotFound("published pipeline '" + name + "'" +
                    (version > 0 ? " version " + std::to_string(version) : std::string()) +
                    " does not exist; `cairn pipeline list` shows them");
  }
  return std::move(*out);
}

Result<std::vector<PublishedPipeline>> SqliteScheduleStore::ListPublishedPipelines() {
  std::vector<PublishedPipeline> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kPipelineColumns +
                        " FROM published_pipelines p WHERE version = (SELECT MAX(version) FROM "
                        "published_pipelines q WHERE q.name = p.name) ORDER BY name");
    while (s.Step()) out.push_back(ReadPipeline(s));
  }));
  return out;
}

Result<std::vector<OutboxEvent>> SqliteScheduleStore::ReadEvents(const std::string& type,
                                                                 int64_t after_id, int64_t limit) {
  std::vector<OutboxEvent> out;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare(std::string("SELECT ") + kOutboxColumns +
                        " FROM outbox WHERE (?1 = '' OR type = ?1) AND event_id > ?2 "
                        "ORDER BY event_id LIMIT ?3");
    s.BindAll(type, after_id, limit);
    while (s.Step()) out.push_back(ReadOutboxEvent(s));
  }));
  return out;
}

Result<int64_t> SqliteScheduleStore::LastEventId() {
  int64_t out = 0;
  CAIRN_RETURN_IF_ERROR(db_.Read([&](Db& db) {
    auto s = db.Prepare("SELECT MAX(event_id) FROM outbox");
    if (s.Step() && !s.IsNull(0)) out = s.Int(0);
  }));
  return out;
}

Result<OutboxEvent> SqliteScheduleStore::AppendEvent(const OutboxEvent& e) {
  OutboxEvent out = e;
  CAIRN_RETURN_IF_ERROR(db_.Write([&](Db& db) { out.event_id = AppendOutboxEvent(db, out); }));
  return out;
}

}  // namespace cairn::sqlite
