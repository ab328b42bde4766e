// pipeline/schedule_json.h: a schedule Trigger <-> JSON, the form the CLI
// sends (schedules/create) and the schedule store keeps. Reading re-parses the
// cron expression and loads the time zone, so a stored trigger is as checked
// as one read from YAML.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "pipeline/schedule_spec.h"

namespace cairn::pipeline {

nlohmann::json TriggerToJson(const Trigger& trigger);
Result<Trigger> TriggerFromJson(const nlohmann::json& json,
                                const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
const char* TriggerKindName(Trigger::Type type);

}  // namespace cairn::pipeline
