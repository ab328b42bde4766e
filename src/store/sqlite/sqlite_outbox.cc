// store/sqlite/sqlite_outbox.cc: see sqlite_outbox.h.
#include "store/sqlite/sqlite_outbox.h"

namespace cairn::sqlite {

int64_t AppendOutboxEvent(Db& db, const OutboxEvent& e) {
  // One statement (RETURNING: SQLite >= 3.35, PostgreSQL) gives the new id.
  auto s = db.Prepare(
      "INSERT INTO outbox (event_id, type, subject, time, data, delivered_time) "
      "SELECT COALESCE(MAX(event_id), 0) + 1, ?1, ?2, ?3, ?4, NULL FROM outbox "
      "RETURNING event_id");
  s.BindAll(e.type, e.subject, e.time, e.data);
  s.Step();
  const int64_t id = s.Int(0);
  while (s.Step()) {
  }  // run to completion before the statement is reused
  return id;
}

void AppendOutboxEvents(Db& db, const std::vector<OutboxEvent>& events) {
  if (events.empty()) return;
  if (events.size() == 1) {
    AppendOutboxEvent(db, events[0]);
    return;
  }
  auto last = db.Prepare("SELECT COALESCE(MAX(event_id), 0) FROM outbox");
  last.Step();
  int64_t id = last.Int(0);
  for (const OutboxEvent& e : events) {
    db.Prepare(
          "INSERT INTO outbox (event_id, type, subject, time, data, delivered_time) "
          "VALUES (?1, ?2, ?3, ?4, ?5, NULL)")
        .BindAll(++id, e.type, e.subject, e.time, e.data)
        .Exec();
  }
}

OutboxEvent ReadOutboxEvent(const Stmt& s) {
  OutboxEvent e;
  e.event_id = s.Int(0);
  e.type = s.Text(1);
  e.subject = s.Text(2);
  e.time = s.Int(3);
  e.data = s.Text(4);
  return e;
}

}  // namespace cairn::sqlite
