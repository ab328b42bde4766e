#include "pipeline/plan_json.h"

#include <array>
#include <utility>

namespace cairn::pipeline {
namespace {

using nlohmann::json;

constexpr std::array<std::pair<InputValue::Kind, const char*>, 6> kKinds = {{
    {InputValue::Kind::kLiteral, "literal"},
    {InputValue::Kind::kUriFile, "uri_file"},
    {InputValue::Kind::kUriFolder, "uri_folder"},
    {InputValue::Kind::kDataAsset, "data_asset"},
    {InputValue::Kind::kStepOutput, "step_output"},
    {InputValue::Kind::kParentInput, "parent_input"},
}};

json InputToJson(const InputValue& in) {
  json j = {{"kind", InputKindName(in.kind)}};
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("literal", in.literal);
  put("path", in.path);
  put("asset_ref", in.asset_ref);
  put("from_step", in.from_step);
  put("from_output", in.from_output);
  put("parent_input", in.parent_input);
  put("type", in.type);
  if (in.optional) j["optional"] = true;
  return j;
}

json OutputsToJson(const std::map<std::string, OutputSpec>& outputs) {
  json j = json::object();
  for (const auto& [name, out] : outputs) {
    json o = {{"type", out.type}};
    if (!out.register_as.empty()) o["register_as"] = out.register_as;
    if (!out.register_version.empty()) o["register_version"] = out.register_version;
    if (!out.from_step.empty()) o["from_step"] = out.from_step;
    if (!out.from_output.empty()) o["from_output"] = out.from_output;
    j[name] = std::move(o);
  }
  return j;
}

json InputsToJson(const std::map<std::string, InputValue>& inputs) {
  json j = json::object();
  for (const auto& [name, in] : inputs) j[name] = InputToJson(in);
  return j;
}

// Field readers: a missing field keeps the default; a present one must have
// the right type. `where` names the object for the error message.
class Reader {
 public:
  Reader(const json& j, std::string where) : j_(j), where_(std::move(where)) {}
  Status Object() const { return j_.is_object() ? Status::Ok() : Bad("", "an object"); }
  Status String(const char* key, std::string& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_string()) return Bad(key, "a string");
    out = it->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const char* key, bool& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_boolean()) return Bad(key, "a boolean");
    out = it->get<bool>();
    return Status::Ok();
  }
  Status Int(const char* key, int64_t& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_number_integer()) return Bad(key, "an integer");
    out = it->get<int64_t>();
    return Status::Ok();
  }
  Status Number(const char* key, double& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_number()) return Bad(key, "a number");
    out = it->get<double>();
    return Status::Ok();
  }
  Status StringMap(const char* key, std::map<std::string, std::string>& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_object()) return Bad(key, "an object of strings");
    for (const auto& [k, v] : it->items()) {
      if (!v.is_string()) return Bad(key + std::string(".") + k, "a string");
      out[k] = v.get<std::string>();
    }
    return Status::Ok();
  }
  Status StringList(const char* key, std::vector<std::string>& out) const {
    auto it = j_.find(key);
    if (it == j_.end() || it->is_null()) return Status::Ok();
    if (!it->is_array()) return Bad(key, "an array of strings");
    for (const auto& v : *it) {
      if (!v.is_string()) return Bad(key, "an array of strings");
      out.push_back(v.get<std::string>());
    }
    return Status::Ok();
  }
  const json* Child(const char* key) const {
    auto it = j_.find(key);
    return it == j_.end() || it->is_null() ? nullptr : &*it;
  }
  std::string Where(const std::string& key) const {
    return where_.empty() ? key : where_ + "." + key;
  }
  Status Bad(const std::string& key, const char* expected) const {
    return InvalidParameter("plan field '" + Where(key) + "' must be " + expected);
  }

 private:
  const json& j_;
  std::string where_;
};

#define CAIRN_PLAN_TRY(expr)                        \
  do {                                              \
    if (Status st_ = (expr); !st_.ok()) return st_; \
  } while (0)

