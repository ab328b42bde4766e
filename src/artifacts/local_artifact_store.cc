// The local-directory ArtifactStore: one file per artifact under a root,
// written atomically (temp + fsync + rename).
#include <algorithm>
#include <system_error>

#include "artifacts/artifact_store.h"
#include "artifacts/path_safety.h"
#include "core/fs.h"

namespace cairn {
namespace fs = std::filesystem;
namespace {

class LocalArtifactStore final : public ArtifactStore {
 public:
  explicit LocalArtifactStore(fs::path root) : root_(fs::absolute(std::move(root))) {
    (void)EnsureDirectory(root_);
    std::error_code ec;
    canonical_root_ = fs::weakly_canonical(root_, ec);
    if (ec) canonical_root_ = root_;
  }

  Status Put(const std::string& path, std::string_view data) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(path));
    if (path.empty()) return InvalidParameter("an artifact needs a file name");
    std::error_code ec;
    if (fs::is_directory(full, ec)) {
      return InvalidParameter("'" + path + "' is a directory; upload to a file path inside it");
    }
    return AtomicWriteFile(full, data);
  }

  Result<std::string> Get(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(path));
    std::error_code ec;
    if (!fs::is_regular_file(full, ec)) {
      return NotFound("No artifact found at '" + path + "'");
    }
    return ReadFile(full);
  }

  Result<std::vector<FileInfo>> List(const std::string& dir) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(dir));
    std::vector<FileInfo> out;
    std::error_code ec;
    if (!fs::is_directory(full, ec)) return out;
    for (const auto& entry : fs::directory_iterator(full, ec)) {
      std::string name = entry.path().filename().string();
      if (name.find(".tmp-") != std::string::npos) continue;  // an in-flight atomic write
      FileInfo info;
      info.path = dir.empty() ? name : dir + "/" + name;
      // A symlink that leads out of the root is not ours to show (nor its size).
      if (entry.is_symlink(ec) && !Resolve(info.path).ok()) continue;
      info.is_dir = entry.is_directory(ec);
      if (!info.is_dir) info.file_size = static_cast<int64_t>(entry.file_size(ec));
      out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return out;
  }

  Status Delete(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(path));
    std::error_code ec;
    if (!fs::exists(full, ec)) return NotFound("No artifact found at '" + path + "'");
    fs::remove_all(full, ec);
    if (ec) return Status(ErrorCode::kIoError, "cannot delete '" + path + "': " + ec.message());
    return Status::Ok();
  }

 private:
  // Maps a relative path to its location, refusing any that escape the root
  // through a symlink somewhere along the way.
  Result<fs::path> Resolve(const std::string& path) {
    CAIRN_ASSIGN_OR_RETURN(std::string clean, NormalizeRelativePath(path));
    fs::path full = clean.empty() ? root_ : root_ / clean;
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(full, ec);
    if (ec) return InvalidParameter("cannot resolve path '" + path + "'");
    auto [root_end, _] =
        std::mismatch(canonical_root_.begin(), canonical_root_.end(), canon.begin(), canon.end());
    if (root_end != canonical_root_.end()) {
      return InvalidParameter("Invalid path '" + path + "': it resolves outside the artifact root");
    }
    return full;
  }

  fs::path root_;
  fs::path canonical_root_;
};

}  // namespace

std::unique_ptr<ArtifactStore> NewLocalArtifactStore(const fs::path& root) {
  return std::make_unique<LocalArtifactStore>(root);
}

}  // namespace cairn
