#include "core/process.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/fs.h"
#include "core/ids.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_process_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    log_ = dir_ / "logs" / "run.log";
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Log() {
    auto text = ReadFile(log_);
    return text.ok() ? *text : "";
  }

  fs::path dir_;
  fs::path log_;
};

TEST_F(ProcessTest, ReturnsTheExitCode) {
  auto ok = RunProcess({"true"}, log_);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, 0);
  auto three = RunProcess({"sh", "-c", "exit 3"}, log_);
  ASSERT_TRUE(three.ok()) << three.status().ToString();
  EXPECT_EQ(*three, 3);
}

TEST_F(ProcessTest, AppendsStdoutAndStderrToTheLog) {
  ASSERT_TRUE(RunProcess({"sh", "-c", "echo out; echo err >&2"}, log_).ok());
  ASSERT_TRUE(RunProcess({"echo", "second run"}, log_).ok());
  EXPECT_EQ(Log(), "out\nerr\nsecond run\n");
}

TEST_F(ProcessTest, PassesArgumentsVerbatimWithoutAShell) {
  ASSERT_TRUE(RunProcess({"printf", "%s|", "a b", "$HOME", "*"}, log_).ok());
  EXPECT_EQ(Log(), "a b|$HOME|*|");
}

TEST_F(ProcessTest, ExtraEnvironmentOverridesAndAdds) {
  auto r = RunProcess({"sh", "-c", "echo \"$CAIRN_TEST_VAR:$HOME\""}, log_,
                      {{"CAIRN_TEST_VAR", "set"}, {"HOME", "/nowhere"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(Log(), "set:/nowhere\n");
}

TEST_F(ProcessTest, ChildReadsEmptyStdin) {
  ASSERT_TRUE(RunProcess({"sh", "-c", "cat; echo done"}, log_).ok());
  EXPECT_EQ(Log(), "done\n");
}

TEST_F(ProcessTest, KilledChildReportsSignalLikeAShell) {
  auto r = RunProcess({"sh", "-c", "kill -9 $$"}, log_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 128 + 9);
}

TEST_F(ProcessTest, MissingProgramIsAnErrorNotAnExitCode) {
  auto r = RunProcess({"cairn-no-such-program-xyz"}, log_);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_NE(r.status().message().find("cairn-no-such-program-xyz"), std::string::npos);

  auto by_path = RunProcess({(dir_ / "missing").string()}, log_);
  EXPECT_FALSE(by_path.ok());
}

TEST_F(ProcessTest, RejectsEmptyCommandAndBadEnvironmentNames) {
  EXPECT_EQ(RunProcess({}, log_).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(RunProcess({"true"}, log_, {{"A=B", "x"}}).status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(ProcessTest, UnwritableLogIsAnError) {
  auto r = RunProcess({"true"}, dir_);  // a directory cannot be opened as the log
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kIoError);
}

}  // namespace
}  // namespace cairn
