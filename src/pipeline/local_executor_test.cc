#include "pipeline/local_executor.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>

#include <thread>

#include <algorithm>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "core/ids.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

class LocalExecutorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    executor_.SetExitCallback([this](const std::string& key, const StepExit& exit) {
      std::lock_guard lock(mu_);
      exits_[key] = exit;
      cv_.notify_all();
    });
  }
  void TearDown() override { fs::remove_all(dir_); }

  StepLaunch Launch(const std::string& command, const std::string& tag) {
    StepLaunch l;
    l.argv = {"/bin/sh", "-c", command};
    l.workdir = dir_;
    l.env = {{"PATH", "/usr/bin:/bin"}, {"GREETING", "hi"}};
    l.stdout_path = l.stderr_path = dir_ / (tag + ".log");
    l.exit_status = {dir_ / "exit_status", tag};  // one file shared by every launch
    return l;
  }
  StepExit WaitExit(const std::string& key) {
    std::unique_lock lock(mu_);
    bool ok = cv_.wait_for(lock, std::chrono::seconds(30), [&] { return exits_.count(key); });
    EXPECT_TRUE(ok) << "no exit reported for " << key;
    return exits_[key];
  }
  static std::string Read(const fs::path& p) {
    std::ifstream in(p);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  fs::path dir_ = fs::temp_directory_path() / ("cairn-exec-" + NewRunId());
  LocalExecutor executor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, StepExit> exits_;
};

TEST_F(LocalExecutorTest, RunsInWorkdirWithEnvAndRecordsExit) {
  auto h = executor_.Launch("a", Launch("echo $GREETING; pwd; echo err >&2; exit 3", "a"));
  ASSERT_TRUE(h.ok()) << h.status().message();
  EXPECT_GT(h->pid, 0);
  StepExit e = WaitExit("a");
  EXPECT_EQ(e.exit_code, 3);
  EXPECT_FALSE(e.lost);
  EXPECT_EQ(Read(dir_ / "a.log"), "hi\n" + dir_.string() + "\nerr\n");
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "a"}), 3);
}

TEST_F(LocalExecutorTest, SharedBaseEnvironmentIsOverriddenByTheLaunchsOwn) {
  StepLaunch l = Launch("echo \"$FROM_BASE $BOTH $GREETING\"; env | grep -c '^BOTH='", "b");
  l.base_env = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{"FROM_BASE=base", "BOTH=base", "GREETING=base-greeting"});
  l.env["BOTH"] = "own";
  ASSERT_TRUE(executor_.Launch("b", l).ok());
  EXPECT_EQ(WaitExit("b").exit_code, 0);
  EXPECT_EQ(Read(dir_ / "b.log"), "base own hi\n1\n");  // each name once, the launch's wins
}

TEST_F(LocalExecutorTest, RecordsStatusOfLastCommandAndOfOtherArgv) {
  ASSERT_TRUE(executor_.Launch("t", Launch("false; true", "t")).ok());
  EXPECT_EQ(WaitExit("t").exit_code, 0);
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "t"}), 0);
  StepLaunch direct = Launch("", "u");
  direct.argv = {"sh", "-c", "exit 4"};  // not the /bin/sh -c form: the generic wrapper
  ASSERT_TRUE(executor_.Launch("u", direct).ok());
  EXPECT_EQ(WaitExit("u").exit_code, 4);
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "u"}), 4);
}

