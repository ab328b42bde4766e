#include "assets/code_snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "core/fs.h"
#include "core/ids.h"
#include "core/sha256.h"

namespace cairn {
namespace {
namespace fs = std::filesystem;

const std::string kHashA(64, 'a');
const std::string kHashB(64, 'b');

std::vector<ManifestFile> SampleEntries() {
  return {{"src/train.py", kHashA, 10}, {"README.md", kHashB, 3}, {"src/data.py", kHashA, 7}};
}

TEST(CodeSnapshot, ManifestTextIsCanonical) {
  EXPECT_EQ(ManifestText(SampleEntries()), kHashB + " 3 README.md\n" + kHashA + " 7 src/data.py\n" +
                                               kHashA + " 10 src/train.py\n");
  EXPECT_EQ(ManifestHash(SampleEntries()), Sha256Hex(ManifestText(SampleEntries())));
  EXPECT_EQ(ManifestHash({}), Sha256Hex(""));
}

TEST(CodeSnapshot, ManifestHashIgnoresInputOrder) {
  std::vector<ManifestFile> entries = SampleEntries();
  std::string expected = ManifestHash(entries);
  std::sort(entries.begin(), entries.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path > b.path; });
  EXPECT_EQ(ManifestHash(entries), expected);
  std::rotate(entries.begin(), entries.begin() + 1, entries.end());
  EXPECT_EQ(ManifestHash(entries), expected);
}

TEST(CodeSnapshot, ManifestHashChangesWithAnyField) {
  const std::string base = ManifestHash(SampleEntries());
  auto changed = [&](auto mutate) {
    std::vector<ManifestFile> entries = SampleEntries();
    mutate(entries[1]);
    return ManifestHash(entries);
  };
  EXPECT_NE(changed([](ManifestFile& e) { e.sha256[63] = 'c'; }), base);
  EXPECT_NE(changed([](ManifestFile& e) { e.path = "readme.md"; }), base);
  EXPECT_NE(changed([](ManifestFile& e) { e.size = 4; }), base);
  std::vector<ManifestFile> fewer = SampleEntries();
  fewer.pop_back();
  EXPECT_NE(ManifestHash(fewer), base);
}

class CodeSnapshotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("cairn-code-" + NewRunId().substr(0, 12));
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_;
};

TEST_F(CodeSnapshotFilesTest, Sha256OfFileStreamsTheBytes) {
  std::string big((3 << 20) + 5, 'z');  // several 1 MiB buffers
  ASSERT_TRUE(AtomicWriteFile(root_ / "big.bin", big).ok());
  auto got = Sha256OfFile(root_ / "big.bin");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, Sha256Hex(big));
  auto missing = Sha256OfFile(root_ / "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(missing.status().message().find("missing"), std::string::npos);
}

TEST_F(CodeSnapshotFilesTest, ManifestOfATreeChangesWhenAByteChanges) {
  ASSERT_TRUE(AtomicWriteFile(root_ / "train.py", "print(1)\n").ok());
  ASSERT_TRUE(AtomicWriteFile(root_ / "out/model.ckpt", "weights").ok());
  ASSERT_TRUE(AtomicWriteFile(root_ / ".cairnignore", "out/\n").ok());
  auto first = ComputeCodeSnapshotManifest(root_);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->files.size(), 2u);
  EXPECT_EQ(first->files[0].path, ".cairnignore");
  EXPECT_EQ(first->files[1].path, "train.py");
  EXPECT_EQ(first->files[1].sha256, Sha256Hex("print(1)\n"));
  EXPECT_EQ(first->files[1].size, 9);
  EXPECT_EQ(first->hash, ManifestHash(first->files));

  ASSERT_TRUE(AtomicWriteFile(root_ / "out/model.ckpt", "other weights").ok());
  auto ignored_change = ComputeCodeSnapshotManifest(root_);
  ASSERT_TRUE(ignored_change.ok());
  EXPECT_EQ(ignored_change->hash, first->hash);

  ASSERT_TRUE(AtomicWriteFile(root_ / "train.py", "print(2)\n").ok());
  auto second = ComputeCodeSnapshotManifest(root_);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->hash, first->hash);
}

}  // namespace
}  // namespace cairn
