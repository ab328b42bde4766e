// pipeline/job_spec_yaml.h: the YAML-node entry to the job reader, for other
// readers in pipeline/ that embed a job (a schedule's inline create_job).
// Only pipeline/*.cc include it (it pulls yaml-cpp).
#pragma once

#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/job_spec.h"
#include "pipeline/plan.h"

namespace cairn::pipeline {

// Reads a job from `root`, a node of `file` (whose full text is `yaml_text`);
// relative paths resolve against `base_dir`. Applies `overrides` to `root`.
Result<JobPlan> ParseJobNode(YAML::Node root, const std::string& file, const std::string& base_dir,
                             const std::string& yaml_text,
                             const std::vector<SpecOverride>& overrides = {},
                             ComponentSource* components = nullptr);

}  // namespace cairn::pipeline
