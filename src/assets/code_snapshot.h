// Content identity of a code snapshot: a canonical text manifest of its files
// and the SHA-256 of that manifest, so equal trees get equal hashes whatever
// order they were listed in. Stateless; safe from any thread.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

struct ManifestEntry {
  std::string path;    // relative, "/"-separated; NormalizeRelativePath-clean (no newline)
  std::string sha256;  // of the file's bytes, 64 lowercase hex chars
  int64_t size = 0;
};

struct CodeSnapshotManifest {
  std::vector<ManifestEntry> files;  // sorted by path
  std::string hash;                  // ManifestHash(files)
};

// The manifest text: one line "<sha256> <size> <path>\n" per entry, sorted by
// path (byte order). Paths hold no newline, so the text is unambiguous.
std::string ManifestText(std::vector<ManifestEntry> entries);
// SHA-256 (hex) of ManifestText(entries); independent of the input order.
std::string ManifestHash(const std::vector<ManifestEntry>& entries);

// SHA-256 (hex) of a file's bytes, streamed with a 1 MiB buffer.
Result<std::string> Sha256OfFile(const std::filesystem::path& file);

// Lists `root` with ListSnapshotFiles (ignore files, symlink rules) and hashes
// every file. Reads every byte each time: callers with a hash cache keyed on
// SnapshotFile's inode/size/mtime can build the entries themselves instead.
Result<CodeSnapshotManifest> ComputeCodeSnapshotManifest(const std::filesystem::path& root);

}  // namespace cairn
