#include "assets/manifest.h"

#include <algorithm>
#include <memory>
#include <set>
#include <string_view>
#include <tuple>

#include "artifacts/blob_store.h"
#include "artifacts/path_safety.h"
#include "core/sha256.h"

namespace cairn {
namespace {

void SortByPath(std::vector<ManifestFile>& files) {
  std::sort(files.begin(), files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });
}

}  // namespace

std::string ManifestText(std::vector<ManifestFile> files) {
  // Ties on path (a caller's mistake) still sort the same way for any input order.
  std::sort(files.begin(), files.end(), [](const ManifestFile& a, const ManifestFile& b) {
    return std::tie(a.path, a.sha256, a.size) < std::tie(b.path, b.sha256, b.size);
  });
  std::string text;
  for (const ManifestFile& f : files) {
    text += f.sha256;
    text += ' ';
    text += std::to_string(f.size);
    text += ' ';
    text += f.path;
    text += '\n';
  }
  return text;
}

std::string ManifestHash(const std::vector<ManifestFile>& files) {
  return Sha256Hex(ManifestText(files));
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
