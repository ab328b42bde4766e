// Lists the files of a code snapshot: a walk of a source directory that honours
// .gitignore, .amlignore and .cairnignore and never leaves the directory, even
// through symlinks. Stateless; safe from any thread (for a tree nobody changes).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

// The ignore files read in every directory, in increasing precedence: all
// three apply, and for one path a matching pattern in a later file wins over
// one in an earlier file. (Azure ML reads .amlignore instead of .gitignore
// when both exist; Cairn applies both, so nothing git ignores slips in.)
inline constexpr const char* kIgnoreFileNames[] = {".gitignore", ".amlignore", ".cairnignore"};

struct SnapshotFile {
  std::string path;              // relative to the root, "/"-separated
  std::filesystem::path source;  // absolute file to read; a symlink's resolved target
  int64_t size = 0;
  int64_t mtime_ns = 0;  // of the file read (the target, for a symlink)
  uint64_t inode = 0;    // with size and mtime: a key for a hash cache
};

// The regular files to snapshot under `root`, sorted by path (byte order).
// Skips: anything named .git, ignored paths (gitignore(5) rules, see
// ignore_rules.h; ignore files are read only when they are regular files),
// sockets, fifos and devices. A symlink counts as what it points to: a file is
// snapshotted with the target's content under the link's path, a directory is
// walked under the link's path. Fails with INVALID_PARAMETER_VALUE naming the
// entry for: a symlink leading outside `root`, dangling or looping, and a path
// NormalizeRelativePath refuses (a backslash, a control character, a ":" in a
// top-level name, ...). Ignored entries are never checked, so ignoring an
// offending entry is the fix the messages suggest.
Result<std::vector<SnapshotFile>> ListSnapshotFiles(const std::filesystem::path& root);

}  // namespace cairn
