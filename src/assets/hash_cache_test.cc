#include "assets/hash_cache.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <gtest/gtest.h>

#include <filesystem>

#include "core/fs.h"
#include "core/ids.h"
#include "core/sha256.h"
#include "store/sqlite/sqlite_db.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

class HashCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_hash_cache_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto cache = HashCache::Open(dir_ / "cache" / "hashes.db");
    ASSERT_TRUE(cache.ok()) << cache.status().ToString();
    cache_ = std::move(cache).value();
    file_ = dir_ / "data.bin";
    Write(file_, "original content");
  }
  void TearDown() override {
    cache_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  static void Write(const fs::path& p, const std::string& content) {
    ASSERT_TRUE(AtomicWriteFile(p, content).ok()) << p;
  }

  // Writes in place (same inode), unlike AtomicWriteFile's rename.
  static void Overwrite(const fs::path& p, const std::string& content) {
    UniqueFd fd(::open(p.c_str(), O_WRONLY | O_TRUNC));
    ASSERT_TRUE(fd.get() >= 0) << p;
    ASSERT_EQ(::write(fd.get(), content.data(), content.size()),
              static_cast<ssize_t>(content.size()));
  }

  static void SetMtime(const fs::path& p, int64_t sec, int64_t nsec) {
    struct timespec times[2];
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1].tv_sec = sec;
    times[1].tv_nsec = nsec;
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
  }

  FileStamp Stamp(const fs::path& p) {
    auto s = StampFile(p);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? *s : FileStamp{};
  }

  // Hashes through the cache; returns whether it was a cache hit.
  bool HashHits(const fs::path& p, const std::string& expected_content) {
    bool hit = false;
    auto sha = cache_->Sha256(p, Stamp(p), &hit);
    EXPECT_TRUE(sha.ok()) << sha.status().ToString();
    if (sha.ok()) EXPECT_EQ(*sha, Sha256Hex(expected_content));
    return hit;
  }

  fs::path dir_;
  fs::path file_;
  std::unique_ptr<HashCache> cache_;
};

TEST_F(HashCacheTest, RememberedStampHits) {
  FileStamp s = Stamp(file_);
  EXPECT_FALSE(cache_->Lookup(file_, s).has_value());
  cache_->Remember(file_, s, Sha256Hex("original content"));
  auto known = cache_->Lookup(file_, s);
  ASSERT_TRUE(known.has_value());
  EXPECT_EQ(*known, Sha256Hex("original content"));
  EXPECT_TRUE(HashHits(file_, "original content"));
  // The cache answers by absolute path: a relative spelling of the same file hits too.
  fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  EXPECT_TRUE(cache_->Lookup("data.bin", s).has_value());
  fs::current_path(cwd);
}

TEST_F(HashCacheTest, FirstHashMissesThenHitsAndSurvivesReopen) {
  EXPECT_FALSE(HashHits(file_, "original content"));
  EXPECT_TRUE(HashHits(file_, "original content"));
  cache_.reset();
  auto reopened = HashCache::Open(dir_ / "cache" / "hashes.db");
  ASSERT_TRUE(reopened.ok()) << reopened.status().ToString();
  cache_ = std::move(reopened).value();
  EXPECT_TRUE(HashHits(file_, "original content"));
}

TEST_F(HashCacheTest, RewriteInPlaceMisses) {
  EXPECT_FALSE(HashHits(file_, "original content"));
  FileStamp before = Stamp(file_);
  Overwrite(file_, "rewritten, and longer than before");
  FileStamp after = Stamp(file_);
  EXPECT_EQ(after.inode, before.inode);
  EXPECT_FALSE(HashHits(file_, "rewritten, and longer than before"));
  EXPECT_TRUE(HashHits(file_, "rewritten, and longer than before"));
}

