// Tests of SpareFolders: which folders are recycled, and that a taken spare is empty.
#include "pipeline/spare_folders.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/ids.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

class SpareFoldersTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ / "jobs"); }
  void TearDown() override { fs::remove_all(root_); }
  fs::path root_ = fs::temp_directory_path() / ("cairn-spares-" + NewRunId());
  fs::path pool_ = root_ / "jobs" / ".spare";
};

TEST_F(SpareFoldersTest, RecyclesOnlyFoldersHoldingAtMostAnEmptyLog) {
  SpareFolders spares(pool_, "std_log.txt");
  ASSERT_TRUE(spares.Open().ok());
  fs::path a = root_ / "jobs" / "a", b = root_ / "jobs" / "b", c = root_ / "jobs" / "c",
           d = root_ / "jobs" / "d", e = root_ / "jobs" / "e";
  for (const fs::path& p : {a, b, c, d, e}) fs::create_directory(p);
  std::ofstream(a / "std_log.txt").flush();       // empty log: recycled
  std::ofstream(b / "std_log.txt") << "hello\n";  // a log worth keeping
  std::ofstream(c / "scratch").flush();           // a file the step wrote
  fs::create_directory(d / "outputs");            // any folder
  EXPECT_TRUE(spares.Recycle(a));
  EXPECT_FALSE(spares.Recycle(b));
  EXPECT_FALSE(spares.Recycle(c));
  EXPECT_FALSE(spares.Recycle(d));
  EXPECT_TRUE(spares.Recycle(e));  // nothing at all: recycled
  EXPECT_FALSE(spares.Recycle(root_ / "jobs" / "missing"));
  EXPECT_TRUE(fs::exists(a));  // in place until taken
  EXPECT_TRUE(fs::exists(b / "std_log.txt"));
  EXPECT_TRUE(fs::exists(c / "scratch"));
  EXPECT_TRUE(fs::exists(d / "outputs"));
  EXPECT_EQ(spares.size(), 2u);
}

TEST_F(SpareFoldersTest, TakeRenamesASpareOrCreatesAFolder) {
  SpareFolders spares(pool_, "std_log.txt");
  ASSERT_TRUE(spares.Open().ok());
  fs::path used = root_ / "jobs" / "used";
  fs::create_directory(used);
  std::ofstream(used / "std_log.txt").flush();
  ASSERT_TRUE(spares.Recycle(used));
  fs::path x = root_ / "jobs" / "x", y = root_ / "jobs" / "y";
  ASSERT_TRUE(spares.Take(x).ok());  // the spare, with its empty log
  EXPECT_TRUE(fs::is_directory(x));
  EXPECT_FALSE(fs::exists(used));
  EXPECT_EQ(fs::file_size(x / "std_log.txt"), 0u);
  EXPECT_EQ(spares.size(), 0u);
  ASSERT_TRUE(spares.Take(y).ok());  // none left: a new folder
  EXPECT_TRUE(fs::is_directory(y));
  EXPECT_TRUE(fs::is_empty(y));
  EXPECT_FALSE(spares.Take(root_ / "no" / "such" / "parent").ok());
  std::ofstream(root_ / "jobs" / "file").flush();
  EXPECT_FALSE(spares.Take(root_ / "jobs" / "file").ok());  // not a folder
}

TEST_F(SpareFoldersTest, TakeLeavesAFolderHoldingSomethingAsItIs) {
  SpareFolders spares(pool_, "std_log.txt");
  ASSERT_TRUE(spares.Open().ok());
  fs::path used = root_ / "jobs" / "used", kept = root_ / "jobs" / "kept";
  fs::create_directory(used);
  ASSERT_TRUE(spares.Recycle(used));
  fs::create_directory(kept);
  std::ofstream(kept / "std_log.txt") << "attempt 1\n";
  auto taken = spares.Take(kept);  // a retry's folder: not replaced
  ASSERT_TRUE(taken.ok());
  EXPECT_FALSE(*taken);
  EXPECT_EQ(fs::file_size(kept / "std_log.txt"), 10u);
  EXPECT_EQ(spares.size(), 1u);  // the spare was not used up
  fs::create_directory(root_ / "jobs" / "empty");
  taken = spares.Take(root_ / "jobs" / "empty");  // replaced by the spare: as good as new
  ASSERT_TRUE(taken.ok());
  EXPECT_TRUE(*taken);
  EXPECT_EQ(spares.size(), 0u);
  EXPECT_FALSE(fs::exists(used));
}

TEST_F(SpareFoldersTest, PoolIsBoundedAndSurvivesARestart) {
  {
    SpareFolders spares(pool_, "std_log.txt", /*max_spares=*/2);
    ASSERT_TRUE(spares.Open().ok());
    for (int i = 0; i < 3; ++i) {
      fs::path f = root_ / "jobs" / ("s" + std::to_string(i));
      fs::create_directory(f);
      EXPECT_EQ(spares.Recycle(f), i < 2) << i;
    }
  }  // the two spares recycled in place move into the pool
  EXPECT_FALSE(fs::exists(root_ / "jobs" / "s0"));
  EXPECT_FALSE(fs::exists(root_ / "jobs" / "s1"));
  EXPECT_TRUE(fs::exists(root_ / "jobs" / "s2"));
  std::ofstream(pool_ / "not-a-spare").flush();  // ignored
  SpareFolders again(pool_, "std_log.txt");
  ASSERT_TRUE(again.Open().ok());
  EXPECT_EQ(again.size(), 2u);
  ASSERT_TRUE(again.Take(root_ / "jobs" / "t").ok());
  // New spares do not collide with the adopted ones.
  fs::create_directory(root_ / "jobs" / "u");
  EXPECT_TRUE(again.Recycle(root_ / "jobs" / "u"));
  EXPECT_EQ(again.size(), 2u);
}

}  // namespace
}  // namespace cairn::pipeline
