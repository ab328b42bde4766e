// pipeline/job_spec.cc: the Azure ML CLI v2 job/pipeline/component YAML
// reader (see job_spec.h). Every check that can point at the text does: each
// error carries the file, line and column of the offending node (yaml-cpp
// Marks), says what is wrong and what is expected.
#include "pipeline/job_spec.h"
#include "pipeline/job_spec_yaml.h"
#include "pipeline/spec_yaml.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <set>
#include <sstream>

#include "store/asset_ref.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

// The file a node came from: names it in messages, anchors relative paths.
using spec_yaml::CheckMap;
using spec_yaml::Doc;
using spec_yaml::Err;
using spec_yaml::Join;

template <typename M>
std::string JoinKeys(const M& m) {
  std::vector<std::string> keys;
  for (const auto& [k, _] : m) keys.push_back(k);
  return Join(keys);
}

bool IsIdentifier(const std::string& s) {
  static const std::regex re("^[A-Za-z_][A-Za-z0-9_]*$");
  return std::regex_match(s, re);
}

Result<std::string> Scalar(const Doc& d, const YAML::Node& n, const std::string& what) {
  if (!n.IsScalar()) return Err(d, n, what + " must be a single value (a string or number)");
  return n.Scalar();
}

Result<bool> Bool(const Doc& d, const YAML::Node& n, const std::string& what) {
  if (n.IsScalar()) {
    std::string v = n.Scalar();
    std::transform(v.begin(), v.end(), v.begin(), ::tolower);
    if (v == "true") return true;
    if (v == "false") return false;
  }
  return Err(d, n, what + " must be true or false");
}

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}
std::optional<double> ParseNumber(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

Result<std::map<std::string, std::string>> StringMap(const Doc& d, const YAML::Node& n,
                                                     const std::string& what) {
  if (!n.IsMap()) return Err(d, n, what + " must be a mapping of name: value");
  std::map<std::string, std::string> out;
  for (const auto& kv : n) {
    if (!kv.second.IsScalar() && !kv.second.IsNull()) {
      return Err(d, kv.second, what + "." + kv.first.Scalar() + " must be a single value");
    }
    out[kv.first.Scalar()] = kv.second.IsNull() ? "" : kv.second.Scalar();
  }
  return out;
}

// ---- bindings and command placeholders ----

const std::regex& ParentInputRe() {
  static const std::regex re(R"(^\$\{\{\s*parent\.inputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$)");
  return re;
}
const std::regex& StepOutputRe() {
  static const std::regex re(
      R"(^\$\{\{\s*parent\.jobs\.([A-Za-z_][A-Za-z0-9_]*)\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$)");
  return re;
}
const std::regex& ParentOutputRe() {
  static const std::regex re(R"(^\$\{\{\s*parent\.outputs\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$)");
  return re;
}

struct CommandRefs {
  std::set<std::string> inputs_required;  // used outside $[[ ]]
  std::set<std::string> inputs_optional;  // used only inside $[[ ]]
  std::set<std::string> outputs;
};

// Scans a command for ${{inputs.x}} / ${{outputs.y}} and $[[ ... ]] parts.
Result<CommandRefs> ScanCommand(const Doc& d, const YAML::Node& node, const std::string& cmd) {
  CommandRefs refs;
  bool in_optional = false;
  static const std::regex ref_re(R"(^\s*(inputs|outputs)\.([A-Za-z_][A-Za-z0-9_]*)\s*$)");
  for (size_t i = 0; i < cmd.size();) {
    if (cmd.compare(i, 3, "$[[") == 0) {
      if (in_optional)
        return Err(d, node, "command: '$[[' inside another '$[[ ... ]]'; they do not nest");
      in_optional = true;
      i += 3;
    } else if (cmd.compare(i, 2, "]]") == 0 && in_optional) {
      in_optional = false;
      i += 2;
    } else if (cmd.compare(i, 3, "${{") == 0) {
      size_t end = cmd.find("}}", i + 3);
      if (end == std::string::npos) return Err(d, node, "command: '${{' without a closing '}}'");
      std::string inner = cmd.substr(i + 3, end - i - 3);
      std::smatch m;
      if (!std::regex_match(inner, m, ref_re)) {
        return Err(d, node,
                   "command: '${{" + inner +
                       "}}' is not a reference Cairn knows; use ${{inputs.<name>}} or "
                       "${{outputs.<name>}}");
      }
      if (m[1] == "outputs") {
        refs.outputs.insert(m[2]);
      } else if (in_optional) {
        refs.inputs_optional.insert(m[2]);
      } else {
        refs.inputs_required.insert(m[2]);
      }
      i = end + 2;
    } else {
      ++i;
    }
  }
  if (in_optional) return Err(d, node, "command: '$[[' without a closing ']]'");
  for (const auto& r : refs.inputs_required) refs.inputs_optional.erase(r);
  return refs;
}

// ---- values ----

const std::vector<std::string> kLiteralTypes = {"string", "integer", "number", "boolean"};
const std::vector<std::string> kInputTypes = {"string",  "integer",  "number",
                                              "boolean", "uri_file", "uri_folder"};

bool IsUriType(const std::string& t) { return t == "uri_file" || t == "uri_folder"; }

// Azure ML's model types (`mlflow_model`, `custom_model`) are folders a step
// reads or writes, so Cairn's plan carries them as uri_folder: a component such
// as components/train.yml can keep the Azure declaration and still feed a
// uri_folder input (and the reverse). Other types are returned unchanged.
std::string FolderTypeOf(const std::string& t) {
  return t == "mlflow_model" || t == "custom_model" ? "uri_folder" : t;
}

Status CheckLiteralType(const Doc& d, const YAML::Mark& m, const std::string& what,
                        const std::string& type, const std::string& value) {
  if (type == "integer" && !ParseInt(value)) {
    return Err(d, m, what + " must be an integer, got '" + value + "'");
  }
  if (type == "number" && !ParseNumber(value)) {
    return Err(d, m, what + " must be a number, got '" + value + "'");
  }
  if (type == "boolean") {
    std::string v = value;
    std::transform(v.begin(), v.end(), v.begin(), ::tolower);
    if (v != "true" && v != "false") {
      return Err(d, m, what + " must be true or false, got '" + value + "'");
    }
  }
  return Status::Ok();
}

// A local or datastore path (or a data asset reference) for a uri input.
Status ResolveUriPath(const Doc& d, const YAML::Node& node, const std::string& what,
                      const std::string& type, InputValue& in) {
  std::string path = node.Scalar();
  in.type = type;
  if (path.empty())
    return Err(d, node, what + ": path is empty; give a local path or azureml:<name>:<version>");
  if (path.rfind("azureml://datastores/", 0) == 0) {
    in.kind = type == "uri_file" ? InputValue::Kind::kUriFile : InputValue::Kind::kUriFolder;
    in.path = path;
    return Status::Ok();
  }
  if (path.rfind("azureml:", 0) == 0 && path.rfind("azureml://", 0) != 0) {
    auto ref = ParseAssetRef(path);
    if (!ref.ok()) return Err(d, node, what + ": " + ref.status().message());
    in.kind = InputValue::Kind::kDataAsset;
    in.asset_ref = path.substr(8);
    return Status::Ok();
  }
  if (path.find("://") != std::string::npos) {
    return Err(d, node,
               what + ": '" + path +
                   "' is a URL Cairn does not read; give a local path, "
                   "azureml://datastores/<name>/paths/<path> or azureml:<name>:<version>");
  }
  if (path.rfind("file:", 0) == 0) path = path.substr(5);
  fs::path p = fs::path(path).is_absolute() ? fs::path(path) : d.dir / path;
  p = p.lexically_normal();
  std::error_code ec;
  if (type == "uri_file" && !fs::is_regular_file(p, ec)) {
    return Err(d, node,
               what + ": '" + p.string() + "' is not a file (type uri_file needs one file)");
  }
  if (type == "uri_folder" && !fs::is_directory(p, ec)) {
    return Err(d, node,
               what + ": '" + p.string() + "' is not a folder (type uri_folder needs a folder)");
  }
  in.kind = type == "uri_file" ? InputValue::Kind::kUriFile : InputValue::Kind::kUriFolder;
  in.path = p.string();
  return Status::Ok();
}

// A binding is kept with the node it came from so later checks can point at it.
struct Binding {
  std::string step, input;  // the consumer
  YAML::Mark mark;
  Doc doc;
};

// An input value as written in a job, a pipeline or a step.
// `key` (the entry's key) locates an empty value: an empty value's own mark
// points past the entry.
Result<InputValue> ParseInputValue(const Doc& d, const YAML::Node& n, const std::string& what,
                                   bool allow_bindings, const YAML::Node& key = YAML::Node()) {
  InputValue in;
  if (n.IsNull()) {
    return Err(d, key.IsDefined() && !key.IsNull() ? key : n,
               what + " has no value; give a literal, a binding or {type, path}");
  }
  if (n.IsSequence()) return Err(d, n, what + ": a list is not an input value");
  if (n.IsScalar()) {
    const std::string& s = n.Scalar();
    std::smatch m;
    if (s.find("${{") != std::string::npos) {
      if (!allow_bindings) {
        return Err(d, n,
                   what + ": '" + s +
                       "' is a binding, which only a pipeline's steps may use; give a value");
      }
      if (std::regex_match(s, m, ParentInputRe())) {
        in.kind = InputValue::Kind::kParentInput;
        in.parent_input = m[1];
      } else if (std::regex_match(s, m, StepOutputRe())) {
        in.kind = InputValue::Kind::kStepOutput;
        in.from_step = m[1];
        in.from_output = m[2];
      } else {
        return Err(d, n,
                   what + ": '" + s +
                       "' is not a binding Cairn knows; a binding is the whole value: "
                       "${{parent.inputs.<name>}} or ${{parent.jobs.<step>.outputs.<name>}}");
      }
      return in;
    }
    if (s.rfind("azureml:", 0) == 0 && s.rfind("azureml://", 0) != 0) {
      auto ref = ParseAssetRef(s);
      if (!ref.ok()) return Err(d, n, what + ": " + ref.status().message());
      in.kind = InputValue::Kind::kDataAsset;
      in.asset_ref = s.substr(8);
      return in;
    }
    in.kind = InputValue::Kind::kLiteral;
    in.literal = s;
    return in;
  }
  CAIRN_RETURN_IF_ERROR(CheckMap(
      d, n, {"type", "path", "mode", "value", "default", "description", "optional"}, what));
  std::string type;
  if (n["type"]) {
    CAIRN_ASSIGN_OR_RETURN(type, Scalar(d, n["type"], what + ".type"));
    type = FolderTypeOf(type);
    if (type == "mltable" || type == "triton_model") {
      return Err(d, n["type"],
                 what + ".type: " + type + " is not supported; use uri_file or uri_folder");
    }
    if (std::find(kInputTypes.begin(), kInputTypes.end(), type) == kInputTypes.end()) {
      return Err(d, n["type"],
                 what + ".type: unknown type '" + type + "'; expected one of " + Join(kInputTypes));
    }
  }
  if (n["mode"]) {
    static const std::vector<std::string> kModes = {"ro_mount", "rw_mount",   "download",
                                                    "direct",   "eval_mount", "eval_download"};
    CAIRN_ASSIGN_OR_RETURN(std::string mode, Scalar(d, n["mode"], what + ".mode"));
    if (std::find(kModes.begin(), kModes.end(), mode) == kModes.end()) {
      return Err(d, n["mode"],
                 what + ".mode: unknown mode '" + mode + "'; expected one of " + Join(kModes));
    }
  }
  if (n["optional"]) {
    CAIRN_ASSIGN_OR_RETURN(in.optional, Bool(d, n["optional"], what + ".optional"));
  }
  if (n["path"]) {
    if (type.empty()) type = "uri_folder";
    if (!IsUriType(type)) {
      return Err(d, n["path"], what + ": path needs type uri_file or uri_folder, not " + type);
    }
    if (n["value"] || n["default"]) {
      return Err(d, n, what + ": give either path (for files) or value (for literals), not both");
    }
    CAIRN_ASSIGN_OR_RETURN(std::string path, Scalar(d, n["path"], what + ".path"));
    std::smatch m;
    if (allow_bindings && path.find("${{") != std::string::npos) {
      CAIRN_ASSIGN_OR_RETURN(InputValue bound, ParseInputValue(d, n["path"], what + ".path", true));
      bound.type = type;
      return bound;
    }
    CAIRN_RETURN_IF_ERROR(ResolveUriPath(d, n["path"], what + ".path", type, in));
    return in;
  }
  const YAML::Node v = n["value"] ? n["value"] : n["default"];
  if (!v) {
    if (IsUriType(type)) return Err(d, n, what + ": type " + type + " needs a path");
    return Err(d, n, what + ": needs a value (value: ...) or a path (type: uri_folder, path: ...)");
  }
  if (type.empty()) type = "string";
  if (IsUriType(type)) return Err(d, v, what + ": type " + type + " takes a path, not a value");
  CAIRN_ASSIGN_OR_RETURN(in.literal, Scalar(d, v, what + ".value"));
  CAIRN_RETURN_IF_ERROR(CheckLiteralType(d, v.Mark(), what, type, in.literal));
  in.kind = InputValue::Kind::kLiteral;
  in.type = type;
  return in;
}

// An output declaration (job, step or component). `parent_binding` receives
// the pipeline output a step output is bound to.
Result<OutputSpec> ParseOutput(const Doc& d, const YAML::Node& n, const std::string& what,
                               bool allow_parent_binding, std::string* parent_binding) {
  OutputSpec out;
  if (n.IsNull()) return out;
  if (n.IsScalar()) {
    std::smatch m;
    const std::string& s = n.Scalar();
    if (allow_parent_binding && std::regex_match(s, m, ParentOutputRe())) {
      *parent_binding = m[1];
      return out;
    }
    return Err(d, n,
               what + ": expected {type: uri_folder|uri_file}" +
                   std::string(allow_parent_binding ? " or ${{parent.outputs.<name>}}" : "") +
                   ", got '" + s + "'");
  }
  CAIRN_RETURN_IF_ERROR(CheckMap(d, n, {"type", "mode", "name", "version", "description"}, what));
  if (n["type"]) {
    CAIRN_ASSIGN_OR_RETURN(out.type, Scalar(d, n["type"], what + ".type"));
    out.type = FolderTypeOf(out.type);
    if (!IsUriType(out.type)) {
      return Err(d, n["type"],
                 what + ".type: '" + out.type +
                     "' is not an output type Cairn writes; expected uri_folder or uri_file");
    }
  }
  if (n["mode"]) {
    CAIRN_ASSIGN_OR_RETURN(std::string mode, Scalar(d, n["mode"], what + ".mode"));
    if (mode != "rw_mount" && mode != "upload") {
      return Err(d, n["mode"],
                 what + ".mode: '" + mode + "' is not an output mode; expected rw_mount or upload");
    }
  }
  if (n["name"]) {
    CAIRN_ASSIGN_OR_RETURN(out.register_as, Scalar(d, n["name"], what + ".name"));
    if (!IsValidAssetName(out.register_as)) {
      return Err(d, n["name"],
                 what + ".name: '" + out.register_as + "' is not a valid asset name (" +
                     std::string(kAssetNamePattern) + ")");
    }
  }
  if (n["version"]) {
    CAIRN_ASSIGN_OR_RETURN(out.register_version, Scalar(d, n["version"], what + ".version"));
    if (!IsValidAssetVersion(out.register_version)) {
      return Err(d, n["version"],
                 what + ".version: '" + out.register_version +
                     "' is not a valid version (letters, digits, '_', '-', '.'; at most 64)");
    }
    if (out.register_as.empty()) {
      return Err(d, n["version"],
                 what +
                     ".version needs a name: the output is registered as data asset "
                     "name:version");
    }
  }
  return out;
}

Status CheckName(const Doc& d, const YAML::Node& key, const std::string& kind) {
  if (!IsIdentifier(key.Scalar())) {
    return Err(d, key,
               kind + " name '" + key.Scalar() +
                   "' is not valid; use letters, digits and '_', not starting with a digit");
  }
  return Status::Ok();
}

Result<std::string> ResolveCode(const Doc& d, const YAML::Node& n) {
  CAIRN_ASSIGN_OR_RETURN(std::string code, Scalar(d, n, "code"));
  if (code.rfind("azureml:", 0) == 0 && code.rfind("azureml://", 0) != 0) return code.substr(8);
  if (code.find("://") != std::string::npos) {
    return Err(d, n, "code: '" + code + "' is a URL Cairn does not read; give a local folder");
  }
  if (code.rfind("file:", 0) == 0) code = code.substr(5);
  fs::path p = fs::path(code).is_absolute() ? fs::path(code) : d.dir / code;
  p = p.lexically_normal();
  std::error_code ec;
  if (!fs::is_directory(p, ec)) {
    return Err(d, n,
               "code: '" + p.string() + "' is not a folder; code names the folder to snapshot");
  }
  std::string s = p.string();
  if (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

Result<std::string> ResolveEnvironment(const Doc& d, const YAML::Node& n) {
  const std::string kHow =
      "not supported: register an environment (cairn environment create -f env.yml) and "
      "reference it as azureml:<name>:<version> or azureml:<name>@latest";
  if (n.IsMap()) return Err(d, n, "environment: an inline environment is " + kHow);
  CAIRN_ASSIGN_OR_RETURN(std::string env, Scalar(d, n, "environment"));
  if (env.rfind("azureml://", 0) == 0 || env.find("://") != std::string::npos) {
    return Err(d, n, "environment: '" + env + "' (a registry or URL reference) is " + kHow);
  }
  if (env.find('/') != std::string::npos && env.find(':') != std::string::npos &&
      env.rfind("azureml:", 0) != 0) {
    return Err(d, n, "environment: '" + env + "' looks like a docker image; an image is " + kHow);
  }
  auto ref = ParseAssetRef(env);
  if (!ref.ok()) {
    return Err(d, n,
               "environment: '" + env + "' is not an environment reference (" +
                   ref.status().message() +
                   "); expected azureml:<name>:<version> or azureml:<name>@latest");
  }
  return env.rfind("azureml:", 0) == 0 ? env.substr(8) : env;
}

Result<std::string> ResolveCompute(const Doc& d, const YAML::Node& n) {
  CAIRN_ASSIGN_OR_RETURN(std::string c, Scalar(d, n, "compute"));
  if (c.rfind("azureml:", 0) == 0) c = c.substr(8);
  static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$");
  if (!std::regex_match(c, re)) {
    return Err(d, n,
               "compute: '" + c +
                   "' is not a compute name; expected azureml:<name> or <name> (letters, digits, "
                   "'_', '-')");
  }
  return c;
}

Status ParseLimits(const Doc& d, const YAML::Node& n, StepPlan& step) {
  CAIRN_RETURN_IF_ERROR(CheckMap(d, n, {"timeout"}, "limits"));
  if (n["timeout"]) {
    CAIRN_ASSIGN_OR_RETURN(std::string t, Scalar(d, n["timeout"], "limits.timeout"));
    auto v = ParseInt(t);
    if (!v || *v <= 0)
      return Err(d, n["timeout"],
                 "limits.timeout must be a whole number of seconds > 0, got '" + t + "'");
    step.timeout_seconds = *v;
  }
  return Status::Ok();
}

Status ParseRetry(const Doc& d, const YAML::Node& n, StepPlan& step) {
  CAIRN_RETURN_IF_ERROR(CheckMap(d, n, {"max_attempts", "backoff_seconds"}, "retry"));
  if (n["max_attempts"]) {
    CAIRN_ASSIGN_OR_RETURN(std::string t, Scalar(d, n["max_attempts"], "retry.max_attempts"));
    auto v = ParseInt(t);
    if (!v || *v < 1 || *v > 100)
      return Err(d, n["max_attempts"],
                 "retry.max_attempts must be an integer from 1 to 100, got '" + t + "'");
    step.retry.max_attempts = static_cast<int>(*v);
  }
  if (n["backoff_seconds"]) {
    CAIRN_ASSIGN_OR_RETURN(std::string t, Scalar(d, n["backoff_seconds"], "retry.backoff_seconds"));
    auto v = ParseNumber(t);
    if (!v || *v < 0 || *v > 86400)
      return Err(
          d, n["backoff_seconds"],
          "retry.backoff_seconds must be a number of seconds from 0 to 86400, got '" + t + "'");
    step.retry.backoff_seconds = *v;
  }
  return Status::Ok();
}

// ---- components ----

struct InputDecl {
  std::string type;
  bool optional = false;
  std::optional<std::string> default_value;
  std::optional<double> min, max;
  std::vector<std::string> enum_values;
};

struct Component {
  Doc doc;
  std::string name, version, display_name, command, code, environment;
  YAML::Node command_node;
  bool is_deterministic = true;
  std::map<std::string, InputDecl> inputs;
  std::map<std::string, OutputSpec> outputs;
  std::map<std::string, std::string> environment_variables;
};

Status CheckDeclared(const Doc& d, const YAML::Mark& m, const std::string& what,
                     const InputDecl& decl, const std::string& value) {
  CAIRN_RETURN_IF_ERROR(CheckLiteralType(d, m, what, decl.type, value));
  if ((decl.min || decl.max) && (decl.type == "integer" || decl.type == "number")) {
    double v = *ParseNumber(value);
    if (decl.min && v < *decl.min) {
      return Err(
          d, m, what + " is " + value + ", below the component's min " + std::to_string(*decl.min));
    }
    if (decl.max && v > *decl.max) {
      return Err(
          d, m, what + " is " + value + ", above the component's max " + std::to_string(*decl.max));
    }
  }
  if (!decl.enum_values.empty() && std::find(decl.enum_values.begin(), decl.enum_values.end(),
                                             value) == decl.enum_values.end()) {
    return Err(d, m,
               what + " is '" + value + "'; the component allows one of " + Join(decl.enum_values));
  }
  return Status::Ok();
}

Result<InputDecl> ParseInputDecl(const Doc& d, const YAML::Node& n, const std::string& what) {
  InputDecl decl;
  CAIRN_RETURN_IF_ERROR(CheckMap(
      d, n, {"type", "default", "optional", "min", "max", "enum", "description", "mode"}, what));
  if (!n["type"]) return Err(d, n, what + " needs a type: one of " + Join(kInputTypes));
  CAIRN_ASSIGN_OR_RETURN(decl.type, Scalar(d, n["type"], what + ".type"));
  decl.type = FolderTypeOf(decl.type);
  if (std::find(kInputTypes.begin(), kInputTypes.end(), decl.type) == kInputTypes.end()) {
    return Err(
        d, n["type"],
        what + ".type: '" + decl.type + "' is not supported; expected one of " + Join(kInputTypes));
  }
  if (n["optional"]) {
    CAIRN_ASSIGN_OR_RETURN(decl.optional, Bool(d, n["optional"], what + ".optional"));
  }
  for (const char* bound : {"min", "max"}) {
    if (!n[bound]) continue;
    if (decl.type != "integer" && decl.type != "number") {
      return Err(d, n[bound], what + "." + bound + " only applies to integer and number inputs");
    }
    CAIRN_ASSIGN_OR_RETURN(std::string t, Scalar(d, n[bound], what + "." + bound));
    auto v = ParseNumber(t);
    if (!v) return Err(d, n[bound], what + "." + bound + " must be a number, got '" + t + "'");
    (std::string(bound) == "min" ? decl.min : decl.max) = *v;
  }
  if (decl.min && decl.max && *decl.min > *decl.max)
    return Err(d, n["min"], what + ": min is above max");
  if (n["enum"]) {
    if (!n["enum"].IsSequence() || n["enum"].size() == 0) {
      return Err(d, n["enum"], what + ".enum must be a non-empty list of values");
    }
    if (decl.type != "string")
      return Err(d, n["enum"], what + ".enum only applies to string inputs");
    for (const auto& e : n["enum"]) {
      CAIRN_ASSIGN_OR_RETURN(std::string v, Scalar(d, e, what + ".enum item"));
      decl.enum_values.push_back(v);
    }
  }
  if (n["default"]) {
    if (IsUriType(decl.type)) {
      return Err(
          d, n["default"],
          what + ".default: a " + decl.type + " input takes no default; the step gives its path");
    }
    CAIRN_ASSIGN_OR_RETURN(std::string v, Scalar(d, n["default"], what + ".default"));
    CAIRN_RETURN_IF_ERROR(CheckDeclared(d, n["default"].Mark(), what + ".default", decl, v));
    decl.default_value = v;
  }
  return decl;
}

Result<YAML::Node> LoadYamlFile(const std::string& file, std::string* text_out) {
  std::ifstream f(file, std::ios::binary);
  if (!f)
    return Status(ErrorCode::kInvalidParameterValue,
                  "cannot read " + file + ": no such file or not readable");
  std::stringstream ss;
  ss << f.rdbuf();
  *text_out = ss.str();
  try {
    return YAML::Load(*text_out);
  } catch (const YAML::Exception& e) {
    return Err(Doc{file, {}, "(value from --set)"}, e.mark, "not valid YAML: " + e.msg);
  }
}

Result<Component> ParseComponent(const Doc& d, const YAML::Node& n, const std::string& what) {
  Component c;
  c.doc = d;
  CAIRN_RETURN_IF_ERROR(CheckMap(d, n,
                                 {"$schema", "type", "name", "version", "display_name",
                                  "description", "tags", "is_deterministic", "inputs", "outputs",
                                  "command", "code", "environment", "environment_variables"},
                                 what));
  if (n["type"]) {
    CAIRN_ASSIGN_OR_RETURN(std::string type, Scalar(d, n["type"], what + ".type"));
    if (type != "command")
      return Err(d, n["type"],
                 what + ".type: '" + type + "' components are not supported; expected command");
  }
  if (n["name"]) {
    CAIRN_ASSIGN_OR_RETURN(c.name, Scalar(d, n["name"], what + ".name"));
  }
  if (n["version"]) {
    CAIRN_ASSIGN_OR_RETURN(c.version, Scalar(d, n["version"], what + ".version"));
  }
  if (n["display_name"]) {
    CAIRN_ASSIGN_OR_RETURN(c.display_name, Scalar(d, n["display_name"], what + ".display_name"));
  }
  if (n["is_deterministic"]) {
    CAIRN_ASSIGN_OR_RETURN(c.is_deterministic,
                           Bool(d, n["is_deterministic"], what + ".is_deterministic"));
  }
  if (!n["command"]) return Err(d, n, what + " needs a command");
  c.command_node = n["command"];
  CAIRN_ASSIGN_OR_RETURN(c.command, Scalar(d, n["command"], what + ".command"));
  if (n["code"]) {
    CAIRN_ASSIGN_OR_RETURN(c.code, ResolveCode(d, n["code"]));
  }
  if (n["environment"]) {
    CAIRN_ASSIGN_OR_RETURN(c.environment, ResolveEnvironment(d, n["environment"]));
  }
  if (n["environment_variables"]) {
    CAIRN_ASSIGN_OR_RETURN(c.environment_variables, StringMap(d, n["environment_variables"],
                                                              what + ".environment_variables"));
  }
  if (n["inputs"]) {
    if (!n["inputs"].IsMap())
      return Err(d, n["inputs"], what + ".inputs must be a mapping of name: {type, ...}");
    for (const auto& kv : n["inputs"]) {
      CAIRN_RETURN_IF_ERROR(CheckName(d, kv.first, "input"));
      CAIRN_ASSIGN_OR_RETURN(c.inputs[kv.first.Scalar()],
                             ParseInputDecl(d, kv.second, what + ".inputs." + kv.first.Scalar()));
    }
  }
  if (n["outputs"]) {
    if (!n["outputs"].IsMap())
      return Err(d, n["outputs"], what + ".outputs must be a mapping of name: {type}");
    for (const auto& kv : n["outputs"]) {
      CAIRN_RETURN_IF_ERROR(CheckName(d, kv.first, "output"));
      CAIRN_ASSIGN_OR_RETURN(
          c.outputs[kv.first.Scalar()],
          ParseOutput(d, kv.second, what + ".outputs." + kv.first.Scalar(), false, nullptr));
    }
  }
  CAIRN_ASSIGN_OR_RETURN(CommandRefs refs, ScanCommand(d, c.command_node, c.command));
  for (const auto& i : refs.inputs_required) {
    auto it = c.inputs.find(i);
    if (it == c.inputs.end()) {
      return Err(
          d, c.command_node,
          "command uses ${{inputs." + i +
              "}} but the component declares no such input; its inputs: " + JoinKeys(c.inputs));
    }
    if (it->second.optional && !it->second.default_value) {
      return Err(d, c.command_node,
                 "command uses optional input '" + i +
                     "' outside $[[ ... ]]; put the part that uses it inside $[[ ... ]] so it is "
                     "dropped when the input is absent");
    }
  }
  for (const auto& i : refs.inputs_optional) {
    if (!c.inputs.count(i))
      return Err(
          d, c.command_node,
          "command uses ${{inputs." + i +
              "}} but the component declares no such input; its inputs: " + JoinKeys(c.inputs));
  }
  for (const auto& o : refs.outputs) {
    if (!c.outputs.count(o))
      return Err(
          d, c.command_node,
          "command uses ${{outputs." + o +
              "}} but the component declares no such output; its outputs: " + JoinKeys(c.outputs));
  }
  return c;
}

// ---- overrides ----

Status ApplyOverrides(YAML::Node root, const std::vector<SpecOverride>& overrides) {
  for (const SpecOverride& o : overrides) {
    std::vector<std::string> parts;
    std::stringstream ss(o.key);
    for (std::string p; std::getline(ss, p, '.');) parts.push_back(p);
    if (parts.empty() ||
        std::any_of(parts.begin(), parts.end(), [](const std::string& p) { return p.empty(); })) {
      return InvalidParameter(
          "--set " + o.key +
          ": the key must be a dotted path such as inputs.lr or settings.force_rerun");
    }
    YAML::Node cur;
    cur.reset(root);
    for (size_t i = 0; i + 1 < parts.size(); ++i) {
      if (cur.IsDefined() && !cur.IsMap() && !cur.IsNull()) {
        return InvalidParameter("--set " + o.key + ": '" + parts[i - 1] +
                                "' holds a single value, not a mapping with '" + parts[i] + "'");
      }
      YAML::Node next = cur[parts[i]];
      cur.reset(next);
    }
    if (cur.IsDefined() && !cur.IsMap() && !cur.IsNull()) {
      return InvalidParameter("--set " + o.key + ": '" +
                              (parts.size() > 1 ? parts[parts.size() - 2] : "") +
                              "' holds a single value, not a mapping");
    }
    YAML::Node target = cur[parts.back()];
    // Replaced, not assigned: a fresh node carries no mark, so errors about
    // it say it came from --set instead of pointing at the file's old value.
    auto replace = [&o](YAML::Node map, const std::string& key) {
      map.remove(key);
      map[key] = YAML::Node(o.value);
    };
    // `--set inputs.data=./other` on {type: uri_folder, path: ...} replaces the path.
    if (target.IsMap() && target["path"]) {
      replace(target, "path");
    } else if (target.IsMap() && target["value"]) {
      replace(target, "value");
    } else {
      replace(cur, parts.back());
    }
  }
  return Status::Ok();
}

// ---- the graph ----

// Orders the steps (Kahn, ties by name). On a cycle returns false and the
// steps that remain (those on or behind the cycle).
bool OrderSteps(JobPlan& plan, std::vector<std::string>* stuck) {
  std::map<std::string, size_t> index;
  for (size_t i = 0; i < plan.steps.size(); ++i) index[plan.steps[i].name] = i;
  std::map<std::string, int> pending;
  std::map<std::string, std::vector<std::string>> consumers;
  for (auto& s : plan.steps) {
    std::set<std::string> deps;
    for (const auto& [_, in] : s.inputs) {
      if (in.kind == InputValue::Kind::kStepOutput) deps.insert(in.from_step);
    }
    s.depends_on.assign(deps.begin(), deps.end());
    pending[s.name] = static_cast<int>(deps.size());
    for (const auto& dep : deps) consumers[dep].push_back(s.name);
  }
  std::set<std::string> ready;
  for (const auto& [name, n] : pending) {
    if (n == 0) ready.insert(name);
  }
  std::vector<StepPlan> ordered;
  while (!ready.empty()) {
    std::string name = *ready.begin();
    ready.erase(ready.begin());
    ordered.push_back(std::move(plan.steps[index[name]]));
    for (const auto& c : consumers[name]) {
      if (--pending[c] == 0) ready.insert(c);
    }
  }
  if (ordered.size() != plan.steps.size()) {
    for (const auto& [name, n] : pending) {
      if (n > 0) stuck->push_back(name);
    }
    return false;
  }
  plan.steps = std::move(ordered);
  return true;
}

// ---- jobs ----

const std::vector<std::string> kCommandJobKeys = {"$schema",
                                                  "type",
                                                  "name",
                                                  "display_name",
                                                  "description",
                                                  "tags",
                                                  "experiment_name",
                                                  "code",
                                                  "command",
                                                  "inputs",
                                                  "outputs",
                                                  "environment",
                                                  "compute",
                                                  "environment_variables",
                                                  "limits",
                                                  "retry"};
const std::vector<std::string> kPipelineJobKeys = {
    "$schema",         "type",   "name",    "display_name", "description", "tags",
    "experiment_name", "inputs", "outputs", "jobs",         "settings",    "compute"};
const std::vector<std::string> kInlineStepKeys = {
    "type",   "display_name", "description",     "code",    "command",
    "inputs", "outputs",      "environment",     "compute", "environment_variables",
    "limits", "retry",        "is_deterministic"};
const std::vector<std::string> kComponentStepKeys = {
    "type",        "component", "display_name",          "description", "inputs", "outputs",
    "environment", "compute",   "environment_variables", "limits",      "retry"};

Status ParseJobHeader(const Doc& d, const YAML::Node& root, JobPlan& plan) {
  if (root["name"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.name, Scalar(d, root["name"], "name"));
    static const std::regex re("^[A-Za-z0-9][A-Za-z0-9_-]{0,254}$");
    if (!std::regex_match(plan.name, re)) {
      return Err(
          d, root["name"],
          "name '" + plan.name + "' is not a valid job name; use letters, digits, '_' and '-'");
    }
  }
  if (root["display_name"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.display_name, Scalar(d, root["display_name"], "display_name"));
  }
  if (root["description"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.description, Scalar(d, root["description"], "description"));
  }
  if (root["experiment_name"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.experiment_name,
                           Scalar(d, root["experiment_name"], "experiment_name"));
  }
  if (root["tags"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.tags, StringMap(d, root["tags"], "tags"));
  }
  return Status::Ok();
}

// The fields an inline command (a command job or an inline step) and a
// component step share.
Status ParseStepCommon(const Doc& d, const YAML::Node& n, StepPlan& step) {
  if (n["display_name"]) {
    CAIRN_ASSIGN_OR_RETURN(step.display_name, Scalar(d, n["display_name"], "display_name"));
  }
  if (n["environment"]) {
    CAIRN_ASSIGN_OR_RETURN(step.environment, ResolveEnvironment(d, n["environment"]));
  }
  if (n["compute"]) {
    CAIRN_ASSIGN_OR_RETURN(step.compute, ResolveCompute(d, n["compute"]));
  }
  if (n["environment_variables"]) {
    CAIRN_ASSIGN_OR_RETURN(auto vars,
                           StringMap(d, n["environment_variables"], "environment_variables"));
    for (auto& [k, v] : vars) step.environment_variables[k] = v;
  }
  if (n["limits"]) CAIRN_RETURN_IF_ERROR(ParseLimits(d, n["limits"], step));
  if (n["retry"]) CAIRN_RETURN_IF_ERROR(ParseRetry(d, n["retry"], step));
  return Status::Ok();
}

// Checks an inline command's placeholders against the step's inputs/outputs.
Status CheckInlineCommand(const Doc& d, const YAML::Node& cmd_node, const StepPlan& step) {
  CAIRN_ASSIGN_OR_RETURN(CommandRefs refs, ScanCommand(d, cmd_node, step.command));
  for (const auto& set : {refs.inputs_required, refs.inputs_optional}) {
    for (const auto& i : set) {
      if (!step.inputs.count(i)) {
        return Err(d, cmd_node,
                   "command uses ${{inputs." + i + "}} but there is no input '" + i +
                       "'; inputs: " + JoinKeys(step.inputs));
      }
    }
  }
  for (const auto& o : refs.outputs) {
    if (!step.outputs.count(o)) {
      return Err(d, cmd_node,
                 "command uses ${{outputs." + o + "}} but there is no output '" + o +
                     "'; outputs: " + JoinKeys(step.outputs));
    }
  }
  return Status::Ok();
}

// The `inputs:` and `outputs:` of a command or pipeline job (literal values,
// uri_file/uri_folder, asset references; outputs by type).
Status ParseJobInputsOutputs(const Doc& d, const YAML::Node& root,
                             std::map<std::string, InputValue>& inputs,
                             std::map<std::string, OutputSpec>& outputs) {
  if (root["inputs"]) {
    if (!root["inputs"].IsMap())
      return Err(d, root["inputs"], "inputs must be a mapping of name: value");
    for (const auto& kv : root["inputs"]) {
      CAIRN_RETURN_IF_ERROR(CheckName(d, kv.first, "input"));
      CAIRN_ASSIGN_OR_RETURN(
          inputs[kv.first.Scalar()],
          ParseInputValue(d, kv.second, "inputs." + kv.first.Scalar(), false, kv.first));
    }
  }
  if (root["outputs"]) {
    if (!root["outputs"].IsMap())
      return Err(d, root["outputs"], "outputs must be a mapping of name: {type}");
    for (const auto& kv : root["outputs"]) {
      CAIRN_RETURN_IF_ERROR(CheckName(d, kv.first, "output"));
      CAIRN_ASSIGN_OR_RETURN(
          outputs[kv.first.Scalar()],
          ParseOutput(d, kv.second, "outputs." + kv.first.Scalar(), false, nullptr));
    }
  }
  return Status::Ok();
}

Result<JobPlan> ParseCommandJob(const Doc& d, const YAML::Node& root) {
  JobPlan plan;
  plan.type = "command";
  CAIRN_RETURN_IF_ERROR(CheckMap(d, root, kCommandJobKeys, "a command job"));
  CAIRN_RETURN_IF_ERROR(ParseJobHeader(d, root, plan));
  StepPlan step;
  step.name = "main";
  step.display_name = plan.display_name;
  if (!root["command"]) return Err(d, root, "a command job needs a command");
  CAIRN_ASSIGN_OR_RETURN(step.command, Scalar(d, root["command"], "command"));
  if (root["code"]) {
    CAIRN_ASSIGN_OR_RETURN(step.code, ResolveCode(d, root["code"]));
  }
  CAIRN_RETURN_IF_ERROR(ParseStepCommon(d, root, step));
  if (root["display_name"]) step.display_name = plan.display_name;
  CAIRN_RETURN_IF_ERROR(ParseJobInputsOutputs(d, root, step.inputs, step.outputs));
  CAIRN_RETURN_IF_ERROR(CheckInlineCommand(d, root["command"], step));
  plan.default_compute = step.compute;
  step.compute.clear();
  plan.steps.push_back(std::move(step));
  return plan;
}

Result<Component> LoadComponentRef(const Doc& d, const YAML::Node& n,
                                   const std::string& step_name) {
  std::string what = "jobs." + step_name + ".component";
  if (n.IsMap()) return ParseComponent(d, n, what);
  CAIRN_ASSIGN_OR_RETURN(std::string ref, Scalar(d, n, what));
  if (ref.rfind("azureml:", 0) == 0) {
    // A registered component: its YAML comes from the server.
    std::string registered = ref.substr(8);
    if (!d.components) {
      return Err(d, n,
                 what + ": '" + ref +
                     "' is a registered component, which only a client talking to the server "
                     "can read (cairn job create); here give its file as file:./component.yml");
    }
    auto text = d.components->FetchComponentYaml(registered);
    if (!text.ok()) {
      Status at = Err(d, n, what + ": '" + ref + "': " + text.status().message());
      // An unreachable server stays that (the CLI's exit 3), not a YAML error.
      if (text.status().code() == ErrorCode::kTemporarilyUnavailable) {
        return Status(ErrorCode::kTemporarilyUnavailable, at.message());
      }
      return at;
    }
    Doc cd{"component " + registered, fs::path("/"), "", d.components};
    YAML::Node root;
    try {
      root = YAML::Load(*text);
    } catch (const YAML::Exception& e) {
      return Err(cd, e.mark, "not valid YAML: " + e.msg);
    }
    if (!root.IsMap()) return Err(cd, root, "a component must be a mapping (key: value)");
    return ParseComponent(cd, root, "the component");
  }
  if (ref.rfind("file:", 0) == 0) ref = ref.substr(5);
  fs::path p = fs::path(ref).is_absolute() ? fs::path(ref) : d.dir / ref;
  p = p.lexically_normal();
  std::error_code ec;
  if (!fs::is_regular_file(p, ec))
    return Err(d, n, what + ": no component file at '" + p.string() + "'");
  std::string text;
  CAIRN_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(p.string(), &text));
  Doc cd{p.string(), p.parent_path(), "", d.components};
  if (!root.IsMap()) return Err(cd, root, "a component file must be a mapping (key: value)");
  return ParseComponent(cd, root, "the component");
}

// Applies a step's supplied input values to a component's declarations.
Status BindComponentInputs(const Doc& d, const YAML::Node& step_node, const Component& c,
                           const std::map<std::string, std::pair<InputValue, YAML::Node>>& supplied,
                           const JobPlan& plan, StepPlan& step) {
  const std::string label = "step '" + step.name + "'";
  for (const auto& [name, v] : supplied) {
    if (!c.inputs.count(name)) {
      return Err(
          d, v.second,
          label + ": the component has no input '" + name + "'; its inputs: " + JoinKeys(c.inputs));
    }
  }
  for (const auto& [name, decl] : c.inputs) {
    auto it = supplied.find(name);
    std::string what = label + " input '" + name + "'";
    if (it == supplied.end()) {
      if (decl.default_value) {
        InputValue in;
        in.kind = InputValue::Kind::kLiteral;
        in.literal = *decl.default_value;
        in.type = decl.type;
        step.inputs[name] = in;
      } else if (!decl.optional) {
        return Err(d, step_node,
                   label + ": input '" + name + "' (" + decl.type +
                       ") is required by the component and has no default; give it under inputs:");
      }
      continue;
    }
    InputValue in = it->second.first;
    const YAML::Mark mark = it->second.second.Mark();
    in.type = decl.type;
    in.optional = decl.optional;
    bool want_uri = IsUriType(decl.type);
    switch (in.kind) {
      case InputValue::Kind::kLiteral:
        if (want_uri)
          return Err(d, mark,
                     what + " is a " + decl.type + "; give {type: " + decl.type +
                         ", path: ...} or a binding, not the value '" + in.literal + "'");
        CAIRN_RETURN_IF_ERROR(CheckDeclared(d, mark, what, decl, in.literal));
        break;
      case InputValue::Kind::kUriFile:
      case InputValue::Kind::kUriFolder:
      case InputValue::Kind::kDataAsset:
        if (!want_uri)
          return Err(
              d, mark,
              what + " is a " + decl.type + " value; a file or data asset cannot be given to it");
        break;
      case InputValue::Kind::kParentInput: {
        auto p = plan.inputs.find(in.parent_input);
        if (p == plan.inputs.end()) break;  // reported with the other bindings
        bool parent_uri = p->second.kind != InputValue::Kind::kLiteral;
        if (parent_uri != want_uri) {
          return Err(d, mark,
                     what + " is a " + decl.type + " but the pipeline input '" + in.parent_input +
                         "' is " + (parent_uri ? "a file/folder" : "a literal value"));
        }
        if (!parent_uri)
          CAIRN_RETURN_IF_ERROR(
              CheckDeclared(d, mark, what + " (from pipeline input '" + in.parent_input + "')",
                            decl, p->second.literal));
        break;
      }
      case InputValue::Kind::kStepOutput:
        if (!want_uri)
          return Err(d, mark,
                     what + " is a " + decl.type +
                         " value; a step output (a file or folder) cannot be given to it");
        break;
    }
    step.inputs[name] = in;
  }
  return Status::Ok();
}

Result<JobPlan> ParsePipelineJob(const Doc& d, const YAML::Node& root) {
  JobPlan plan;
  plan.type = "pipeline";
  CAIRN_RETURN_IF_ERROR(CheckMap(d, root, kPipelineJobKeys, "a pipeline job"));
  CAIRN_RETURN_IF_ERROR(ParseJobHeader(d, root, plan));
  CAIRN_RETURN_IF_ERROR(ParseJobInputsOutputs(d, root, plan.inputs, plan.outputs));
  if (root["compute"]) {
    CAIRN_ASSIGN_OR_RETURN(plan.default_compute, ResolveCompute(d, root["compute"]));
  }
  if (root["settings"]) {
    const YAML::Node s = root["settings"];
    CAIRN_RETURN_IF_ERROR(
        CheckMap(d, s, {"default_compute", "continue_on_step_failure", "force_rerun"}, "settings"));
    if (s["default_compute"]) {
      CAIRN_ASSIGN_OR_RETURN(plan.default_compute, ResolveCompute(d, s["default_compute"]));
    }
    if (s["continue_on_step_failure"]) {
      CAIRN_ASSIGN_OR_RETURN(
          plan.continue_on_step_failure,
          Bool(d, s["continue_on_step_failure"], "settings.continue_on_step_failure"));
    }
    if (s["force_rerun"]) {
      CAIRN_ASSIGN_OR_RETURN(plan.force_rerun, Bool(d, s["force_rerun"], "settings.force_rerun"));
    }
  }
  const YAML::Node jobs = root["jobs"];
  if (!jobs || !jobs.IsMap() || jobs.size() == 0) {
    return Err(d, jobs ? jobs : root,
               "a pipeline job needs jobs: a mapping of step name: {command ...} or {component: "
               "file:...}");
  }
  std::vector<Binding> bindings;
  std::map<std::string, YAML::Node> step_nodes;
  for (const auto& kv : jobs) {
    const std::string name = kv.first.Scalar();
    CAIRN_RETURN_IF_ERROR(CheckName(d, kv.first, "step"));
    const YAML::Node n = kv.second;
    step_nodes[name] = kv.first;
    const std::string label = "jobs." + name;
    if (!n.IsMap()) return Err(d, n, label + " must be a mapping with command: or component:");
    if (n["type"]) {
      CAIRN_ASSIGN_OR_RETURN(std::string type, Scalar(d, n["type"], label + ".type"));
      if (type != "command")
        return Err(d, n["type"],
                   label + ".type: '" + type + "' steps are not supported; expected command");
    }
    StepPlan step;
    step.name = name;
    // Supplied input values, with their nodes for messages.
    std::map<std::string, std::pair<InputValue, YAML::Node>> supplied;
    if (n["inputs"]) {
      if (!n["inputs"].IsMap())
        return Err(d, n["inputs"], label + ".inputs must be a mapping of name: value");
      for (const auto& in : n["inputs"]) {
        CAIRN_RETURN_IF_ERROR(CheckName(d, in.first, "input"));
        CAIRN_ASSIGN_OR_RETURN(
            InputValue v,
            ParseInputValue(d, in.second, label + ".inputs." + in.first.Scalar(), true, in.first));
        supplied[in.first.Scalar()] = {v, in.second};
      }
    }
    std::map<std::string, std::pair<OutputSpec, std::string>> outs;  // spec, bound parent output
    std::map<std::string, YAML::Node> out_nodes;
    if (n["outputs"]) {
      if (!n["outputs"].IsMap())
        return Err(
            d, n["outputs"],
            label + ".outputs must be a mapping of name: {type} or ${{parent.outputs.<name>}}");
      for (const auto& o : n["outputs"]) {
        CAIRN_RETURN_IF_ERROR(CheckName(d, o.first, "output"));
        std::string bound;
        CAIRN_ASSIGN_OR_RETURN(
            OutputSpec spec,
            ParseOutput(d, o.second, label + ".outputs." + o.first.Scalar(), true, &bound));
        outs[o.first.Scalar()] = {spec, bound};
        out_nodes[o.first.Scalar()] = o.second;
      }
    }
    if (n["component"]) {
      CAIRN_RETURN_IF_ERROR(
          CheckMap(d, n, kComponentStepKeys, "step '" + name + "' (a component step)"));
      CAIRN_ASSIGN_OR_RETURN(Component c, LoadComponentRef(d, n["component"], name));
      step.command = c.command;
      step.code = c.code;
      step.environment = c.environment;
      step.environment_variables = c.environment_variables;
      step.display_name = c.display_name;
      step.is_deterministic = c.is_deterministic;
      step.component_name = c.name;
      step.component_version = c.version;
      CAIRN_RETURN_IF_ERROR(ParseStepCommon(d, n, step));
      CAIRN_RETURN_IF_ERROR(BindComponentInputs(d, kv.first, c, supplied, plan, step));
      step.outputs = c.outputs;
      for (auto& [oname, o] : outs) {
        if (!c.outputs.count(oname)) {
          return Err(d, out_nodes[oname],
                     "step '" + name + "': the component has no output '" + oname +
                         "'; its outputs: " + JoinKeys(c.outputs));
        }
        if (o.second.empty()) step.outputs[oname] = o.first;
      }
    } else {
      CAIRN_RETURN_IF_ERROR(CheckMap(d, n, kInlineStepKeys, "step '" + name + "'"));
      if (!n["command"])
        return Err(d, n,
                   "step '" + name +
                       "' needs command: (an inline command) or component: file:<component.yml>");
      CAIRN_ASSIGN_OR_RETURN(step.command, Scalar(d, n["command"], label + ".command"));
      if (n["code"]) {
        CAIRN_ASSIGN_OR_RETURN(step.code, ResolveCode(d, n["code"]));
      }
      if (n["is_deterministic"]) {
        CAIRN_ASSIGN_OR_RETURN(step.is_deterministic,
                               Bool(d, n["is_deterministic"], label + ".is_deterministic"));
      }
      CAIRN_RETURN_IF_ERROR(ParseStepCommon(d, n, step));
      for (auto& [iname, v] : supplied) step.inputs[iname] = v.first;
      for (auto& [oname, o] : outs) step.outputs[oname] = o.first;
      CAIRN_RETURN_IF_ERROR(CheckInlineCommand(d, n["command"], step));
    }
    // Step outputs bound to pipeline outputs.
    for (auto& [oname, o] : outs) {
      if (o.second.empty()) continue;
      auto p = plan.outputs.find(o.second);
      if (p == plan.outputs.end()) {
        return Err(d, out_nodes[oname],
                   "step '" + name + "' output '" + oname + "' is bound to ${{parent.outputs." +
                       o.second + "}} but the pipeline has no output '" + o.second +
                       "'; its outputs: " + JoinKeys(plan.outputs));
      }
      if (!p->second.from_step.empty()) {
        return Err(d, out_nodes[oname],
                   "pipeline output '" + o.second + "' is already produced by step '" +
                       p->second.from_step + "'; one step output per pipeline output");
      }
      p->second.from_step = name;
      p->second.from_output = oname;
      OutputSpec& so = step.outputs[oname];
      so.type = p->second.type;
      if (so.register_as.empty()) {
        so.register_as = p->second.register_as;
        so.register_version = p->second.register_version;
      }
    }
    for (const auto& [iname, v] : supplied) {
      if (v.first.kind == InputValue::Kind::kParentInput ||
          v.first.kind == InputValue::Kind::kStepOutput) {
        bindings.push_back({name, iname, v.second.Mark(), d});
      }
    }
    plan.steps.push_back(std::move(step));
  }
  // Bindings name existing pipeline inputs, steps and outputs.
  std::map<std::string, const StepPlan*> by_name;
  for (const auto& s : plan.steps) by_name[s.name] = &s;
  for (const Binding& b : bindings) {
    const InputValue& in = by_name[b.step]->inputs.at(b.input);
    if (in.kind == InputValue::Kind::kParentInput) {
      if (!plan.inputs.count(in.parent_input)) {
        return Err(d, b.mark,
                   "step '" + b.step + "' input '" + b.input + "' uses ${{parent.inputs." +
                       in.parent_input + "}} but the pipeline has no input '" + in.parent_input +
                       "'; its inputs: " + JoinKeys(plan.inputs));
      }
      continue;
    }
    auto from = by_name.find(in.from_step);
    if (from == by_name.end()) {
      return Err(d, b.mark,
                 "step '" + b.step + "' input '" + b.input + "' uses the outputs of step '" +
                     in.from_step + "', which does not exist; steps: " + JoinKeys(by_name));
    }
    if (in.from_step == b.step) {
      return Err(d, b.mark,
                 "step '" + b.step + "' input '" + b.input +
                     "' uses the step's own output; a step cannot consume itself");
    }
    auto out = from->second->outputs.find(in.from_output);
    if (out == from->second->outputs.end()) {
      return Err(d, b.mark,
                 "step '" + b.step + "' input '" + b.input + "' uses output '" + in.from_output +
                     "' of step '" + in.from_step + "', which has no such output; its outputs: " +
                     JoinKeys(from->second->outputs));
    }
    if (IsUriType(in.type) && in.type != out->second.type) {
      return Err(d, b.mark,
                 "step '" + b.step + "' input '" + b.input + "' is a " + in.type + " but output '" +
                     in.from_output + "' of step '" + in.from_step + "' is a " + out->second.type);
    }
  }
  std::vector<std::string> stuck;
  if (!OrderSteps(plan, &stuck)) {
    return Err(d, step_nodes[stuck.front()],
               "the steps " + Join(stuck) +
                   " depend on each other in a cycle (through ${{parent.jobs.<step>.outputs...}} "
                   "bindings); a pipeline must be acyclic");
  }
  return plan;
}

Result<JobPlan> ParseRoot(const Doc& d, const YAML::Node& root, const std::string& file,
                          const std::string& yaml_text) {
  std::string type = "command";
  if (root["type"]) {
    CAIRN_ASSIGN_OR_RETURN(type, Scalar(d, root["type"], "type"));
  }
  Result<JobPlan> plan = Status();
  if (type == "command" && root["$schema"] && root["$schema"].IsScalar() &&
      root["$schema"].Scalar().find("Component") != std::string::npos) {
    return Err(d, root["$schema"],
               "this is a component, not a job; reference it from a pipeline step as component: "
               "file:<this file>");
  }
  if (type == "command") {
    plan = ParseCommandJob(d, root);
  } else if (type == "pipeline") {
    plan = ParsePipelineJob(d, root);
  } else {
    return Err(d, root["type"],
               "type '" + type + "' is not a job type Cairn runs; expected command or pipeline");
  }
  if (!plan.ok()) return plan.status();
  plan->source_file = file;
  plan->source_yaml = yaml_text;
  CAIRN_RETURN_IF_ERROR(ValidateAndOrderPlan(*plan));
  return plan;
}

}  // namespace

Result<SpecOverride> ParseOverride(const std::string& text) {
  size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    return InvalidParameter("--set expects KEY=VALUE (e.g. inputs.lr=0.1), got '" + text + "'");
  }
  return SpecOverride{text.substr(0, eq), text.substr(eq + 1)};
}

