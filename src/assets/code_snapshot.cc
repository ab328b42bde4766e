#include "assets/code_snapshot.h"

#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "assets/snapshot_files.h"
#include "core/fs.h"
#include "core/sha256.h"

namespace cairn {

Result<std::string> Sha256OfFile(const std::filesystem::path& file) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) {
    int err = errno;
    std::string msg = "cannot open " + file.string() + ": " + std::strerror(err);
    if (err == ENOENT) return NotFound(msg);
    return Status(ErrorCode::kIoError, msg);
  }
  CAIRN_ASSIGN_OR_RETURN(Sha256AndSize digest, Sha256OfFd(fd.get(), file));
  return std::move(digest.sha256);
}

Result<CodeSnapshotManifest> ComputeCodeSnapshotManifest(const std::filesystem::path& root) {
  CAIRN_ASSIGN_OR_RETURN(std::vector<SnapshotFile> files, ListSnapshotFiles(root));
  CodeSnapshotManifest manifest;
  manifest.files.reserve(files.size());
  for (SnapshotFile& f : files) {
    UniqueFd fd(::open(f.source.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
      return Status(ErrorCode::kIoError,
                    "cannot open " + f.source.string() + ": " + std::strerror(errno));
    }
    // Size from the bytes actually hashed, in case the file changed since the listing.
    CAIRN_ASSIGN_OR_RETURN(Sha256AndSize digest, Sha256OfFd(fd.get(), f.source));
    manifest.files.push_back({std::move(f.path), std::move(digest.sha256), digest.size});
  }
  manifest.hash = ManifestHash(manifest.files);
  return manifest;
}

}  // namespace cairn