Result<InputValue> InputFromJson(const json& j, const std::string& where) {
  Reader r(j, where);
  CAIRN_PLAN_TRY(r.Object());
  InputValue in;
  std::string kind = "literal";
  CAIRN_PLAN_TRY(r.String("kind", kind));
  bool known = false;
  for (const auto& [k, name] : kKinds) {
    if (kind == name) {
      in.kind = k;
      known = true;
    }
  }
  if (!known) {
    return InvalidParameter("plan field '" + r.Where("kind") + "' is '" + kind +
                            "'; expected literal, uri_file, uri_folder, data_asset, "
                            "step_output or parent_input");
  }
  CAIRN_PLAN_TRY(r.String("literal", in.literal));
  CAIRN_PLAN_TRY(r.String("path", in.path));
  CAIRN_PLAN_TRY(r.String("asset_ref", in.asset_ref));
  CAIRN_PLAN_TRY(r.String("from_step", in.from_step));
  CAIRN_PLAN_TRY(r.String("from_output", in.from_output));
  CAIRN_PLAN_TRY(r.String("parent_input", in.parent_input));
  CAIRN_PLAN_TRY(r.String("type", in.type));
  CAIRN_PLAN_TRY(r.Bool("optional", in.optional));
  return in;
}

Status InputsFromJson(const json* j, const std::string& where,
                      std::map<std::string, InputValue>& out) {
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) return InvalidParameter("plan field '" + where + "' must be an object");
  for (const auto& [name, value] : j->items()) {
    auto in = InputFromJson(value, where + "." + name);
    if (!in.ok()) return in.status();
    out[name] = std::move(*in);
  }
  return Status::Ok();
}

Status OutputsFromJson(const json* j, const std::string& where,
                       std::map<std::string, OutputSpec>& out) {
  if (j == nullptr) return Status::Ok();
  if (!j->is_object()) return InvalidParameter("plan field '" + where + "' must be an object");
  for (const auto& [name, value] : j->items()) {
    Reader r(value, where + "." + name);
    CAIRN_PLAN_TRY(r.Object());
    OutputSpec spec;
    CAIRN_PLAN_TRY(r.String("type", spec.type));
    CAIRN_PLAN_TRY(r.String("register_as", spec.register_as));
    CAIRN_PLAN_TRY(r.String("register_version", spec.register_version));
    CAIRN_PLAN_TRY(r.String("from_step", spec.from_step));
    CAIRN_PLAN_TRY(r.String("from_output", spec.from_output));
    if (spec.type != "uri_folder" && spec.type != "uri_file") {
      return InvalidParameter("plan field '" + r.Where("type") +
                              "' must be uri_folder or uri_file");
    }
    out[name] = std::move(spec);
  }
  return Status::Ok();
}

Result<StepPlan> StepFromJson(const json& j, const std::string& where) {
  Reader r(j, where);
  CAIRN_PLAN_TRY(r.Object());
  StepPlan step;
  CAIRN_PLAN_TRY(r.String("name", step.name));
  if (step.name.empty())
    return InvalidParameter("plan field '" + r.Where("name") + "' is required");
  CAIRN_PLAN_TRY(r.String("display_name", step.display_name));
  CAIRN_PLAN_TRY(r.String("command", step.command));
  CAIRN_PLAN_TRY(r.String("code", step.code));
  CAIRN_PLAN_TRY(r.String("environment", step.environment));
  CAIRN_PLAN_TRY(r.String("compute", step.compute));
  CAIRN_PLAN_TRY(InputsFromJson(r.Child("inputs"), r.Where("inputs"), step.inputs));
  CAIRN_PLAN_TRY(OutputsFromJson(r.Child("outputs"), r.Where("outputs"), step.outputs));
  CAIRN_PLAN_TRY(r.StringMap("environment_variables", step.environment_variables));
  CAIRN_PLAN_TRY(r.Int("timeout_seconds", step.timeout_seconds));
  if (const json* retry = r.Child("retry")) {
    Reader rr(*retry, r.Where("retry"));
    CAIRN_PLAN_TRY(rr.Object());
    int64_t attempts = step.retry.max_attempts;
    CAIRN_PLAN_TRY(rr.Int("max_attempts", attempts));
    CAIRN_PLAN_TRY(rr.Number("backoff_seconds", step.retry.backoff_seconds));
    if (attempts < 1 || attempts > 100) {
      return InvalidParameter("plan field '" + rr.Where("max_attempts") +
                              "' must be between 1 and 100");
    }
    step.retry.max_attempts = static_cast<int>(attempts);
  }
  CAIRN_PLAN_TRY(r.Bool("is_deterministic", step.is_deterministic));
  CAIRN_PLAN_TRY(r.String("component_name", step.component_name));
  CAIRN_PLAN_TRY(r.String("component_version", step.component_version));
  CAIRN_PLAN_TRY(r.StringList("depends_on", step.depends_on));
  return step;
}

}  // namespace

