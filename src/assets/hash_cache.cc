#include "assets/hash_cache.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "artifacts/blob_store.h"
#include "core/fs.h"
#include "store/sqlite/sqlite_db.h"

namespace cairn {
namespace fs = std::filesystem;

Result<FileStamp> StampFile(const fs::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    return Status(ErrorCode::kIoError,
                  "cannot stat " + file.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) return InvalidParameter(file.string() + " is not a regular file");
  FileStamp s;
  s.size = st.st_size;
  s.mtime_ns = int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
  s.ctime_ns = int64_t{st.st_ctim.tv_sec} * 1'000'000'000 + st.st_ctim.tv_nsec;
  s.inode = static_cast<int64_t>(st.st_ino);
  return s;
}

HashCache::HashCache(std::unique_ptr<sqlite::Db> db) : db_(std::move(db)) {}
HashCache::~HashCache() = default;

Result<std::unique_ptr<HashCache>> HashCache::Open(const fs::path& file) {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(file.parent_path()));
  try {
    // Shared (not exclusive): several CLI processes may hash at once.
    auto db = std::make_unique<sqlite::Db>(file.string(), "normal", /*exclusive=*/false);
    db->Exec(
        "CREATE TABLE IF NOT EXISTS file_hashes (path TEXT PRIMARY KEY, size INTEGER NOT NULL, "
        "mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, inode INTEGER NOT NULL, "
        "sha256 TEXT NOT NULL)");
    return std::unique_ptr<HashCache>(new HashCache(std::move(db)));
  } catch (const sqlite::SqlError& e) {
    return Status(ErrorCode::kIoError, "cannot open hash cache " + file.string() + ": " + e.what());
  }
}

std::optional<std::string> HashCache::Lookup(const fs::path& file, const FileStamp& stamp) {
  std::lock_guard lk(mu_);
  try {
    auto s = db_->Prepare(
        "SELECT sha256 FROM file_hashes WHERE path = ?1 AND size = ?2 AND mtime_ns = ?3 AND "
        "ctime_ns = ?4 AND inode = ?5");
    s.BindAll(fs::absolute(file).string(), stamp.size, stamp.mtime_ns, stamp.ctime_ns, stamp.inode);
    if (s.Step()) return s.Text(0);
  } catch (const sqlite::SqlError&) {
    // A damaged or locked cache only costs a rehash.
  }
  return std::nullopt;
}

void HashCache::Remember(const fs::path& file, const FileStamp& stamp, const std::string& sha256) {
  std::lock_guard lk(mu_);
  try {
    db_->Prepare(
           "INSERT INTO file_hashes (path, size, mtime_ns, ctime_ns, inode, sha256) VALUES (?1, "
           "?2, ?3, ?4, ?5, ?6) ON CONFLICT (path) DO UPDATE SET size = ?2, mtime_ns = ?3, "
           "ctime_ns = ?4, inode = ?5, sha256 = ?6")
        .BindAll(fs::absolute(file).string(), stamp.size, stamp.mtime_ns, stamp.ctime_ns,
                 stamp.inode, sha256)
        .Exec();
  } catch (const sqlite::SqlError&) {
  }
}

Result<std::string> HashCache::Sha256(const fs::path& file, const FileStamp& stamp,
                                      bool* cache_hit) {
  if (auto known = Lookup(file, stamp)) {
    if (cache_hit) *cache_hit = true;
    return *known;
  }
  if (cache_hit) *cache_hit = false;
  CAIRN_ASSIGN_OR_RETURN(BlobInfo info, HashFileContents(file));
  // A file that changed while it was read must not be cached under the old stamp.
  auto after = StampFile(file);
  if (after.ok() && after->size == stamp.size && after->mtime_ns == stamp.mtime_ns &&
      after->ctime_ns == stamp.ctime_ns && info.size == stamp.size) {
    Remember(file, stamp, info.sha256);
  }
  return info.sha256;
}

fs::path DefaultHashCachePath() {
  if (const char* dir = std::getenv("CAIRN_CACHE_DIR"); dir && *dir)
    return fs::path(dir) / "hashes.db";
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return fs::path(xdg) / "cairn" / "hashes.db";
  }
  const char* home = std::getenv("HOME");
  return fs::path(home && *home ? home : "/tmp") / ".cache" / "cairn" / "hashes.db";
}

}  // namespace cairn
