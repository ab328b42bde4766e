// Filesystem helpers with crash-safety guarantees: atomic file replacement
// (temp file + fsync + rename + directory fsync) and recursive directory
// creation. Stateless; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

// Writes `data` to `path` so that after a crash the file holds either the old
// content or all of the new content, never a mix.
Status AtomicWriteFile(const std::filesystem::path& path, std::string_view data);
Result<std::string> ReadFile(const std::filesystem::path& path);
Status EnsureDirectory(const std::filesystem::path& dir);

// Owns a file descriptor; closes it on destruction. Move-only.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();
  int get() const { return fd_; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace cairn
