#include "store/sqlite/sqlite_db.h"

namespace cairn::sqlite {

bool Stmt::Step() {
  int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  throw SqlError(rc, sqlite3_errmsg(db_));
}

Stmt& Stmt::Check(int rc) {
  if (rc != SQLITE_OK) throw SqlError(rc, sqlite3_errmsg(db_));
  return *this;
}

Db::Db(const std::string& path, const std::string& sync_mode, bool exclusive) {
  int rc = sqlite3_open_v2(path.c_str(), &db_,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                           exclusive ? "unix-excl" : nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw SqlError(rc, "cannot open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  Exec("PRAGMA journal_mode=WAL");
  // NORMAL in WAL mode: a committed transaction survives a process crash; FULL
  // adds an fsync per commit so it also survives power loss.
  Exec(sync_mode == "full" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  Exec("PRAGMA foreign_keys=ON");
  // MLflow's LIKE is case-sensitive; ILIKE is spelled lower(x) LIKE lower(y).
  Exec("PRAGMA case_sensitive_like=ON");
  Exec("PRAGMA temp_store=MEMORY");
  Exec("PRAGMA cache_size=-65536");
  // SqliteStore copies the WAL into the database on a background thread, so the
  // commit path rarely pays for it; this threshold remains so that the writer
  // still restarts the WAL under continuous writes (keeping it ~16 MB at most),
  // finding most frames already copied when it does.
  Exec("PRAGMA wal_autocheckpoint=4096");
}

Db::~Db() {
  for (auto& [sql, s] : cache_) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

Stmt Db::Prepare(std::string_view sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                SQLITE_PREPARE_PERSISTENT, &s, nullptr);
    if (rc != SQLITE_OK) {
      throw SqlError(rc, std::string(sqlite3_errmsg(db_)) + " in: " + std::string(sql));
    }
    it = cache_.emplace(std::string(sql), s).first;
  }
  return Stmt(db_, it->second);
}

Stmt Db::PrepareOnce(std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
  if (rc != SQLITE_OK) {
    throw SqlError(rc, std::string(sqlite3_errmsg(db_)) + " in: " + std::string(sql));
  }
  return Stmt(db_, s, /*owned=*/true);
}

void Db::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw SqlError(rc, msg);
  }
}

}  // namespace cairn::sqlite
