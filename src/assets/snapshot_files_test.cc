#include "assets/snapshot_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/fs.h"
#include "core/ids.h"

namespace cairn {
namespace {
namespace fs = std::filesystem;

class SnapshotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("cairn-snapshot-" + NewRunId().substr(0, 12));
    root_ = base_ / "root";
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(base_); }

  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(AtomicWriteFile(root_ / rel, data).ok()) << rel;
  }
  void Link(const std::string& rel, const fs::path& target) {
    fs::create_symlink(target, root_ / rel);
  }
  std::vector<std::string> ListedPaths() {
    auto files = ListSnapshotFiles(root_);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> out;
    if (files.ok()) {
      for (const SnapshotFile& f : *files) out.push_back(f.path);
    }
    return out;
  }
  // The walk fails with INVALID_PARAMETER_VALUE and a message naming `name`.
  void ExpectRefused(const std::string& name) {
    auto files = ListSnapshotFiles(root_);
    ASSERT_FALSE(files.ok());
    EXPECT_EQ(files.status().code(), ErrorCode::kInvalidParameterValue);
    EXPECT_NE(files.status().message().find("'" + name + "'"), std::string::npos)
        << files.status().message();
  }

  fs::path base_;
  fs::path root_;
};

using Paths = std::vector<std::string>;

TEST_F(SnapshotFilesTest, ListsRegularFilesSortedWithStat) {
  Write("b.txt", "bee");
  Write("a/b", "x");
  Write("a-b", "yy");
  Write("a/c/d.py", "print()");
  EXPECT_EQ(ListedPaths(), (Paths{"a-b", "a/b", "a/c/d.py", "b.txt"}));

  auto files = ListSnapshotFiles(root_);
  ASSERT_TRUE(files.ok());
  const SnapshotFile& bee = files->back();
  struct stat st;
  ASSERT_EQ(::stat((root_ / "b.txt").c_str(), &st), 0);
  EXPECT_EQ(bee.size, 3);
  EXPECT_EQ(bee.inode, static_cast<uint64_t>(st.st_ino));
  EXPECT_EQ(bee.mtime_ns, st.st_mtim.tv_sec * 1'000'000'000LL + st.st_mtim.tv_nsec);
  EXPECT_EQ(bee.source, fs::canonical(root_ / "b.txt"));
}

TEST_F(SnapshotFilesTest, HonoursAllThreeIgnoreFilesInOrder) {
  Write(".gitignore", "*.log\nsecret.txt\n");
  Write(".amlignore", "!secret.txt\ndata/\n");
  Write(".cairnignore", "!keep.log\n");
  Write("a.log", "");
  Write("keep.log", "");
  Write("secret.txt", "");
  Write("data/big.bin", "");
  Write("main.py", "");
  EXPECT_EQ(ListedPaths(), (Paths{".amlignore", ".cairnignore", ".gitignore", "keep.log", "main.py",
                                  "secret.txt"}));
}

TEST_F(SnapshotFilesTest, NestedIgnoreFilesApplyToTheirSubtree) {
  Write(".gitignore", "build/\ncache/\n/top-only.txt\n");
  Write("top-only.txt", "");
  Write("cache", "a file, not a directory");
  Write("build/out.o", "");
  Write("sub/build/out.o", "");
  Write("sub/cache/x", "");
  Write("sub/top-only.txt", "");
  Write("sub/.gitignore", "*.tmp\n!important.tmp\n");
  Write("sub/x.tmp", "");
  Write("sub/important.tmp", "");
  Write("sub/deeper/y.tmp", "");
  Write("x.tmp", "");
  EXPECT_EQ(ListedPaths(), (Paths{".gitignore", "cache", "sub/.gitignore", "sub/important.tmp",
                                  "sub/top-only.txt", "x.tmp"}));
}

TEST_F(SnapshotFilesTest, NoReincludeInsideAnExcludedDirectory) {
  Write(".gitignore", "logs/\n!logs/keep.txt\nout/*\n!out/keep.txt\n");
  Write("logs/keep.txt", "");
  Write("out/keep.txt", "");
  Write("out/drop.txt", "");
  EXPECT_EQ(ListedPaths(), (Paths{".gitignore", "out/keep.txt"}));
}

TEST_F(SnapshotFilesTest, SkipsGitDirectoriesAndSpecialFiles) {
  Write(".git/HEAD", "ref: refs/heads/main\n");
  Write("vendor/lib/.git", "gitdir: ../../.git/modules/lib\n");
  Write("vendor/lib/lib.c", "");
  ASSERT_EQ(::mkfifo((root_ / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(ListedPaths(), (Paths{"vendor/lib/lib.c"}));
}

TEST_F(SnapshotFilesTest, SymlinkInsideTheRootIsSnapshottedAsItsTarget) {
  Write("real/data.txt", "content");
  Link("alias.txt", "real/data.txt");
  Link("real-alias", "real");
  EXPECT_EQ(ListedPaths(), (Paths{"alias.txt", "real-alias/data.txt", "real/data.txt"}));
  auto files = ListSnapshotFiles(root_);
  ASSERT_TRUE(files.ok());
  EXPECT_EQ(files->front().source, fs::canonical(root_ / "real/data.txt"));
  EXPECT_EQ(files->front().size, 7);
}

TEST_F(SnapshotFilesTest, RefusesSymlinkLeavingTheRoot) {
  ASSERT_TRUE(AtomicWriteFile(base_ / "outside.txt", "secret").ok());
  Write("ok.txt", "");
  Link("escape", base_ / "outside.txt");
  ExpectRefused("escape");
  // A relative link climbing out is the same escape.
  fs::remove(root_ / "escape");
  Write("sub/x", "");
  Link("sub/up", "../../outside.txt");
  ExpectRefused("sub/up");
}

TEST_F(SnapshotFilesTest, IgnoredOutsideSymlinkIsNotAnError) {
  Link("escape", base_);
  Write(".cairnignore", "escape\n");
  EXPECT_EQ(ListedPaths(), (Paths{".cairnignore"}));
}

TEST_F(SnapshotFilesTest, RefusesSymlinkLoops) {
  Write("sub/file", "");
  Link("sub/back", "..");  // a directory containing the link
  ExpectRefused("sub/back");
}

TEST_F(SnapshotFilesTest, RefusesCyclicAndDanglingSymlinks) {
  Link("a", "b");
  Link("b", "a");
  ExpectRefused("a");
  fs::remove(root_ / "a");
  fs::remove(root_ / "b");
  Link("dangling", "missing");
  ExpectRefused("dangling");
}

TEST_F(SnapshotFilesTest, RefusesNamesThatAreNotSafeRelativePaths) {
  Write("dir/bad\\name.txt", "");
  ExpectRefused("dir/bad\\name.txt");
  Write(".gitignore", "bad*\n");
  EXPECT_EQ(ListedPaths(), (Paths{".gitignore"}));
}

TEST_F(SnapshotFilesTest, RootMustBeAnExistingDirectory) {
  auto missing = ListSnapshotFiles(base_ / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
  Write("file", "");
  auto not_dir = ListSnapshotFiles(root_ / "file");
  ASSERT_FALSE(not_dir.ok());
  EXPECT_EQ(not_dir.status().code(), ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace cairn
