// Tests for pipeline/job_spec: the job/pipeline/component YAML reader (every
// error class points at file:line:column), bindings and their DAG, component
// type checks, --set overrides, the upload rewrite, and the plan JSON round trip.
#include "pipeline/job_spec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "pipeline/plan_json.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

const std::string kDir = std::string(CAIRN_SOURCE_DIR) + "/src/pipeline/testdata/jobs";

std::string Fixture(const std::string& name) { return kDir + "/" + name; }

// Parses inline YAML as if it were kDir/inline.yml.
Result<JobPlan> Parse(const std::string& yaml, const std::vector<SpecOverride>& set = {}) {
  return ParseJobSpec(yaml, "inline.yml", kDir, set);
}

// The error message of a parse that must fail with INVALID_PARAMETER_VALUE.
std::string ErrorOf(const Result<JobPlan>& r) {
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << r.status().message();
  return r.status().message();
}

const StepPlan* FindStep(const JobPlan& plan, const std::string& name) {
  for (const auto& s : plan.steps) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(JobSpecTest, CommandJobFields) {
  auto r = LoadJobSpec(Fixture("command_job.yml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const JobPlan& p = *r;
  EXPECT_EQ(p.type, "command");
  EXPECT_EQ(p.name, "train-once");
  EXPECT_EQ(p.display_name, "Train once");
  EXPECT_EQ(p.experiment_name, "demo");
  EXPECT_EQ(p.description, "a command job");
  EXPECT_EQ(p.tags.at("team"), "ml");
  EXPECT_EQ(p.default_compute, "local");
  EXPECT_EQ(p.source_file, Fixture("command_job.yml"));
  EXPECT_NE(p.source_yaml.find("train-once"), std::string::npos);
  ASSERT_EQ(p.steps.size(), 1u);
  const StepPlan& s = p.steps[0];
  EXPECT_EQ(s.name, "main");
  EXPECT_EQ(s.code, fs::path(kDir + "/src").lexically_normal().string());
  EXPECT_NE(s.command.find("${{inputs.training_data}}"), std::string::npos);
  EXPECT_NE(s.command.find("$[[--notes ${{inputs.notes}}]]"), std::string::npos);
  EXPECT_EQ(s.environment, "sklearn-env:2");
  EXPECT_EQ(s.environment_variables.at("SEED"), "42");
  EXPECT_EQ(s.timeout_seconds, 600);
  EXPECT_EQ(s.retry.max_attempts, 3);
  EXPECT_DOUBLE_EQ(s.retry.backoff_seconds, 1.5);
  const InputValue& data = s.inputs.at("training_data");
  EXPECT_EQ(data.kind, InputValue::Kind::kUriFile);
  EXPECT_EQ(data.path, fs::path(kDir + "/data/train.csv").lexically_normal().string());
  EXPECT_EQ(s.inputs.at("lr").kind, InputValue::Kind::kLiteral);
  EXPECT_EQ(s.inputs.at("lr").literal, "0.01");
  EXPECT_EQ(s.inputs.at("reference").kind, InputValue::Kind::kDataAsset);
  EXPECT_EQ(s.inputs.at("reference").asset_ref, "flights:3");
  EXPECT_EQ(s.inputs.at("folder").kind, InputValue::Kind::kDataAsset);
  EXPECT_EQ(s.inputs.at("folder").asset_ref, "flights@latest");
  EXPECT_EQ(s.inputs.at("folder").type, "uri_folder");
  EXPECT_EQ(s.inputs.at("remote").kind, InputValue::Kind::kUriFolder);
  EXPECT_EQ(s.inputs.at("remote").path, "azureml://datastores/shared/paths/raw/");
  EXPECT_EQ(s.outputs.at("model").type, "uri_folder");
}

TEST(JobSpecTest, PipelineBindingsMakeTheDag) {
  auto r = LoadJobSpec(Fixture("pipeline_job.yml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  const JobPlan& p = *r;
  EXPECT_EQ(p.type, "pipeline");
  EXPECT_EQ(p.default_compute, "local");
  EXPECT_TRUE(p.continue_on_step_failure);
  EXPECT_FALSE(p.force_rerun);
  // Topological order, although the file lists evaluate first.
  ASSERT_EQ(p.steps.size(), 3u);
  EXPECT_EQ(p.steps[0].name, "prep");
  EXPECT_EQ(p.steps[1].name, "train");
  EXPECT_EQ(p.steps[2].name, "evaluate");
  EXPECT_TRUE(p.steps[0].depends_on.empty());
  EXPECT_EQ(p.steps[1].depends_on, std::vector<std::string>{"prep"});
  EXPECT_EQ(p.steps[2].depends_on, std::vector<std::string>{"train"});
  EXPECT_EQ(p.inputs.at("raw").kind, InputValue::Kind::kUriFolder);
  EXPECT_EQ(p.inputs.at("depth").literal, "8");

  const StepPlan& prep = p.steps[0];
  EXPECT_EQ(prep.inputs.at("raw").kind, InputValue::Kind::kParentInput);
  EXPECT_EQ(prep.inputs.at("raw").parent_input, "raw");
  EXPECT_EQ(prep.retry.max_attempts, 2);
  EXPECT_TRUE(prep.compute.empty());

  const StepPlan& train = p.steps[1];
  EXPECT_EQ(train.component_name, "train_model");
  EXPECT_EQ(train.component_version, "2");
  EXPECT_EQ(train.display_name, "Train a model");
  EXPECT_FALSE(train.is_deterministic);
  EXPECT_EQ(train.compute, "big");
  EXPECT_EQ(train.timeout_seconds, 3600);
  EXPECT_EQ(train.environment, "sklearn-env@latest");
  // The component's code is relative to the component file.
  EXPECT_EQ(train.code, fs::path(kDir + "/src").lexically_normal().string());
  const InputValue& td = train.inputs.at("training_data");
  EXPECT_EQ(td.kind, InputValue::Kind::kStepOutput);
  EXPECT_EQ(td.from_step, "prep");
  EXPECT_EQ(td.from_output, "clean");
  EXPECT_EQ(td.type, "uri_folder");
  EXPECT_EQ(train.inputs.at("max_depth").kind, InputValue::Kind::kParentInput);
  EXPECT_EQ(train.inputs.at("objective").literal, "regression");
  // Defaults fill what the step leaves out; an absent optional input stays absent.
  EXPECT_EQ(train.inputs.at("learning_rate").literal, "0.1");
  EXPECT_EQ(train.inputs.at("learning_rate").type, "number");
  EXPECT_EQ(train.inputs.count("notes"), 0u);
  // The step output bound to the pipeline output.
  EXPECT_EQ(train.outputs.at("model").register_as, "flights-model");
  EXPECT_EQ(p.outputs.at("final_model").from_step, "train");
  EXPECT_EQ(p.outputs.at("final_model").from_output, "model");

  const StepPlan& eval = p.steps[2];
  EXPECT_EQ(eval.inputs.at("model").from_step, "train");
}

TEST(JobSpecTest, OutputNameAndVersionRegisterADataVersion) {
  auto r = Parse(
      "command: echo 1 > ${{outputs.o}}/x\noutputs:\n  o: {type: uri_folder, name: scores, "
      "version: '3'}\n  p: {type: uri_file, name: other}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const StepPlan& s = r->steps[0];
  EXPECT_EQ(s.outputs.at("o").register_as, "scores");
  EXPECT_EQ(s.outputs.at("o").register_version, "3");
  EXPECT_EQ(s.outputs.at("p").register_version, "");  // the next number
  std::string msg = ErrorOf(Parse("command: x\noutputs:\n  o: {type: uri_folder, version: '3'}\n"));
  EXPECT_NE(msg.find("outputs.o.version needs a name"), std::string::npos) << msg;
  msg = ErrorOf(Parse("command: x\noutputs:\n  o: {name: a, version: 'a b'}\n"));
  EXPECT_NE(msg.find("inline.yml:3:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("is not a valid version"), std::string::npos) << msg;
}

TEST(JobSpecTest, YamlSyntaxErrorPointsAtLine) {
  std::string msg = ErrorOf(LoadJobSpec(Fixture("bad_syntax.yml")));
  EXPECT_NE(msg.find("bad_syntax.yml:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not valid YAML"), std::string::npos) << msg;
}

TEST(JobSpecTest, MissingFile) {
  std::string msg = ErrorOf(LoadJobSpec(Fixture("no_such.yml")));
  EXPECT_NE(msg.find("cannot read"), std::string::npos) << msg;
}

TEST(JobSpecTest, UnknownKeyNamesItAndTheAllowedOnes) {
  std::string msg = ErrorOf(LoadJobSpec(Fixture("bad_unknown_key.yml")));
  EXPECT_NE(msg.find("bad_unknown_key.yml:3:1: unknown key 'enviroment'"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("environment"), std::string::npos) << msg;
  msg = ErrorOf(Parse("type: pipeline\njobs:\n  a:\n    command: echo\n    comand: x\n"));
  EXPECT_NE(msg.find("inline.yml:5:5: unknown key 'comand' in step 'a'"), std::string::npos) << msg;
  msg = ErrorOf(Parse("type: command\ncommand: x\nlimits:\n  timeout: 5\n  max_nodes: 2\n"));
  EXPECT_NE(msg.find("inline.yml:5:3: unknown key 'max_nodes' in limits; allowed: timeout"),
            std::string::npos)
      << msg;
  msg = ErrorOf(
      Parse("type: pipeline\nsettings:\n  default_datastore: x\njobs:\n  a: {command: x}\n"));
  EXPECT_NE(msg.find("unknown key 'default_datastore' in settings"), std::string::npos) << msg;
}

TEST(JobSpecTest, WrongShapesAndTypes) {
  EXPECT_NE(ErrorOf(Parse("- a\n- b\n")).find("must be a mapping"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("type: sweep\ncommand: x\n")).find("inline.yml:1:7: type 'sweep'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("type: command\n")).find("needs a command"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: [a, b]\n")).find("inline.yml:1:10: command must be a single"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\nlimits: {timeout: soon}\n"))
                .find("limits.timeout must be a whole number of seconds"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\nretry: {max_attempts: 0}\n")).find("retry.max_attempts"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Parse("command: x\nretry: {backoff_seconds: -1}\n")).find("retry.backoff_seconds"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ntags: [a]\n")).find("tags must be a mapping"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\nname: 'bad name'\n")).find("not a valid job name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  1x: 3\n")).find("input name '1x'"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Parse("command: x\ninputs:\n  a:\n")).find("inline.yml:3:3: inputs.a has no value"),
      std::string::npos);
  EXPECT_NE(ErrorOf(Parse("type: pipeline\njobs: {}\n")).find("needs jobs:"), std::string::npos);
  EXPECT_NE(ErrorOf(Parse("type: pipeline\njobs:\n  a: {type: sweep, command: x}\n"))
                .find("'sweep' steps are not supported"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Parse("type: pipeline\nsettings: {force_rerun: maybe}\njobs:\n  a: {command: x}\n"))
          .find("settings.force_rerun must be true or false"),
      std::string::npos);
}

TEST(JobSpecTest, EnvironmentMustBeARegisteredReference) {
  std::string msg = ErrorOf(Parse("command: x\nenvironment:\n  image: python:3.11\n"));
  EXPECT_NE(msg.find("inline.yml:3:3: environment: an inline environment is not supported: "
                     "register an environment"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse("command: x\nenvironment: mcr.microsoft.com/azureml/base:latest\n"));
  EXPECT_NE(msg.find("docker image"), std::string::npos) << msg;
  msg =
      ErrorOf(Parse("command: x\nenvironment: "
                    "azureml://registries/azureml/environments/sklearn/labels/latest\n"));
  EXPECT_NE(msg.find("not supported: register an environment"), std::string::npos) << msg;
  msg = ErrorOf(Parse("command: x\nenvironment: azureml:justaname\n"));
  EXPECT_NE(msg.find("not an environment reference"), std::string::npos) << msg;
  auto ok = Parse("command: x\nenvironment: py@latest\n");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->steps[0].environment, "py@latest");
}

TEST(JobSpecTest, InputPathsAreCheckedAndResolved) {
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: uri_file, path: ./data/folder}\n"))
                .find("is not a file (type uri_file needs one file)"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: uri_folder, path: ./nope}\n"))
                .find("is not a folder"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: uri_folder, path: https://x/y}\n"))
                .find("is a URL Cairn does not read"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: mltable, path: ./data}\n"))
                .find("mltable is not supported"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: uri_folder}\n")).find("needs a path"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: {type: integer, value: ten}\n"))
                .find("must be an integer, got 'ten'"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: azureml:bad name:1\n")).find("inputs.d"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Parse("command: x\ncode: ./missing\n")).find("code: '"), std::string::npos);
  // A binding outside a pipeline step.
  EXPECT_NE(ErrorOf(Parse("command: x\ninputs:\n  d: ${{parent.inputs.a}}\n"))
                .find("only a pipeline's steps may use"),
            std::string::npos);
  auto r = Parse("command: cat ${{inputs.d}}\ninputs:\n  d: {type: uri_folder, path: data}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->steps[0].inputs.at("d").path, fs::path(kDir + "/data").lexically_normal().string());
  auto typed = Parse("command: echo ${{inputs.n}}\ninputs:\n  n: {type: integer, value: 7}\n");
  ASSERT_TRUE(typed.ok()) << typed.status().message();
  EXPECT_EQ(typed->steps[0].inputs.at("n").literal, "7");
  EXPECT_EQ(typed->steps[0].inputs.at("n").type, "integer");
}

TEST(JobSpecTest, CommandPlaceholdersAreChecked) {
  std::string msg = ErrorOf(Parse("command: echo ${{inputs.x}}\n"));
  EXPECT_NE(msg.find("inline.yml:1:10: command uses ${{inputs.x}} but there is no input 'x'"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse("command: echo > ${{outputs.o}}\ninputs: {a: 1}\n"));
  EXPECT_NE(msg.find("no output 'o'"), std::string::npos) << msg;
  msg = ErrorOf(Parse("command: echo ${{inputs.a\ninputs: {a: 1}\n"));
  EXPECT_NE(msg.find("without a closing '}}'"), std::string::npos) << msg;
  msg = ErrorOf(Parse("command: echo $[[ ${{inputs.a}}\ninputs: {a: 1}\n"));
  EXPECT_NE(msg.find("without a closing ']]'"), std::string::npos) << msg;
  msg = ErrorOf(Parse("command: echo ${{search_space.lr}}\n"));
  EXPECT_NE(msg.find("not a reference Cairn knows"), std::string::npos) << msg;
}

TEST(JobSpecTest, UnknownStepsOutputsAndInputsInBindings) {
  const std::string head = "type: pipeline\ninputs: {n: 1}\njobs:\n";
  const std::string a =
      "  a:\n    command: echo > ${{outputs.o}}/f\n    outputs: {o: {type: uri_folder}}\n";
  std::string msg = ErrorOf(Parse(head + a +
                                  "  b:\n    command: cat ${{inputs.x}}\n    inputs:\n"
                                  "      x: ${{parent.jobs.nope.outputs.o}}\n"));
  EXPECT_NE(msg.find("inline.yml:10:10: step 'b' input 'x' uses the outputs of step 'nope', "
                     "which does not exist; steps: a, b"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse(head + a +
                      "  b:\n    command: cat ${{inputs.x}}\n    inputs:\n"
                      "      x: ${{parent.jobs.a.outputs.missing}}\n"));
  EXPECT_NE(msg.find("uses output 'missing' of step 'a', which has no such output; its outputs: o"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse(head + a +
                      "  b:\n    command: cat ${{inputs.x}}\n    inputs:\n"
                      "      x: ${{parent.inputs.m}}\n"));
  EXPECT_NE(msg.find("the pipeline has no input 'm'; its inputs: n"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + a +
                      "  b:\n    command: cat ${{inputs.x}}\n    inputs:\n"
                      "      x: ${{parent.jobs.b.outputs.o}}\n    outputs: {o: {}}\n"));
  EXPECT_NE(msg.find("cannot consume itself"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + a +
                      "  b:\n    command: cat ${{inputs.x}}\n    inputs:\n"
                      "      x: prefix-${{parent.inputs.n}}\n"));
  EXPECT_NE(msg.find("a binding is the whole value"), std::string::npos) << msg;
  msg =
      ErrorOf(Parse(head + "  a:\n    command: x\n    outputs:\n      o: ${{parent.outputs.p}}\n"));
  EXPECT_NE(msg.find("the pipeline has no output 'p'"), std::string::npos) << msg;
}

TEST(JobSpecTest, CycleIsRefused) {
  std::string msg = ErrorOf(LoadJobSpec(Fixture("bad_cycle.yml")));
  EXPECT_NE(msg.find("bad_cycle.yml:3:3: the steps a, b depend on each other in a cycle"),
            std::string::npos)
      << msg;
}

TEST(JobSpecTest, ComponentValuesAreChecked) {
  std::string msg = ErrorOf(LoadJobSpec(Fixture("bad_enum.yml")));
  EXPECT_NE(msg.find("bad_enum.yml:9:18: step 'train' input 'objective' is 'ranking'; the "
                     "component allows one of binary, multiclass, regression"),
            std::string::npos)
      << msg;
  const std::string head =
      "type: pipeline\ninputs:\n  data: {type: uri_folder, path: ./data/folder}\n  n: 50\n"
      "jobs:\n  t:\n    component: file:components/train.yml\n    inputs:\n"
      "      training_data: ${{parent.inputs.data}}\n";
  msg = ErrorOf(Parse(head + "      max_depth: 30\n"));
  EXPECT_NE(msg.find("is 30, above the component's max 20"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + "      max_depth: 0\n"));
  EXPECT_NE(msg.find("below the component's min"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + "      max_depth: 2.5\n"));
  EXPECT_NE(msg.find("must be an integer, got '2.5'"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + "      max_depth: ${{parent.inputs.n}}\n"));
  EXPECT_NE(msg.find("(from pipeline input 'n') is 50, above the component's max 20"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse(head + "      depth: 3\n"));
  EXPECT_NE(msg.find("the component has no input 'depth'"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + "      max_depth: ${{parent.inputs.data}}\n"));
  EXPECT_NE(msg.find("is a integer but the pipeline input 'data' is a file/folder"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse(head + "    outputs:\n      weights: {type: uri_folder}\n"));
  EXPECT_NE(msg.find("the component has no output 'weights'"), std::string::npos) << msg;
  msg = ErrorOf(Parse(head + "    command: echo\n"));
  EXPECT_NE(msg.find("unknown key 'command' in step 't' (a component step)"), std::string::npos)
      << msg;
  // A required input left out.
  msg = ErrorOf(Parse("type: pipeline\njobs:\n  t:\n    component: file:components/train.yml\n"));
  EXPECT_NE(msg.find("input 'training_data' (uri_folder) is required by the component"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse("type: pipeline\njobs:\n  t:\n    component: azureml:train:1\n"));
  EXPECT_NE(msg.find("inline.yml:4:16: jobs.t.component: 'azureml:train:1' is a registered "
                     "component, which only a client talking to the server can read"),
            std::string::npos)
      << msg;
  msg = ErrorOf(Parse("type: pipeline\njobs:\n  t:\n    component: file:nope.yml\n"));
  EXPECT_NE(msg.find("no component file at"), std::string::npos) << msg;
  // Loading a component file as a job says what to do instead.
  msg = ErrorOf(LoadJobSpec(Fixture("components/train.yml")));
  EXPECT_NE(msg.find("this is a component, not a job"), std::string::npos) << msg;
}

TEST(JobSpecTest, ComponentDeclarationsAreChecked) {
  auto inline_component = [](const std::string& body) {
    return Parse("type: pipeline\njobs:\n  t:\n    component:\n" + body);
  };
  std::string msg = ErrorOf(inline_component(
      "      command: echo ${{inputs.a}}\n      inputs:\n        a: {type: string, optional: "
      "true}\n"));
  EXPECT_NE(msg.find("optional input 'a' outside $[[ ... ]]"), std::string::npos) << msg;
  msg = ErrorOf(inline_component(
      "      command: echo\n      inputs:\n        a: {type: integer, default: 3, min: 5}\n"));
  EXPECT_NE(msg.find("below the component's min"), std::string::npos) << msg;
  msg =
      ErrorOf(inline_component("      command: echo\n      inputs:\n        a: {type: tensor}\n"));
  EXPECT_NE(msg.find("'tensor' is not supported"), std::string::npos) << msg;
  msg = ErrorOf(inline_component("      command: echo\n      inputs:\n        a: {default: 1}\n"));
  EXPECT_NE(msg.find("needs a type"), std::string::npos) << msg;
  msg = ErrorOf(
      inline_component("      command: echo\n      inputs:\n        a: {type: string, min: 1}\n"));
  EXPECT_NE(msg.find("only applies to integer and number"), std::string::npos) << msg;
  msg = ErrorOf(inline_component("      command: echo ${{outputs.m}}\n"));
  EXPECT_NE(msg.find("declares no such output"), std::string::npos) << msg;
  msg = ErrorOf(inline_component("      type: spark\n      command: echo\n"));
  EXPECT_NE(msg.find("'spark' components are not supported"), std::string::npos) << msg;
  // Inline components work, an optional input inside $[[ ]] may be absent.
  auto ok = inline_component(
      "      name: c\n      command: echo $[[${{inputs.a}}]]\n      inputs:\n"
      "        a: {type: boolean, optional: true}\n");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(ok->steps[0].component_name, "c");
  EXPECT_EQ(ok->steps[0].inputs.count("a"), 0u);
}

TEST(JobSpecTest, StepOutputTypeMustMatch) {
  std::string msg = ErrorOf(
      Parse("type: pipeline\njobs:\n  a:\n    command: echo > ${{outputs.o}}\n"
            "    outputs: {o: {type: uri_file}}\n  t:\n    component: file:components/train.yml\n"
            "    inputs:\n      training_data: ${{parent.jobs.a.outputs.o}}\n"));
  EXPECT_NE(msg.find("is a uri_folder but output 'o' of step 'a' is a uri_file"), std::string::npos)
      << msg;
}

// Azure ML's model types are folders: components/train.yml's `mlflow_model`
// output feeds evaluate's `mlflow_model` input and a plain uri_folder input.
TEST(JobSpecTest, ModelTypesAreFolders) {
  auto r = Parse(
      "type: pipeline\njobs:\n"
      "  train:\n    component:\n      command: echo > ${{outputs.model}}/m\n"
      "      outputs: {model: {type: mlflow_model}}\n"
      "  eval:\n    component:\n      command: cat ${{inputs.model}}/m\n"
      "      inputs: {model: {type: mlflow_model}}\n"
      "    inputs:\n      model: ${{parent.jobs.train.outputs.model}}\n"
      "  copy:\n    command: cp -r ${{inputs.m}} ${{outputs.o}}\n"
      "    inputs:\n      m:\n        type: uri_folder\n"
      "        path: ${{parent.jobs.train.outputs.model}}\n"
      "    outputs: {o: {type: custom_model}}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(FindStep(*r, "train")->outputs.at("model").type, "uri_folder");
  EXPECT_EQ(FindStep(*r, "eval")->inputs.at("model").type, "uri_folder");
  EXPECT_EQ(FindStep(*r, "eval")->depends_on, std::vector<std::string>{"train"});
  EXPECT_EQ(FindStep(*r, "copy")->outputs.at("o").type, "uri_folder");
  // A model output still cannot feed a uri_file input.
  std::string msg =
      ErrorOf(Parse("type: pipeline\njobs:\n  a:\n    command: echo ${{outputs.o}}\n"
                    "    outputs: {o: {type: mlflow_model}}\n  b:\n    command: cat ${{inputs.f}}\n"
                    "    inputs:\n      f:\n        type: uri_file\n        path: "
                    "${{parent.jobs.a.outputs.o}}\n"));
  EXPECT_NE(msg.find("is a uri_file but output 'o' of step 'a' is a uri_folder"), std::string::npos)
      << msg;
}

TEST(JobSpecTest, OverridesApplyBeforeValidation) {
  auto r = LoadJobSpec(Fixture("pipeline_job.yml"), {{"inputs.depth", "3"},
                                                     {"settings.force_rerun", "true"},
                                                     {"settings.default_compute", "azureml:gpu"},
                                                     {"experiment_name", "other"},
                                                     {"jobs.train.inputs.objective", "binary"},
                                                     {"jobs.train.inputs.learning_rate", "0.5"},
                                                     {"inputs.raw", "./data"}});
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inputs.at("depth").literal, "3");
  EXPECT_TRUE(r->force_rerun);
  EXPECT_EQ(r->default_compute, "gpu");
  EXPECT_EQ(r->experiment_name, "other");
  // A path input keeps its type; the override replaces the path.
  EXPECT_EQ(r->inputs.at("raw").kind, InputValue::Kind::kUriFolder);
  EXPECT_EQ(r->inputs.at("raw").path, fs::path(kDir + "/data").lexically_normal().string());
  const StepPlan* train = FindStep(*r, "train");
  ASSERT_NE(train, nullptr);
  EXPECT_EQ(train->inputs.at("objective").literal, "binary");
  EXPECT_EQ(train->inputs.at("learning_rate").literal, "0.5");

  // A path through keys the file lacks creates them.
  auto nested = LoadJobSpec(Fixture("pipeline_job.yml"), {{"jobs.evaluate.limits.timeout", "9"}});
  ASSERT_TRUE(nested.ok()) << nested.status().message();
  EXPECT_EQ(FindStep(*nested, "evaluate")->timeout_seconds, 9);

  // An override is validated like the file: out of range, unknown keys.
  std::string msg =
      ErrorOf(LoadJobSpec(Fixture("pipeline_job.yml"), {{"jobs.train.inputs.max_depth", "99"}}));
  EXPECT_NE(msg.find("(value from --set)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("above the component's max 20"), std::string::npos) << msg;
  msg = ErrorOf(LoadJobSpec(Fixture("command_job.yml"), {{"enviroment", "x:1"}}));
  EXPECT_NE(msg.find("unknown key 'enviroment'"), std::string::npos) << msg;
  msg = ErrorOf(LoadJobSpec(Fixture("command_job.yml"), {{"inputs.lr.value.x", "1"}}));
  EXPECT_NE(msg.find("--set inputs.lr.value.x"), std::string::npos) << msg;
  // New keys can be added by --set.
  auto added =
      LoadJobSpec(Fixture("command_job.yml"), {{"limits.timeout", "5"}, {"tags.new", "v"}});
  ASSERT_TRUE(added.ok()) << added.status().message();
  EXPECT_EQ(added->steps[0].timeout_seconds, 5);
  EXPECT_EQ(added->tags.at("new"), "v");

  EXPECT_FALSE(ParseOverride("novalue").ok());
  EXPECT_FALSE(ParseOverride("=v").ok());
  auto o = ParseOverride("inputs.x=a=b");
  ASSERT_TRUE(o.ok());
  EXPECT_EQ(o->key, "inputs.x");
  EXPECT_EQ(o->value, "a=b");
}

TEST(JobSpecTest, ValidateAndOrderPlanOnSubmittedPlans) {
  JobPlan p;
  p.type = "pipeline";
  StepPlan a;
  a.name = "a";
  a.command = "x";
  a.outputs["o"] = {};
  StepPlan b = a;
  b.name = "b";
  InputValue in;
  in.kind = InputValue::Kind::kStepOutput;
  in.from_step = "a";
  in.from_output = "o";
  b.inputs["i"] = in;
  p.steps = {b, a};
  ASSERT_TRUE(ValidateAndOrderPlan(p).ok());
  EXPECT_EQ(p.steps[0].name, "a");
  EXPECT_EQ(p.steps[1].depends_on, std::vector<std::string>{"a"});
  JobPlan dup = p;
  dup.steps[1].name = "a";
  EXPECT_FALSE(ValidateAndOrderPlan(dup).ok());
  JobPlan bad_out = p;
  bad_out.steps[1].inputs["i"].from_output = "zzz";
  EXPECT_FALSE(ValidateAndOrderPlan(bad_out).ok());
  JobPlan cyc = p;
  InputValue back = in;
  back.from_step = "b";
  cyc.steps[0].inputs["j"] = back;
  Status st = ValidateAndOrderPlan(cyc);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("cycle"), std::string::npos);
}

class FakeUploader : public PlanUploader {
 public:
  Result<std::string> UploadCode(const std::string& folder) override {
    code.push_back(folder);
    return "code-" + std::to_string(code.size()) + ":1";
  }
  Result<std::string> UploadData(const std::string& name, const std::string& path,
                                 bool is_file) override {
    if (fail) return Status(ErrorCode::kIoError, "disk on fire");
    data.push_back(name + "|" + path + "|" + (is_file ? "file" : "folder"));
    return name + ":1";
  }
  std::vector<std::string> code, data;
  bool fail = false;
};

TEST(JobSpecTest, UploadRewritesLocalPartsIntoAssets) {
  auto r = LoadJobSpec(Fixture("pipeline_job.yml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  FakeUploader up;
  ASSERT_TRUE(UploadLocalParts(*r, up).ok());
  // prep and train share ./src: uploaded once.
  ASSERT_EQ(up.code.size(), 1u);
  EXPECT_EQ(up.code[0], fs::path(kDir + "/src").lexically_normal().string());
  EXPECT_EQ(FindStep(*r, "prep")->code, "code-1:1");
  EXPECT_EQ(FindStep(*r, "train")->code, "code-1:1");
  EXPECT_TRUE(FindStep(*r, "evaluate")->code.empty());
  ASSERT_EQ(up.data.size(), 1u);
  EXPECT_EQ(
      up.data[0],
      "job-input-raw|" + fs::path(kDir + "/data/folder").lexically_normal().string() + "|folder");
  EXPECT_EQ(r->inputs.at("raw").kind, InputValue::Kind::kDataAsset);
  EXPECT_EQ(r->inputs.at("raw").asset_ref, "job-input-raw:1");
  EXPECT_EQ(r->inputs.at("raw").type, "uri_folder");
  EXPECT_TRUE(r->inputs.at("raw").path.empty());

  auto c = LoadJobSpec(Fixture("command_job.yml"));
  ASSERT_TRUE(c.ok());
  FakeUploader up2;
  ASSERT_TRUE(UploadLocalParts(*c, up2).ok());
  // Only the local file; the data asset and the datastore path stay as they are.
  ASSERT_EQ(up2.data.size(), 1u);
  EXPECT_EQ(up2.data[0].substr(0, up2.data[0].find('|')), "job-input-training_data");
  EXPECT_NE(up2.data[0].find("|file"), std::string::npos);
  EXPECT_EQ(c->steps[0].inputs.at("remote").kind, InputValue::Kind::kUriFolder);
  EXPECT_EQ(c->steps[0].inputs.at("reference").asset_ref, "flights:3");

  auto again = LoadJobSpec(Fixture("command_job.yml"));
  FakeUploader broken;
  broken.fail = true;
  Status st = UploadLocalParts(*again, broken);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("uploading input 'training_data'"), std::string::npos);
  EXPECT_NE(st.message().find("disk on fire"), std::string::npos);
  EXPECT_EQ(LocalInputAssetName("prep", "raw"), "job-input-prep-raw");
}

// Registered components as the server would hand them out, by reference.
class FakeComponents : public ComponentSource {
 public:
  Result<std::string> FetchComponentYaml(const std::string& ref) override {
    asked.push_back(ref);
    auto it = yaml.find(ref);
    if (it == yaml.end()) return NotFound("component " + ref + " does not exist");
    return it->second;
  }
  std::map<std::string, std::string> yaml;
  std::vector<std::string> asked;
};

TEST(JobSpecTest, RegisteredComponentsAreFetchedAndCheckedLikeFiles) {
  FakeComponents source;
  source.yaml["scale@latest"] =
      "type: command\nname: scale\nversion: '3'\ncode: azureml:code-abc:1\n"
      "inputs:\n  factor: {type: integer, default: 2, max: 10}\n"
      "outputs:\n  out: {type: uri_folder}\n"
      "command: python scale.py ${{inputs.factor}} ${{outputs.out}}\n";
  const std::string job =
      "type: pipeline\njobs:\n  s:\n    component: azureml:scale@latest\n    inputs:\n"
      "      factor: 4\n";
  auto r = ParseJobSpec(job, "inline.yml", kDir, {}, &source);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(source.asked, std::vector<std::string>{"scale@latest"});
  const StepPlan* s = FindStep(*r, "s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->code, "code-abc:1");
  EXPECT_EQ(s->inputs.at("factor").literal, "4");
  EXPECT_TRUE(s->outputs.count("out"));
  // The component's declarations hold as for a file.
  std::string msg =
      ErrorOf(ParseJobSpec(job + "      extra: 1\n", "inline.yml", kDir, {}, &source));
  EXPECT_NE(msg.find("the component has no input 'extra'"), std::string::npos) << msg;
  msg = ErrorOf(
      ParseJobSpec("type: pipeline\njobs:\n  s:\n    component: azureml:scale@latest\n    inputs:\n"
                   "      factor: 40\n",
                   "inline.yml", kDir, {}, &source));
  EXPECT_NE(msg.find("above the component's max 10"), std::string::npos) << msg;
  // Unknown to the server: the error points at the reference.
  msg = ErrorOf(ParseJobSpec("type: pipeline\njobs:\n  s:\n    component: azureml:gone:1\n",
                             "inline.yml", kDir, {}, &source));
  EXPECT_NE(msg.find("inline.yml:4:16: jobs.s.component: 'azureml:gone:1': component gone:1 "
                     "does not exist"),
            std::string::npos)
      << msg;
  // A broken stored component names itself.
  source.yaml["bad:1"] = "type: command\nname: bad\ncommand: echo ${{inputs.nope}}\n";
  msg = ErrorOf(ParseJobSpec("type: pipeline\njobs:\n  s:\n    component: azureml:bad:1\n",
                             "inline.yml", kDir, {}, &source));
  EXPECT_NE(msg.find("component bad:1:"), std::string::npos) << msg;
  EXPECT_NE(msg.find("declares no such input"), std::string::npos) << msg;
}

TEST(JobSpecTest, ComponentRegistrationUploadsCodeAndIsReadBackByTheServer) {
  FakeUploader up;
  auto reg = PrepareComponentRegistration(Fixture("components/train.yml"), up);
  ASSERT_TRUE(reg.ok()) << reg.status().message();
  EXPECT_EQ(reg->name, "train_model");
  EXPECT_EQ(reg->version, "2");
  ASSERT_EQ(up.code.size(), 1u);
  EXPECT_EQ(up.code[0], fs::path(kDir + "/src").lexically_normal().string());
  EXPECT_NE(reg->yaml.find("code: azureml:code-1:1"), std::string::npos) << reg->yaml;
  // What the server checks: the same text reads back, and a registered component built
  // from it resolves in a job.
  auto back = ReadComponentRegistration(reg->yaml);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->name, "train_model");
  FakeComponents source;
  source.yaml["train_model:2"] = reg->yaml;
  auto job = ParseJobSpec(
      "type: pipeline\njobs:\n  t:\n    component: azureml:train_model:2\n    inputs:\n"
      "      training_data: {type: uri_folder, path: azureml://datastores/d/paths/x}\n",
      "inline.yml", kDir, {}, &source);
  ASSERT_TRUE(job.ok()) << job.status().message();
  EXPECT_EQ(FindStep(*job, "t")->code, "code-1:1");
  EXPECT_FALSE(FindStep(*job, "t")->is_deterministic);
  // The server refuses a local folder (it could not be read there) and a nameless component.
  auto local = ReadComponentRegistration("type: command\nname: x\ncode: ./src\ncommand: ls\n");
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.status().message().find("is a local folder; register the component with "
                                          "`cairn component create -f FILE`"),
            std::string::npos)
      << local.status().message();
  auto nameless = ReadComponentRegistration("type: command\ncommand: ls\n");
  ASSERT_FALSE(nameless.ok());
  EXPECT_NE(nameless.status().message().find("a registered component needs a name:"),
            std::string::npos);
  EXPECT_FALSE(ReadComponentRegistration("[not, a, map]").ok());
  EXPECT_FALSE(ReadComponentRegistration("type: command\nname: x\ncommand: [oops\n").ok());
}

TEST(JobSpecTest, PlanJsonRoundTrip) {
  auto r = LoadJobSpec(Fixture("pipeline_job.yml"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  auto back = PlanFromJson(PlanToJson(*r));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(PlanToJson(*back), PlanToJson(*r));
  EXPECT_EQ(back->outputs.at("final_model").from_step, "train");
  EXPECT_EQ(back->steps[1].inputs.at("training_data").from_output, "clean");
  EXPECT_EQ(back->steps[1].retry.max_attempts, r->steps[1].retry.max_attempts);
  EXPECT_EQ(back->source_yaml, r->source_yaml);
  auto c = LoadJobSpec(Fixture("command_job.yml"));
  ASSERT_TRUE(c.ok());
  auto cb = PlanFromJson(PlanToJson(*c));
  ASSERT_TRUE(cb.ok()) << cb.status().message();
  EXPECT_EQ(PlanToJson(*cb), PlanToJson(*c));
  EXPECT_DOUBLE_EQ(cb->steps[0].retry.backoff_seconds, 1.5);
  // A field of the wrong type is named.
  auto j = PlanToJson(*c);
  j["steps"][0]["timeout_seconds"] = "soon";
  auto bad = PlanFromJson(j);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("timeout_seconds"), std::string::npos);
}

}  // namespace
}  // namespace cairn::pipeline
