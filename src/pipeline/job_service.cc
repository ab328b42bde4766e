#include "pipeline/job_service.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <set>
#include <thread>

#include "core/fs.h"
#include "core/ids.h"
#include "pipeline/plan_json.h"
#include "pipeline/step_runtime.h"
#include "tracking/tracking_service.h"

namespace cairn::pipeline {

Status ValidateJobName(const std::string& name, const char* what) {
  bool ok = !name.empty() && name.size() <= 255 && name[0] != '.' && name[0] != '-';
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      ok = false;
    }
  }
  if (!ok) {
    return InvalidParameter(std::string(what) + " '" + name +
                            "' is invalid: use 1-255 letters, digits, '_', '-' or '.', not "
                            "starting with '.' or '-'");
  }
  return Status::Ok();
}

JobService::JobService(JobStore& jobs, TrackingService& tracking, Scheduler& scheduler,
                       const Clock& clock)
    : jobs_(jobs), tracking_(tracking), scheduler_(scheduler), clock_(clock) {}

Status JobService::EnsureDefaultCompute() {
  auto local = jobs_.GetCompute("local");
  if (local.ok()) return Status::Ok();
  if (local.status().code() != ErrorCode::kResourceDoesNotExist) return local.status();
  ComputeInfo c;
  c.name = "local";
  c.type = "local";
  c.max_concurrency = std::max(1u, std::thread::hardware_concurrency());
  c.description = "this machine (created by default)";
  Status st = jobs_.CreateCompute(c, /*replace=*/false);
  return st.code() == ErrorCode::kResourceAlreadyExists ? Status::Ok() : st;
}

Result<JobRecord> JobService::Submit(JobPlan plan, const std::string& user) {
  CAIRN_RETURN_IF_ERROR(ValidatePlan(plan).status());
  if (plan.name.empty()) {
    std::string name = NewRunName() + "-" + NewRunId().substr(0, 8);
    for (char& c : name) {
      if (c == '-') c = '_';
    }
    plan.name = name;
  }
  CAIRN_RETURN_IF_ERROR(ValidateJobName(plan.name, "job name"));
  std::set<std::string> computes_found;  // each compute is looked up once
  for (const StepPlan& s : plan.steps) {
    std::string compute = !s.compute.empty()              ? s.compute
                          : !plan.default_compute.empty() ? plan.default_compute
                                                          : "local";
    if (computes_found.count(compute)) continue;
    if (compute.rfind("azureml:", 0) == 0) {
      return InvalidParameter("step '" + s.name + "': compute '" + compute +
                              "': drop the azureml: prefix (Cairn's computes are local names)");
    }
    auto c = jobs_.GetCompute(compute);
    if (!c.ok()) {
      return InvalidParameter("step '" + s.name + "' runs on compute '" + compute +
                              "', which does not exist; create it with `cairn compute create`");
    }
    computes_found.insert(compute);
  }
  if (jobs_.GetJob(plan.name).ok()) {
    return AlreadyExists("a job named '" + plan.name + "' already exists; job names are unique");
  }
  std::string experiment_name = plan.experiment_name.empty() ? "Default" : plan.experiment_name;
  std::string experiment_id;
  if (auto e = tracking_.GetExperimentByName(experiment_name); e.ok()) {
    experiment_id = e->experiment_id;
  } else if (e.status().code() == ErrorCode::kResourceDoesNotExist) {
    CAIRN_ASSIGN_OR_RETURN(experiment_id, tracking_.CreateExperiment(experiment_name, "", {}));
  } else {
    return e.status();
  }
  const int64_t now = clock_.NowMillis();
  NewRun parent;
  parent.experiment_id = experiment_id;
  parent.user_id = user;
  parent.run_name = plan.display_name.empty() ? plan.name : plan.display_name;
  parent.start_time = now;
  parent.tags = {{"cairn.job", plan.name}, {"cairn.job_type", plan.type}};
  if (!plan.source_file.empty()) parent.tags.push_back({"mlflow.source.name", plan.source_file});
  if (!plan.description.empty()) parent.tags.push_back({"mlflow.note.content", plan.description});
  for (const auto& [k, v] : plan.tags) parent.tags.push_back({k, v});
  CAIRN_ASSIGN_OR_RETURN(Run parent_run, tracking_.CreateRun(parent));

  JobRecord job;
  job.name = plan.name;
  job.display_name = plan.display_name;
  job.type = plan.type;
  job.status = kJobNotStarted;
  job.experiment_id = experiment_id;
  job.run_id = parent_run.info.run_id;
  job.plan = PlanToJson(plan).dump();
  if (auto it = plan.tags.find("cairn.schedule"); it != plan.tags.end()) job.schedule = it->second;
  job.created = now;
  JobTransition initial;
  initial.job_name = job.name;
  initial.runs.push_back({job.run_id, "SCHEDULED", std::nullopt});
  // The steps' runs in one transaction (a pipeline may have thousands of steps).
  std::vector<NewRun> children;
  children.reserve(plan.steps.size());
  for (const StepPlan& s : plan.steps) {
    NewRun child;
    child.experiment_id = experiment_id;
    child.user_id = user;
    child.run_name = s.display_name.empty() ? s.name : s.display_name;
    child.start_time = now;
    child.tags = {
        {"mlflow.parentRunId", job.run_id}, {"cairn.job", job.name}, {"cairn.step", s.name}};
    if (!s.component_name.empty()) {
      child.tags.push_back({"cairn.component", s.component_name + ":" + s.component_version});
    }
    children.push_back(std::move(child));
  }
  CAIRN_ASSIGN_OR_RETURN(std::vector<Run> runs, tracking_.CreateRuns(children));
  for (size_t i = 0; i < plan.steps.size(); ++i) {
    JobStepRecord r;
    r.job_name = job.name;
    r.step_name = plan.steps[i].name;
    r.position = static_cast<int64_t>(i);
    r.run_id = runs[i].info.run_id;
    r.outputs = "{}";
    job.steps.push_back(r);
    initial.runs.push_back({r.run_id, "SCHEDULED", std::nullopt});
  }
  CAIRN_RETURN_IF_ERROR(jobs_.CreateJob(job, initial));
  scheduler_.Enqueue(job, std::move(plan));
  return job;
}

