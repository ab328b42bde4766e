// serving/runtime.cc: MLflow signature columns and the choice of runtime for
// a deployment (script -> worker pool, otherwise native XGBoost).
#include "serving/runtime.h"

#include <nlohmann/json.hpp>

#include "serving/worker_runtime.h"
#include "serving/xgb_runtime.h"

namespace cairn::serving {

using Json = nlohmann::json;

const char* ColumnTypeName(ColumnType type) {
  switch (type) {
    case ColumnType::kDouble:
      return "double";
    case ColumnType::kFloat:
      return "float";
    case ColumnType::kLong:
      return "long";
    case ColumnType::kInteger:
      return "integer";
    case ColumnType::kBoolean:
      return "boolean";
    case ColumnType::kString:
      return "string";
    case ColumnType::kUnsupported:
      return "unsupported";
  }
  return "unsupported";
}

namespace {

ColumnType ParseColumnType(const std::string& t) {
  if (t == "double") return ColumnType::kDouble;
  if (t == "float") return ColumnType::kFloat;
  if (t == "long") return ColumnType::kLong;
  if (t == "integer") return ColumnType::kInteger;
  if (t == "boolean") return ColumnType::kBoolean;
  if (t == "string") return ColumnType::kString;
  return ColumnType::kUnsupported;  // binary, datetime, arrays, objects
}

}  // namespace

Result<std::vector<ColumnSpec>> ParseSignatureColumns(const std::string& signature_inputs_json) {
  std::vector<ColumnSpec> columns;
  if (signature_inputs_json.empty()) return columns;
  Json specs = Json::parse(signature_inputs_json, nullptr, false);
  if (specs.is_discarded() || !specs.is_array()) {
    return InvalidParameter("signature inputs are not a JSON list of column specs");
  }
  if (specs.size() == 1 && specs[0].is_object() && specs[0].value("type", "") == "tensor") {
    const Json& t = specs[0].value("tensor-spec", Json());
    const Json& shape = t.is_object() ? t.value("shape", Json()) : Json();
    if (!shape.is_array() || shape.size() != 2 || !shape[1].is_number_integer() ||
        shape[1].get<int64_t>() <= 0 || shape[1].get<int64_t>() > 1'000'000) {
      return InvalidParameter(
          "signature input tensor must have shape [-1, N] (one row of N features per example)");
    }
    columns.resize(static_cast<size_t>(shape[1].get<int64_t>()));
    for (auto& c : columns) {
      c.type = ColumnType::kFloat;
      c.type_name = "float";
    }
    return columns;
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const Json& s = specs[i];
    std::string at = "signature input " + std::to_string(i);
    if (!s.is_object() || !s.contains("type") || !s["type"].is_string()) {
      return InvalidParameter(at + " needs a \"type\"");
    }
    if (s["type"] == "tensor") {
      return InvalidParameter(at + " is a tensor among several inputs; only one [-1, N] tensor " +
                              "or a list of named columns can be served");
    }
    ColumnSpec c;
    c.name = s.value("name", "");
    if (c.name.empty()) return InvalidParameter(at + " needs a \"name\"");
    c.type_name = s["type"].get<std::string>();
    c.type = ParseColumnType(c.type_name);
    if (s.contains("required") && s["required"].is_boolean())
      c.required = s["required"].get<bool>();
    if (s.contains("categories")) {
      if (!s["categories"].is_array()) {
        return InvalidParameter("categories of column '" + c.name + "' must be a list of strings");
      }
      for (const auto& v : s["categories"]) {
        if (!v.is_string()) {
          return InvalidParameter("categories of column '" + c.name +
                                  "' must be a list of strings");
        }
        c.categories.push_back(v.get<std::string>());
      }
    }
    columns.push_back(std::move(c));
  }
  return columns;
}

Result<std::unique_ptr<Runtime>> LoadRuntime(const DeploymentConfig& config, const LogSink& log) {
  if (!config.scoring_script.empty()) return LoadWorkerRuntime(config, log);
  return LoadXgbRuntime(config, log);
}

}  // namespace cairn::serving
