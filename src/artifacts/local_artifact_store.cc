// The local content-addressed ArtifactStore: blobs in a BlobStore, and for each
// artifact path an entry file under <root>/tree/<path> holding
// "sha256:<hex> <size>". A write stores the blob first and then replaces the
// entry atomically, so a reader sees the old or the new file, never a mix; a
// crash in between leaves only an unreferenced blob for CollectGarbage.
#include <algorithm>
#include <cstdio>
#include <mutex>
#include <shared_mutex>
#include <system_error>

#include "artifacts/artifact_store.h"
#include "artifacts/path_safety.h"
#include "core/fs.h"

namespace cairn {
namespace fs = std::filesystem;
namespace {

constexpr const char* kBlobs = "blobs";
constexpr const char* kTree = "tree";

std::string EntryText(const BlobInfo& b) {
  return "sha256:" + b.sha256 + " " + std::to_string(b.size) + "\n";
}

std::optional<BlobInfo> ParseEntry(const std::string& text) {
  if (text.rfind("sha256:", 0) != 0) return std::nullopt;
  size_t space = text.find(' ');
  if (space == std::string::npos) return std::nullopt;
  BlobInfo b;
  b.sha256 = text.substr(7, space - 7);
  if (!BlobStore::IsValidHash(b.sha256)) return std::nullopt;
  try {
    b.size = std::stoll(text.substr(space + 1));
  } catch (...) {
    return std::nullopt;
  }
  return b;
}

class LocalArtifactStore final : public ArtifactStore {
 public:
  explicit LocalArtifactStore(const fs::path& root)
      : root_(fs::absolute(root)), blobs_(root_ / kBlobs), tree_(root_ / kTree) {}

  Status Init() {
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(tree_));
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(root_ / kBlobs));
    CAIRN_RETURN_IF_ERROR(EnsureDirectory(blobs_.TempDirectory()));
    std::error_code ec;
    canonical_tree_ = fs::weakly_canonical(tree_, ec);
    if (ec) canonical_tree_ = tree_;
    return ImportPlainFiles();
  }

  Status Put(const std::string& path, std::string_view data) override {
    return Store(path, [&] { return blobs_.PutBytes(data); }).status();
  }

  Result<FileInfo> PutFile(const std::string& path, const fs::path& source) override {
    return Store(path, [&] { return blobs_.PutFile(source); });
  }

  Result<FileInfo> PutSpooled(const std::string& path, const fs::path& spooled,
                              const BlobInfo* received) override {
    return Store(path, [&] { return blobs_.AdoptFile(spooled, {}, received); });
  }

  fs::path SpoolDirectory() override { return blobs_.TempDirectory(); }

  Result<BlobInfo> PutBlobSpooled(const fs::path& spooled, const std::string& expected_sha256,
                                  const BlobInfo* received) override {
    if (!expected_sha256.empty() && !BlobStore::IsValidHash(expected_sha256)) {
      return InvalidParameter("'" + expected_sha256 + "' is not a SHA-256 (64 lowercase hex)");
    }
    return blobs_.AdoptFile(spooled, expected_sha256, received);
  }

  Result<BlobInfo> PutBlobFile(const fs::path& source) override { return blobs_.PutFile(source); }

  Result<BlobInfo> PutBlobBytes(std::string_view data) override { return blobs_.PutBytes(data); }

  bool HasBlob(const std::string& sha256) override {
    return BlobStore::IsValidHash(sha256) && blobs_.Contains(sha256);
  }

  Status LinkBlob(const std::string& path, const BlobInfo& blob) override {
    return Store(path,
                 [&]() -> Result<BlobInfo> {
                   if (!HasBlob(blob.sha256)) {
                     return NotFound("blob sha256:" + blob.sha256 + " for '" + path +
                                     "' is not in the store; upload it first");
                   }
                   CAIRN_ASSIGN_OR_RETURN(int64_t size, blobs_.Size(blob.sha256));
                   if (size != blob.size) {
                     return InvalidParameter("'" + path + "' says " + std::to_string(blob.size) +
                                             " bytes but blob sha256:" + blob.sha256 + " has " +
                                             std::to_string(size));
                   }
                   return blob;
                 })
        .status();
  }

