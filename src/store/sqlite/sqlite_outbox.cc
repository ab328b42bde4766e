// store/sqlite/sqlite_outbox.cc: see sqlite_outbox.h.
#include "store/sqlite/sqlite_outbox.h"

namespace cairn::sqlite {

int64_t AppendOutboxEvents(Db& db, std::span<const OutboxEvent> events) {
  if (events.empty()) return 0;
  // The writer is serialized: one id lookup, then plain inserts.
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
  return id;
}

int64_t AppendOutboxEvent(Db& db, const OutboxEvent& e) {
  return AppendOutboxEvents(db, std::span<const OutboxEvent>(&e, 1));
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
