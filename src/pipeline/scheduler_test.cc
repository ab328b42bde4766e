// Tests of the scheduler's pure pieces: merging queued transitions for the committer.
#include "pipeline/scheduler.h"

#include <gtest/gtest.h>

namespace cairn::pipeline {
namespace {

JobStepRecord Step(const std::string& job, const std::string& name, const std::string& status) {
  JobStepRecord r;
  r.job_name = job;
  r.step_name = name;
  r.status = status;
  return r;
}

OutboxEvent Event(const std::string& subject) {
  OutboxEvent e;
  e.type = "RunStatusChanged";
  e.subject = subject;
  return e;
}

TEST(MergeTransitionsTest, OnePerJobKeepingLastRowsAndEveryEventInOrder) {
  std::vector<JobTransition> batch(4);
  batch[0].job_name = "a";
  batch[0].steps = {Step("a", "s1", kJobRunning), Step("a", "s2", kJobQueued)};
  batch[0].runs = {{"r1", "RUNNING", std::nullopt}};
  batch[0].events = {Event("runs/r1")};
  batch[1].job_name = "b";
  batch[1].job = JobRecord{};
  batch[1].job->status = kJobRunning;
  batch[1].steps = {Step("b", "x", kJobRunning)};
  batch[2].job_name = "a";
  batch[2].job = JobRecord{};
  batch[2].job->status = kJobRunning;
  batch[2].steps = {Step("a", "s1", kJobCompleted)};
  batch[2].runs = {{"r1", "FINISHED", 5}};
  batch[2].events = {Event("runs/r1-done")};
  batch[2].lineage = {{"run:p", "run:r1", "input", 5}};
  batch[3].job_name = "a";
  batch[3].job = JobRecord{};
  batch[3].job->status = kJobCompleted;
  batch[3].run_tags = {{"r1", {"k", "v"}}};

  std::vector<JobTransition> merged = MergeTransitions(std::move(batch));
  ASSERT_EQ(merged.size(), 2u);
  const JobTransition& a = merged[0];  // first-seen order
  EXPECT_EQ(a.job_name, "a");
  ASSERT_TRUE(a.job);
  EXPECT_EQ(a.job->status, kJobCompleted);  // the last header
  ASSERT_EQ(a.steps.size(), 2u);
  EXPECT_EQ(a.steps[0].step_name, "s1");
  EXPECT_EQ(a.steps[0].status, kJobCompleted);  // its last row
  EXPECT_EQ(a.steps[1].step_name, "s2");
  ASSERT_EQ(a.runs.size(), 2u);  // mirrors apply in order: the last wins in the store
  EXPECT_EQ(a.runs[1].status, "FINISHED");
  ASSERT_EQ(a.events.size(), 2u);
  EXPECT_EQ(a.events[0].subject, "runs/r1");
  EXPECT_EQ(a.events[1].subject, "runs/r1-done");
  EXPECT_EQ(a.lineage.size(), 1u);
  EXPECT_EQ(a.run_tags.size(), 1u);
  const JobTransition& b = merged[1];
  EXPECT_EQ(b.job_name, "b");
  ASSERT_TRUE(b.job);
  EXPECT_EQ(b.job->status, kJobRunning);
  ASSERT_EQ(b.steps.size(), 1u);
}

TEST(MergeTransitionsTest, ALoneTransitionWithRepeatedStepsIsCollapsed) {
  std::vector<JobTransition> batch(1);
  batch[0].job_name = "a";
  batch[0].steps = {Step("a", "s", kJobQueued), Step("a", "s", kJobRunning)};
  std::vector<JobTransition> merged = MergeTransitions(std::move(batch));
  ASSERT_EQ(merged.size(), 1u);
  ASSERT_EQ(merged[0].steps.size(), 1u);
  EXPECT_EQ(merged[0].steps[0].status, kJobRunning);
  EXPECT_TRUE(MergeTransitions({}).empty());
}

}  // namespace
}  // namespace cairn::pipeline
