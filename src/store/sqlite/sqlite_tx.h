// How work inside a SqliteStore transaction reports an expected failure: throw
// StatusError (via Fail) and the store rolls back that request's savepoint only
// and returns the Status to its caller. Shared by every store of the sqlite
// backend (tracking, assets, registry).
#pragma once

#include <utility>
#include <variant>
#include <vector>

#include "core/status.h"
#include "store/sql_search.h"
#include "store/sqlite/sqlite_db.h"

namespace cairn::sqlite {

struct StatusError {
  Status status;
};
[[noreturn]] inline void Fail(Status s) { throw StatusError{std::move(s)}; }

// Binds a built query's parameters to ?1..?N.
inline void BindSqlValues(Stmt& s, const std::vector<SqlValue>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    std::visit([&](const auto& v) { s.Bind(static_cast<int>(i + 1), v); }, values[i]);
  }
}

}  // namespace cairn::sqlite
