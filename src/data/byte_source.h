// ByteSource: sequential reads of a plain or gzip-compressed file (detected by
// its magic bytes, not its name), in caller-sized blocks. One thread at a time.
#pragma once

#include <cstddef>
#include <filesystem>
#include <memory>

#include "core/fs.h"
#include "core/status.h"

struct gzFile_s;  // zlib's stream; zlib stays a private dependency

namespace cairn::data {

class ByteSource {
 public:
  static Result<std::unique_ptr<ByteSource>> Open(const std::filesystem::path& path);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  // Reads up to `n` bytes into `dst`; 0 means end of file. A truncated or
  // corrupt gzip stream is an IO_ERROR naming the file.
  Result<size_t> Read(char* dst, size_t n);
  bool compressed() const { return gz_ != nullptr; }

 private:
  ByteSource(std::filesystem::path path, UniqueFd fd, gzFile_s* gz)
      : path_(std::move(path)), fd_(std::move(fd)), gz_(gz) {}
  std::filesystem::path path_;
  UniqueFd fd_;             // plain files
  gzFile_s* gz_ = nullptr;  // gzip files (owns its own descriptor)
};

}  // namespace cairn::data
