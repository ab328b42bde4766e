// SpareFolders: take and recycle empty step folders by rename (see the header).
#include "pipeline/spare_folders.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fs.h"

namespace cairn::pipeline {
namespace fs = std::filesystem;

SpareFolders::SpareFolders(fs::path pool, std::string log_name, size_t max_spares)
    : pool_(std::move(pool)), log_name_(std::move(log_name)), max_spares_(max_spares) {}

SpareFolders::~SpareFolders() {
  for (const fs::path& spare : spares_) {
    if (spare.parent_path() == pool_) continue;
    (void)rename(spare.c_str(), (pool_ / std::to_string(next_++)).c_str());
  }
}

Status SpareFolders::Open() {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(pool_));
  std::lock_guard lock(mu_);
  spares_.clear();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(pool_, ec)) {
    std::string name = entry.path().filename().string();
    char* end = nullptr;
    uint64_t n = std::strtoull(name.c_str(), &end, 10);
    if (name.empty() || *end != '\0' || !entry.is_directory(ec)) continue;
    spares_.push_back(entry.path());
    next_ = std::max(next_, n + 1);
  }
  if (ec) return Status(ErrorCode::kIoError, "cannot list " + pool_.string() + ": " + ec.message());
  return Status::Ok();
}

Result<bool> SpareFolders::Take(const fs::path& target) {
  {
    std::lock_guard lock(mu_);
    while (!spares_.empty()) {
      // A rename onto an empty folder replaces it (as good as new); onto one
      // holding something it fails, and the spare stays in the pool.
      if (rename(spares_.back().c_str(), target.c_str()) == 0) {
        spares_.pop_back();
        return true;
      }
      if (errno == ENOTEMPTY || errno == EEXIST || errno == ENOTDIR) break;
      spares_.pop_back();  // gone (someone cleaned the pool): try the next
    }
  }
  if (mkdir(target.c_str(), 0755) == 0) return true;
  if (errno == EEXIST) {
    struct stat st;
    if (stat(target.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return false;
  }
  return Status(ErrorCode::kIoError,
                "cannot create " + target.string() + ": " + std::strerror(errno));
}

bool SpareFolders::Recycle(const fs::path& folder) {
  // Only a folder with nothing worth keeping: no entry but an empty log.
  // Listed with getdents64 into a stack buffer (opendir allocates 32 KiB per
  // call, and this runs once per finished step).
  int dir = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  alignas(8) char buf[4096];
  bool empty = true;
  for (;;) {
    long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
    if (n < 0) empty = false;
    if (n <= 0) break;
    for (long at = 0; at < n && empty;) {
      // struct linux_dirent64: d_ino (8), d_off (8), d_reclen (2), d_type (1), d_name.
      unsigned short reclen;
      std::memcpy(&reclen, buf + at + 16, sizeof reclen);
      const char* name = buf + at + 19;
      at += reclen;
      if (std::strcmp(name, ".") == 0 || std::strcmp(name, "..") == 0) continue;
      struct stat st;
      if (name != log_name_ || fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISREG(st.st_mode) || st.st_size != 0) {
        empty = false;
      }
    }
    if (!empty) break;
  }
  close(dir);
  if (!empty) return false;
  std::lock_guard lock(mu_);
  if (spares_.size() >= max_spares_) return false;
  spares_.push_back(folder);
  return true;
}

size_t SpareFolders::size() {
  std::lock_guard lock(mu_);
  return spares_.size();
}

}  // namespace cairn::pipeline
