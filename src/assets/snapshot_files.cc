#include "assets/snapshot_files.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "artifacts/path_safety.h"
#include "assets/ignore_rules.h"
#include "core/fs.h"

namespace cairn {
namespace fs = std::filesystem;

namespace {

Status IoError(const std::string& what, const fs::path& p, const std::string& why) {
  return Status(ErrorCode::kIoError, what + " " + p.string() + ": " + why);
}

bool IsWithin(const fs::path& path, const fs::path& dir) {
  auto [dir_end, path_it] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
  return dir_end == dir.end();
}

SnapshotFile FileOf(std::string rel, fs::path source, const struct stat& st) {
  SnapshotFile f;
  f.path = std::move(rel);
  f.source = std::move(source);
  f.size = static_cast<int64_t>(st.st_size);
  f.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  f.inode = static_cast<uint64_t>(st.st_ino);
  return f;
}

class SnapshotWalker {
 public:
  explicit SnapshotWalker(fs::path root) : root_(std::move(root)) {}

  Result<std::vector<SnapshotFile>> Run() {
    CAIRN_RETURN_IF_ERROR(WalkDirectory(root_, root_, ""));
    std::sort(files_.begin(), files_.end(),
              [](const SnapshotFile& a, const SnapshotFile& b) { return a.path < b.path; });
    return std::move(files_);
  }

 private:
  // `dir` is the path walked (through any symlinks), `canonical` its real
  // location, `rel` its path in the snapshot ("" for the root).
  Status WalkDirectory(const fs::path& dir, const fs::path& canonical, const std::string& rel) {
    size_t mark = rules_.pattern_count();
    for (const char* name : kIgnoreFileNames) {
      fs::path file = dir / name;
      struct stat st;
      if (::lstat(file.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      CAIRN_ASSIGN_OR_RETURN(std::string contents, ReadFile(file));
      rules_.AddFile(rel, contents);
    }

    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      names.push_back(it->path().filename().string());
    }
    if (ec) return IoError("cannot list directory", dir, ec.message());
    std::sort(names.begin(), names.end());

    active_dirs_.push_back(canonical);
    for (const std::string& name : names) {
      if (name == ".git") continue;  // git's own store, and a submodule's pointer file
      CAIRN_RETURN_IF_ERROR(
          VisitEntry(dir / name, canonical / name, rel.empty() ? name : rel + "/" + name));
    }
    active_dirs_.pop_back();
    rules_.Truncate(mark);
    return Status::Ok();
  }

  Status VisitEntry(const fs::path& path, const fs::path& canonical, const std::string& rel) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return IoError("cannot stat", path, std::strerror(errno));
    if (S_ISDIR(st.st_mode)) {
      if (rules_.MatchesExcluded(rel, /*is_dir=*/true)) return Status::Ok();
      CAIRN_RETURN_IF_ERROR(CheckName(rel));
      return WalkDirectory(path, canonical, rel);
    }
    if (S_ISREG(st.st_mode)) {
      if (rules_.MatchesExcluded(rel, /*is_dir=*/false)) return Status::Ok();
      CAIRN_RETURN_IF_ERROR(CheckName(rel));
      files_.push_back(FileOf(rel, path, st));
      return Status::Ok();
    }
    if (S_ISLNK(st.st_mode)) return VisitSymlink(path, rel);
    return Status::Ok();  // sockets, fifos, devices: not source code
  }

  Status VisitSymlink(const fs::path& path, const std::string& rel) {
    struct stat target;
    bool resolves = ::stat(path.c_str(), &target) == 0;
    bool is_dir = resolves && S_ISDIR(target.st_mode);
    if (rules_.MatchesExcluded(rel, is_dir)) return Status::Ok();
    std::error_code ec;
    fs::path real = fs::canonical(path, ec);
    if (!resolves || ec) {
      return InvalidParameter("symlink '" + rel + "' cannot be followed (" +
                              (ec ? ec.message() : std::string(std::strerror(errno))) +
                              "): it is dangling or part of a loop; remove it or list it in "
                              ".cairnignore");
    }
    if (!IsWithin(real, root_)) {
      return InvalidParameter("symlink '" + rel + "' points outside the snapshot root (to " +
                              real.string() +
                              "); snapshots never follow links out of the root: copy the "
                              "content in, or list the link in .cairnignore");
    }
    if (S_ISREG(target.st_mode)) {
      CAIRN_RETURN_IF_ERROR(CheckName(rel));
      files_.push_back(FileOf(rel, real, target));
      return Status::Ok();
    }
    if (is_dir) {
      if (std::find(active_dirs_.begin(), active_dirs_.end(), real) != active_dirs_.end()) {
        return InvalidParameter("symlink '" + rel + "' points to " + real.string() +
                                ", a directory that contains it, so the snapshot would never "
                                "end; remove it or list it in .cairnignore");
      }
      CAIRN_RETURN_IF_ERROR(CheckName(rel));
      return WalkDirectory(path, real, rel);
    }
    return Status::Ok();  // a link to a socket, fifo or device
  }

  static Status CheckName(const std::string& rel) {
    auto normalized = NormalizeRelativePath(rel);
    if (!normalized.ok() || *normalized != rel) {
      std::string why =
          normalized.ok() ? "it is not in canonical form" : normalized.status().message();
      return InvalidParameter("cannot snapshot '" + rel + "': " + why +
                              ". Rename it, or list it in .cairnignore");
    }
    return Status::Ok();
  }

  fs::path root_;  // canonical
  IgnoreRules rules_;
  std::vector<fs::path> active_dirs_;  // canonical directories on the current walk path
  std::vector<SnapshotFile> files_;
};

}  // namespace

Result<std::vector<SnapshotFile>> ListSnapshotFiles(const fs::path& root) {
  std::error_code ec;
  fs::path real = fs::canonical(root, ec);
  if (ec) return NotFound("snapshot root " + root.string() + " does not exist: " + ec.message());
  if (!fs::is_directory(real, ec)) {
    return InvalidParameter("snapshot root " + root.string() + " is not a directory");
  }
  return SnapshotWalker(std::move(real)).Run();
}

}  // namespace cairn
