// Content identity of a code snapshot: a canonical text manifest of its files
// and the SHA-256 of that manifest, so equal trees get equal hashes whatever
// order they were listed in. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "assets/manifest.h"
#include "core/status.h"

namespace cairn {

struct CodeSnapshotManifest {
  std::vector<ManifestFile> files;  // sorted by path
  std::string hash;                 // ManifestHash(files)
};

// SHA-256 (hex) of a file's bytes, streamed with a 1 MiB buffer.
Result<std::string> Sha256OfFile(const std::filesystem::path& file);

// Lists `root` with ListSnapshotFiles (ignore files, symlink rules) and hashes
// every file. Reads every byte each time: callers with a hash cache keyed on
// SnapshotFile's inode/size/mtime can build the entries themselves instead.
Result<CodeSnapshotManifest> ComputeCodeSnapshotManifest(const std::filesystem::path& root);

}  // namespace cairn
