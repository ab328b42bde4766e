#include "artifacts/blob_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "core/fs.h"
#include "core/ids.h"
#include "core/sha256.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = 1 << 20;
constexpr const char* kTempDir = "tmp";

Status Errno(const std::string& what, const fs::path& p) {
  return Status(ErrorCode::kIoError, what + " " + p.string() + ": " + std::strerror(errno));
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Hashes and writes chunks from `next` (which returns the bytes read, 0 at the
// end, -1 on error) into an open temp file; fsyncs it.
Result<BlobInfo> CopyHashing(int out, const fs::path& temp,
                             const std::function<ssize_t(char*, size_t)>& next) {
  Sha256 hash;
  BlobInfo info;
  std::unique_ptr<char[]> buf(new char[kChunk]);
  for (;;) {
    ssize_t n = next(buf.get(), kChunk);
    if (n < 0) return Status(ErrorCode::kIoError, "cannot read the source of a blob");
    if (n == 0) break;
    hash.Update(buf.get(), static_cast<size_t>(n));
    if (!WriteAll(out, buf.get(), static_cast<size_t>(n))) return Errno("cannot write", temp);
    info.size += n;
  }
  if (::fsync(out) != 0) return Errno("cannot fsync", temp);
  info.sha256 = hash.HexDigest();
  return info;
}

// SHA-256 and length of everything readable from `fd`, in bounded memory.
Result<BlobInfo> HashFd(int fd, const fs::path& what) {
  CAIRN_ASSIGN_OR_RETURN(Sha256AndSize digest, Sha256OfFd(fd, what));
  return BlobInfo{std::move(digest.sha256), digest.size};
}

}  // namespace

Result<BlobInfo> HashFileContents(const fs::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open", file);
  ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
  return HashFd(fd.get(), file);
}

BlobStore::BlobStore(fs::path root) : root_(std::move(root)) {}

bool BlobStore::IsValidHash(std::string_view h) {
  if (h.size() != 64) return false;
  for (char c : h) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

fs::path BlobStore::PathOf(const std::string& sha256) const {
  return root_ / sha256.substr(0, 2) / sha256;
}

Result<fs::path> BlobStore::NewTempPath() const {
  fs::path dir = root_ / kTempDir;
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(dir));
  return dir / ("blob-" + NewRunId());
}

Result<BlobInfo> BlobStore::Commit(const fs::path& temp, const BlobInfo& info) {
  fs::path final_path = PathOf(info.sha256);
  std::error_code ec;
  if (fs::exists(final_path, ec)) {
    fs::remove(temp, ec);  // already stored: content addressing makes this a no-op
    return info;
  }
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(final_path.parent_path()));
  if (::rename(temp.c_str(), final_path.c_str()) != 0) {
    Status st = Errno("cannot move blob into place at", final_path);
    fs::remove(temp, ec);
    return st;
  }
  // The name is durable only once its directory entry is.
  int dfd = ::open(final_path.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return info;
}

Result<BlobInfo> BlobStore::PutBytes(std::string_view data) {
  CAIRN_ASSIGN_OR_RETURN(fs::path temp, NewTempPath());
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("cannot create", temp);
  size_t offset = 0;
  auto info = CopyHashing(fd, temp, [&](char* buf, size_t cap) -> ssize_t {
    size_t n = std::min(cap, data.size() - offset);
    std::memcpy(buf, data.data() + offset, n);
    offset += n;
    return static_cast<ssize_t>(n);
  });
  ::close(fd);
  if (!info.ok()) {
    std::error_code ec;
    fs::remove(temp, ec);
    return info.status();
  }
  return Commit(temp, *info);
}

Result<BlobInfo> BlobStore::PutFile(const fs::path& source) {
  int in = ::open(source.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Errno("cannot open", source);
  auto temp = NewTempPath();
  if (!temp.ok()) {
    ::close(in);
    return temp.status();
  }
  int out = ::open(temp->c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return Errno("cannot create", *temp);
  }
  auto info = CopyHashing(out, *temp, [&](char* buf, size_t cap) -> ssize_t {
    for (;;) {
      ssize_t n = ::read(in, buf, cap);
      if (n >= 0 || errno != EINTR) return n;
    }
  });
  ::close(in);
  ::close(out);
  if (!info.ok()) {
    std::error_code ec;
    fs::remove(*temp, ec);
    return info.status();
  }
  return Commit(*temp, *info);
}

fs::path BlobStore::TempDirectory() const { return root_ / kTempDir; }

Result<BlobInfo> BlobStore::AdoptFile(const fs::path& file, std::string_view expected_sha256,
                                      const BlobInfo* received) {
  if (file.parent_path() != TempDirectory()) {
    return InvalidParameter("only files in " + TempDirectory().string() + " can be adopted");
  }
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Errno("cannot open", file);
  if (::fsync(fd.get()) != 0) return Errno("cannot fsync", file);
  BlobInfo info;
  struct stat st {};
  if (received && IsValidHash(received->sha256) && ::fstat(fd.get(), &st) == 0 &&
      st.st_size == received->size) {
    info = *received;
  } else {
    CAIRN_ASSIGN_OR_RETURN(info, HashFd(fd.get(), file));
  }
  if (!expected_sha256.empty() && info.sha256 != expected_sha256) {
    std::error_code ec;
    fs::remove(file, ec);
    return InvalidParameter("uploaded bytes hash to sha256:" + info.sha256 +
                            ", not sha256:" + std::string(expected_sha256) +
                            "; the upload was corrupted or "
                            "named wrongly, send it again");
  }
  return Commit(file, info);
}

bool BlobStore::Contains(const std::string& sha256) const {
  std::error_code ec;
  return IsValidHash(sha256) && fs::is_regular_file(PathOf(sha256), ec);
}

Result<int64_t> BlobStore::Size(const std::string& sha256) const {
  if (!IsValidHash(sha256)) return InvalidParameter("not a SHA-256 digest: " + sha256);
  std::error_code ec;
  auto n = fs::file_size(PathOf(sha256), ec);
  if (ec) return NotFound("blob sha256:" + sha256 + " is missing");
  return static_cast<int64_t>(n);
}

Result<std::string> BlobStore::Read(const std::string& sha256) const {
  if (!IsValidHash(sha256)) return InvalidParameter("not a SHA-256 digest: " + sha256);
  auto bytes = ReadFile(PathOf(sha256));
  if (!bytes.ok()) {
    return Status(ErrorCode::kIoError, "blob sha256:" + sha256 +
                                           " is missing from the artifact store; run `cairn "
                                           "artifacts verify`");
  }
  if (Sha256Hex(*bytes) != sha256) {
    return Status(ErrorCode::kIoError, "blob sha256:" + sha256 +
                                           " is corrupt (its bytes no longer match its hash); "
                                           "run `cairn artifacts verify`");
  }
  return bytes;
}

Result<UniqueFd> BlobStore::OpenVerified(const std::string& sha256, int64_t* size) const {
  if (!IsValidHash(sha256)) return InvalidParameter("not a SHA-256 digest: " + sha256);
  UniqueFd fd(::open(PathOf(sha256).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    return Status(ErrorCode::kIoError, "blob sha256:" + sha256 +
                                           " is missing from the artifact store; run `cairn "
                                           "artifacts verify`");
  }
  CAIRN_ASSIGN_OR_RETURN(BlobInfo info, HashFd(fd.get(), PathOf(sha256)));
  if (info.sha256 != sha256) {
    return Status(ErrorCode::kIoError, "blob sha256:" + sha256 +
                                           " is corrupt (its bytes no longer match its hash); "
                                           "run `cairn artifacts verify`");
  }
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return Errno("cannot rewind blob", PathOf(sha256));
  *size = info.size;
  return fd;
}

Result<BlobCheck> BlobStore::VerifyAll() const {
  BlobCheck check;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return check;
  for (const auto& shard : fs::directory_iterator(root_, ec)) {
    if (!shard.is_directory() || shard.path().filename() == kTempDir) continue;
    for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
      std::string name = entry.path().filename().string();
      if (!IsValidHash(name)) continue;
      int fd = ::open(entry.path().c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) {
        check.corrupt.push_back(name);
        continue;
      }
      auto hashed = HashFd(fd, entry.path());
      BlobInfo info = hashed.ok() ? *hashed : BlobInfo{};
      ::close(fd);
      ++check.blobs_checked;
      check.bytes_checked += info.size;
      if (info.sha256 != name) check.corrupt.push_back(name);
    }
  }
  return check;
}

Result<BlobCollection> BlobStore::Collect(const std::set<std::string>& referenced,
                                          std::chrono::seconds grace) {
  BlobCollection out;
  std::error_code ec;
  if (!fs::exists(root_, ec)) return out;
  auto cutoff = fs::file_time_type::clock::now() - grace;
  for (const auto& shard : fs::directory_iterator(root_, ec)) {
    if (!shard.is_directory()) continue;
    bool temp_dir = shard.path().filename() == kTempDir;
    for (const auto& entry : fs::directory_iterator(shard.path(), ec)) {
      std::string name = entry.path().filename().string();
      std::error_code e2;
      auto mtime = fs::last_write_time(entry.path(), e2);
      if (e2 || mtime > cutoff) {
        if (!temp_dir && IsValidHash(name)) ++out.kept_blobs;
        continue;
      }
      if (temp_dir) {
        if (fs::remove(entry.path(), e2)) ++out.removed_temp_files;
        continue;
      }
      if (!IsValidHash(name) || referenced.count(name)) {
        ++out.kept_blobs;
        continue;
      }
      auto size = entry.file_size(e2);
      if (fs::remove(entry.path(), e2)) {
        ++out.removed_blobs;
        out.freed_bytes += static_cast<int64_t>(size);
      }
    }
  }
  return out;
}

}  // namespace cairn