TEST_F(HashCacheTest, MtimeChangeAloneMisses) {
  SetMtime(file_, 1'600'000'000, 0);
  EXPECT_FALSE(HashHits(file_, "original content"));
  EXPECT_TRUE(HashHits(file_, "original content"));
  // Same bytes, same size, same inode; only the modification time moves (touch -m).
  SetMtime(file_, 1'600'000'000, 1);
  EXPECT_FALSE(HashHits(file_, "original content"));
  EXPECT_TRUE(HashHits(file_, "original content"));
}

TEST_F(HashCacheTest, ReplacementByRenameMisses) {
  SetMtime(file_, 1'600'000'000, 0);
  EXPECT_FALSE(HashHits(file_, "original content"));
  FileStamp before = Stamp(file_);
  // A same-size replacement carrying the old mtime: only the inode (and ctime) differ.
  fs::path replacement = dir_ / "data.bin.new";
  Write(replacement, "replaced content");
  ASSERT_EQ(fs::file_size(replacement), static_cast<uintmax_t>(before.size));
  SetMtime(replacement, 1'600'000'000, 0);
  fs::rename(replacement, file_);
  FileStamp after = Stamp(file_);
  EXPECT_NE(after.inode, before.inode);
  EXPECT_EQ(after.mtime_ns, before.mtime_ns);
  EXPECT_EQ(after.size, before.size);
  EXPECT_FALSE(HashHits(file_, "replaced content"));
}

TEST_F(HashCacheTest, FileModifiedWhileHashedIsNotCached) {
  // The stamp is taken, then the file changes before its bytes are read: what
  // was hashed does not belong to that stamp, so it must not be remembered.
  FileStamp stale = Stamp(file_);
  Overwrite(file_, "changed between stat and read");
  bool hit = true;
  auto sha = cache_->Sha256(file_, stale, &hit);
  ASSERT_TRUE(sha.ok()) << sha.status().ToString();
  EXPECT_FALSE(hit);
  EXPECT_EQ(*sha, Sha256Hex("changed between stat and read"));
  EXPECT_FALSE(cache_->Lookup(file_, stale).has_value())
      << "bytes read after a change were cached under the old stamp";
  // The same size but a moved mtime is caught as well.
  SetMtime(file_, 1'600'000'000, 0);
  FileStamp stale2 = Stamp(file_);
  Overwrite(file_, "changed between stat and reaD");
  SetMtime(file_, 1'600'000'001, 0);
  ASSERT_TRUE(cache_->Sha256(file_, stale2, &hit).ok());
  EXPECT_FALSE(cache_->Lookup(file_, stale2).has_value());
}

TEST_F(HashCacheTest, UnusableCacheLocationIsAnErrorNotACrash) {
  Write(dir_ / "not-a-dir", "x");
  auto cache = HashCache::Open(dir_ / "not-a-dir" / "cache" / "hashes.db");
  ASSERT_FALSE(cache.ok());
  EXPECT_FALSE(cache.status().message().empty());
  Write(dir_ / "garbage.db", std::string(4096, 'G'));
  auto garbage = HashCache::Open(dir_ / "garbage.db");
  EXPECT_FALSE(garbage.ok()) << "opened a file that is not a database as a hash cache";
}

TEST_F(HashCacheTest, DamagedCacheDegradesToHashing) {
  EXPECT_FALSE(HashHits(file_, "original content"));
  {
    // Another process breaks the cache under the open one.
    sqlite::Db other((dir_ / "cache" / "hashes.db").string(), "normal", /*exclusive=*/false);
    other.Exec("DROP TABLE file_hashes");
  }
  FileStamp s = Stamp(file_);
  EXPECT_FALSE(cache_->Lookup(file_, s).has_value());
  cache_->Remember(file_, s, Sha256Hex("original content"));  // swallowed
  // Every call still answers the right hash, by reading the file.
  EXPECT_FALSE(HashHits(file_, "original content"));
  EXPECT_FALSE(HashHits(file_, "original content"));
}

TEST_F(HashCacheTest, StampRefusesWhatIsNotARegularFile) {
  EXPECT_EQ(StampFile(dir_).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_FALSE(StampFile(dir_ / "missing").ok());
}

}  // namespace
}  // namespace cairn
