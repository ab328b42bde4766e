#include "store/sqlite/sqlite_job_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn::sqlite {
namespace {

namespace fs = std::filesystem;

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_job_store_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(s).value();
    jobs_ = std::make_unique<SqliteJobStore>(*store_);
  }
  void TearDown() override {
    jobs_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  std::string MakeRun() {
    cairn::NewRun r;
    r.experiment_id = "0";
    auto run = store_->CreateRun(r);
    EXPECT_TRUE(run.ok());
    return run->info.run_id;
  }
  JobRecord Job(const std::string& name) {
    JobRecord j;
    j.name = name;
    j.type = "pipeline";
    j.experiment_id = "0";
    j.run_id = MakeRun();
    j.plan = "{}";
    j.created = 1;
    for (const char* step : {"a", "b"}) {
      JobStepRecord r;
      r.job_name = name;
      r.step_name = step;
      r.position = static_cast<int64_t>(j.steps.size());
      r.run_id = MakeRun();
      r.outputs = "{}";
      j.steps.push_back(r);
    }
    return j;
  }

  fs::path dir_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<SqliteJobStore> jobs_;
};

TEST_F(SqliteJobStoreTest, CreateGetListAndUniqueNames) {
  JobRecord j = Job("first");
  ASSERT_TRUE(jobs_->CreateJob(j, {}).ok());
  auto got = jobs_->GetJob("first");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, kJobNotStarted);
  ASSERT_EQ(got->steps.size(), 2u);
  EXPECT_EQ(got->steps[1].step_name, "b");
  EXPECT_EQ(jobs_->CreateJob(j, {}).code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(jobs_->GetJob("none").status().code(), ErrorCode::kResourceDoesNotExist);
  ASSERT_TRUE(jobs_->CreateJob(Job("second"), {}).ok());
  auto all = jobs_->ListJobs({}, 10, false);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "second");  // newest first
  EXPECT_TRUE((*all)[0].steps.empty());
  auto running = jobs_->ListJobs({kJobRunning}, 10, true);
  ASSERT_TRUE(running.ok());
  EXPECT_TRUE(running->empty());
}

TEST_F(SqliteJobStoreTest, JobsAreListedByTheirSchedule) {
  for (const char* name : {"s1", "other", "s2", "plain", "s3"}) {
    JobRecord j = Job(name);
    if (name[0] == 's') j.schedule = "nightly";
    if (std::string(name) == "other") j.schedule = "hourly";
    ASSERT_TRUE(jobs_->CreateJob(j, {}).ok());
  }
  auto nightly = jobs_->ListJobsBySchedule("nightly", 2);
  ASSERT_TRUE(nightly.ok());
  ASSERT_EQ(nightly->size(), 2u);
  EXPECT_EQ((*nightly)[0].name, "s3");  // newest first
  EXPECT_EQ((*nightly)[1].name, "s2");
  EXPECT_EQ((*nightly)[0].schedule, "nightly");
  EXPECT_EQ(jobs_->GetJob("other")->schedule, "hourly");
  EXPECT_EQ(jobs_->GetJob("plain")->schedule, "");
  EXPECT_TRUE(jobs_->ListJobsBySchedule("weekly", 5)->empty());
}

TEST_F(SqliteJobStoreTest, ApplyWritesStepRunStatusAndOutboxTogether) {
  JobRecord j = Job("tx");
  ASSERT_TRUE(jobs_->CreateJob(j, {}).ok());
  JobTransition t;
  t.job_name = "tx";
  JobRecord header = j;
  header.status = kJobCompleted;
  header.started = 5;
  header.ended = 9;
  t.job = header;
  JobStepRecord step = j.steps[0];
  step.status = kJobCompleted;
  step.attempt = 2;
  step.pid = 1234;
  step.exit_code = 0;
  step.cache_key = "key1";
  step.ended = 8;
  step.notes = "attempt 1 failed";
  t.steps.push_back(step);
  t.runs.push_back({step.run_id, "FINISHED", 8});
  OutboxEvent e;
  e.type = "RunCompleted";
  e.subject = "runs/" + step.run_id;
  e.time = 8;
  e.data = "{}";
  t.events.push_back(e);
  ASSERT_TRUE(jobs_->Apply(t).ok());
  auto got = jobs_->GetJob("tx");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, kJobCompleted);
  EXPECT_EQ(got->ended, 9);
  EXPECT_EQ(got->steps[0].attempt, 2);
  EXPECT_EQ(got->steps[0].pid, 1234);
  EXPECT_EQ(got->steps[0].notes, "attempt 1 failed");
  auto run = store_->GetRun(step.run_id);
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.status, "FINISHED");
  EXPECT_EQ(run->info.end_time, 8);
  int events = 0;
  ASSERT_TRUE(store_
                  ->Read([&](Db& db) {
                    auto s = db.Prepare("SELECT COUNT(*) FROM outbox WHERE type = 'RunCompleted'");
                    if (s.Step()) events = static_cast<int>(s.Int(0));
                  })
                  .ok());
  EXPECT_EQ(events, 1);
  auto found = jobs_->FindCompletedStep("key1");
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->run_id, step.run_id);
  auto missing = jobs_->FindCompletedStep("other");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
  // A transition of an unknown job changes nothing.
  t.job_name = "nope";
  EXPECT_EQ(jobs_->Apply(t).code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteJobStoreTest, Computes) {
  ComputeInfo c{"gpu", "local", 2, "two at a time", 0};
  ASSERT_TRUE(jobs_->CreateCompute(c, false).ok());
  EXPECT_EQ(jobs_->CreateCompute(c, false).code(), ErrorCode::kResourceAlreadyExists);
  c.max_concurrency = 3;
  ASSERT_TRUE(jobs_->CreateCompute(c, true).ok());
  auto got = jobs_->GetCompute("gpu");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->max_concurrency, 3);
  EXPECT_GT(got->creation_time, 0);
  ASSERT_EQ(jobs_->ListComputes()->size(), 1u);
  ASSERT_TRUE(jobs_->DeleteCompute("gpu").ok());
  EXPECT_EQ(jobs_->DeleteCompute("gpu").code(), ErrorCode::kResourceDoesNotExist);
}

}  // namespace
}  // namespace cairn::sqlite
