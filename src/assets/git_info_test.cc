#include "assets/git_info.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "core/fs.h"
#include "core/ids.h"

namespace cairn {
namespace {
namespace fs = std::filesystem;

constexpr const char* kGit = "/usr/bin/git";

// Real repositories made with the git binary, isolated from the user's and the
// system's git configuration.
class GitInfoTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(kGit)) GTEST_SKIP() << kGit << " is not installed";
    base_ = fs::temp_directory_path() / ("cairn-git-" + NewRunId().substr(0, 12));
    repo_ = base_ / "repo";
    fs::create_directories(repo_);
  }
  void TearDown() override {
    if (!base_.empty()) fs::remove_all(base_);
  }

  // Runs `git <args>` in the repository; returns its trimmed stdout.
  std::string Git(const std::string& args) {
    std::string cmd = "cd '" + repo_.string() + "' && HOME='" + base_.string() +
                      "' GIT_CONFIG_NOSYSTEM=1 " + kGit +
                      " -c user.name=Test -c user.email=test@example.com "
                      "-c init.defaultBranch=main " +
                      args + " 2>&1";
    std::string out;
    FILE* pipe = ::popen(cmd.c_str(), "r");
    EXPECT_NE(pipe, nullptr);
    if (pipe == nullptr) return out;
    char buf[256];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    int rc = ::pclose(pipe);
    EXPECT_EQ(rc, 0) << "git " << args << ": " << out;
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
    return out;
  }
  void Write(const std::string& rel, const std::string& data) {
    ASSERT_TRUE(AtomicWriteFile(repo_ / rel, data).ok());
  }
  // A repository with one commit of one file and a committed .gitignore.
  void MakeCleanRepo() {
    Git("init -q");
    Write("train.py", "print('hi')\n");
    Write(".gitignore", "*.ckpt\n");
    Git("add -A");
    Git("commit -q -m initial");
  }

  fs::path base_;
  fs::path repo_;
};

TEST_F(GitInfoTest, NotARepository) { EXPECT_FALSE(ReadGitInfo(repo_).has_value()); }

TEST_F(GitInfoTest, CleanWorkTree) {
  MakeCleanRepo();
  Write("model.ckpt", "ignored files do not make the tree dirty");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->commit, Git("rev-parse HEAD"));
  EXPECT_EQ(info->commit.size(), 40u);
  EXPECT_EQ(info->branch, "main");
  EXPECT_EQ(info->remote_url, "");
  EXPECT_FALSE(info->dirty);
  EXPECT_EQ(fs::canonical(info->workdir), fs::canonical(repo_));
}

TEST_F(GitInfoTest, FoundFromASubdirectory) {
  MakeCleanRepo();
  Write("src/lib/util.py", "");
  Git("add -A");
  Git("commit -q -m more");
  auto info = ReadGitInfo(repo_ / "src" / "lib");
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->commit, Git("rev-parse HEAD"));
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitInfoTest, ModifiedFileIsDirty) {
  MakeCleanRepo();
  Write("train.py", "print('changed')\n");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitInfoTest, StagedChangeIsDirty) {
  MakeCleanRepo();
  Write("train.py", "print('staged')\n");
  Git("add train.py");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitInfoTest, UntrackedFileIsDirty) {
  MakeCleanRepo();
  Write("notes/new.md", "untracked");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->dirty);
}

TEST_F(GitInfoTest, DetachedHeadHasNoBranch) {
  MakeCleanRepo();
  std::string commit = Git("rev-parse HEAD");
  Git("checkout -q --detach");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->branch, "");
  EXPECT_EQ(info->commit, commit);
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitInfoTest, UnbornBranchHasNoCommit) {
  Git("init -q");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->commit, "");
  EXPECT_EQ(info->branch, "main");
  EXPECT_FALSE(info->dirty);
}

TEST_F(GitInfoTest, OriginUrlWithoutCredentials) {
  MakeCleanRepo();
  Git("remote add upstream https://example.com/upstream.git");
  Git("remote add origin https://alice:s3cret-token@git.example.com/team/repo.git");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->remote_url, "https://git.example.com/team/repo.git");
}

TEST_F(GitInfoTest, FirstRemoteWhenThereIsNoOrigin) {
  MakeCleanRepo();
  Git("remote add upstream https://token@example.com/upstream.git");
  auto info = ReadGitInfo(repo_);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->remote_url, "https://example.com/upstream.git");
}

TEST(StripUrlCredentials, RemovesUserInfoFromSchemeUrls) {
  EXPECT_EQ(StripUrlCredentials("https://user:token@host/org/r.git"), "https://host/org/r.git");
  EXPECT_EQ(StripUrlCredentials("https://token@host:8443/r"), "https://host:8443/r");
  EXPECT_EQ(StripUrlCredentials("ssh://git@host/r.git"), "ssh://host/r.git");
  EXPECT_EQ(StripUrlCredentials("https://u:p%40ss@host"), "https://host");
  EXPECT_EQ(StripUrlCredentials("https://user:p@ss@host/r"), "https://host/r");
  EXPECT_EQ(StripUrlCredentials("https://host/path@v1"), "https://host/path@v1");
  EXPECT_EQ(StripUrlCredentials("git@github.com:org/r.git"), "git@github.com:org/r.git");
  EXPECT_EQ(StripUrlCredentials("/srv/git/r.git"), "/srv/git/r.git");
}

}  // namespace
}  // namespace cairn
