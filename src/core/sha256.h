// SHA-256 over OpenSSL's EVP interface: an incremental hasher, one-shot hashing of
// bytes, and streaming hashing of a file descriptor in bounded memory (1 MiB).
// A Sha256 object is single-threaded; the free functions are safe from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX, kept out of this header

namespace cairn {

class Sha256 {
 public:
  Sha256();
  void Update(const void* data, size_t n);
  // 64 lowercase hex characters. Call once: the hasher is finished afterwards.
  std::string HexDigest();

 private:
  std::unique_ptr<evp_md_ctx_st, void (*)(evp_md_ctx_st*)> ctx_;
};

std::string Sha256Hex(std::string_view bytes);

struct Sha256AndSize {
  std::string sha256;  // 64 lowercase hex chars
  int64_t size = 0;
};

// Hashes everything readable from `fd` (from its current offset to EOF) with a
// 1 MiB buffer. `what` names the file in the IO_ERROR message on a read failure.
Result<Sha256AndSize> Sha256OfFd(int fd, const std::filesystem::path& what);

}  // namespace cairn
