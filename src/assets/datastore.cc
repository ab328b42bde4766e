#include "assets/datastore.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "artifacts/path_safety.h"
#include "assets/hash_cache.h"
#include "store/asset_ref.h"

namespace cairn {
namespace fs = std::filesystem;
namespace {

bool Within(const fs::path& root, const fs::path& p) {
  auto [root_end, _] = std::mismatch(root.begin(), root.end(), p.begin(), p.end());
  return root_end == root.end();
}

class LocalDatastore final : public Datastore {
 public:
  LocalDatastore(std::string name, fs::path root)
      : name_(std::move(name)), root_(std::move(root)) {}

  Result<std::vector<DatastoreFile>> ListFiles(const std::string& path) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path start, Resolve(path));
    std::vector<DatastoreFile> out;
    std::error_code ec;
    if (fs::is_regular_file(start, ec)) {
      out.push_back(
          {*NormalizeRelativePath(path), "", static_cast<int64_t>(fs::file_size(start, ec))});
      return out;
    }
    if (!fs::is_directory(start, ec)) {
      return NotFound("datastore '" + name_ + "' has no file or folder '" + path + "'");
    }
    for (auto it = fs::recursive_directory_iterator(start, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      std::error_code e2;
      if (it->is_symlink(e2)) {
        // A link is followed only when it stays inside the datastore.
        fs::path target = fs::weakly_canonical(it->path(), e2);
        if (e2 || !Within(root_, target)) {
          return InvalidParameter("datastore '" + name_ +
                                  "': " + it->path().lexically_relative(root_).string() +
                                  " is a symlink leading outside the datastore");
        }
        if (fs::is_directory(target, e2)) it.disable_recursion_pending();
        if (!fs::is_regular_file(target, e2)) continue;
      } else if (!it->is_regular_file(e2)) {
        continue;  // directories are walked; sockets, fifos and devices skipped
      }
      // Lexically: fs::relative would resolve a followed link and name its target.
      std::string rel = it->path().lexically_relative(root_).generic_string();
      auto clean = NormalizeRelativePath(rel);
      if (!clean.ok()) {
        return InvalidParameter("datastore '" + name_ + "': cannot register '" + rel +
                                "': " + clean.status().message());
      }
      out.push_back({*clean, it->path().lexically_relative(start).generic_string(),
                     static_cast<int64_t>(fs::file_size(it->path(), e2))});
    }
    if (ec)
      return Status(ErrorCode::kIoError, "cannot walk " + start.string() + ": " + ec.message());
    std::sort(out.begin(), out.end(),
              [](const DatastoreFile& a, const DatastoreFile& b) { return a.path < b.path; });
    return out;
  }

  Result<BlobInfo> Ingest(const std::string& path, ArtifactStore& artifacts,
                          HashCache* cache) override {
    CAIRN_ASSIGN_OR_RETURN(fs::path file, Resolve(path));
    if (cache) {
      CAIRN_ASSIGN_OR_RETURN(FileStamp stamp, StampFile(file));
      if (auto known = cache->Lookup(file, stamp); known && artifacts.HasBlob(*known)) {
        return BlobInfo{*known, stamp.size};
      }
      CAIRN_ASSIGN_OR_RETURN(BlobInfo blob, artifacts.PutBlobFile(file));
      auto after = StampFile(file);
      if (after.ok() && after->mtime_ns == stamp.mtime_ns && after->size == blob.size) {
        cache->Remember(file, stamp, blob.sha256);
      }
      return blob;
    }
    return artifacts.PutBlobFile(file);
  }

 private:
  Result<fs::path> Resolve(const std::string& path) {
    CAIRN_ASSIGN_OR_RETURN(std::string clean, NormalizeRelativePath(path));
    fs::path full = clean.empty() ? root_ : root_ / clean;
    std::error_code ec;
    fs::path canon = fs::weakly_canonical(full, ec);
    if (ec || !Within(root_, canon)) {
      return InvalidParameter("'" + path + "' resolves outside datastore '" + name_ + "'");
    }
    return canon;
  }

  std::string name_;
  fs::path root_;
};

}  // namespace

Result<std::unique_ptr<Datastore>> OpenDatastore(const DatastoreInfo& info) {
  if (info.type != "local") {
    return InvalidParameter("datastore '" + info.name + "' has type '" + info.type +
                            "'; this Cairn serves only local datastores");
  }
  std::error_code ec;
  fs::path root = fs::canonical(info.root, ec);
  if (ec || !fs::is_directory(root, ec)) {
    return Status(ErrorCode::kInvalidState, "datastore '" + info.name + "' root " + info.root +
                                                " is not a readable directory");
  }
  return std::unique_ptr<Datastore>(new LocalDatastore(info.name, root));
}

bool IsDatastoreUri(const std::string& text) {
  return text.rfind("azureml://", 0) == 0 || text.rfind("cairn://", 0) == 0;
}

Result<DatastoreUri> ParseDatastoreUri(const std::string& text) {
  std::string rest;
  if (text.rfind("azureml://", 0) == 0) rest = text.substr(10);
  if (text.rfind("cairn://", 0) == 0) rest = text.substr(8);
  auto bad = [&] {
    return InvalidParameter("'" + text +
                            "' is not a datastore path; expected "
                            "azureml://datastores/<datastore>/paths/<path> (or cairn://...)");
  };
  if (rest.empty()) return bad();
  // The long Azure form names subscription, group and workspace first; the
  // workspace is this one, so only the part from "datastores/" on matters.
  size_t at = rest.rfind("datastores/", 0) == 0 ? 0 : rest.find("/datastores/");
  if (at == std::string::npos) return bad();
  rest = rest.substr(at == 0 ? 11 : at + 12);
  size_t paths = rest.find("/paths");
  DatastoreUri uri;
  uri.datastore = rest.substr(0, paths);
  if (!IsValidAssetName(uri.datastore)) return bad();
  std::string p;
  if (paths != std::string::npos) {
    p = rest.substr(paths + 6);
    if (!p.empty() && p[0] != '/') return bad();
    if (!p.empty()) p = p.substr(1);
  }
  CAIRN_ASSIGN_OR_RETURN(uri.path, NormalizeRelativePath(p));
  return uri;
}

}  // namespace cairn
