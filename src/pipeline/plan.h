// pipeline/plan.h: the resolved, executable form of a job. The YAML layer
// (pipeline/job_spec.*) turns Azure ML CLI v2 job/pipeline/component files into
// a JobPlan; the client uploads local code and files and rewrites them into
// asset references; the server (pipeline/scheduler.*) stores the plan and runs
// it. The plan travels as JSON (plan_json.h), so it is plain data: no YAML, no
// paths on the client's machine once submitted.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace cairn::pipeline {

// One input binding of a step or of the job itself.
struct InputValue {
  enum class Kind {
    kLiteral,     // a string/number/boolean value, kept as text in `literal`
    kUriFile,     // `path` names one file
    kUriFolder,   // `path` names a folder
    kDataAsset,   // `asset_ref` names a registered data version ("name:version", "name@latest")
    kStepOutput,  // ${{parent.jobs.<from_step>.outputs.<from_output>}}
    kParentInput  // ${{parent.inputs.<parent_input>}} (resolved against JobPlan::inputs)
  };
  Kind kind = Kind::kLiteral;
  std::string literal;
  // kUriFile/kUriFolder: before submission a client path (absolute after
  // loading); after the client uploads it, a data asset reference in
  // `asset_ref` replaces it and kind becomes kDataAsset. azureml://datastores/
  // URIs stay as paths and the server resolves them through its datastores.
  std::string path;
  std::string asset_ref;
  std::string from_step;
  std::string from_output;
  std::string parent_input;
  // Declared type when the component declares one: string, integer, number,
  // boolean, uri_file, uri_folder (used for validation and materialization).
  std::string type;
  bool optional = false;
};

struct OutputSpec {
  std::string type = "uri_folder";  // uri_folder | uri_file
  // Optional (Azure ML's output `name`/`version`): register the output as a
  // version of this data asset when the step completes; no version = the next number.
  std::string register_as;
  std::string register_version;
  // Pipeline-level outputs only (JobPlan::outputs): the step output that
  // produces it (a step wrote `o: ${{parent.outputs.<name>}}`). Empty when no
  // step binds it.
  std::string from_step;
  std::string from_output;
};

struct RetryPolicy {
  int max_attempts = 1;          // 1 = no retry
  double backoff_seconds = 0.0;  // wait before attempt k (k>=2) is backoff * 2^(k-2)
};

struct StepPlan {
  std::string name;  // key under `jobs:`; "main" for a command job
  std::string display_name;
  // The command with ${{inputs.x}}, ${{outputs.y}} and $[[ ... ]] left for the
  // executor, which substitutes materialized paths and drops a $[[ ]] part
  // whose inputs are absent.
  std::string command;
  // Before submission: a client folder (absolute). After upload: a code asset
  // reference "name:version". Empty: the step runs in an empty work directory.
  std::string code;
  std::string environment;  // environment asset reference, or empty (server's own)
  std::string compute;      // named compute; empty = the job's default_compute
  std::map<std::string, InputValue> inputs;
  std::map<std::string, OutputSpec> outputs;
  std::map<std::string, std::string> environment_variables;
  int64_t timeout_seconds = 0;  // limits.timeout; 0 = none
  RetryPolicy retry;
  bool is_deterministic = true;
  // The component this step came from (empty for inline commands).
  std::string component_name;
  std::string component_version;
  // Steps whose outputs this one consumes (derived from kStepOutput inputs),
  // so the plan is a DAG the scheduler can order without re-reading bindings.
  std::vector<std::string> depends_on;
};

struct JobPlan {
  std::string type = "command";  // "command" | "pipeline"
  std::string name;              // optional user-chosen job name (unique)
  std::string display_name;
  std::string experiment_name;  // empty = "Default"
  std::string description;
  std::map<std::string, std::string> tags;
  std::map<std::string, InputValue> inputs;  // pipeline-level inputs
  std::map<std::string, OutputSpec> outputs;
  std::vector<StepPlan> steps;  // topologically ordered; one step for a command job
  std::string default_compute;  // settings.default_compute (or the command job's compute)
  bool continue_on_step_failure = false;
  bool force_rerun = false;
  std::string source_file;  // the YAML file's name, for messages and the job's record
  std::string source_yaml;  // the YAML text as submitted (kept with the job)
};

}  // namespace cairn::pipeline
