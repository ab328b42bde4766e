#include "assets/manifest.h"

#include <openssl/evp.h>

#include <algorithm>
#include <memory>
#include <set>
#include <string_view>

#include "artifacts/blob_store.h"
#include "artifacts/path_safety.h"

namespace cairn {
namespace {

void SortByPath(std::vector<ManifestFile>& files) {
  std::sort(files.begin(), files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
}

}  // namespace

std::string ManifestHash(std::vector<ManifestFile> files) {
  SortByPath(files);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::string line;
  for (const ManifestFile& f : files) {
    line = f.sha256 + " " + std::to_string(f.size) + " " + f.path + "\n";
    EVP_DigestUpdate(ctx.get(), line.data(), line.size());
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), md, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) {
    hex += kHex[md[i] >> 4];
    hex += kHex[md[i] & 15];
  }
  return hex;
}

Result<std::vector<ManifestFile>> CheckManifest(std::vector<ManifestFile> files) {
  for (ManifestFile& f : files) {
    auto clean = NormalizeRelativePath(f.path);
    if (!clean.ok()) return clean.status();
    if (clean->empty()) return InvalidParameter("a manifest entry has an empty path");
    f.path = *clean;
    if (!BlobStore::IsValidHash(f.sha256)) {
      return InvalidParameter("'" + f.path + "' has sha256 '" + f.sha256 +
                              "'; expected 64 lowercase hex characters");
    }
    if (f.size < 0) return InvalidParameter("'" + f.path + "' has a negative size");
  }
  SortByPath(files);
  std::set<std::string_view> paths;
  for (const ManifestFile& f : files) {
    if (!paths.insert(f.path).second) {
      return InvalidParameter("'" + f.path + "' appears twice in the manifest");
    }
  }
  // A file cannot also be a directory of another entry ("a" and "a/b").
  for (const ManifestFile& f : files) {
    for (size_t slash = f.path.find('/'); slash != std::string::npos;
         slash = f.path.find('/', slash + 1)) {
      if (paths.count(std::string_view(f.path).substr(0, slash))) {
        return InvalidParameter("'" + f.path.substr(0, slash) +
                                "' is both a file and a directory in the manifest");
      }
    }
  }
  return files;
}

}  // namespace cairn
