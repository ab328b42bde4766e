// A thin RAII layer over one sqlite3 connection: a cache of prepared
// statements keyed by SQL text, typed binding and reading. SQL errors are
// thrown as SqlError inside the sqlite backend and turned into Status at the
// MetadataStore boundary, so no error can be silently dropped mid-query.
// A Db is used by one thread at a time (the store hands connections out).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

namespace cairn::sqlite {

struct SqlError : std::runtime_error {
  SqlError(int code, const std::string& msg) : std::runtime_error(msg), code(code) {}
  int code;
};

class Stmt {
 public:
  // `owned`: finalized on destruction (one-off SQL) instead of reset for reuse.
  Stmt(sqlite3* db, sqlite3_stmt* s, bool owned = false) : db_(db), s_(s), owned_(owned) {}
  Stmt(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_), owned_(o.owned_) { o.s_ = nullptr; }
  ~Stmt() {
    if (!s_) return;
    if (owned_) {
      sqlite3_finalize(s_);
    } else {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }

  template <typename T>
  requires std::is_integral_v<T> Stmt& Bind(int i, T v) {
    return Check(sqlite3_bind_int64(s_, i, static_cast<sqlite3_int64>(v)));
  }
  Stmt& Bind(int i, double v) { return Check(sqlite3_bind_double(s_, i, v)); }
  Stmt& Bind(int i, std::string_view v) {
    return Check(sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT));
  }
  Stmt& Bind(int i, const std::string& v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, const char* v) { return Bind(i, std::string_view(v)); }
  Stmt& Bind(int i, std::nullopt_t) { return Check(sqlite3_bind_null(s_, i)); }
  template <typename T>
  Stmt& Bind(int i, const std::optional<T>& v) {
    return v ? Bind(i, *v) : Bind(i, std::nullopt);
  }
  // Binds arguments to ?1..?N in order.
  template <typename... Args>
  Stmt& BindAll(const Args&... args) {
    int i = 0;
    (Bind(++i, args), ...);
    return *this;
  }

  // Advances to the next row; false when done.
  bool Step();
  // Runs a statement that returns no rows.
  void Exec() {
    while (Step()) {
    }
  }

  int64_t Int(int col) const { return sqlite3_column_int64(s_, col); }
  double Double(int col) const { return sqlite3_column_double(s_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::optional<int64_t> OptInt(int col) const {
    if (IsNull(col)) return std::nullopt;
    return Int(col);
  }

 private:
  Stmt& Check(int rc);
  sqlite3* db_;
  sqlite3_stmt* s_;
  bool owned_;
};

class Db {
 public:
  // Opens (creating if needed) the database file and applies connection pragmas.
  // `exclusive`: SQLite's "unix-excl" VFS — this process holds the file lock and
  // keeps the WAL index in memory, so commits skip the per-transaction fcntl
  // locking (a third of a commit's cost); other processes cannot open the file
  // meanwhile, which also stops two servers sharing a workspace.
  Db(const std::string& path, const std::string& sync_mode, bool exclusive);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // A cached prepared statement; reset and unbound again when the Stmt dies.
  Stmt Prepare(std::string_view sql);
  // An uncached statement, for SQL that varies per request (searches).
  Stmt PrepareOnce(std::string_view sql);
  // Runs one or more statements with no parameters.
  void Exec(const std::string& sql);
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }

 private:
  sqlite3* db_ = nullptr;
  // Heterogeneous lookup: finding a statement by its SQL allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, sqlite3_stmt*, SqlHash, std::equal_to<>> cache_;
};

}  // namespace cairn::sqlite
