#include "pipeline/step_runtime.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "core/ids.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

StepPlan Step(const std::string& name, std::vector<std::string> deps = {}) {
  StepPlan s;
  s.name = name;
  s.command = "true";
  s.depends_on = std::move(deps);
  s.outputs["o"] = OutputSpec{};
  return s;
}

JobPlan Pipeline(std::vector<StepPlan> steps) {
  JobPlan p;
  p.type = "pipeline";
  p.steps = std::move(steps);
  return p;
}

TEST(StepRuntimeTest, ValidatePlanOrdersStepsTopologically) {
  StepPlan c = Step("c");
  c.inputs["x"] =
      InputValue{.kind = InputValue::Kind::kStepOutput, .from_step = "b", .from_output = "o"};
  auto order = ValidatePlan(Pipeline({c, Step("b", {"a"}), Step("a")}));
  ASSERT_TRUE(order.ok()) << order.status().message();
  EXPECT_EQ(*order, (std::vector<size_t>{2, 1, 0}));
}

TEST(StepRuntimeTest, ValidatePlanRefusesBadGraphs) {
  auto message = [](const JobPlan& p) {
    auto r = ValidatePlan(p);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_NE(message(Pipeline({})).find("no steps"), std::string::npos);
  EXPECT_NE(message(Pipeline({Step("a"), Step("a")})).find("unique"), std::string::npos);
  EXPECT_NE(message(Pipeline({Step("a", {"zz"})})).find("not a step"), std::string::npos);
  EXPECT_NE(message(Pipeline({Step("a", {"b"}), Step("b", {"a"})})).find("cycle"),
            std::string::npos);
  EXPECT_NE(message(Pipeline({Step("a", {"a"})})).find("itself"), std::string::npos);
  StepPlan bad_output = Step("b");
  bad_output.inputs["x"] =
      InputValue{.kind = InputValue::Kind::kStepOutput, .from_step = "a", .from_output = "missing"};
  EXPECT_NE(message(Pipeline({Step("a"), bad_output})).find("no such output"), std::string::npos);
  StepPlan parent = Step("p");
  parent.inputs["x"] =
      InputValue{.kind = InputValue::Kind::kParentInput, .parent_input = "undeclared"};
  EXPECT_NE(message(Pipeline({parent})).find("does not declare"), std::string::npos);
  StepPlan slash = Step("a/b");
  EXPECT_NE(message(Pipeline({slash})).find("invalid"), std::string::npos);
}

TEST(StepRuntimeTest, SubstituteCommandFillsAndDropsOptionalParts) {
  auto out = SubstituteCommand(
      "python t.py --data ${{inputs.data}} $[[--lr ${{inputs.lr}}]] $[[--seed ${{ inputs.seed }}]] "
      "--out ${{outputs.model}}",
      {{"data", "/w/in"}, {"seed", "7"}}, {{"model", "/w/out"}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ(*out, "python t.py --data /w/in  --seed 7 --out /w/out");
}

TEST(StepRuntimeTest, SubstituteCommandNamesWhatIsMissing) {
  auto missing = SubstituteCommand("run ${{inputs.x}}", {}, {});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("inputs.x"), std::string::npos);
  EXPECT_FALSE(SubstituteCommand("run ${{outputs.y}}", {}, {}).ok());
  EXPECT_FALSE(SubstituteCommand("run ${{search_space.z}}", {}, {}).ok());
  EXPECT_FALSE(SubstituteCommand("run ${{inputs.x", {{"x", "1"}}, {}).ok());
  EXPECT_FALSE(SubstituteCommand("run $[[ --x ${{inputs.x}}", {{"x", "1"}}, {}).ok());
}

TEST(StepRuntimeTest, CacheKeyCoversContentNotNames) {
  CacheKeyParts a;
  a.command = "train ${{inputs.d}}";
  a.code_hash = "c1";
  a.environment_hash = "e1";
  a.input_hashes = {{"d", "data:h1"}};
  a.outputs = {{"m", "uri_folder"}};
  std::string base = StepCacheKey(a);
  EXPECT_EQ(base, StepCacheKey(a));
  for (auto change : std::vector<std::function<void(CacheKeyParts&)>>{
           [](CacheKeyParts& p) { p.command += " "; }, [](CacheKeyParts& p) { p.code_hash = "c2"; },
           [](CacheKeyParts& p) { p.environment_hash = "e2"; },
           [](CacheKeyParts& p) { p.input_hashes["d"] = "data:h2"; },
           [](CacheKeyParts& p) { p.environment_variables["X"] = "1"; },
           [](CacheKeyParts& p) { p.outputs["m"] = "uri_file"; }}) {
    CacheKeyParts b = a;
    change(b);
    EXPECT_NE(StepCacheKey(b), base);
  }
  // Field boundaries matter: moving text between fields changes the key.
  CacheKeyParts x, y;
  x.command = "ab";
  y.command = "a";
  y.code_hash = "b";
  EXPECT_NE(StepCacheKey(x), StepCacheKey(y));
}

TEST(StepRuntimeTest, HashLocalTreeDependsOnContentAndRelativePaths) {
  fs::path root = fs::temp_directory_path() / ("cairn-hash-" + NewRunId());
  fs::create_directories(root / "a" / "sub");
  fs::create_directories(root / "b" / "sub");
  std::ofstream(root / "a" / "sub" / "f.txt") << "same";
  std::ofstream(root / "b" / "sub" / "f.txt") << "same";
  auto ha = HashLocalTree(root / "a");
  auto hb = HashLocalTree(root / "b");
  ASSERT_TRUE(ha.ok() && hb.ok());
  EXPECT_EQ(*ha, *hb);
  std::ofstream(root / "b" / "sub" / "f.txt") << "changed";
  EXPECT_NE(*HashLocalTree(root / "b"), *ha);
  EXPECT_FALSE(HashLocalTree(root / "missing").ok());
  fs::remove_all(root);
}

TEST(StepRuntimeTest, StepSearchPathPutsEnvThenToolsFirst) {
  EXPECT_EQ(StepSearchPath("/env/bin", "/opt/cairn", "/usr/bin:/bin"),
            "/env/bin:/opt/cairn:/usr/bin:/bin");
  EXPECT_EQ(StepSearchPath("", "/opt/cairn", "/usr/bin:/bin"), "/opt/cairn:/usr/bin:/bin");
  // No duplicates, empty parts dropped.
  EXPECT_EQ(StepSearchPath("", "/usr/bin", "/usr/bin::/bin:"), "/usr/bin:/bin");
  EXPECT_EQ(StepSearchPath("", "", ""), "");
}

TEST(StepRuntimeTest, SelfExecutableDirHoldsThisBinary) {
  fs::path dir = SelfExecutableDir();
  ASSERT_FALSE(dir.empty());
  EXPECT_TRUE(fs::exists(dir / fs::read_symlink("/proc/self/exe").filename()));
}

}  // namespace
}  // namespace cairn::pipeline
