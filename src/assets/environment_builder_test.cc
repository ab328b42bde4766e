#include "assets/environment_builder.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <latch>
#include <thread>

#include "core/fs.h"
#include "core/ids.h"
#include "core/process.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

// Real venvs built by Debian's interpreter (python3 on PATH may be another one,
// without Debian's dist-packages). PIP_NO_INDEX keeps pip off the network, which
// is unreachable here; every requirement used is satisfied by Debian packages.
constexpr char kPython[] = "/usr/bin/python3";

size_t CountOccurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1)) {
    ++n;
  }
  return n;
}

class EnvironmentBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::create_directories(dir_));
    builder_.set_extra_pip_env({{"PIP_NO_INDEX", "1"}});
  }
  void TearDown() override { fs::remove_all(dir_); }

  static EnvironmentSpec Spec(const std::string& name) {
    EnvironmentSpec s;
    s.name = name;
    return s;
  }

  // Runs `code` with `python`; returns its exit code and sets *output.
  int RunPython(const fs::path& python, const std::string& code, std::string* output = nullptr) {
    fs::path out = dir_ / ("run-" + NewRunId() + ".txt");
    auto r = RunProcess({python.string(), "-c", code}, out);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (output != nullptr) *output = ReadFile(out).ok() ? *ReadFile(out) : "";
    return r.ok() ? *r : -1;
  }

  std::string Log(const MaterializedEnvironment& env) {
    auto text = ReadFile(env.log);
    return text.ok() ? *text : "";
  }

  // Initialized in declaration order: the builder needs the paths.
  fs::path dir_ = fs::temp_directory_path() / ("cairn_env_builder_test_" + NewRunId());
  fs::path cache_ = dir_ / "envs";
  EnvironmentBuilder builder_{cache_, kPython};
};

TEST_F(EnvironmentBuilderTest, BuildsAnIsolatedVenvWithoutRequirements) {
  auto env = builder_.Materialize(Spec("plain"));
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_FALSE(env->cache_hit);
  EXPECT_EQ(env->root, cache_ / env->hash);
  EXPECT_EQ(env->python, env->root / "bin" / "python");
  EXPECT_EQ(env->log, cache_ / (env->hash + ".log"));
  EXPECT_TRUE(fs::exists(env->root / ".cairn-ready"));

  std::string prefix;
  ASSERT_EQ(RunPython(env->python, "import sys; print(sys.prefix)", &prefix), 0);
  EXPECT_EQ(prefix, env->root.string() + "\n");
  // Without system_site_packages, Debian's numpy must not be visible.
  EXPECT_NE(RunPython(env->python, "import numpy"), 0);
  // No requirements: no pip in the venv (ensurepip is the slow part of a build).
  EXPECT_NE(Log(*env).find("-m venv --without-pip " + env->root.string()), std::string::npos);
  EXPECT_EQ(Log(*env).find("pip install"), std::string::npos);
  EXPECT_FALSE(fs::exists(env->root / "bin" / "pip"));
}

// A server started with a relative --workspace hands the builder a relative
// cache folder; steps use the venv from their own working directory, so its
// paths must come back absolute.
TEST_F(EnvironmentBuilderTest, RelativeCacheFolderGivesAbsoluteVenvPaths) {
  const fs::path cwd = fs::current_path();
  fs::current_path(dir_);
  EnvironmentBuilder relative(fs::path("relative-envs"), kPython);
  auto env = relative.Materialize(Spec("relative"));
  fs::current_path(cwd);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_TRUE(env->root.is_absolute()) << env->root;
  EXPECT_EQ(env->root, dir_ / "relative-envs" / env->hash);
  EXPECT_TRUE(env->python.is_absolute()) << env->python;
}