TEST_F(LocalExecutorTest, CancelKillsTheWholeGroup) {
  auto h = executor_.Launch("b", Launch("sleep 300 & echo $! > child; wait", "b"));
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 200 && Read(dir_ / "child").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  pid_t child = std::stoi(Read(dir_ / "child"));
  ASSERT_TRUE(executor_.Cancel("b", std::chrono::milliseconds(2000)).ok());
  StepExit e = WaitExit("b");
  EXPECT_EQ(e.exit_code, 128 + SIGTERM);
  // The background child was in the group: it is gone (or a zombie awaiting init).
  // Signals are delivered asynchronously: give the kill a moment to land.
  std::string stat;
  for (int i = 0; i < 200; ++i) {
    stat = Read("/proc/" + std::to_string(child) + "/stat");
    if (stat.empty() || stat.find(") Z") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(stat.empty() || stat.find(") Z") != std::string::npos) << stat;
  EXPECT_FALSE(executor_.Cancel("b", std::chrono::milliseconds(10)).ok());
}

TEST_F(LocalExecutorTest, SigkillAfterGraceWhenTermIsIgnored) {
  auto h = executor_.Launch("c", Launch("trap '' TERM; echo ready; sleep 300", "c"));
  ASSERT_TRUE(h.ok());
  for (int i = 0; i < 200 && Read(dir_ / "c.log").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(executor_.Cancel("c", std::chrono::milliseconds(200)).ok());
  EXPECT_EQ(WaitExit("c").exit_code, 128 + SIGKILL);
}

TEST_F(LocalExecutorTest, ReattachesByPidAndStartTime) {
  // A process this executor did not start (as after a server restart).
  LocalExecutor other;
  other.SetExitCallback([](const std::string&, const StepExit&) {});
  StepLaunch l = Launch("read x < fifo; exit 5", "d");
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  auto h = other.Launch("d", l);
  ASSERT_TRUE(h.ok());
  ASSERT_GT(h->start_time, 0);
  // The recorded time was taken just before the spawn: the kernel's start
  // time of the process lies at or after it, within the window.
  auto actual = ProcessStartTime(h->pid);
  ASSERT_TRUE(actual.has_value());
  EXPECT_GE(*actual, h->start_time);
  EXPECT_LE(*actual, h->start_time + kStartTimeWindowTicks);
  // A start time outside the window means the pid now names another process.
  EXPECT_FALSE(executor_.Reattach("d", {h->pid, *actual + 1}, l.exit_status).ok());
  EXPECT_FALSE(
      executor_.Reattach("d", {h->pid, *actual - kStartTimeWindowTicks - 1}, l.exit_status).ok());
  ASSERT_TRUE(executor_.Reattach("d", *h, l.exit_status).ok());
  std::ofstream(dir_ / "fifo") << "go\n";
  StepExit e = WaitExit("d");
  EXPECT_FALSE(e.lost);
  EXPECT_EQ(e.exit_code, 5);  // read from the exit status file
  EXPECT_FALSE(executor_.Reattach("d", *h, l.exit_status).ok());
}

TEST_F(LocalExecutorTest, ExitStatusLinesAreFoundByTagAndPid) {
  // Several steps (and two launches of one attempt) share one file.
  StepLaunch first = Launch("exit 7", "step 1.1");
  auto h1 = executor_.Launch("k1", first);
  ASSERT_TRUE(h1.ok());
  EXPECT_EQ(WaitExit("k1").exit_code, 7);
  auto h2 = executor_.Launch("k2", Launch("exit 0", "step 1.1"));  // a relaunch
  ASSERT_TRUE(h2.ok());
  EXPECT_EQ(WaitExit("k2").exit_code, 0);
  ASSERT_TRUE(executor_.Launch("k3", Launch("exit 2", "step 1.10")).ok());
  EXPECT_EQ(WaitExit("k3").exit_code, 2);
  ExitStatusFile where{dir_ / "exit_status", "step 1.1"};
  EXPECT_EQ(ReadExitStatus(where), 0);  // the last line for the tag
  EXPECT_EQ(ReadExitStatus(where, h1->pid), 7);
  EXPECT_EQ(ReadExitStatus(where, h2->pid), 0);
  EXPECT_EQ(ReadExitStatus(where, 1), std::nullopt);  // no line from that process
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "step 1.10"}), 2);
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "step 1"}), std::nullopt);  // not a prefix match
  EXPECT_EQ(ReadExitStatus({dir_ / "missing", "step 1.1"}), std::nullopt);
  // A torn last line (a writer killed mid-write) is no status.
  std::ofstream(dir_ / "exit_status", std::ios::app) << "step 2.1 123";
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "step 2.1"}), std::nullopt);
  std::ofstream(dir_ / "exit_status", std::ios::app) << "\nstep 2.1 123 1x\n";
  EXPECT_EQ(ReadExitStatus({dir_ / "exit_status", "step 2.1"}), std::nullopt);
}

}  // namespace
}  // namespace cairn::pipeline

namespace cairn::pipeline {
namespace {

// Driven by its owner (as the scheduler's loop drives it): no thread of its
// own; exits and kill deadlines are handled when the owner calls ReapReady.
TEST_F(LocalExecutorTest, DrivenByItsOwnerReportsExitsAndSendsDueKills) {
  LocalExecutor driven(/*own_reaper=*/false);
  std::map<std::string, StepExit> seen;
  driven.SetExitCallback([&](const std::string& key, const StepExit& e) { seen[key] = e; });
  ASSERT_GE(driven.ReadyFd(), 0);
  EXPECT_EQ(executor_.ReadyFd(), -1);  // the threaded one
  ASSERT_TRUE(driven.Launch("quick", Launch("exit 3", "quick")).ok());
  ASSERT_TRUE(
      driven.Launch("stubborn", Launch("trap '' TERM; echo up; sleep 30", "stubborn")).ok());
  for (int i = 0; i < 300 && Read(dir_ / "stubborn.log").empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(driven.Cancel("stubborn", std::chrono::milliseconds(100)).ok());
  ASSERT_TRUE(driven.NextDeadline().has_value());  // the SIGKILL is due by then
  auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (seen.size() < 2 && std::chrono::steady_clock::now() < give_up) {
    int timeout_ms = 1000;
    if (auto d = driven.NextDeadline()) {
      auto left =
          std::chrono::ceil<std::chrono::milliseconds>(*d - std::chrono::steady_clock::now());
      timeout_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, 1000));
    }
    pollfd p{driven.ReadyFd(), POLLIN, 0};
    poll(&p, 1, timeout_ms);
    driven.ReapReady();  // also when only the deadline passed: that sends the SIGKILL
  }
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen["quick"].exit_code, 3);
  EXPECT_EQ(seen["stubborn"].exit_code, 128 + SIGKILL);  // ignored TERM, killed at the deadline
  EXPECT_FALSE(driven.NextDeadline().has_value());
}

}  // namespace
}  // namespace cairn::pipeline