Result<JobPlan> ParseJobSpec(const std::string& yaml_text, const std::string& file,
                             const std::string& base_dir,
                             const std::vector<SpecOverride>& overrides,
                             ComponentSource* components) {
  Doc d{file, fs::path(base_dir), "(value from --set)"};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Err(d, e.mark, "not valid YAML: " + e.msg);
  }
  return ParseJobNode(root, file, base_dir, yaml_text, overrides, components);
}

Result<JobPlan> ParseJobNode(YAML::Node root, const std::string& file, const std::string& base_dir,
                             const std::string& yaml_text,
                             const std::vector<SpecOverride>& overrides,
                             ComponentSource* components) {
  Doc d{file, fs::path(base_dir), "(value from --set)", components};
  if (!root.IsMap())
    return Err(d, root, "a job must be a mapping with type: command or type: pipeline");
  CAIRN_RETURN_IF_ERROR(ApplyOverrides(root, overrides));
  return ParseRoot(d, root, file, yaml_text);
}

Result<JobPlan> LoadJobSpec(const std::string& file, const std::vector<SpecOverride>& overrides,
                            ComponentSource* components) {
  std::ifstream f(file, std::ios::binary);
  if (!f) return InvalidParameter("cannot read " + file + ": no such file or not readable");
  std::stringstream ss;
  ss << f.rdbuf();
  fs::path dir = fs::absolute(fs::path(file)).parent_path();
  return ParseJobSpec(ss.str(), file, dir.string(), overrides, components);
}