Result<std::vector<JobRecord>> JobService::List(const std::string& status, int64_t max_results) {
  if (max_results < 1 || max_results > 10000) {
    return InvalidParameter("max_results must be between 1 and 10000");
  }
  std::vector<std::string> statuses;
  if (!status.empty()) {
    static const char* kAll[] = {kJobNotStarted, kJobQueued, kJobRunning,
                                 kJobCompleted,  kJobFailed, kJobCanceled};
    bool known = false;
    for (const char* s : kAll) known = known || status == s;
    if (!known) {
      return InvalidParameter("status '" + status +
                              "' is not one of NotStarted, Queued, Running, Completed, Failed, "
                              "Canceled");
    }
    statuses.push_back(status);
  }
  return jobs_.ListJobs(statuses, max_results, /*with_steps=*/true);
}

Result<std::vector<JobRecord>> JobService::ListBySchedule(const std::string& schedule,
                                                          int64_t max_results) {
  return jobs_.ListJobsBySchedule(schedule, std::clamp<int64_t>(max_results, 1, 10000));
}

Result<JobRecord> JobService::Cancel(const std::string& name, std::chrono::milliseconds wait) {
  CAIRN_ASSIGN_OR_RETURN(JobRecord job, jobs_.GetJob(name));
  if (IsTerminalJobStatus(job.status)) {
    return Status(ErrorCode::kInvalidState,
                  "job '" + name + "' has already ended (" + job.status + ")");
  }
  CAIRN_RETURN_IF_ERROR(scheduler_.RequestCancel(name));
  scheduler_.WaitUntilDone(name, wait);
  return jobs_.GetJob(name);
}

Result<JobRecord> JobService::Wait(const std::string& name, std::chrono::milliseconds timeout) {
  CAIRN_RETURN_IF_ERROR(jobs_.GetJob(name).status());
  scheduler_.WaitUntilDone(name, timeout);
  return jobs_.GetJob(name);
}

Result<LogChunk> JobService::Logs(const std::string& name, const std::string& step, int64_t offset,
                                  int64_t max_bytes) {
  if (offset < 0) return InvalidParameter("offset must be >= 0");
  max_bytes = std::clamp<int64_t>(max_bytes, 1, 16 << 20);
  CAIRN_ASSIGN_OR_RETURN(JobRecord job, jobs_.GetJob(name));
  const JobStepRecord* found = nullptr;
  for (const JobStepRecord& s : job.steps) {
    if (step.empty() ? !found : s.step_name == step) found = &s;
  }
  if (!found) {
    std::string names;
    for (const JobStepRecord& s : job.steps) names += (names.empty() ? "" : ", ") + s.step_name;
    return NotFound("job '" + name + "' has no step '" + step + "' (steps: " + names + ")");
  }
  // Read the step's state before its log: once ended, the log is final.
  bool ended = IsTerminalJobStatus(found->status);
  LogChunk out;
  out.next_offset = offset;
  const std::string path = scheduler_.LogPath(name, found->step_name).string();
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() >= 0) {
    out.data.resize(static_cast<size_t>(max_bytes));
    ssize_t n = pread(fd.get(), out.data.data(), out.data.size(), offset);
    out.data.resize(n > 0 ? static_cast<size_t>(n) : 0);
    out.next_offset = offset + static_cast<int64_t>(out.data.size());
    off_t size = lseek(fd.get(), 0, SEEK_END);
    out.complete = ended && out.next_offset >= size;
    // An ended step's empty folder is recycled: taken by the next step, its
    // log file may have become that step's while we read. If the path no
    // longer names the file we read, this step's log was empty.
    struct stat opened, named;
    if (ended && (fstat(fd.get(), &opened) != 0 || stat(path.c_str(), &named) != 0 ||
                  opened.st_ino != named.st_ino || opened.st_dev != named.st_dev)) {
      out.data.clear();
      out.next_offset = offset;
      out.complete = true;
    }
  } else {
    out.complete = ended;
  }
  return out;
}

Result<ComputeInfo> JobService::CreateCompute(const ComputeInfo& compute) {
  CAIRN_RETURN_IF_ERROR(ValidateJobName(compute.name, "compute name"));
  if (compute.type != "local") {
    return InvalidParameter("compute type '" + compute.type +
                            "' is not supported yet (local; slurm is planned)");
  }
  if (compute.max_concurrency < 1 || compute.max_concurrency > 4096) {
    return InvalidParameter("max_concurrency must be between 1 and 4096");
  }
  CAIRN_RETURN_IF_ERROR(jobs_.CreateCompute(compute, /*replace=*/false));
  return jobs_.GetCompute(compute.name);
}

Status JobService::DeleteCompute(const std::string& name) {
  if (name == "local") {
    return Status(ErrorCode::kInvalidState,
                  "the 'local' compute is the default and cannot be deleted; create another "
                  "compute to change the concurrency or replace it");
  }
  return jobs_.DeleteCompute(name);
}

}  // namespace cairn::pipeline
