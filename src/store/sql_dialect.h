// Everything that differs between the SQL databases Cairn speaks (SQLite now,
// PostgreSQL next) lives in a SqlDialect, so the rest of the SQL stays portable.
#pragma once

#include <string>

namespace cairn {

struct SqlDialect {
  std::string name;
  // Case-insensitive LIKE of `lhs` against `rhs` (both SQL expressions).
  std::string ILike(const std::string& lhs, const std::string& rhs) const;
  // Case-sensitive LIKE (SQLite needs PRAGMA case_sensitive_like=ON, set per connection).
  std::string Like(const std::string& lhs, const std::string& rhs) const;
  // Placeholder for the i-th (1-based) parameter.
  std::string Placeholder(int i) const;
};

const SqlDialect& SqliteDialect();
const SqlDialect& PostgresDialect();

}  // namespace cairn
