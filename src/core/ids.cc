#include "core/ids.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

namespace cairn {
namespace {

void RandomBytes(unsigned char* out, int n) {
  if (RAND_bytes(out, n) != 1) {
    // The OS entropy source failing is not recoverable for id generation.
    std::random_device rd;
    for (int i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(rd());
  }
}

constexpr std::array kAdjectives = {
    "able",   "bold",   "brave", "bright", "calm",   "clever", "crisp", "eager", "fair",
    "fleet",  "gentle", "glad",  "grand",  "honest", "keen",   "kind",  "lucid", "merry",
    "nimble", "noble",  "proud", "quick",  "quiet",  "rare",   "sharp", "smart", "steady",
    "sunny",  "swift",  "tidy",  "vivid",  "warm",   "wise",   "zesty"};
constexpr std::array kNouns = {
    "ant",   "bass",  "bear", "cairn", "crane", "deer",  "dove",  "eagle", "elk",
    "finch", "fox",   "gull", "hare",  "hawk",  "heron", "ibis",  "koala", "lark",
    "lynx",  "mole",  "moth", "newt",  "otter", "owl",   "panda", "quail", "robin",
    "seal",  "shrew", "slug", "snail", "stork", "swan",  "trout", "wasp",  "wolf"};

}  // namespace

std::string NewRunId() {
  unsigned char bytes[16];
  RandomBytes(bytes, sizeof bytes);
  static const char* kHex = "0123456789abcdef";
  std::string id(32, '0');
  for (int i = 0; i < 16; ++i) {
    id[2 * i] = kHex[bytes[i] >> 4];
    id[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return id;
}

std::string NewRunName() {
  unsigned char b[4];
  RandomBytes(b, sizeof b);
  return std::string(kAdjectives[b[0] % kAdjectives.size()]) + "-" + kNouns[b[1] % kNouns.size()] +
         "-" + std::to_string(((b[2] << 8) | b[3]) % 1000);
}

std::string Base64Encode(std::string_view data) {
  std::string out(4 * ((data.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> Base64Decode(std::string_view data) {
  if (data.size() % 4 != 0) return std::nullopt;
  std::string out(3 * data.size() / 4, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<int>(data.size()));
  if (n < 0) return std::nullopt;
  size_t len = static_cast<size_t>(n);
  // EVP_DecodeBlock counts padding bytes as output; drop them.
  if (!data.empty() && data.back() == '=') --len;
  if (data.size() > 1 && data[data.size() - 2] == '=') --len;
  out.resize(len);
  return out;
}

}  // namespace cairn
