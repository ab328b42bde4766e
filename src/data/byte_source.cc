#include "data/byte_source.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <limits>

namespace cairn::data {

Result<std::unique_ptr<ByteSource>> ByteSource::Open(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    ErrorCode code = errno == ENOENT ? ErrorCode::kResourceDoesNotExist : ErrorCode::kIoError;
    return Status(code, "cannot open " + path.string() + ": " + std::strerror(errno));
  }
  unsigned char magic[2] = {0, 0};
  ssize_t got = ::pread(fd.get(), magic, 2, 0);
  if (got < 0) {
    return Status(ErrorCode::kIoError,
                  "cannot read " + path.string() + ": " + std::strerror(errno));
  }
  if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
    gzFile gz = ::gzdopen(fd.get(), "rb");
    if (gz == nullptr) {
      return Status(ErrorCode::kIoError, "cannot open gzip stream of " + path.string());
    }
    fd.release();  // gzclose closes it
    ::gzbuffer(gz, 1 << 18);
    return std::unique_ptr<ByteSource>(new ByteSource(path, UniqueFd(), gz));
  }
  return std::unique_ptr<ByteSource>(new ByteSource(path, std::move(fd), nullptr));
}

ByteSource::~ByteSource() {
  if (gz_ != nullptr) ::gzclose(gz_);
}

Result<size_t> ByteSource::Read(char* dst, size_t n) {
  if (gz_ != nullptr) {
    unsigned want = static_cast<unsigned>(std::min<size_t>(n, std::numeric_limits<int>::max()));
    int got = ::gzread(gz_, dst, want);
    if (got < 0) {
      int errnum = 0;
      const char* msg = ::gzerror(gz_, &errnum);
      return Status(ErrorCode::kIoError, "cannot decompress " + path_.string() + ": " + msg);
    }
    if (got == 0) {
      // zlib reports a stream cut short only through gzerror.
      int errnum = 0;
      const char* msg = ::gzerror(gz_, &errnum);
      if (errnum != Z_OK) {
        return Status(ErrorCode::kIoError, "cannot decompress " + path_.string() + ": " + msg);
      }
    }
    return static_cast<size_t>(got);
  }
  for (;;) {
    ssize_t got = ::read(fd_.get(), dst, n);
    if (got >= 0) return static_cast<size_t>(got);
    if (errno == EINTR) continue;
    return Status(ErrorCode::kIoError,
                  "cannot read " + path_.string() + ": " + std::strerror(errno));
  }
}

}  // namespace cairn::data
