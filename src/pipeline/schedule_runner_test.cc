// ScheduleRunner with a fake clock and a real SQLite schedule store: firing
// times, catch-up (one job for many missed fire times), enable/disable,
// end_time, data-asset and event triggers, published pipeline overrides.
#include "pipeline/schedule_runner.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <mutex>

#include <condition_variable>

#include <atomic>
#include <filesystem>

#include "core/ids.h"
#include "pipeline/published_pipelines.h"
#include "store/sqlite/sqlite_schedule_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn::pipeline {
namespace {

namespace fs = std::filesystem;

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t now) : now_(now) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Set(int64_t ms) { now_ = ms; }
  void Advance(int64_t ms) { now_ += ms; }

 private:
  std::atomic<int64_t> now_;
};

constexpr int64_t kMinute = 60'000;
// 2026-01-05T00:00:00Z (a Monday).
constexpr int64_t kStart = 1767571200000;

JobPlan CommandPlan() {
  JobPlan p;
  p.type = "command";
  StepPlan s;
  s.name = "main";
  s.command = "cat ${{inputs.d}}";
  InputValue d;
  d.kind = InputValue::Kind::kDataAsset;
  d.asset_ref = "watched:1";
  d.type = "uri_file";
  s.inputs["d"] = d;
  InputValue g;
  g.kind = InputValue::Kind::kLiteral;
  g.literal = "hello";
  s.inputs["greeting"] = g;
  p.steps.push_back(s);
  return p;
}

Trigger Cron(const std::string& expr) {
  Trigger t;
  t.type = Trigger::Type::kCron;
  t.expression = expr;
  t.cron = *ParseCron(expr);
  t.zone = TimeZone::Utc();
  return t;
}

class ScheduleRunnerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_schedule_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().message();
    db_ = std::move(s).value();
    store_ = std::make_unique<sqlite::SqliteScheduleStore>(*db_);
    runner_ = std::make_unique<ScheduleRunner>(
        *store_,
        [this](JobPlan plan, const std::string&) -> Result<std::string> {
          submitted_.push_back(plan);
          return plan.name;
        },
        [this](const std::string&) -> Result<std::string> { return latest_; }, clock_);
  }
  void TearDown() override {
    runner_.reset();
    store_.reset();
    db_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  NewSchedule Schedule(const std::string& name, Trigger t) {
    NewSchedule n;
    n.name = name;
    n.trigger = std::move(t);
    n.plan = CommandPlan();
    return n;
  }

  fs::path dir_;
  std::unique_ptr<sqlite::SqliteStore> db_;
  std::unique_ptr<sqlite::SqliteScheduleStore> store_;
  FakeClock clock_{kStart + 10 * kMinute};  // 00:10
  std::string latest_ = "1";
  std::vector<JobPlan> submitted_;
  std::unique_ptr<ScheduleRunner> runner_;
};

TEST_F(ScheduleRunnerTest, CronFiresAtItsTimesAndNotBefore) {
  auto s = runner_->Create(Schedule("every15", Cron("*/15 * * * *")));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(*s->next_fire_time, kStart + 15 * kMinute);
  EXPECT_EQ(runner_->Tick(), kStart + 15 * kMinute);
  EXPECT_TRUE(submitted_.empty());
  clock_.Set(kStart + 15 * kMinute);
  EXPECT_EQ(runner_->Tick(), kStart + 30 * kMinute);
  ASSERT_EQ(submitted_.size(), 1u);
  EXPECT_EQ(submitted_[0].name, "every15-20260105T001500Z");
  EXPECT_EQ(submitted_[0].tags["cairn.schedule"], "every15");
  EXPECT_EQ(submitted_[0].tags.count("cairn.schedule.missed_runs"), 0u);
  runner_->Tick();  // same instant: nothing more
  EXPECT_EQ(submitted_.size(), 1u);
  auto stored = runner_->Get("every15");
  EXPECT_EQ(stored->last_job, "every15-20260105T001500Z");
  EXPECT_EQ(*stored->last_fire_time, kStart + 15 * kMinute);
}

