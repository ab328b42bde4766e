#include "assets/environment.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/ids.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

class EnvironmentYamlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_environment_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_ / "envs"));
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& relative, const std::string& text) {
    fs::path p = dir_ / relative;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  // Loads envs/env.yml written with `text`; returns the error message ("" when it loaded).
  std::string LoadError(const std::string& text) {
    auto r = LoadEnvironmentYaml(Write("envs/env.yml", text));
    if (r.ok()) return "";
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << r.status().ToString();
    return r.status().message();
  }

  fs::path dir_;
};

TEST_F(EnvironmentYamlTest, ReadsAzureMlFieldsAndCairnExtensions) {
  Write("envs/conda.yml", "channels: [conda-forge]\ndependencies:\n  - python=3.11\n");
  auto r = LoadEnvironmentYaml(Write("envs/env.yml", R"(
$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json
name: sklearn-env
version: 3
description: Training environment
image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04
conda_file: conda.yml
tags: {team: vision, tier: 1}
python:
  requirements: ["numpy>=1.24", " scikit-learn==1.3.0 "]
  system_site_packages: true
apt: [libgomp1, python3-numpy]
variables:
  OMP_NUM_THREADS: 4
  MODE: train
)"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->name, "sklearn-env");
  EXPECT_EQ(r->version, "3");
  EXPECT_EQ(r->description, "Training environment");
  EXPECT_EQ(r->image, "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04");
  EXPECT_EQ(r->conda_file, "channels: [conda-forge]\ndependencies:\n  - python=3.11\n");
  EXPECT_EQ(r->python_requirements,
            (std::vector<std::string>{"numpy>=1.24", "scikit-learn==1.3.0"}));
  EXPECT_TRUE(r->system_site_packages);
  EXPECT_EQ(r->apt_packages, (std::vector<std::string>{"libgomp1", "python3-numpy"}));
  EXPECT_EQ(r->variables,
            (std::map<std::string, std::string>{{"MODE", "train"}, {"OMP_NUM_THREADS", "4"}}));
  EXPECT_EQ(r->tags, (std::map<std::string, std::string>{{"team", "vision"}, {"tier", "1"}}));
}

TEST_F(EnvironmentYamlTest, VersionKeepsTheNumberAsWritten) {
  auto r = LoadEnvironmentYaml(Write("envs/env.yml", "name: e\nversion: 1.10\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->version, "1.10");
}

TEST_F(EnvironmentYamlTest, InlineCondaMappingIsStoredAsYamlText) {
  auto r = LoadEnvironmentYaml(
      Write("envs/env.yml", "name: e\nconda_file:\n  dependencies: [python=3.11, pip]\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_NE(r->conda_file.find("dependencies"), std::string::npos);
  EXPECT_NE(r->conda_file.find("python=3.11"), std::string::npos);
}

TEST_F(EnvironmentYamlTest, RequirementsFileIsReadRelativeToTheYaml) {
  Write("envs/reqs.txt",
        "# pinned\nnumpy==1.24.2  # from Debian\n\nscikit-learn\\\n==1.3.0\r\nurl#frag\n");
  auto r = LoadEnvironmentYaml(
      Write("envs/env.yml", "name: e\npython:\n  requirements_file: reqs.txt\n"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->python_requirements,
            (std::vector<std::string>{"numpy==1.24.2", "scikit-learn==1.3.0", "url#frag"}));
}

TEST_F(EnvironmentYamlTest, ErrorsCarryFileLineColumnAndWhatIsExpected) {
  std::string file = (dir_ / "envs/env.yml").string();
  EXPECT_EQ(LoadError("name: e\nversion: 1\npython:\n  requirements: numpy\n"),
            file + ":4:3: python.requirements must be a list of strings");
  EXPECT_EQ(LoadError("name: e\npython:\n  requirements:\n    - numpy\n    - {a: b}\n"),
            file + ":5:7: python.requirements must be a list of strings");
  EXPECT_EQ(LoadError("name: e\npython:\n  system_site_packages: maybe\n"),
            file + ":3:3: python.system_site_packages must be true or false");
}

TEST_F(EnvironmentYamlTest, UnknownKeysListTheAllowedOnes) {
  std::string err = LoadError("name: e\nbuild: {path: docker}\n");
  EXPECT_NE(err.find(":2:1: unknown key 'build'"), std::string::npos) << err;
  EXPECT_NE(err.find("conda_file"), std::string::npos) << err;
  err = LoadError("name: e\npython: {requirement: [numpy]}\n");
  EXPECT_NE(err.find("unknown key 'python.requirement'"), std::string::npos) << err;
  EXPECT_NE(err.find("requirements_file"), std::string::npos) << err;
}

TEST_F(EnvironmentYamlTest, RejectsBadValues) {
  EXPECT_NE(LoadError("version: 1\n").find("name is required"), std::string::npos);
  EXPECT_NE(LoadError("name: bad name\n").find(":1:1: name must match"), std::string::npos);
  EXPECT_NE(LoadError("name: e\nversion: 'x y'\n").find("version must match"), std::string::npos);
  EXPECT_NE(LoadError("name: e\nname: f\n").find("duplicate key 'name'"), std::string::npos);
  EXPECT_NE(LoadError("name: e\nconda_file: missing.yml\n").find("cannot read"), std::string::npos);
  Write("envs/bad-conda.yml", "- just\n- a list\n");
  EXPECT_NE(LoadError("name: e\nconda_file: bad-conda.yml\n").find("must be a YAML mapping"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\npython: {requirements: [numpy], requirements_file: r.txt}\n")
                .find("not both"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\npython: {requirements: ['-r other.txt']}\n").find("pip option"),
            std::string::npos);
  Write("envs/opts.txt", "numpy\n--index-url https://example.com\n");
  EXPECT_NE(LoadError("name: e\npython: {requirements_file: opts.txt}\n").find("opts.txt line 2"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\napt: ['libgomp1; rm -rf /']\n").find("Debian package name"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\nvariables: {'A-B': x}\n").find("environment variable name"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\nvariables: [A]\n").find("variables must be a mapping"),
            std::string::npos);
  EXPECT_NE(LoadError("name: e\ndescription: caf\xff\n").find("UTF-8"), std::string::npos);
}

TEST_F(EnvironmentYamlTest, MalformedYamlIsACleanError) {
  EXPECT_NE(LoadError("name: [unclosed\n").find("not valid YAML"), std::string::npos);
  EXPECT_NE(LoadError("- a\n- b\n").find("must be a mapping"), std::string::npos);
  EXPECT_NE(LoadError("").find("must be a mapping"), std::string::npos);
  auto missing = LoadEnvironmentYaml(dir_ / "nope.yml");
  EXPECT_EQ(missing.status().code(), ErrorCode::kInvalidParameterValue);
}

EnvironmentSpec SampleSpec() {
  EnvironmentSpec s;
  s.name = "train";
  s.version = "2";
  s.description = "d";
  s.image = "python:3.11-slim";
  s.conda_file = "dependencies: [pip]\n";
  s.python_requirements = {"numpy", "pandas<3"};
  s.system_site_packages = true;
  s.apt_packages = {"libgomp1"};
  s.variables = {{"A", "1"}, {"B", "2"}};
  s.tags = {{"owner", "me"}};
  return s;
}

TEST(EnvironmentJson, RoundTrips) {
  EnvironmentSpec s = SampleSpec();
  auto back = EnvironmentFromJson(ToJson(s));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);

  EnvironmentSpec minimal;
  minimal.name = "m";
  auto min_back = EnvironmentFromJson(ToJson(minimal));
  ASSERT_TRUE(min_back.ok()) << min_back.status().ToString();
  EXPECT_EQ(*min_back, minimal);
}

TEST(EnvironmentJson, AppliesTheSameValidation) {
  auto code = [](const char* text) {
    return EnvironmentFromJson(nlohmann::json::parse(text)).status().code();
  };
  EXPECT_EQ(code(R"({"name": "ok", "version": 7})"), ErrorCode::kOk);
  EXPECT_EQ(code(R"([1])"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"version": "1"})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "a b"})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "e", "python": {"requirements": "numpy"}})"),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "e", "python": {"requirements": ["a\nb"]}})"),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "e", "python": {"system_site_packages": "yes"}})"),
            ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "e", "variables": {"K": 1}})"), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(code(R"({"name": "e", "extra": 1})"), ErrorCode::kInvalidParameterValue);
  auto msg =
      EnvironmentFromJson(nlohmann::json::parse(R"({"name": "e", "apt": [1]})")).status().message();
  EXPECT_EQ(msg, "apt must be a list of strings");
}

