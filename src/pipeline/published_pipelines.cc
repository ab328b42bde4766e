// pipeline/published_pipelines.cc: publish and run versioned job plans (see
// published_pipelines.h).
#include "pipeline/published_pipelines.h"

#include <nlohmann/json.hpp>

#include "pipeline/job_service.h"
#include "pipeline/plan_json.h"

namespace cairn::pipeline {

Status ApplyInputOverrides(JobPlan& plan, const std::map<std::string, std::string>& inputs) {
  for (const auto& [name, value] : inputs) {
    InputValue* found = FindJobInput(plan, name);
    if (!found) {
      std::string known;
      for (const auto& [k, v] : plan.inputs) known += (known.empty() ? "" : ", ") + k;
      if (plan.type == "command" && plan.steps.size() == 1) {
        for (const auto& [k, v] : plan.steps[0].inputs) known += (known.empty() ? "" : ", ") + k;
      }
      return InvalidParameter("inputs." + name + " is not an input of the pipeline (its inputs: " +
                              (known.empty() ? "none" : known) + ")");
    }
    InputValue& in = *found;
    bool asset = in.kind == InputValue::Kind::kDataAsset || in.kind == InputValue::Kind::kUriFile ||
                 in.kind == InputValue::Kind::kUriFolder || in.type == "uri_file" ||
                 in.type == "uri_folder";
    if (asset) {
      std::string ref = value.rfind("azureml:", 0) == 0 ? value.substr(8) : value;
      if (ref.find_first_of(":@") == std::string::npos) {
        return InvalidParameter("inputs." + name +
                                " takes a data asset reference \"name:version\" or "
                                "\"name@latest\", not '" +
                                value + "'");
      }
      in.kind = InputValue::Kind::kDataAsset;
      in.asset_ref = ref;
      in.path.clear();
      in.literal.clear();
    } else {
      in.kind = InputValue::Kind::kLiteral;
      in.literal = value;
    }
  }
  return Status::Ok();
}

Result<PublishedPipeline> PublishedPipelines::Publish(const std::string& name, JobPlan plan,
                                                      const std::string& description,
                                                      const std::string& user) {
  CAIRN_RETURN_IF_ERROR(ValidateJobName(name, "pipeline name"));
  if (plan.steps.empty()) return InvalidParameter("the pipeline has no steps");
  // A published plan is run many times: a fixed job name would clash.
  plan.name.clear();
  PublishedPipeline p;
  p.name = name;
  p.plan = PlanToJson(plan).dump();
  p.description = description;
  p.created_by = user;
  return store_.PublishPipeline(p);
}

Result<std::string> PublishedPipelines::Run(const std::string& name, int64_t version,
                                            const std::map<std::string, std::string>& inputs,
                                            const std::string& experiment_name,
                                            const std::string& user) {
  CAIRN_ASSIGN_OR_RETURN(PublishedPipeline p, store_.GetPublishedPipeline(name, version));
  auto json = nlohmann::json::parse(p.plan, nullptr, false);
  CAIRN_ASSIGN_OR_RETURN(JobPlan plan, PlanFromJson(json));
  CAIRN_RETURN_IF_ERROR(ApplyInputOverrides(plan, inputs));
  if (!experiment_name.empty()) plan.experiment_name = experiment_name;
  plan.tags["cairn.published_pipeline"] = p.name + ":" + std::to_string(p.version);
  return submit_(std::move(plan), user);
}

}  // namespace cairn::pipeline