TEST_F(ScheduleRunnerTest, MissedRunsFireOnceWithCatchUpTags) {
  ASSERT_TRUE(runner_->Create(Schedule("every15", Cron("*/15 * * * *"))).ok());
  // Down from 00:10 to 01:20: 00:15, 00:30, 00:45, 01:00, 01:15 were missed.
  clock_.Set(kStart + 80 * kMinute);
  EXPECT_EQ(runner_->Tick(), kStart + 90 * kMinute);
  ASSERT_EQ(submitted_.size(), 1u);
  EXPECT_EQ(submitted_[0].tags["cairn.schedule.missed_runs"], "5");
  EXPECT_EQ(submitted_[0].tags["cairn.schedule.missed_since"], "2026-01-05T00:15:00Z");
  EXPECT_NE(submitted_[0].description.find("catch-up"), std::string::npos);
  runner_->Tick();
  EXPECT_EQ(submitted_.size(), 1u);
}

TEST_F(ScheduleRunnerTest, DisabledDoesNotFireAndEnableSkipsTheGap) {
  ASSERT_TRUE(runner_->Create(Schedule("every15", Cron("*/15 * * * *"))).ok());
  ASSERT_TRUE(runner_->SetEnabled("every15", false).ok());
  clock_.Set(kStart + 50 * kMinute);
  runner_->Tick();
  EXPECT_TRUE(submitted_.empty());
  auto on = runner_->SetEnabled("every15", true);
  ASSERT_TRUE(on.ok());
  EXPECT_EQ(*on->next_fire_time, kStart + 60 * kMinute);  // from now, no catch-up
  runner_->Tick();
  EXPECT_TRUE(submitted_.empty());
  clock_.Set(kStart + 60 * kMinute);
  runner_->Tick();
  EXPECT_EQ(submitted_.size(), 1u);
}

TEST_F(ScheduleRunnerTest, EndTimeStopsFiring) {
  Trigger t = Cron("*/15 * * * *");
  t.end_ms = kStart + 20 * kMinute;
  ASSERT_TRUE(runner_->Create(Schedule("short", t)).ok());
  clock_.Set(kStart + 15 * kMinute);
  EXPECT_EQ(runner_->Tick(), std::nullopt);  // 00:30 is past the end
  EXPECT_EQ(submitted_.size(), 1u);
  clock_.Set(kStart + 120 * kMinute);
  runner_->Tick();
  EXPECT_EQ(submitted_.size(), 1u);
  EXPECT_FALSE(runner_->Get("short")->next_fire_time.has_value());
}

TEST_F(ScheduleRunnerTest, StartTimeDelaysTheFirstFire) {
  Trigger t = Cron("0 * * * *");
  t.start_ms = kStart + 180 * kMinute;
  auto s = runner_->Create(Schedule("later", t));
  ASSERT_TRUE(s.ok());
  EXPECT_GE(*s->next_fire_time, kStart + 180 * kMinute);
}

TEST_F(ScheduleRunnerTest, DataAssetNewVersionFiresOnceWithTheVersionBound) {
  Trigger t;
  t.type = Trigger::Type::kDataAsset;
  t.data_asset = "watched";
  t.bind_input = "d";
  auto s = runner_->Create(Schedule("on-data", t));
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->last_seen_version, "1");
  runner_->Tick();
  EXPECT_TRUE(submitted_.empty());  // the version that existed at creation does not fire
  latest_ = "2";
  runner_->Tick();
  runner_->Tick();
  ASSERT_EQ(submitted_.size(), 1u);
  const InputValue& d = submitted_[0].steps[0].inputs.at("d");
  EXPECT_EQ(d.kind, InputValue::Kind::kDataAsset);
  EXPECT_EQ(d.asset_ref, "watched:2");
  EXPECT_EQ(submitted_[0].tags["cairn.schedule.data_asset"], "watched:2");
}

