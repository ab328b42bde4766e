// HashCache: remembers the SHA-256 of local files keyed by (path, size, mtime,
// ctime, inode), so registering an unchanged file or folder again answers
// without rereading it. Kept in a small SQLite file of its own (the CLI's in
// ~/.cache/cairn, the server's in the workspace). A stale or unreadable cache
// only costs a rehash. Thread-safe (one connection behind a mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "core/status.h"

namespace cairn {

namespace sqlite {
class Db;
}

struct FileStamp {
  int64_t size = 0;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t inode = 0;
};

// The stamp of a regular file (following symlinks).
Result<FileStamp> StampFile(const std::filesystem::path& file);

class HashCache {
 public:
  // Opens (creating) the cache file; the parent directory is created too.
  static Result<std::unique_ptr<HashCache>> Open(const std::filesystem::path& file);
  ~HashCache();

  std::optional<std::string> Lookup(const std::filesystem::path& file, const FileStamp& stamp);
  void Remember(const std::filesystem::path& file, const FileStamp& stamp,
                const std::string& sha256);
  // The SHA-256 of `file` from the cache when its stamp is unchanged, else
  // hashed now (streamed) and remembered. `cache_hit` tells which.
  Result<std::string> Sha256(const std::filesystem::path& file, const FileStamp& stamp,
                             bool* cache_hit = nullptr);

 private:
  explicit HashCache(std::unique_ptr<sqlite::Db> db);
  std::mutex mu_;
  std::unique_ptr<sqlite::Db> db_;
};

// The default location of the CLI's cache: $CAIRN_CACHE_DIR, else
// $XDG_CACHE_HOME/cairn, else ~/.cache/cairn; file "hashes.db".
std::filesystem::path DefaultHashCachePath();

}  // namespace cairn
