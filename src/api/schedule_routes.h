// HTTP routes of schedules, published pipelines and externally published
// events under /api/2.0/cairn/: schedules/{create,get,list,enable,disable,
// delete}, pipelines/{publish,get,list}, pipelines/<name>/runs and
// events/publish. Translates JSON <-> records; the logic lives in
// pipeline::ScheduleRunner and pipeline::PublishedPipelines.
#pragma once

namespace cairn {
namespace http {
class Server;
}
namespace pipeline {
class JobService;
class ScheduleRunner;
class PublishedPipelines;
}  // namespace pipeline

void RegisterScheduleRoutes(http::Server& server, pipeline::ScheduleRunner& schedules,
                            pipeline::PublishedPipelines& pipelines, pipeline::JobService& jobs);

}  // namespace cairn
