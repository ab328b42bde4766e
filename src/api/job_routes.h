// HTTP routes of pipelines under /api/2.0/cairn/: jobs (create from a JobPlan
// as JSON, get, list, cancel, logs by offset) and computes. Translates JSON <->
// records; all logic is in pipeline::JobService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
namespace pipeline {
class JobService;
}

void RegisterJobRoutes(http::Server& server, pipeline::JobService& jobs);

}  // namespace cairn