TEST_F(ScheduleRunnerTest, DataAssetTriggerNeedsAnExistingInput) {
  Trigger t;
  t.type = Trigger::Type::kDataAsset;
  t.data_asset = "watched";
  t.bind_input = "missing";
  auto s = runner_->Create(Schedule("bad", t));
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(ScheduleRunnerTest, EventsOfTheTypeAfterCreationFireWhenTheFilterMatches) {
  ASSERT_TRUE(runner_->PublishEvent("DatasetDriftDetected", "old", R"({"dataset":"f"})").ok());
  Trigger t;
  t.type = Trigger::Type::kEvent;
  t.event_type = "DatasetDriftDetected";
  t.filter = {{"dataset", "f"}};
  ASSERT_TRUE(runner_->Create(Schedule("on-drift", t)).ok());
  runner_->Tick();
  EXPECT_TRUE(submitted_.empty());  // the event before creation does not fire
  ASSERT_TRUE(runner_->PublishEvent("DatasetDriftDetected", "x", R"({"dataset":"g"})").ok());
  ASSERT_TRUE(runner_->PublishEvent("OtherEvent", "x", R"({"dataset":"f"})").ok());
  auto hit = runner_->PublishEvent("DatasetDriftDetected", "y", R"({"dataset":"f"})");
  ASSERT_TRUE(hit.ok());
  runner_->Tick();
  runner_->Tick();
  ASSERT_EQ(submitted_.size(), 1u);
  EXPECT_EQ(submitted_[0].tags["cairn.schedule.event_id"], std::to_string(hit->event_id));
  EXPECT_EQ(runner_->Get("on-drift")->last_seen_event_id, hit->event_id);
}

TEST_F(ScheduleRunnerTest, ACommittedEventWakesTheRunnerThroughTheStoreListener) {
  // A runner whose safety-net poll is an hour away: only the notification can fire it.
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::string> fired;
  ScheduleRunnerOptions options;
  options.watch_interval_ms = 3'600'000;
  ScheduleRunner runner(
      *store_,
      [&](JobPlan plan, const std::string&) -> Result<std::string> {
        std::lock_guard lock(mu);
        fired.push_back(plan.tags["cairn.schedule.event_id"]);
        cv.notify_all();
        return plan.name;
      },
      [](const std::string&) -> Result<std::string> { return std::string(); }, clock_, options);
  std::vector<std::string> reported;
  db_->SetInsertListener({"outbox", "asset_versions"}, [&](const std::vector<std::string>& tables) {
    reported.insert(reported.end(), tables.begin(), tables.end());
    runner.NotifyChange();
  });
  Trigger t;
  t.type = Trigger::Type::kEvent;
  t.event_type = "DatasetDriftDetected";
  ASSERT_TRUE(runner.Create(Schedule("on-drift", t)).ok());
  ASSERT_TRUE(runner.Start().ok());
  // Written straight to the store (as another component would), not through PublishEvent.
  OutboxEvent e;
  e.type = "DatasetDriftDetected";
  e.subject = "s";
  e.data = "{}";
  auto written = store_->AppendEvent(e);
  ASSERT_TRUE(written.ok()) << written.status().message();
  {
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return !fired.empty(); }))
        << "the committed event did not wake the runner";
    if (!fired.empty()) EXPECT_EQ(fired[0], std::to_string(written->event_id));
  }
  runner.Stop();
  db_->SetInsertListener({}, nullptr);
  EXPECT_NE(std::find(reported.begin(), reported.end(), "outbox"), reported.end());
  // Once cleared, commits report nothing.
  reported.clear();
  ASSERT_TRUE(store_->AppendEvent(e).ok());
  EXPECT_TRUE(reported.empty());
}