TEST_F(EnvironmentBuilderTest, SatisfiedRequirementInstallsOnceAndIsReusedAcrossNames) {
  EnvironmentSpec spec = Spec("numeric");
  spec.python_requirements = {"numpy"};
  spec.system_site_packages = true;
  spec.apt_packages = {"python3-numpy"};
  auto first = builder_.Materialize(spec);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_FALSE(first->cache_hit);
  EXPECT_EQ(RunPython(first->python, "import numpy"), 0);
  const std::string log = Log(*first);
  EXPECT_NE(log.find("Requirement already satisfied: numpy"), std::string::npos) << log;
  EXPECT_EQ(CountOccurrences(log, "pip install"), 1u) << log;
  EXPECT_NE(log.find("dpkg-query"), std::string::npos) << log;
  EXPECT_EQ(*ReadFile(first->root / "requirements.txt"), "numpy\n");

  EnvironmentSpec same_content = spec;
  same_content.name = "numeric-copy";
  same_content.version = "7";
  auto second = builder_.Materialize(same_content);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_TRUE(second->cache_hit);
  EXPECT_EQ(second->root, first->root);
  EXPECT_EQ(Log(*second), log);  // pip did not run again
}

TEST_F(EnvironmentBuilderTest, FailedPipKeepsTheLogAndRemovesTheVenv) {
  EnvironmentSpec spec = Spec("broken");
  spec.python_requirements = {"cairn-no-such-package-xyz==1.0"};
  auto env = builder_.Materialize(spec);
  ASSERT_FALSE(env.ok());
  EXPECT_EQ(env.status().code(), ErrorCode::kInvalidState);
  const std::string hash = EnvironmentContentHash(spec);
  const fs::path log = cache_ / (hash + ".log");
  EXPECT_EQ(env.status().message(), "environment " + hash.substr(0, 12) +
                                        " failed to build: pip exited with 1; see " + log.string());
  auto text = ReadFile(log);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("cairn-no-such-package-xyz"), std::string::npos) << *text;
  EXPECT_FALSE(fs::exists(cache_ / hash));
}

TEST_F(EnvironmentBuilderTest, ConcurrentRequestsShareOneBuild) {
  EnvironmentSpec spec = Spec("shared");
  std::latch start(2);
  Result<MaterializedEnvironment> results[2] = {InternalError("not run"), InternalError("not run")};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      start.arrive_and_wait();
      results[i] = builder_.Materialize(spec);
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
  ASSERT_TRUE(results[1].ok()) << results[1].status().ToString();
  EXPECT_NE(results[0]->cache_hit, results[1]->cache_hit);
  EXPECT_EQ(CountOccurrences(Log(*results[0]), "-m venv"), 1u);
  EXPECT_EQ(RunPython(results[0]->python, "pass"), 0);
}

TEST_F(EnvironmentBuilderTest, HalfBuiltDirectoryWithoutMarkerIsRebuilt) {
  EnvironmentSpec spec = Spec("crashed");
  const fs::path root = cache_ / EnvironmentContentHash(spec);
  ASSERT_TRUE(fs::create_directories(root / "bin"));
  std::ofstream(root / "bin" / "python") << "left by a crashed build";

  auto env = builder_.Materialize(spec);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_FALSE(env->cache_hit);
  EXPECT_EQ(env->root, root);
  EXPECT_TRUE(fs::exists(root / ".cairn-ready"));
  EXPECT_EQ(RunPython(env->python, "pass"), 0);
}

TEST_F(EnvironmentBuilderTest, RefusesWhatItCannotBuildLocally) {
  EnvironmentSpec image = Spec("img");
  image.image = "python:3.11-slim";
  auto r = builder_.Materialize(image);
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(r.status().message().find("only python-venv environments"), std::string::npos);

  EnvironmentSpec conda = Spec("conda");
  conda.conda_file = "dependencies: [python=3.11]\n";
  EXPECT_EQ(builder_.Materialize(conda).status().code(), ErrorCode::kInvalidParameterValue);

  EnvironmentSpec invalid = Spec("bad name");
  EXPECT_EQ(builder_.Materialize(invalid).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(EnvironmentBuilderTest, MissingAptPackagesAreListedNotInstalled) {
  EnvironmentSpec spec = Spec("needs-apt");
  spec.apt_packages = {"python3-numpy", "cairn-no-such-deb", "cairn-other-missing"};
  auto r = builder_.Materialize(spec);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidState);
  EXPECT_NE(r.status().message().find("not installed: cairn-no-such-deb, cairn-other-missing"),
            std::string::npos)
      << r.status().message();
  EXPECT_FALSE(fs::exists(cache_ / EnvironmentContentHash(spec)));
}

}  // namespace
}  // namespace cairn
