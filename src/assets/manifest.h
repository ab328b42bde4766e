// Manifests: the list of files (relative path, SHA-256, size) that makes up a
// data version or code snapshot, and the content hash that names it. Pure
// functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

struct ManifestFile {
  std::string path;  // relative, '/'-separated, normalized
  std::string sha256;
  int64_t size = 0;
};

// The canonical manifest text: one "<sha256> <size> <path>\n" line per file,
// sorted by path (byte order). Paths hold no newline, so it is unambiguous.
std::string ManifestText(std::vector<ManifestFile> files);
// SHA-256 (hex) of ManifestText: independent of the input order; changes when
// any byte, size or path does. Names data versions and code snapshots.
std::string ManifestHash(const std::vector<ManifestFile>& files);

// Validates a manifest from a client: every path normalized (no traversal), no
// duplicates, valid hashes, sizes >= 0. Returns the files sorted by path.
Result<std::vector<ManifestFile>> CheckManifest(std::vector<ManifestFile> files);

}  // namespace cairn
