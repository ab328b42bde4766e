// The events outbox table (migration 3) as every sqlite store writes and reads
// it: one append inside the caller's write transaction (so an event commits
// with the change it describes) and one row reader. Not thread-safe on its
// own: called inside SqliteStore transactions.
#pragma once

#include <cstdint>
#include <span>

#include "store/registry_entities.h"
#include "store/sqlite/sqlite_db.h"

namespace cairn::sqlite {

// The columns ReadOutboxEvent expects, in its order.
inline constexpr const char* kOutboxColumns = "event_id, type, subject, time, data";

// Appends `events` in order with consecutive ids after the largest so far
// (one id lookup, then a plain insert each) and returns the last id (0 for
// none). The writer is serialized, so MAX + 1 cannot race with another writer.
int64_t AppendOutboxEvents(Db& db, std::span<const OutboxEvent> events);
// One event; returns its id.
int64_t AppendOutboxEvent(Db& db, const OutboxEvent& e);

// A row selected as kOutboxColumns.
OutboxEvent ReadOutboxEvent(const Stmt& s);

}  // namespace cairn::sqlite
