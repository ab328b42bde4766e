// pipeline/plan_json.h: JobPlan <-> JSON, the form a plan is submitted in
// (POST /api/2.0/cairn/jobs/create) and stored with its job. Reading checks
// every field's type and names the offending field.
#pragma once

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

nlohmann::json PlanToJson(const JobPlan& plan);
Result<JobPlan> PlanFromJson(const nlohmann::json& json);

const char* InputKindName(InputValue::Kind kind);
}  // namespace cairn::pipeline
