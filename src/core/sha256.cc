#include "core/sha256.h"

#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace cairn {

namespace {

// Fetched once: OpenSSL 3 looks the implementation up again on every
// EVP_sha256() init, which cost more than hashing a short string.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = [] {
    EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    return fetched ? fetched : const_cast<EVP_MD*>(EVP_sha256());
  }();
  return md;
}

}  // namespace

Sha256::Sha256() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
  EVP_DigestInit_ex(ctx_.get(), Sha256Md(), nullptr);
}

void Sha256::Update(const void* data, size_t n) { EVP_DigestUpdate(ctx_.get(), data, n); }

std::string Sha256::HexDigest() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_.get(), md, &len);
  static const char* kHex = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view bytes) {
  Sha256 hash;
  hash.Update(bytes.data(), bytes.size());
  return hash.HexDigest();
}

Result<Sha256AndSize> Sha256OfFd(int fd, const std::filesystem::path& what) {
  constexpr size_t kChunk = 1 << 20;
  std::vector<char> buf(kChunk);
  Sha256 hash;
  Sha256AndSize out;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Status(ErrorCode::kIoError,
                    "cannot read " + what.string() + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    hash.Update(buf.data(), static_cast<size_t>(n));
    out.size += n;
  }
  out.sha256 = hash.HexDigest();
  return out;
}

}  // namespace cairn
