// MLflow's model directory format: the `MLmodel` YAML file at the root of a
// saved model (flavors, signature, run_id, model_uuid, utc_time_created),
// parsed into a value and written back. Pure functions over text; thread-safe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "core/status.h"

namespace cairn {

struct MLmodelInfo {
  // flavor name -> its fields (python_function: loader_module, env...;
  // sklearn: sklearn_version, pickled_model...). Scalars are strings or bools.
  nlohmann::json flavors = nlohmann::json::object();
  // MLflow's signature: `inputs`/`outputs` are JSON strings inside the YAML,
  // each a list of column specs {"name", "type"} or tensor specs
  // {"type": "tensor", "tensor-spec": {"dtype", "shape"}}. Null when absent.
  nlohmann::json signature_inputs;
  nlohmann::json signature_outputs;
  std::string artifact_path;
  std::string run_id;
  std::string model_uuid;
  std::string utc_time_created;
  std::string mlflow_version;
  // Files beside MLmodel (filled by whoever lists the directory).
  bool has_requirements_txt = false;
  bool has_conda_yaml = false;
};

// Parses MLmodel text. Errors are INVALID_PARAMETER_VALUE with
// "<file_name>:<line>:<column>: what is wrong".
Result<MLmodelInfo> ParseMLmodel(const std::string& text, const std::string& file_name);

// MLmodel text for a model Cairn saves: the given flavors (python_function is
// added with `loader_module` when absent) and signature, in MLflow's layout.
std::string WriteMLmodel(const MLmodelInfo& info);

// {flavors, signature: {inputs, outputs}, run_id, model_uuid, utc_time_created,
// mlflow_version, requirements_txt, conda_yaml}: what the registry stores.
nlohmann::json MLmodelToJson(const MLmodelInfo& info);

}  // namespace cairn
