#include "core/fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/ids.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {
Status Errno(const std::string& what, const fs::path& p) {
  return Status(ErrorCode::kIoError, what + " " + p.string() + ": " + std::strerror(errno));
}

Status FsyncPath(const fs::path& p, int flags) {
  int fd = ::open(p.c_str(), flags);
  if (fd < 0) return Errno("cannot open", p);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? Status::Ok() : Errno("cannot fsync", p);
}
}  // namespace

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

Status EnsureDirectory(const fs::path& dir) {
  if (dir.empty()) return Status::Ok();  // the current directory
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status(ErrorCode::kIoError, "cannot create " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

Status AtomicWriteFile(const fs::path& path, std::string_view data) {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(path.parent_path()));
  fs::path tmp = path;
  tmp += ".tmp-" + NewRunId().substr(0, 12);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", tmp);
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = Errno("cannot write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return st;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = Errno("cannot fsync", tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return st;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = Errno("cannot rename onto", path);
    ::unlink(tmp.c_str());
    return st;
  }
  // The rename is durable only once the directory entry is on disk.
  fs::path dir = path.parent_path();
  return FsyncPath(dir.empty() ? fs::path(".") : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

Result<std::string> ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(ErrorCode::kResourceDoesNotExist, "cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace cairn
