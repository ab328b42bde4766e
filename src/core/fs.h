// Filesystem helpers with crash-safety guarantees: atomic file replacement
// (temp file + fsync + rename + directory fsync) and recursive directory
// creation. Stateless; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

// Writes `data` to `path` so that after a crash the file holds either the old
// content or all of the new content, never a mix.
Status AtomicWriteFile(const std::filesystem::path& path, std::string_view data);
Result<std::string> ReadFile(const std::filesystem::path& path);
Status EnsureDirectory(const std::filesystem::path& dir);

}  // namespace cairn