namespace {

// The parts of a checked component that registration records.
Result<ComponentRegistration> Registration(const Doc& d, const YAML::Node& root,
                                           const Component& c) {
  if (c.name.empty()) return Err(d, root, "a registered component needs a name:");
  ComponentRegistration r;
  r.name = c.name;
  r.version = c.version;
  if (root["description"]) {
    CAIRN_ASSIGN_OR_RETURN(r.description, Scalar(d, root["description"], "description"));
  }
  return r;
}

}  // namespace

Result<ComponentRegistration> PrepareComponentRegistration(const std::string& file,
                                                           PlanUploader& uploader) {
  std::string text;
  CAIRN_ASSIGN_OR_RETURN(YAML::Node root, LoadYamlFile(file, &text));
  fs::path path = fs::absolute(fs::path(file));
  Doc d{file, path.parent_path()};
  if (!root.IsMap()) return Err(d, root, "a component file must be a mapping (key: value)");
  CAIRN_ASSIGN_OR_RETURN(Component c, ParseComponent(d, root, "the component"));
  CAIRN_ASSIGN_OR_RETURN(ComponentRegistration r, Registration(d, root, c));
  // ResolveCode made a local folder absolute; a snapshot reference stays as given.
  if (!c.code.empty() && fs::path(c.code).is_absolute()) {
    CAIRN_ASSIGN_OR_RETURN(std::string snapshot, uploader.UploadCode(c.code));
    root["code"] = "azureml:" + snapshot;
  }
  YAML::Emitter out;
  out << root;
  if (!out.good()) return InternalError("cannot write the component back: " + out.GetLastError());
  r.yaml = out.c_str();
  return r;
}

