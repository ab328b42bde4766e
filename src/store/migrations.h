// The versioned metadata schema. Migration i (0-based) takes a database from
// schema version i to i+1; backends run the missing ones at start, each in one
// transaction, and refuse a database whose version is newer than they know.
#pragma once

#include <string>
#include <vector>

#include "store/sql_dialect.h"

namespace cairn {

// Each entry is a script of portable SQL statements separated by ';'.
const std::vector<std::string>& Migrations();
// Migration `index` as SQL for `dialect`.
std::string MigrationSql(int index, const SqlDialect& dialect);
inline int LatestSchemaVersion() { return static_cast<int>(Migrations().size()); }

}  // namespace cairn
