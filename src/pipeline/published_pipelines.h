// pipeline/published_pipelines.h: published pipelines, named and versioned
// job plans anyone can run by REST (Azure ML's published pipeline endpoints):
// publishing stores the already-uploaded plan as the next version of its
// name; running submits it with input overrides and an optional experiment.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/plan.h"
#include "pipeline/schedule_runner.h"
#include "store/schedule_store.h"

namespace cairn::pipeline {

class PublishedPipelines {
 public:
  PublishedPipelines(ScheduleStore& store, SubmitJobFn submit)
      : store_(store), submit_(std::move(submit)) {}

  Result<PublishedPipeline> Publish(const std::string& name, JobPlan plan,
                                    const std::string& description, const std::string& user);
  Result<PublishedPipeline> Get(const std::string& name, int64_t version) {
    return store_.GetPublishedPipeline(name, version);
  }
  Result<std::vector<PublishedPipeline>> List() { return store_.ListPublishedPipelines(); }

  // Submits version `version` (0 = latest) of `name`. `inputs` override the
  // plan's pipeline-level inputs by name (an unknown name is refused): an
  // input that takes a data asset (or declares uri_file/uri_folder) gets the
  // value as an asset reference "name:version"/"azureml:name@latest", any
  // other a literal. Returns the job's name.
  Result<std::string> Run(const std::string& name, int64_t version,
                          const std::map<std::string, std::string>& inputs,
                          const std::string& experiment_name, const std::string& user);

 private:
  ScheduleStore& store_;
  SubmitJobFn submit_;
};

// Applies input overrides to a plan (the rules of PublishedPipelines::Run).
Status ApplyInputOverrides(JobPlan& plan, const std::map<std::string, std::string>& inputs);

}  // namespace cairn::pipeline