TEST(EnvironmentHash, CoversContentButNotIdentity) {
  EnvironmentSpec a = SampleSpec();
  std::string h = EnvironmentContentHash(a);
  EXPECT_EQ(h.size(), 64u);
  EXPECT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos);

  EnvironmentSpec renamed = a;
  renamed.name = "other";
  renamed.version = "9";
  renamed.description = "changed";
  renamed.tags = {{"x", "y"}};
  EXPECT_EQ(EnvironmentContentHash(renamed), h);

  auto differs = [&](auto mutate) {
    EnvironmentSpec b = a;
    mutate(b);
    return EnvironmentContentHash(b) != h;
  };
  EXPECT_TRUE(differs([](EnvironmentSpec& b) { b.image = "python:3.12"; }));
  EXPECT_TRUE(differs([](EnvironmentSpec& b) { b.conda_file += "# x\n"; }));
  EXPECT_TRUE(differs(
      [](EnvironmentSpec& b) { std::swap(b.python_requirements[0], b.python_requirements[1]); }));
  EXPECT_TRUE(differs([](EnvironmentSpec& b) { b.system_site_packages = false; }));
  EXPECT_TRUE(differs([](EnvironmentSpec& b) { b.apt_packages.push_back("curl"); }));
  EXPECT_TRUE(differs([](EnvironmentSpec& b) { b.variables["A"] = "2"; }));
}

}  // namespace
}  // namespace cairn