Result<ComponentRegistration> ReadComponentRegistration(const std::string& yaml_text) {
  // Relative paths mean nothing on the server: a local code folder is refused.
  Doc d{"the component", fs::path("/nonexistent-component-dir")};
  YAML::Node root;
  try {
    root = YAML::Load(yaml_text);
  } catch (const YAML::Exception& e) {
    return Err(d, e.mark, "not valid YAML: " + e.msg);
  }
  if (!root.IsMap()) return Err(d, root, "a component must be a mapping (key: value)");
  if (root["code"] && root["code"].IsScalar()) {
    const std::string& code = root["code"].Scalar();
    if (code.rfind("azureml:", 0) != 0 || code.rfind("azureml://", 0) == 0) {
      return Err(d, root["code"],
                 "code: '" + code +
                     "' is a local folder; register the component with `cairn component create "
                     "-f FILE`, which uploads the folder and names its snapshot");
    }
  }
  CAIRN_ASSIGN_OR_RETURN(Component c, ParseComponent(d, root, "the component"));
  CAIRN_ASSIGN_OR_RETURN(ComponentRegistration r, Registration(d, root, c));
  r.yaml = yaml_text;
  return r;
}

Status ValidateAndOrderPlan(JobPlan& plan) {
  if (plan.type != "command" && plan.type != "pipeline") {
    return InvalidParameter("plan type '" + plan.type + "' must be command or pipeline");
  }
  if (plan.steps.empty()) return InvalidParameter("a plan needs at least one step");
  if (plan.type == "command" && plan.steps.size() != 1) {
    return InvalidParameter("a command job has exactly one step");
  }
  std::map<std::string, const StepPlan*> by_name;
  for (const auto& s : plan.steps) {
    if (!IsIdentifier(s.name)) return InvalidParameter("step name '" + s.name + "' is not valid");
    if (!by_name.emplace(s.name, &s).second)
      return InvalidParameter("two steps are named '" + s.name + "'");
    if (s.command.empty()) return InvalidParameter("step '" + s.name + "' has no command");
  }
  for (const auto& s : plan.steps) {
    for (const auto& [iname, in] : s.inputs) {
      if (in.kind == InputValue::Kind::kParentInput && !plan.inputs.count(in.parent_input)) {
        return InvalidParameter("step '" + s.name + "' input '" + iname +
                                "' uses pipeline input '" + in.parent_input +
                                "', which does not exist");
      }
      if (in.kind != InputValue::Kind::kStepOutput) continue;
      auto from = by_name.find(in.from_step);
      if (from == by_name.end() || in.from_step == s.name) {
        return InvalidParameter("step '" + s.name + "' input '" + iname + "' uses step '" +
                                in.from_step + "', which does not exist or is itself");
      }
      if (!from->second->outputs.count(in.from_output)) {
        return InvalidParameter("step '" + s.name + "' input '" + iname + "' uses output '" +
                                in.from_output + "' of step '" + in.from_step +
                                "', which has no such output");
      }
    }
  }
  for (const auto& [oname, o] : plan.outputs) {
    if (o.from_step.empty()) continue;
    auto from = by_name.find(o.from_step);
    if (from == by_name.end() || !from->second->outputs.count(o.from_output)) {
      return InvalidParameter("pipeline output '" + oname +
                              "' is bound to a step output that does not exist");
    }
  }
  std::vector<std::string> stuck;
  if (!OrderSteps(plan, &stuck)) {
    return InvalidParameter("the steps " + Join(stuck) +
                            " depend on each other in a cycle; a pipeline must be acyclic");
  }
  return Status::Ok();
}

