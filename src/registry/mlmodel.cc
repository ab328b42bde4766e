#include "registry/mlmodel.h"

#include <yaml-cpp/yaml.h>

#include <functional>

namespace cairn {
namespace {

using Json = nlohmann::json;

Status YamlError(const std::string& file, const YAML::Mark& mark, const std::string& what) {
  std::string where = file;
  if (mark.line >= 0) {
    where += ":" + std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }
  return InvalidParameter(where + ": " + what);
}

// YAML -> JSON keeping scalars as text (MLflow writes versions such as 3.10
// that a float would mangle), except plain true/false/null.
Json ToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return nullptr;
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() != "!") {  // "!" marks a quoted scalar: always text
        if (s == "true" || s == "True") return true;
        if (s == "false" || s == "False") return false;
        if (s == "null" || s == "~") return nullptr;
      }
      return s;
    }
    case YAML::NodeType::Sequence: {
      Json a = Json::array();
      for (const auto& item : node) a.push_back(ToJson(item));
      return a;
    }
    case YAML::NodeType::Map: {
      Json o = Json::object();
      for (const auto& kv : node) o[kv.first.Scalar()] = ToJson(kv.second);
      return o;
    }
  }
  return nullptr;
}

Result<std::string> ScalarField(const std::string& file, const YAML::Node& node,
                                const std::string& key) {
  if (node.IsNull()) return std::string();
  if (!node.IsScalar()) return YamlError(file, node.Mark(), key + " must be a single value");
  return node.Scalar();
}

// A signature side: a JSON string holding a list of column or tensor specs.
Result<Json> ParseSpecList(const std::string& file, const YAML::Node& node,
                           const std::string& key) {
  // An absent key (a signature with inputs only) is as null, not a zombie node.
  if (!node.IsDefined() || node.IsNull()) return Json();
  if (!node.IsScalar()) {
    return YamlError(file, node.Mark(),
                     "signature." + key +
                         " must be a JSON string such as '[{\"name\": \"x\", "
                         "\"type\": \"double\"}]'");
  }
  Json specs = Json::parse(node.Scalar(), nullptr, false);
  if (specs.is_discarded() || !specs.is_array()) {
    return YamlError(file, node.Mark(),
                     "signature." + key + " is not a JSON list of column or tensor specs");
  }
  for (size_t i = 0; i < specs.size(); ++i) {
    const Json& s = specs[i];
    std::string at = "signature." + key + "[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("type") || !s["type"].is_string()) {
      return YamlError(file, node.Mark(), at + " needs a \"type\" (double, long, string, ...)");
    }
    if (s["type"] == "tensor") {
      const Json& t = s.value("tensor-spec", Json());
      if (!t.is_object() || !t.contains("dtype") || !t.contains("shape") ||
          !t["shape"].is_array()) {
        return YamlError(file, node.Mark(),
                         at + " is a tensor spec without \"tensor-spec\": {\"dtype\", \"shape\"}");
      }
    } else if (s.contains("name") && !s["name"].is_string()) {
      return YamlError(file, node.Mark(), at + " has a \"name\" that is not a string");
    }
  }
  return specs;
}

}  // namespace

Result<MLmodelInfo> ParseMLmodel(const std::string& text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return YamlError(file_name, e.mark, e.msg);
  }
  if (!root.IsMap()) {
    return YamlError(file_name, root.Mark(),
                     "an MLmodel file is a mapping with flavors, signature, run_id, ...");
  }
  MLmodelInfo info;
  try {
    for (const auto& kv : root) {
      const std::string key = kv.first.Scalar();
      const YAML::Node& v = kv.second;
      if (key == "flavors") {
        if (!v.IsMap() || v.size() == 0) {
          return YamlError(file_name, v.Mark(),
                           "flavors must be a mapping of flavor name to its fields, e.g. "
                           "python_function: {loader_module: mlflow.sklearn}");
        }
        for (const auto& f : v) {
          if (!f.second.IsMap() && !f.second.IsNull()) {
            return YamlError(file_name, f.second.Mark(),
                             "flavor " + f.first.Scalar() + " must be a mapping of its fields");
          }
          info.flavors[f.first.Scalar()] = f.second.IsNull() ? Json::object() : ToJson(f.second);
        }
      } else if (key == "signature") {
        if (!v.IsMap()) {
          return YamlError(file_name, v.Mark(), "signature must be a mapping with inputs, outputs");
        }
        CAIRN_ASSIGN_OR_RETURN(info.signature_inputs,
                               ParseSpecList(file_name, v["inputs"], "inputs"));
        CAIRN_ASSIGN_OR_RETURN(info.signature_outputs,
                               ParseSpecList(file_name, v["outputs"], "outputs"));
      } else if (key == "run_id") {
        CAIRN_ASSIGN_OR_RETURN(info.run_id, ScalarField(file_name, v, key));
      } else if (key == "model_uuid") {
        CAIRN_ASSIGN_OR_RETURN(info.model_uuid, ScalarField(file_name, v, key));
      } else if (key == "utc_time_created") {
        CAIRN_ASSIGN_OR_RETURN(info.utc_time_created, ScalarField(file_name, v, key));
      } else if (key == "artifact_path") {
        CAIRN_ASSIGN_OR_RETURN(info.artifact_path, ScalarField(file_name, v, key));
      } else if (key == "mlflow_version") {
        CAIRN_ASSIGN_OR_RETURN(info.mlflow_version, ScalarField(file_name, v, key));
      }
      // Other keys (saved_input_example_info, databricks_runtime, metadata...) are kept by
      // the files themselves; the registry does not need them.
    }
  } catch (const YAML::Exception& e) {
    return YamlError(file_name, e.mark, e.msg);
  }
  if (info.flavors.empty()) {
    return YamlError(file_name, root.Mark(),
                     "MLmodel has no flavors; MLflow needs at least python_function or a "
                     "framework flavor");
  }
  return info;
}

