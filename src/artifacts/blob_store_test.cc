#include "artifacts/blob_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/ids.h"

namespace cairn {
namespace {
namespace fs = std::filesystem;

class BlobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_blob_test_" + NewRunId());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  size_t CountBlobs() {
    size_t n = 0;
    for (auto& e : fs::recursive_directory_iterator(dir_)) {
      if (e.is_regular_file() && BlobStore::IsValidHash(e.path().filename().string())) ++n;
    }
    return n;
  }
  fs::path BlobPath(const std::string& h) { return dir_ / h.substr(0, 2) / h; }

  fs::path dir_;
};

TEST_F(BlobStoreTest, NamesBlobsBySha256) {
  BlobStore store(dir_);
  auto b = store.PutBytes("abc");
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_EQ(b->sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(b->size, 3);
  EXPECT_EQ(*store.Read(b->sha256), "abc");
  EXPECT_EQ(*store.Size(b->sha256), 3);
}

TEST_F(BlobStoreTest, IdenticalContentIsStoredOnce) {
  BlobStore store(dir_);
  auto a = store.PutBytes("same bytes");
  auto b = store.PutBytes("same bytes");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->sha256, b->sha256);
  EXPECT_EQ(CountBlobs(), 1u);
  // No temp file is left behind by the duplicate.
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(BlobStoreTest, PutFileStreamsAndMatchesPutBytes) {
  std::string big(5 * 1024 * 1024 + 17, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  fs::path src = dir_ / "source.bin";
  std::ofstream(src, std::ios::binary) << big;
  BlobStore store(dir_ / "blobs");
  auto from_file = store.PutFile(src);
  auto from_bytes = store.PutBytes(big);
  ASSERT_TRUE(from_file.ok()) << from_file.status().ToString();
  EXPECT_EQ(from_file->sha256, from_bytes->sha256);
  EXPECT_EQ(from_file->size, static_cast<int64_t>(big.size()));
  EXPECT_EQ(*store.Read(from_file->sha256), big);
  EXPECT_FALSE(store.PutFile(dir_ / "missing.bin").ok());
}

TEST_F(BlobStoreTest, AdoptFileMovesASpooledFileIntoPlace) {
  BlobStore store(dir_);
  fs::create_directories(store.TempDirectory());
  fs::path spooled = store.TempDirectory() / "upload-1";
  std::ofstream(spooled, std::ios::binary) << "spooled bytes";
  auto b = store.AdoptFile(spooled);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_FALSE(fs::exists(spooled)) << "moved, not copied";
  EXPECT_EQ(*store.Read(b->sha256), "spooled bytes");
  // Adopting identical content again keeps one blob and drops the duplicate.
  std::ofstream(store.TempDirectory() / "upload-2", std::ios::binary) << "spooled bytes";
  ASSERT_TRUE(store.AdoptFile(store.TempDirectory() / "upload-2").ok());
  EXPECT_EQ(CountBlobs(), 1u);
  EXPECT_FALSE(store.AdoptFile(dir_ / "elsewhere").ok()) << "only files in the temp directory";
}

TEST_F(BlobStoreTest, ReadDetectsCorruptionAndVerifyReportsIt) {
  BlobStore store(dir_);
  auto good = store.PutBytes("good");
  auto bad = store.PutBytes("will rot");
  std::ofstream(BlobPath(bad->sha256), std::ios::trunc) << "rotten";
  auto r = store.Read(bad->sha256);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIoError);
  EXPECT_NE(r.status().message().find("corrupt"), std::string::npos);
  auto check = store.VerifyAll();
  ASSERT_TRUE(check.ok());
  EXPECT_EQ(check->blobs_checked, 2);
  ASSERT_EQ(check->corrupt.size(), 1u);
  EXPECT_EQ(check->corrupt[0], bad->sha256);
  EXPECT_TRUE(store.Read(good->sha256).ok());
}

TEST_F(BlobStoreTest, RejectsMalformedHashes) {
  BlobStore store(dir_);
  EXPECT_FALSE(store.Read("../../etc/passwd").ok());
  EXPECT_FALSE(store.Read(std::string(64, 'G')).ok());
  EXPECT_FALSE(store.Contains("abc"));
}

TEST_F(BlobStoreTest, CollectKeepsReferencedAndYoungBlobs) {
  BlobStore store(dir_);
  auto keep = store.PutBytes("referenced");
  auto drop = store.PutBytes("orphan");
  auto young = store.PutBytes("orphan but new");
  auto old = fs::file_time_type::clock::now() - std::chrono::hours(2);
  fs::last_write_time(BlobPath(keep->sha256), old);
  fs::last_write_time(BlobPath(drop->sha256), old);
  // A temp file from a write that crashed long ago.
  std::ofstream(dir_ / "tmp" / "blob-crashed") << "partial";
  fs::last_write_time(dir_ / "tmp" / "blob-crashed", old);

  auto gc = store.Collect({keep->sha256}, std::chrono::hours(1));
  ASSERT_TRUE(gc.ok());
  EXPECT_EQ(gc->removed_blobs, 1);
  EXPECT_EQ(gc->freed_bytes, 6);
  EXPECT_EQ(gc->removed_temp_files, 1);
  EXPECT_TRUE(store.Contains(keep->sha256));
  EXPECT_FALSE(store.Contains(drop->sha256));
  EXPECT_TRUE(store.Contains(young->sha256)) << "a young blob may be about to be referenced";
}

}  // namespace
}  // namespace cairn