const char* InputKindName(InputValue::Kind kind) {
  for (const auto& [k, name] : kKinds) {
    if (k == kind) return name;
  }
  return "literal";
}

nlohmann::json PlanToJson(const JobPlan& plan) {
  json steps = json::array();
  for (const StepPlan& s : plan.steps) {
    json j = {
        {"name", s.name},
        {"command", s.command},
        {"inputs", InputsToJson(s.inputs)},
        {"outputs", OutputsToJson(s.outputs)},
        {"environment_variables", s.environment_variables},
        {"timeout_seconds", s.timeout_seconds},
        {"retry",
         {{"max_attempts", s.retry.max_attempts}, {"backoff_seconds", s.retry.backoff_seconds}}},
        {"is_deterministic", s.is_deterministic},
        {"depends_on", s.depends_on}};
    if (!s.display_name.empty()) j["display_name"] = s.display_name;
    if (!s.code.empty()) j["code"] = s.code;
    if (!s.environment.empty()) j["environment"] = s.environment;
    if (!s.compute.empty()) j["compute"] = s.compute;
    if (!s.component_name.empty()) j["component_name"] = s.component_name;
    if (!s.component_version.empty()) j["component_version"] = s.component_version;
    steps.push_back(std::move(j));
  }
  json j = {{"type", plan.type},
            {"tags", plan.tags},
            {"inputs", InputsToJson(plan.inputs)},
            {"outputs", OutputsToJson(plan.outputs)},
            {"steps", std::move(steps)},
            {"continue_on_step_failure", plan.continue_on_step_failure},
            {"force_rerun", plan.force_rerun}};
  auto put = [&j](const char* key, const std::string& value) {
    if (!value.empty()) j[key] = value;
  };
  put("name", plan.name);
  put("display_name", plan.display_name);
  put("experiment_name", plan.experiment_name);
  put("description", plan.description);
  put("default_compute", plan.default_compute);
  put("source_file", plan.source_file);
  put("source_yaml", plan.source_yaml);
  return j;
}

Result<JobPlan> PlanFromJson(const nlohmann::json& j) {
  Reader r(j, "");
  CAIRN_PLAN_TRY(r.Object());
  JobPlan plan;
  CAIRN_PLAN_TRY(r.String("type", plan.type));
  if (plan.type != "command" && plan.type != "pipeline") {
    return InvalidParameter("plan field 'type' is '" + plan.type +
                            "'; expected command or pipeline");
  }
  CAIRN_PLAN_TRY(r.String("name", plan.name));
  CAIRN_PLAN_TRY(r.String("display_name", plan.display_name));
  CAIRN_PLAN_TRY(r.String("experiment_name", plan.experiment_name));
  CAIRN_PLAN_TRY(r.String("description", plan.description));
  CAIRN_PLAN_TRY(r.StringMap("tags", plan.tags));
  CAIRN_PLAN_TRY(InputsFromJson(r.Child("inputs"), "inputs", plan.inputs));
  CAIRN_PLAN_TRY(OutputsFromJson(r.Child("outputs"), "outputs", plan.outputs));
  if (const json* steps = r.Child("steps")) {
    if (!steps->is_array()) return InvalidParameter("plan field 'steps' must be an array");
    for (size_t i = 0; i < steps->size(); ++i) {
      auto step = StepFromJson((*steps)[i], "steps[" + std::to_string(i) + "]");
      if (!step.ok()) return step.status();
      plan.steps.push_back(std::move(*step));
    }
  }
  if (plan.steps.empty()) return InvalidParameter("plan has no steps");
  CAIRN_PLAN_TRY(r.String("default_compute", plan.default_compute));
  CAIRN_PLAN_TRY(r.Bool("continue_on_step_failure", plan.continue_on_step_failure));
  CAIRN_PLAN_TRY(r.Bool("force_rerun", plan.force_rerun));
  CAIRN_PLAN_TRY(r.String("source_file", plan.source_file));
  CAIRN_PLAN_TRY(r.String("source_yaml", plan.source_yaml));
  return plan;
}

}  // namespace cairn::pipeline