std::string WriteMLmodel(const MLmodelInfo& in) {
  Json flavors = in.flavors;
  if (!flavors.contains("python_function")) {
    flavors["python_function"] = {{"loader_module", "mlflow.pyfunc.model"}};
  }
  YAML::Emitter out;
  out << YAML::BeginMap;
  if (!in.artifact_path.empty())
    out << YAML::Key << "artifact_path" << YAML::Value << in.artifact_path;
  std::function<void(const Json&)> emit = [&](const Json& j) {
    if (j.is_object()) {
      out << YAML::BeginMap;
      for (auto& [k, v] : j.items()) {
        out << YAML::Key << k << YAML::Value;
        emit(v);
      }
      out << YAML::EndMap;
    } else if (j.is_array()) {
      out << YAML::BeginSeq;
      for (const Json& v : j) emit(v);
      out << YAML::EndSeq;
    } else if (j.is_null()) {
      out << YAML::Null;
    } else if (j.is_boolean()) {
      out << j.get<bool>();
    } else if (j.is_string()) {
      const std::string& s = j.get_ref<const std::string&>();
      // Text that would read back as another type keeps its quotes.
      bool ambiguous = s == "true" || s == "false" || s == "True" || s == "False" || s == "null" ||
                       s == "~" || s.empty();
      if (ambiguous) out << YAML::SingleQuoted;
      out << s;
    } else {
      out << j.dump();
    }
  };
  out << YAML::Key << "flavors" << YAML::Value;
  emit(flavors);
  if (!in.mlflow_version.empty()) {
    out << YAML::Key << "mlflow_version" << YAML::Value << in.mlflow_version;
  }
  if (!in.model_uuid.empty()) out << YAML::Key << "model_uuid" << YAML::Value << in.model_uuid;
  if (!in.run_id.empty()) out << YAML::Key << "run_id" << YAML::Value << in.run_id;
  if (!in.signature_inputs.is_null() || !in.signature_outputs.is_null()) {
    out << YAML::Key << "signature" << YAML::Value << YAML::BeginMap;
    if (!in.signature_inputs.is_null()) {
      out << YAML::Key << "inputs" << YAML::Value << YAML::SingleQuoted
          << in.signature_inputs.dump();
    }
    if (!in.signature_outputs.is_null()) {
      out << YAML::Key << "outputs" << YAML::Value << YAML::SingleQuoted
          << in.signature_outputs.dump();
    }
    out << YAML::EndMap;
  }
  if (!in.utc_time_created.empty()) {
    out << YAML::Key << "utc_time_created" << YAML::Value << YAML::SingleQuoted
        << in.utc_time_created;
  }
  out << YAML::EndMap;
  return std::string(out.c_str()) + "\n";
}

Json MLmodelToJson(const MLmodelInfo& info) {
  return {{"flavors", info.flavors},
          {"signature", {{"inputs", info.signature_inputs}, {"outputs", info.signature_outputs}}},
          {"run_id", info.run_id},
          {"model_uuid", info.model_uuid},
          {"utc_time_created", info.utc_time_created},
          {"mlflow_version", info.mlflow_version},
          {"requirements_txt", info.has_requirements_txt},
          {"conda_yaml", info.has_conda_yaml}};
}

}  // namespace cairn