  Result<std::string> Get(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path entry, Resolve(path));
    std::error_code ec;
    if (!fs::is_regular_file(entry, ec)) return NotFound("No artifact found at '" + path + "'");
    CAIRN_ASSIGN_OR_RETURN(BlobInfo blob, ReadEntry(entry, path));
    return blobs_.Read(blob.sha256);
  }

  Result<UniqueFd> Open(const std::string& path, int64_t* size) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path entry, Resolve(path));
    std::error_code ec;
    if (!fs::is_regular_file(entry, ec)) return NotFound("No artifact found at '" + path + "'");
    CAIRN_ASSIGN_OR_RETURN(BlobInfo blob, ReadEntry(entry, path));
    return blobs_.OpenVerified(blob.sha256, size);
  }

  Result<std::vector<FileInfo>> List(const std::string& dir) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(dir));
    std::vector<FileInfo> out;
    std::error_code ec;
    if (!fs::is_directory(full, ec)) return out;
    for (const auto& e : fs::directory_iterator(full, ec)) {
      std::string name = e.path().filename().string();
      if (name.find(".tmp-") != std::string::npos) continue;  // an in-flight atomic write
      FileInfo info;
      info.path = dir.empty() ? name : *NormalizeRelativePath(dir) + "/" + name;
      if (e.is_symlink(ec)) continue;  // the tree holds only our own entries
      info.is_dir = e.is_directory(ec);
      if (!info.is_dir) {
        auto blob = ReadEntry(e.path(), info.path);
        if (!blob.ok()) continue;
        info.file_size = blob->size;
        info.sha256 = blob->sha256;
      }
      out.push_back(std::move(info));
    }
    std::sort(out.begin(), out.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
    return out;
  }

  Status Delete(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path full, Resolve(path));
    if (full == tree_) return InvalidParameter("refusing to delete the whole artifact store");
    std::error_code ec;
    if (!fs::exists(full, ec)) return NotFound("No artifact found at '" + path + "'");
    fs::remove_all(full, ec);
    if (ec) return Status(ErrorCode::kIoError, "cannot delete '" + path + "': " + ec.message());
    return Status::Ok();
  }

  Result<ArtifactCheck> Verify() override {
    ArtifactCheck check;
    CAIRN_ASSIGN_OR_RETURN(BlobCheck blobs, blobs_.VerifyAll());
    check.blobs_checked = blobs.blobs_checked;
    check.bytes_checked = blobs.bytes_checked;
    check.corrupt_blobs = blobs.corrupt;
    ForEachEntry([&](const fs::path& entry, const std::string& rel) {
      ++check.files_checked;
      auto blob = ReadEntry(entry, rel);
      if (!blob.ok()) {
        check.damaged_entries.push_back(rel);
      } else if (!blobs_.Contains(blob->sha256)) {
        check.missing_blobs.push_back(rel + " -> sha256:" + blob->sha256);
      }
    });
    return check;
  }

  Result<BlobCollection> CollectGarbage(std::chrono::seconds grace) override {
    // Writers hold the shared side from storing a blob until its entry exists,
    // so no blob can lose its only reference while being collected.
    std::unique_lock lk(gc_mu_);
    std::set<std::string> referenced;
    ForEachEntry([&](const fs::path& entry, const std::string& rel) {
      if (auto blob = ReadEntry(entry, rel); blob.ok()) referenced.insert(blob->sha256);
    });
    return blobs_.Collect(referenced, grace);
  }

 private:
  // Stores a blob with `put_blob`, then points `path` at it. Holding the shared
  // side of gc_mu_ from blob to entry keeps the collector from taking the blob.
  Result<FileInfo> Store(const std::string& path,
                         const std::function<Result<BlobInfo>()>& put_blob) {
    CAIRN_ASSIGN_OR_RETURN(fs::path entry, ResolveFile(path));
    std::shared_lock lk(gc_mu_);
    CAIRN_ASSIGN_OR_RETURN(BlobInfo blob, put_blob());
    CAIRN_RETURN_IF_ERROR(AtomicWriteFile(entry, EntryText(blob)));
    return FileInfo{*NormalizeRelativePath(path), false, blob.size, blob.sha256};
  }

  Result<BlobInfo> ReadEntry(const fs::path& entry, const std::string& rel) {
    auto text = ReadFile(entry);
    if (!text.ok()) return text.status();
    auto blob = ParseEntry(*text);
    if (!blob) {
      return Status(ErrorCode::kIoError, "artifact entry '" + rel +
                                             "' is damaged; run `cairn "
                                             "artifacts verify`");
    }
    return *blob;
  }

  void ForEachEntry(const std::function<void(const fs::path&, const std::string&)>& fn) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(tree_, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (!it->is_regular_file()) continue;
      std::string name = it->path().filename().string();
      if (name.find(".tmp-") != std::string::npos) continue;
      fn(it->path(), fs::relative(it->path(), tree_).string());
    }
  }

  // Maps a relative path into the tree, refusing any that escape it through a
  // symlink somewhere along the way.
  Result<fs::path> Resolve(const std::string& path) {
    CAIRN_ASSIGN_OR_RETURN(std::string clean, NormalizeRelativePath(path));
    fs::path full = clean.empty() ? tree_ : tree_ / clean;
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(full, ec);
    if (ec) return InvalidParameter("cannot resolve path '" + path + "'");
    auto [root_end, _] =
        std::mismatch(canonical_tree_.begin(), canonical_tree_.end(), canon.begin(), canon.end());
    if (root_end != canonical_tree_.end()) {
      return InvalidParameter("Invalid path '" + path + "': it resolves outside the artifact root");
    }
    return full;
  }

  Result<fs::path> ResolveFile(const std::string& path) {
    CAIRN_ASSIGN_OR_RETURN(fs::path entry, Resolve(path));
    if (entry == tree_) return InvalidParameter("an artifact needs a file name");
    std::error_code ec;
    if (fs::is_directory(entry, ec)) {
      return InvalidParameter("'" + path + "' is a directory; upload to a file path inside it");
    }
    return entry;
  }

  // Workspaces written before the store was content-addressed kept plain files
  // under <root>; move each into a blob and an entry, once.
  Status ImportPlainFiles() {
    std::error_code ec;
    for (const auto& top : fs::directory_iterator(root_, ec)) {
      std::string name = top.path().filename().string();
      if (name == kBlobs || name == kTree) continue;
      std::vector<fs::path> files;
      if (top.is_regular_file(ec)) files.push_back(top.path());
      if (top.is_directory(ec)) {
        for (auto it = fs::recursive_directory_iterator(top.path(), ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
          if (it->is_regular_file() && !it->is_symlink()) files.push_back(it->path());
        }
      }
      for (const auto& f : files) {
        std::string rel = fs::relative(f, root_).string();
        if (rel.find(".tmp-") != std::string::npos) continue;
        auto stored = PutFile(rel, f);
        if (!stored.ok()) return stored.status();
      }
      fs::remove_all(top.path(), ec);
      if (ec) return Status(ErrorCode::kIoError, "cannot finish importing " + top.path().string());
    }
    return Status::Ok();
  }

  fs::path root_;
  BlobStore blobs_;
  fs::path tree_;
  fs::path canonical_tree_;
  std::shared_mutex gc_mu_;
};

}  // namespace

Result<std::vector<FileInfo>> ListRecursive(ArtifactStore& store, const std::string& dir) {
  std::vector<FileInfo> out;
  std::vector<std::string> dirs{dir};
  const size_t prefix = dir.empty() ? 0 : dir.size() + 1;
  while (!dirs.empty()) {
    std::string next = dirs.back();
    dirs.pop_back();
    CAIRN_ASSIGN_OR_RETURN(std::vector<FileInfo> entries, store.List(next));
    for (FileInfo& e : entries) {
      if (e.is_dir) {
        dirs.push_back(e.path);
      } else {
        e.path = e.path.substr(prefix);
        out.push_back(std::move(e));
      }
    }
  }
  std::sort(out.begin(), out.end(),
            [](const FileInfo& a, const FileInfo& b) { return a.path < b.path; });
  return out;
}

Result<std::unique_ptr<ArtifactStore>> OpenLocalArtifactStore(const fs::path& root) {
  auto store = std::make_unique<LocalArtifactStore>(root);
  CAIRN_RETURN_IF_ERROR(store->Init());
  return std::unique_ptr<ArtifactStore>(std::move(store));
}

}  // namespace cairn
