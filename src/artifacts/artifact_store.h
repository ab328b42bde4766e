// ArtifactStore: the seam between Cairn and wherever artifact bytes live.
// Files are addressed by relative paths (validated with NormalizeRelativePath;
// implementations still refuse anything that resolves outside their root).
// The local backend is content-addressed: each path points at an immutable
// SHA-256-named blob, so identical files across runs and assets are stored once.
// Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "artifacts/blob_store.h"
#include "core/status.h"

namespace cairn {

struct FileInfo {
  std::string path;  // relative to the store root
  bool is_dir = false;
  int64_t file_size = 0;
  std::string sha256;  // content hash (files of content-addressed stores)
};

// What `cairn artifacts verify` reports.
struct ArtifactCheck {
  int64_t files_checked = 0;
  int64_t blobs_checked = 0;
  int64_t bytes_checked = 0;
  std::vector<std::string> corrupt_blobs;    // bytes no longer match the hash
  std::vector<std::string> missing_blobs;    // "path -> sha256" whose blob is gone
  std::vector<std::string> damaged_entries;  // unreadable path entries
  bool ok() const {
    return corrupt_blobs.empty() && missing_blobs.empty() && damaged_entries.empty();
  }
};

class ArtifactStore {
 public:
  virtual ~ArtifactStore() = default;
  // Atomically creates or replaces the file at `path`.
  virtual Status Put(const std::string& path, std::string_view data) = 0;
  virtual Result<std::string> Get(const std::string& path) = 0;
  // The file for streaming (verified, bounded memory); `size` receives its length.
  virtual Result<UniqueFd> Open(const std::string& path, int64_t* size) = 0;
  // Direct children of directory `dir` ("" = root), sorted by path. A missing
  // directory lists as empty, as MLflow's does.
  virtual Result<std::vector<FileInfo>> List(const std::string& dir) = 0;
  // Deletes a file or a whole directory (its blobs stay until CollectGarbage).
  virtual Status Delete(const std::string& path) = 0;
  // Stores a local file (streamed, bounded memory) at `path`.
  virtual Result<FileInfo> PutFile(const std::string& path,
                                   const std::filesystem::path& source) = 0;
  // Stores a file written into SpoolDirectory(), moving it rather than copying.
  // `received` is the hash and size computed while the file was received (or
  // null: the store hashes it).
  virtual Result<FileInfo> PutSpooled(const std::string& path, const std::filesystem::path& spooled,
                                      const BlobInfo* received = nullptr) = 0;
  // Where uploads should be received to be stored by PutSpooled.
  virtual std::filesystem::path SpoolDirectory() = 0;

  // Content-addressed uploads: a blob is stored first (deduplicated by hash)
  // and given paths afterwards with LinkBlob. A blob without a path is young
  // garbage: CollectGarbage spares it for its grace period.
  // Stores a file written into SpoolDirectory(), refusing it unless its
  // SHA-256 is `expected_sha256`.
  // An empty `expected_sha256` accepts whatever the bytes hash to.
  virtual Result<BlobInfo> PutBlobSpooled(const std::filesystem::path& spooled,
                                          const std::string& expected_sha256,
                                          const BlobInfo* received = nullptr) = 0;
  // Stores bytes held in memory as a blob.
  virtual Result<BlobInfo> PutBlobBytes(std::string_view data) = 0;
  // Stores a local file as a blob (streamed, bounded memory).
  virtual Result<BlobInfo> PutBlobFile(const std::filesystem::path& source) = 0;
  virtual bool HasBlob(const std::string& sha256) = 0;
  // Points `path` at an existing blob without copying bytes; NOT_FOUND when the
  // blob is missing (never uploaded, or collected), INVALID when sizes differ.
  virtual Status LinkBlob(const std::string& path, const BlobInfo& blob) = 0;

  // fsck: every entry's blob exists and every blob's bytes match its hash.
  virtual Result<ArtifactCheck> Verify() = 0;
  // Removes blobs no entry references and that are older than `grace`.
  virtual Result<BlobCollection> CollectGarbage(std::chrono::seconds grace) = 0;
};

// Every file under directory `dir` ("" = root), recursively, with paths
// relative to `dir`, sorted by path.
Result<std::vector<FileInfo>> ListRecursive(ArtifactStore& store, const std::string& dir);

// A content-addressed store under one local directory: <root>/blobs/ holds the
// blobs, <root>/tree/ one small entry file per artifact path. Files left by an
// older, plain-file layout under <root> are imported into it on open.
Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(const std::filesystem::path& root);

}  // namespace cairn