std::string LocalInputAssetName(const std::string& step, const std::string& input) {
  return step.empty() ? "job-input-" + input : "job-input-" + step + "-" + input;
}

Status UploadLocalParts(JobPlan& plan, PlanUploader& uploader) {
  std::map<std::string, std::string> code_refs;  // folder -> reference
  auto upload_input = [&](const std::string& step, const std::string& name,
                          InputValue& in) -> Status {
    bool is_file = in.kind == InputValue::Kind::kUriFile;
    if (!is_file && in.kind != InputValue::Kind::kUriFolder) return Status::Ok();
    if (in.path.rfind("azureml://", 0) == 0) return Status::Ok();
    auto ref = uploader.UploadData(LocalInputAssetName(step, name), in.path, is_file);
    if (!ref.ok())
      return Status(ref.status().code(),
                    "uploading input '" + name + "' (" + in.path + "): " + ref.status().message());
    in.kind = InputValue::Kind::kDataAsset;
    in.asset_ref = *ref;
    in.path.clear();
    if (in.type.empty()) in.type = is_file ? "uri_file" : "uri_folder";
    return Status::Ok();
  };
  for (auto& [name, in] : plan.inputs) CAIRN_RETURN_IF_ERROR(upload_input("", name, in));
  for (auto& step : plan.steps) {
    if (!step.code.empty() && fs::path(step.code).is_absolute()) {
      auto known = code_refs.find(step.code);
      if (known == code_refs.end()) {
        auto ref = uploader.UploadCode(step.code);
        if (!ref.ok())
          return Status(ref.status().code(), "uploading code of step '" + step.name + "' (" +
                                                 step.code + "): " + ref.status().message());
        known = code_refs.emplace(step.code, *ref).first;
      }
      step.code = known->second;
    }
    // A command job's inputs are the job's: named without the step.
    const std::string owner = plan.type == "command" ? "" : step.name;
    for (auto& [name, in] : step.inputs) CAIRN_RETURN_IF_ERROR(upload_input(owner, name, in));
  }
  return Status::Ok();
}

}  // namespace cairn::pipeline
