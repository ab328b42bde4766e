#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "artifacts/artifact_store.h"
#include "core/ids.h"

namespace cairn {
namespace {
namespace fs = std::filesystem;

class LocalArtifactStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_cas_test_" + NewRunId());
    fs::create_directories(dir_);
    Open();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    auto s = OpenLocalArtifactStore(dir_);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }
  size_t CountBlobs() {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_ / "blobs")) {
      if (e.is_regular_file() && BlobStore::IsValidHash(e.path().filename().string())) ++n;
    }
    return n;
  }

  fs::path dir_;
  std::unique_ptr<ArtifactStore> store_;
};

TEST_F(LocalArtifactStoreTest, IdenticalFilesAcrossPathsShareOneBlob) {
  ASSERT_TRUE(store_->Put("0/run1/artifacts/model.bin", "weights").ok());
  ASSERT_TRUE(store_->Put("0/run2/artifacts/model.bin", "weights").ok());
  ASSERT_TRUE(store_->Put("0/run2/artifacts/other.txt", "other").ok());
  EXPECT_EQ(CountBlobs(), 2u);
  EXPECT_EQ(*store_->Get("0/run1/artifacts/model.bin"), "weights");
  auto listing = store_->List("0/run2/artifacts");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 2u);
  EXPECT_EQ((*listing)[0].path, "0/run2/artifacts/model.bin");
  EXPECT_EQ((*listing)[0].file_size, 7);
  EXPECT_EQ((*listing)[0].sha256.size(), 64u);
}

TEST_F(LocalArtifactStoreTest, OverwriteReplacesAtomically) {
  ASSERT_TRUE(store_->Put("a/b.txt", "one").ok());
  ASSERT_TRUE(store_->Put("a/b.txt", "two").ok());
  EXPECT_EQ(*store_->Get("a/b.txt"), "two");
  EXPECT_FALSE(store_->Put("a", "a directory is not a file").ok());
}

TEST_F(LocalArtifactStoreTest, DeleteThenCollectFreesOnlyUnreferencedBlobs) {
  ASSERT_TRUE(store_->Put("x/shared.txt", "shared").ok());
  ASSERT_TRUE(store_->Put("y/shared.txt", "shared").ok());
  ASSERT_TRUE(store_->Put("x/only.txt", "only x").ok());
  ASSERT_TRUE(store_->Delete("x").ok());
  EXPECT_FALSE(store_->Get("x/only.txt").ok());
  auto gc = store_->CollectGarbage(std::chrono::seconds(0));
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_blobs, 1);  // "only x"; "shared" is still referenced by y/
  EXPECT_EQ(*store_->Get("y/shared.txt"), "shared");
  EXPECT_EQ(store_->Delete("nope").code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(LocalArtifactStoreTest, VerifyFindsMissingAndCorruptBlobsAndDamagedEntries) {
  ASSERT_TRUE(store_->Put("ok.txt", "fine").ok());
  ASSERT_TRUE(store_->Put("gone.txt", "gone").ok());
  ASSERT_TRUE(store_->Put("rot.txt", "rot").ok());
  auto clean = store_->Verify();
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->ok());
  EXPECT_EQ(clean->files_checked, 3);

  auto listing = *store_->List("");
  std::string gone_hash, rot_hash;
  for (const auto& f : listing) {
    if (f.path == "gone.txt") gone_hash = f.sha256;
    if (f.path == "rot.txt") rot_hash = f.sha256;
  }
  fs::remove(dir_ / "blobs" / gone_hash.substr(0, 2) / gone_hash);
  std::ofstream(dir_ / "blobs" / rot_hash.substr(0, 2) / rot_hash, std::ios::trunc) << "xx";
  std::ofstream(dir_ / "tree" / "damaged.txt") << "not an entry";

  auto check = store_->Verify();
  ASSERT_TRUE(check.ok());
  EXPECT_FALSE(check->ok());
  ASSERT_EQ(check->missing_blobs.size(), 1u);
  EXPECT_NE(check->missing_blobs[0].find("gone.txt"), std::string::npos);
  ASSERT_EQ(check->corrupt_blobs.size(), 1u);
  EXPECT_EQ(check->corrupt_blobs[0], rot_hash);
  ASSERT_EQ(check->damaged_entries.size(), 1u);
  EXPECT_EQ(check->damaged_entries[0], "damaged.txt");
  // Reads of damaged artifacts fail loudly instead of returning wrong bytes.
  EXPECT_EQ(store_->Get("rot.txt").status().code(), ErrorCode::kIoError);
  EXPECT_EQ(store_->Get("gone.txt").status().code(), ErrorCode::kIoError);
  EXPECT_EQ(*store_->Get("ok.txt"), "fine");
}

TEST_F(LocalArtifactStoreTest, InterruptedWritesAreNeverVisible) {
  ASSERT_TRUE(store_->Put("d/real.txt", "real").ok());
  // What a crash mid-write can leave: a temp blob and a temp entry.
  fs::create_directories(dir_ / "blobs" / "tmp");
  std::ofstream(dir_ / "blobs" / "tmp" / "blob-partial") << "half";
  std::ofstream(dir_ / "tree" / "d" / "real.txt.tmp-abc") << "sha256:";
  auto listing = store_->List("d");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->size(), 1u);
  EXPECT_EQ((*listing)[0].path, "d/real.txt");
  EXPECT_TRUE(store_->Verify()->ok());
}

TEST_F(LocalArtifactStoreTest, ImportsPlainFilesFromTheOlderLayout) {
  store_.reset();
  fs::create_directories(dir_ / "0" / "run" / "artifacts" / "model");
  std::ofstream(dir_ / "0" / "run" / "artifacts" / "model" / "MLmodel") << "flavors: {}\n";
  Open();
  EXPECT_EQ(*store_->Get("0/run/artifacts/model/MLmodel"), "flavors: {}\n");
  EXPECT_FALSE(fs::exists(dir_ / "0")) << "the plain copy is removed after import";
  Open();  // a second open has nothing left to import
  EXPECT_EQ(*store_->Get("0/run/artifacts/model/MLmodel"), "flavors: {}\n");
}

TEST_F(LocalArtifactStoreTest, RefusesTraversal) {
  for (const char* p : {"../x", "/etc/passwd", "a/../../x", "%2e%2e/x", "file:///etc/passwd"}) {
    EXPECT_EQ(store_->Put(p, "x").code(), ErrorCode::kInvalidParameterValue) << p;
    EXPECT_FALSE(store_->Get(p).ok()) << p;
  }
  EXPECT_FALSE(fs::exists(dir_.parent_path() / "x"));
}

}  // namespace
}  // namespace cairn
