#include "api/job_routes.h"

#include "api/http_util.h"
#include "pipeline/job_service.h"
#include "pipeline/plan_json.h"

namespace cairn {
namespace {

using api::Args;
using api::Json;

Json OptTime(const std::optional<int64_t>& t) { return t ? Json(*t) : Json(nullptr); }

Json StepJson(const JobStepRecord& s) {
  Json outputs = Json::object();
  Json stored = Json::parse(s.outputs, nullptr, false);
  if (stored.is_object()) {
    for (auto& [name, o] : stored.items()) outputs[name] = o.value("uri", "");
  }
  Json j = {{"name", s.step_name},
            {"status", s.status},
            {"run_id", s.run_id},
            {"attempt", s.attempt},
            {"reused_from", s.reused_from},
            {"exit_code", s.exit_code ? Json(*s.exit_code) : Json(nullptr)},
            {"error", s.error},
            {"notes", s.notes},
            {"cache_key", s.cache_key},
            {"started", OptTime(s.started)},
            {"ended", OptTime(s.ended)},
            {"outputs", std::move(outputs)}};
  if (s.pid) j["pid"] = *s.pid;
  return j;
}

Json ComputeJson(const ComputeInfo& c) {
  return {{"name", c.name},
          {"type", c.type},
          {"max_concurrency", c.max_concurrency},
          {"description", c.description},
          {"creation_time", c.creation_time}};
}

}  // namespace

Json JobToJson(const JobRecord& job) {
  Json steps = Json::array();
  for (const JobStepRecord& s : job.steps) steps.push_back(StepJson(s));
  return {
      {"name", job.name},       {"display_name", job.display_name},   {"type", job.type},
      {"status", job.status},   {"experiment_id", job.experiment_id}, {"run_id", job.run_id},
      {"created", job.created}, {"started", OptTime(job.started)},    {"ended", OptTime(job.ended)},
      {"error", job.error},     {"steps", std::move(steps)}};
}

void RegisterJobRoutes(http::Server& server, pipeline::JobService& s) {
  // Longer prefixes than the asset router's "/api/2.0/cairn/", so both coexist.
  api::MlflowRouter jobs({"/api/2.0/cairn/jobs/"});
  jobs.Add("POST", "create", [&s](Args& a) -> Result<Json> {
    const Json* plan = a.Raw("plan");
    std::string user = a.OptString("user").value_or("");
    if (!plan || !plan->is_object()) {
      a.Fail(InvalidParameter("jobs/create needs 'plan', the job plan as a JSON object"));
    }
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(pipeline::JobPlan parsed, pipeline::PlanFromJson(*plan));
    CAIRN_ASSIGN_OR_RETURN(JobRecord job, s.Submit(std::move(parsed), user));
    return Json{{"job", JobToJson(job)}};
  });
  jobs.Add("GET", "get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(JobRecord job, s.Get(name));
    return Json{{"job", JobToJson(job)}};
  });
  jobs.Add("GET", "list", [&s](Args& a) -> Result<Json> {
    int64_t max = a.OptInt("max_results").value_or(100);
    std::string status = a.OptString("status").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<JobRecord> all, s.List(status, max));
    Json out = Json::array();
    for (const JobRecord& j : all) out.push_back(JobToJson(j));
    return Json{{"jobs", std::move(out)}};
  });
  jobs.Add("POST", "cancel", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(JobRecord job, s.Cancel(name, std::chrono::seconds(10)));
    return Json{{"job", JobToJson(job)}};
  });
  // Waits (bounded) until the job ends: lets clients and tests follow a job
  // without polling in a loop.
  jobs.Add("GET", "wait", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    int64_t timeout = a.OptInt("timeout_seconds").value_or(30);
    if (!a.ok()) return a.status();
    if (timeout < 0 || timeout > 600) return InvalidParameter("timeout_seconds must be 0..600");
    CAIRN_ASSIGN_OR_RETURN(JobRecord job, s.Wait(name, std::chrono::seconds(timeout)));
    return Json{{"job", JobToJson(job)}};
  });
  jobs.Add("GET", "logs", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string step = a.OptString("step").value_or("");
    int64_t offset = a.OptInt("offset").value_or(0);
    int64_t max_bytes = a.OptInt("max_bytes").value_or(1 << 20);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(pipeline::LogChunk c, s.Logs(name, step, offset, max_bytes));
    return Json{
        {"data", std::move(c.data)}, {"next_offset", c.next_offset}, {"complete", c.complete}};
  });
  jobs.Install(server);

  api::MlflowRouter computes({"/api/2.0/cairn/computes/"});
  computes.Add("POST", "create", [&s](Args& a) -> Result<Json> {
    ComputeInfo c;
    c.name = a.String("name");
    c.type = a.OptString("type").value_or("local");
    c.max_concurrency = a.OptInt("max_concurrency").value_or(1);
    c.description = a.OptString("description").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(ComputeInfo made, s.CreateCompute(c));
    return Json{{"compute", ComputeJson(made)}};
  });
  computes.Add("GET", "get", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(ComputeInfo c, s.GetCompute(name));
    return Json{{"compute", ComputeJson(c)}};
  });
  computes.Add("GET", "list", [&s](Args&) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::vector<ComputeInfo> all, s.ListComputes());
    Json out = Json::array();
    for (const ComputeInfo& c : all) out.push_back(ComputeJson(c));
    return Json{{"computes", std::move(out)}};
  });
  computes.Add("POST", "delete", [&s](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(s.DeleteCompute(name));
    return Json::object();
  });
  computes.Install(server);
}

}  // namespace cairn