TEST_F(ScheduleRunnerTest, PublishEventValidatesTypeAndData) {
  EXPECT_FALSE(runner_->PublishEvent("ModelRegistered", "", "{}").ok());
  EXPECT_FALSE(runner_->PublishEvent("lower", "", "{}").ok());
  EXPECT_FALSE(runner_->PublishEvent("Bad-Name", "", "{}").ok());
  EXPECT_FALSE(runner_->PublishEvent("Fine", "", "[1]").ok());
  EXPECT_FALSE(runner_->PublishEvent("RunCompleted", "", "{}").ok());  // the scheduler's own
  EXPECT_TRUE(runner_->PublishEvent("Fine", "", "{}").ok());
}

TEST_F(ScheduleRunnerTest, ListEventsPagesInOrderAndFiltersByType) {
  auto a = runner_->PublishEvent("AlphaHappened", "a", R"({"n":1})");
  auto b = runner_->PublishEvent("BetaHappened", "b", R"({"n":2})");
  auto c = runner_->PublishEvent("AlphaHappened", "c", R"({"n":3})");
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  auto all = runner_->ListEvents("", 0, 100);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[0].subject, "a");
  EXPECT_EQ((*all)[2].subject, "c");
  auto alpha = runner_->ListEvents("AlphaHappened", 0, 100);
  ASSERT_TRUE(alpha.ok());
  ASSERT_EQ(alpha->size(), 2u);
  EXPECT_EQ((*alpha)[1].event_id, c->event_id);
  // Paging by the last id seen.
  auto page1 = runner_->ListEvents("", 0, 2);
  ASSERT_TRUE(page1.ok());
  ASSERT_EQ(page1->size(), 2u);
  auto page2 = runner_->ListEvents("", page1->back().event_id, 2);
  ASSERT_TRUE(page2.ok());
  ASSERT_EQ(page2->size(), 1u);
  EXPECT_EQ(page2->front().event_id, c->event_id);
  EXPECT_EQ(runner_->ListEvents("", 0, 0).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(runner_->ListEvents("", 0, 1001).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(runner_->ListEvents("", -1, 10).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(ScheduleRunnerTest, DeleteAndDuplicateNames) {
  ASSERT_TRUE(runner_->Create(Schedule("s", Cron("0 * * * *"))).ok());
  EXPECT_EQ(runner_->Create(Schedule("s", Cron("0 * * * *"))).status().code(),
            ErrorCode::kResourceAlreadyExists);
  ASSERT_TRUE(runner_->Delete("s").ok());
  EXPECT_EQ(runner_->Delete("s").code(), ErrorCode::kResourceDoesNotExist);
  clock_.Set(kStart + 600 * kMinute);
  runner_->Tick();
  EXPECT_TRUE(submitted_.empty());
}

TEST_F(ScheduleRunnerTest, ThreadFiresWhenWokenWithoutBusyPolling) {
  ASSERT_TRUE(runner_->Create(Schedule("every15", Cron("*/15 * * * *"))).ok());
  clock_.Set(kStart + 15 * kMinute);
  ASSERT_TRUE(runner_->Start().ok());
  runner_->Wake();
  runner_->Stop();  // Stop joins; the loop ticks once before it waits
  EXPECT_EQ(submitted_.size(), 1u);
}

TEST(PublishedPipelinesTest, OverridesAndVersions) {
  JobPlan plan = CommandPlan();
  EXPECT_TRUE(ApplyInputOverrides(plan, {{"greeting", "bonjour"}, {"d", "azureml:other:3"}}).ok());
  EXPECT_EQ(plan.steps[0].inputs["greeting"].literal, "bonjour");
  EXPECT_EQ(plan.steps[0].inputs["d"].asset_ref, "other:3");
  EXPECT_EQ(ApplyInputOverrides(plan, {{"nope", "1"}}).code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(ApplyInputOverrides(plan, {{"d", "no-version"}}).code(),
            ErrorCode::kInvalidParameterValue);
}

}  // namespace
}  // namespace cairn::pipeline
