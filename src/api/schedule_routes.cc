// Schedule, published pipeline and event routes (see schedule_routes.h).
#include "api/schedule_routes.h"

#include "api/http_util.h"
#include "api/job_routes.h"
#include "core/clock.h"
#include "pipeline/job_service.h"
#include "pipeline/plan_json.h"
#include "pipeline/published_pipelines.h"
#include "pipeline/schedule_json.h"
#include "pipeline/schedule_runner.h"

namespace cairn {
namespace {

using api::Args;
using api::Json;

Json OptTime(const std::optional<int64_t>& t) { return t ? Json(*t) : Json(nullptr); }

// An outbox row as a CloudEvents 1.0 event in the structured JSON format
// (specversion, id, source, type, subject, time as RFC 3339, data). `id` is
// the outbox id, unique and increasing per workspace, so consumers page by it.
Json CloudEventJson(const OutboxEvent& e) {
  Json data = Json::parse(e.data, nullptr, false);
  return {{"specversion", "1.0"},
          {"id", std::to_string(e.event_id)},
          {"source", "/cairn"},
          {"type", e.type},
          {"subject", e.subject},
          {"time", Rfc3339Millis(e.time)},
          {"datacontenttype", "application/json"},
          {"data", data.is_discarded() ? Json(e.data) : data}};
}

Json ScheduleJson(const ScheduleRecord& s) {
  Json tags = Json::parse(s.tags, nullptr, false);
  Json trigger = Json::parse(s.trigger_spec, nullptr, false);
  return {{"name", s.name},
          {"display_name", s.display_name},
          {"description", s.description},
          {"tags", tags.is_object() ? tags : Json::object()},
          {"trigger", trigger.is_object() ? trigger : Json::object()},
          {"trigger_type", s.trigger_kind},
          {"enabled", s.enabled},
          {"next_fire_time", OptTime(s.next_fire_time)},
          {"last_fire_time", OptTime(s.last_fire_time)},
          {"last_job", s.last_job},
          {"last_error", s.last_error},
          {"watched", s.watched},
          {"last_seen_version", s.last_seen_version},
          {"last_seen_event_id", s.last_seen_event_id},
          {"created_by", s.created_by},
          {"creation_time", s.creation_time},
          {"last_updated_time", s.last_updated_time}};
}

Json PipelineJson(const PublishedPipeline& p, bool with_plan) {
  Json j = {{"name", p.name},
            {"version", p.version},
            {"description", p.description},
            {"created_by", p.created_by},
            {"creation_time", p.creation_time}};
  Json plan = Json::parse(p.plan, nullptr, false);
  if (plan.is_object()) {
    Json inputs = Json::object();
    if (plan.contains("inputs") && plan["inputs"].is_object()) inputs = plan["inputs"];
    // A command job's inputs are its one step's (what `pipeline run` overrides).
    const Json& steps = plan.contains("steps") ? plan["steps"] : Json();
    if (plan.value("type", "") == "command" && steps.is_array() && steps.size() == 1 &&
        steps[0].contains("inputs") && steps[0]["inputs"].is_object()) {
      inputs.update(steps[0]["inputs"]);
    }
    j["inputs"] = inputs;
    j["type"] = plan.value("type", "");
    if (with_plan) j["plan"] = plan;
  }
  return j;
}

Result<std::map<std::string, std::string>> InputOverrides(const Json* inputs) {
  std::map<std::string, std::string> out;
  if (!inputs || inputs->is_null()) return out;
  if (!inputs->is_object()) return InvalidParameter("'inputs' must be an object {name: value}");
  for (auto& [k, v] : inputs->items()) {
    if (v.is_string()) {
      out[k] = v.get<std::string>();
    } else if (v.is_number() || v.is_boolean()) {
      out[k] = v.dump();
    } else {
      return InvalidParameter("inputs." + k + " must be a string, number or boolean");
    }
  }
  return out;
}

// The schedule's most recent jobs (indexed by the job's schedule), newest first.
Json RecentRuns(pipeline::JobService& jobs, const std::string& schedule, size_t count) {
  Json out = Json::array();
  auto recent = jobs.ListBySchedule(schedule, static_cast<int64_t>(count));
  if (!recent.ok()) return out;
  for (const JobRecord& j : *recent) {
    Json plan = Json::parse(j.plan, nullptr, false);
    Json tags = plan.is_object() && plan.contains("tags") && plan["tags"].is_object()
                    ? plan["tags"]
                    : Json::object();
    out.push_back({{"name", j.name}, {"status", j.status}, {"created", j.created}, {"tags", tags}});
  }
  return out;
}

}  // namespace

void RegisterScheduleRoutes(http::Server& server, pipeline::ScheduleRunner& runner,
                            pipeline::PublishedPipelines& pipelines, pipeline::JobService& jobs) {
  api::MlflowRouter schedules({"/api/2.0/cairn/schedules/"});
  schedules.Add("POST", "create", [&runner](Args& a) -> Result<Json> {
    pipeline::NewSchedule n;
    n.name = a.String("name");
    n.display_name = a.OptString("display_name").value_or("");
    n.description = a.OptString("description").value_or("");
    n.created_by = a.OptString("user").value_or("");
    const Json* trigger = a.Raw("trigger");
    const Json* plan = a.Raw("plan");
    const Json* tags = a.Raw("tags");
    const Json* enabled = a.Raw("enabled");
    if (!trigger || !trigger->is_object()) {
      a.Fail(InvalidParameter("schedules/create needs 'trigger', an object with a type"));
    }
    if (!plan || !plan->is_object()) {
      a.Fail(InvalidParameter("schedules/create needs 'plan', the job plan as a JSON object"));
    }
    if (!a.ok()) return a.status();
    if (tags && !tags->is_null()) {
      if (!tags->is_object()) return InvalidParameter("'tags' must be an object of strings");
      for (auto& [k, v] : tags->items()) {
        if (!v.is_string()) return InvalidParameter("tags." + k + " must be a string");
        n.tags[k] = v.get<std::string>();
      }
    }
    if (enabled && !enabled->is_null()) {
      if (!enabled->is_boolean()) return InvalidParameter("'enabled' must be true or false");
      n.enabled = enabled->get<bool>();
    }
    CAIRN_ASSIGN_OR_RETURN(n.trigger, pipeline::TriggerFromJson(*trigger));
    CAIRN_ASSIGN_OR_RETURN(n.plan, pipeline::PlanFromJson(*plan));
    CAIRN_ASSIGN_OR_RETURN(ScheduleRecord s, runner.Create(std::move(n)));
    return Json{{"schedule", ScheduleJson(s)}};
  });
  schedules.Add("GET", "get", [&runner, &jobs](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    int64_t count = a.OptInt("count").value_or(5);
    if (!a.ok()) return a.status();
    if (count < 0 || count > 100) return InvalidParameter("count must be 0..100");
    CAIRN_ASSIGN_OR_RETURN(ScheduleRecord s, runner.Get(name));
    CAIRN_ASSIGN_OR_RETURN(pipeline::Trigger t, runner.TriggerOf(s));
    Json fires = Json::array();
    if (s.enabled && t.is_time_based() && s.next_fire_time) {
      std::optional<int64_t> at = s.next_fire_time;
      for (int64_t i = 0; i < count && at; ++i) {
        fires.push_back({{"utc", pipeline::FormatUtc(*at)},
                         {"local", pipeline::FormatLocal(*at, *t.zone)},
                         {"ms", *at}});
        at = pipeline::NextFireTime(t, *at);
      }
    }
    Json out = ScheduleJson(s);
    out["next_fire_times"] = std::move(fires);
    out["recent_jobs"] = RecentRuns(jobs, s.name, 5);
    return Json{{"schedule", std::move(out)}};
  });
  schedules.Add("GET", "list", [&runner](Args&) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::vector<ScheduleRecord> all, runner.List());
    Json out = Json::array();
    for (const ScheduleRecord& s : all) out.push_back(ScheduleJson(s));
    return Json{{"schedules", std::move(out)}};
  });
  for (bool enable : {true, false}) {
    schedules.Add("POST", enable ? "enable" : "disable",
                  [&runner, enable](Args& a) -> Result<Json> {
                    std::string name = a.String("name");
                    if (!a.ok()) return a.status();
                    CAIRN_ASSIGN_OR_RETURN(ScheduleRecord s, runner.SetEnabled(name, enable));
                    return Json{{"schedule", ScheduleJson(s)}};
                  });
  }
  schedules.Add("POST", "delete", [&runner](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    if (!a.ok()) return a.status();
    CAIRN_RETURN_IF_ERROR(runner.Delete(name));
    return Json::object();
  });
  schedules.Install(server);

  api::MlflowRouter events({"/api/2.0/cairn/events/"});
  events.Add("POST", "publish", [&runner](Args& a) -> Result<Json> {
    std::string type = a.String("type");
    std::string subject = a.OptString("subject").value_or("");
    const Json* data = a.Raw("data");
    if (!a.ok()) return a.status();
    Json d = data && !data->is_null() ? *data : Json::object();
    if (!d.is_object()) return InvalidParameter("'data' must be a JSON object");
    CAIRN_ASSIGN_OR_RETURN(OutboxEvent e, runner.PublishEvent(type, subject, d.dump()));
    return Json{{"event",
                 {{"event_id", e.event_id},
                  {"type", e.type},
                  {"subject", e.subject},
                  {"time", e.time},
                  {"data", Json::parse(e.data, nullptr, false)}}}};
  });
  events.Add("GET", "list", [&runner](Args& a) -> Result<Json> {
    std::string type = a.OptString("type").value_or("");
    int64_t after_id = a.OptInt("after_id").value_or(0);
    int64_t max_results = a.OptInt("max_results").value_or(100);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(std::vector<OutboxEvent> list,
                           runner.ListEvents(type, after_id, max_results));
    Json out = Json::array();
    for (const OutboxEvent& e : list) out.push_back(CloudEventJson(e));
    const int64_t next = list.empty() ? after_id : list.back().event_id;
    return Json{{"events", std::move(out)}, {"next_after_id", next}};
  });
  events.Install(server);

  // pipelines/{publish,get,list} and pipelines/<name>/runs share one prefix,
  // so one dispatcher serves both shapes.
  auto publish = [&pipelines](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    std::string description = a.OptString("description").value_or("");
    std::string user = a.OptString("user").value_or("");
    const Json* plan = a.Raw("plan");
    if (!plan || !plan->is_object()) {
      a.Fail(InvalidParameter("pipelines/publish needs 'plan', the job plan as a JSON object"));
    }
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(pipeline::JobPlan parsed, pipeline::PlanFromJson(*plan));
    CAIRN_ASSIGN_OR_RETURN(PublishedPipeline p,
                           pipelines.Publish(name, std::move(parsed), description, user));
    return Json{{"pipeline", PipelineJson(p, false)}};
  };
  auto get = [&pipelines](Args& a) -> Result<Json> {
    std::string name = a.String("name");
    int64_t version = a.OptInt("version").value_or(0);
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(PublishedPipeline p, pipelines.Get(name, version));
    return Json{{"pipeline", PipelineJson(p, true)}};
  };
  auto list = [&pipelines](Args&) -> Result<Json> {
    CAIRN_ASSIGN_OR_RETURN(std::vector<PublishedPipeline> all, pipelines.List());
    Json out = Json::array();
    for (const PublishedPipeline& p : all) out.push_back(PipelineJson(p, false));
    return Json{{"pipelines", std::move(out)}};
  };
  auto run = [&pipelines, &jobs](const std::string& name, Args& a) -> Result<Json> {
    int64_t version = a.OptInt("version").value_or(0);
    std::string experiment = a.OptString("experiment_name").value_or("");
    std::string user = a.OptString("user").value_or("");
    if (!a.ok()) return a.status();
    CAIRN_ASSIGN_OR_RETURN(auto inputs, InputOverrides(a.Raw("inputs")));
    CAIRN_ASSIGN_OR_RETURN(std::string job, pipelines.Run(name, version, inputs, experiment, user));
    CAIRN_ASSIGN_OR_RETURN(JobRecord record, jobs.Get(job));
    return Json{{"job", JobToJson(record)}};
  };
  auto dispatch = [=](const http::Request& req, http::Response& res) {
    Args args = api::ParseArgs(req);
    if (!args.ok()) return api::WriteError(res, args.status());
    Result<Json> out =
        Status(ErrorCode::kEndpointNotFound, "No API endpoint " + req.method + " " + req.path +
                                                 "; see docs/api.md for the routes Cairn serves");
    const std::string& m = req.match;
    const std::string runs = "/runs";
    if (req.method == "POST" && m == "publish") {
      out = publish(args);
    } else if (req.method == "GET" && m == "get") {
      out = get(args);
    } else if (req.method == "GET" && m == "list") {
      out = list(args);
    } else if (req.method == "POST" && m.size() > runs.size() &&
               m.compare(m.size() - runs.size(), runs.size(), runs) == 0) {
      out = run(m.substr(0, m.size() - runs.size()), args);
    }
    if (!out.ok()) return api::WriteError(res, out.status());
    api::WriteJson(res, *out);
  };
  for (const char* method : {"GET", "POST"}) {
    server.PrefixRoute(method, "/api/2.0/cairn/pipelines/", dispatch);
  }
}

}  // namespace cairn
