// pipeline/job_spec.h: Azure ML CLI v2 job YAML -> JobPlan. Reads `command`
// jobs, `pipeline` jobs (inline steps and `component: file:` references) and
// `command` components; applies `--set key=value` overrides to the YAML tree
// before validating; resolves relative paths against the YAML file's folder;
// checks bindings (${{parent.inputs.x}}, ${{parent.jobs.s.outputs.o}}), the
// placeholders in commands and component input types; orders the steps as a
// DAG. Every error is INVALID_PARAMETER_VALUE "file.yml:LINE:COL: what is
// wrong and what is expected". Also the client-side rewrite of local code and
// files into asset references (behind an uploader interface, so it is tested
// without a server). Pure functions of their inputs and the local files.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

// One `--set key=value`: `key` is a dotted path into the YAML document
// ("inputs.lr", "jobs.train.compute", "settings.force_rerun").
struct SpecOverride {
  std::string key;
  std::string value;
};
// Parses "key=value" (as typed after --set).
Result<SpecOverride> ParseOverride(const std::string& text);

// Where a pipeline step's registered component (`component:
// azureml:<name>:<version>` or `azureml:<name>@latest`) comes from: the CLI
// asks the server, tests give text.
class ComponentSource {
 public:
  virtual ~ComponentSource() = default;
  // The YAML of the registered component `ref` ("name:version" or
  // "name@latest", without the azureml: prefix).
  virtual Result<std::string> FetchComponentYaml(const std::string& ref) = 0;
};

// Loads a job file. Relative paths resolve against its folder; local code and
// input paths become absolute and must exist. Registered components are read
// through `components` (null: referring to one is an error).
Result<JobPlan> LoadJobSpec(const std::string& file,
                            const std::vector<SpecOverride>& overrides = {},
                            ComponentSource* components = nullptr);
// The same from text; `file` names it in messages and `base_dir` anchors
// relative paths.
Result<JobPlan> ParseJobSpec(const std::string& yaml_text, const std::string& file,
                             const std::string& base_dir,
                             const std::vector<SpecOverride>& overrides = {},
                             ComponentSource* components = nullptr);

// Checks a plan's graph: step names unique, bindings name existing steps,
// outputs and parent inputs, no cycles; then orders `steps` topologically
// (ties by name) and fills depends_on. ParseJobSpec calls it; the server may
// call it again on a submitted plan.
Status ValidateAndOrderPlan(JobPlan& plan);

// What the client does with the local parts of a plan before submitting it.
class PlanUploader {
 public:
  virtual ~PlanUploader() = default;
  // Registers a local folder as a code snapshot; returns its reference.
  virtual Result<std::string> UploadCode(const std::string& folder) = 0;
  // Registers a local file or folder as a data asset named `asset_name`;
  // returns "name:version".
  virtual Result<std::string> UploadData(const std::string& asset_name, const std::string& path,
                                         bool is_file) = 0;
};

// A command component ready to register: its name, version (empty: the
// next number), description and the YAML to store.
struct ComponentRegistration {
  std::string name;
  std::string version;
  std::string description;
  std::string yaml;
};
// Reads a component file for `cairn component create`: checked as a step's
// component is (errors at file:line:column), a name required, and a local
// `code` folder uploaded as a snapshot, the stored YAML then naming it
// (`code: azureml:<snapshot>`), so the component runs anywhere.
Result<ComponentRegistration> PrepareComponentRegistration(const std::string& file,
                                                           PlanUploader& uploader);
// Checks a component's YAML as the server receives it: a valid command
// component with a name whose code, if any, is a snapshot reference.
Result<ComponentRegistration> ReadComponentRegistration(const std::string& yaml_text);

// The data asset name a local input is registered under: "job-input-<input>"
// for a job (or command job) input, "job-input-<step>-<input>" for a step's.
std::string LocalInputAssetName(const std::string& step, const std::string& input);

// Uploads each local code folder once (shared folders are uploaded once) and
// each local uri_file/uri_folder input, rewriting them into `code` asset
// references and kDataAsset inputs. azureml://datastores/ paths stay.
Status UploadLocalParts(JobPlan& plan, PlanUploader& uploader);

}  // namespace cairn::pipeline
