// BlobStore: immutable, content-addressed blobs on a local filesystem, named by
// the SHA-256 of their bytes (<root>/<aa>/<sha256>). Identical content is stored
// once. A blob becomes visible only by an atomic rename after its bytes are
// fsynced, so a crash mid-write leaves at most a temp file (removed by Collect).
// Reads verify the hash. Thread-safe; safe with other processes writing the same
// root, since blobs never change once named.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/fs.h"
#include "core/status.h"

namespace cairn {

struct BlobInfo {
  std::string sha256;  // 64 lowercase hex chars
  int64_t size = 0;
};

struct BlobCheck {
  int64_t blobs_checked = 0;
  int64_t bytes_checked = 0;
  std::vector<std::string> corrupt;  // blobs whose bytes no longer match their name
};

struct BlobCollection {
  int64_t removed_blobs = 0;
  int64_t freed_bytes = 0;
  int64_t kept_blobs = 0;
  int64_t removed_temp_files = 0;
};

// SHA-256 and size of a local file, streamed in bounded memory.
Result<BlobInfo> HashFileContents(const std::filesystem::path& file);

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path root);

  Result<BlobInfo> PutBytes(std::string_view data);
  // Streams a file in bounded memory, hashing while it copies.
  Result<BlobInfo> PutFile(const std::filesystem::path& source);
  // Takes over a file already inside TempDirectory(): fsyncs and hashes it,
  // then renames it to its content address (no copy). With `expected_sha256`,
  // a file whose hash differs is deleted and refused (INVALID_PARAMETER_VALUE).
  // `received`: the hash and size the caller computed while writing the file
  // itself (an upload hashed as it arrived), trusted instead of rereading it.
  Result<BlobInfo> AdoptFile(const std::filesystem::path& file,
                             std::string_view expected_sha256 = {},
                             const BlobInfo* received = nullptr);
  // Where files to adopt should be written (same filesystem as the blobs).
  std::filesystem::path TempDirectory() const;
  // The blob's bytes, verified against its name.
  Result<std::string> Read(const std::string& sha256) const;
  // An open descriptor on the blob, positioned at its start, after its bytes were
  // verified in bounded memory. Stays readable even if the blob is collected.
  Result<UniqueFd> OpenVerified(const std::string& sha256, int64_t* size) const;
  bool Contains(const std::string& sha256) const;
  Result<int64_t> Size(const std::string& sha256) const;

  // Re-hashes every blob.
  Result<BlobCheck> VerifyAll() const;
  // Deletes blobs not in `referenced` that are older than `grace` (a writer
  // stores its blob before the reference to it, so young blobs are spared), and
  // temp files older than `grace`.
  Result<BlobCollection> Collect(const std::set<std::string>& referenced,
                                 std::chrono::seconds grace);

  static bool IsValidHash(std::string_view sha256);
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path PathOf(const std::string& sha256) const;
  // Moves a fully written, fsynced temp file to its content address.
  Result<BlobInfo> Commit(const std::filesystem::path& temp, const BlobInfo& info);
  Result<std::filesystem::path> NewTempPath() const;

  std::filesystem::path root_;
};

}  // namespace cairn
