// HTTP routes of pipelines under /api/2.0/cairn/: jobs (create from a JobPlan
// as JSON, get, list, cancel, logs by offset) and computes. Translates JSON <->
// records; all logic is in pipeline::JobService.
#pragma once

#include <nlohmann/json_fwd.hpp>

namespace cairn {
namespace http {
class Server;
}
namespace pipeline {
class JobService;
}

struct JobRecord;

void RegisterJobRoutes(http::Server& server, pipeline::JobService& jobs);
// A job as the job routes answer it (schedule and pipeline routes reuse it).
nlohmann::json JobToJson(const JobRecord& job);

}  // namespace cairn
