// ArtifactStore: the seam between Cairn and wherever artifact bytes live.
// Paths are relative to the store's root and already normalized by
// NormalizeRelativePath; implementations still refuse anything that would
// resolve outside the root (symlinks). Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace cairn {

struct FileInfo {
  std::string path;  // relative to the store root
  bool is_dir = false;
  int64_t file_size = 0;
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Atomically creates or replaces the file at `path`.
  virtual Status Put(const std::string& path, std::string_view data) = 0;
  virtual Result<std::string> Get(const std::string& path) = 0;
  // Direct children of directory `dir` ("" = root), sorted by path. A missing
  // directory lists as empty, as MLflow's does.
  virtual Result<std::vector<FileInfo>> List(const std::string& dir) = 0;
  // Deletes a file or a whole directory.
  virtual Status Delete(const std::string& path) = 0;
};

// Files under one local directory.
std::unique_ptr<ArtifactStore> NewLocalArtifactStore(const std::filesystem::path& root);

}  // namespace cairn
