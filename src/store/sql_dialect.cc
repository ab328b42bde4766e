#include "store/sql_dialect.h"

namespace cairn {

std::string SqlDialect::ILike(const std::string& lhs, const std::string& rhs) const {
  if (name == "postgresql") return lhs + " ILIKE " + rhs;
  return "lower(" + lhs + ") LIKE lower(" + rhs + ")";
}

std::string SqlDialect::Like(const std::string& lhs, const std::string& rhs) const {
  return lhs + " LIKE " + rhs;
}

std::string SqlDialect::Placeholder(int i) const {
  return (name == "postgresql" ? "$" : "?") + std::to_string(i);
}

const SqlDialect& SqliteDialect() {
  static const SqlDialect d{"sqlite"};
  return d;
}
const SqlDialect& PostgresDialect() {
  static const SqlDialect d{"postgresql"};
  return d;
}

}  // namespace cairn
