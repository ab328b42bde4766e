#include "store/sqlite/sqlite_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "tracking/search_filter.h"
#include "tracking/tracking_service.h"

namespace cairn::sqlite {
namespace {

namespace fs = std::filesystem;

const Tag* FindTag(const std::vector<Tag>& tags, const std::string& key) {
  for (const auto& t : tags) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

std::string TagValue(const std::vector<Tag>& tags, const std::string& key) {
  const Tag* t = FindTag(tags, key);
  return t ? t->value : "<missing>";
}

const Metric* FindMetric(const std::vector<Metric>& metrics, const std::string& key) {
  for (const auto& m : metrics) {
    if (m.key == key) return &m;
  }
  return nullptr;
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_sqlite_store_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    db_path_ = (dir_ / "cairn.db").string();
    Reopen();
  }

  void TearDown() override {
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void Reopen() {
    store_.reset();
    auto s = SqliteStore::Open(db_path_, StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  std::string NewExperiment(const std::string& name, const std::vector<Tag>& tags = {}) {
    auto id = store_->CreateExperiment(name, "", tags);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  cairn::Run NewRunIn(const std::string& exp, const std::string& name = "",
                      std::optional<int64_t> start_time = std::nullopt) {
    NewRun nr;
    nr.experiment_id = exp;
    nr.run_name = name;
    nr.user_id = "tester";
    nr.start_time = start_time;
    auto r = store_->CreateRun(nr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : cairn::Run{};
  }

  cairn::Run MustGetRun(const std::string& id) {
    auto r = store_->GetRun(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : cairn::Run{};
  }

  // Run ids matching `filter` in `exp`, in the store's order.
  std::vector<std::string> Search(const std::string& exp, const std::string& filter,
                                  const std::vector<std::string>& order_by = {},
                                  ViewType view = ViewType::kActiveOnly) {
    RunQuery q;
    q.experiment_ids = {exp};
    auto f = ParseFilter(filter, SearchTarget::kRuns);
    EXPECT_TRUE(f.ok()) << filter << ": " << f.status().ToString();
    if (!f.ok()) return {};
    q.filter = *f;
    for (const auto& o : order_by) {
      auto k = ParseOrderBy(o, SearchTarget::kRuns);
      EXPECT_TRUE(k.ok()) << o << ": " << k.status().ToString();
      if (!k.ok()) return {};
      q.order_by.push_back(*k);
    }
    q.view = view;
    auto page = store_->SearchRuns(q);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    std::vector<std::string> ids;
    if (!page.ok()) return ids;
    for (const auto& r : page->items) ids.push_back(r.info.run_id);
    return ids;
  }

  static std::set<std::string> AsSet(const std::vector<std::string>& v) {
    return {v.begin(), v.end()};
  }

  fs::path dir_;
  std::string db_path_;
  std::unique_ptr<SqliteStore> store_;
};

// ---- experiments ------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, DefaultExperimentExists) {
  auto e = store_->GetExperiment("0");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->experiment_id, "0");
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->lifecycle_stage, kActive);
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
  auto by_name = store_->GetExperimentByName("Default");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->experiment_id, "0");
  EXPECT_GT(store_->SchemaVersion(), 0);
}

TEST_F(SqliteStoreTest, CreateGetAndGetByName) {
  std::string id = NewExperiment("exp-a", {{"team", "vision"}});
  ASSERT_FALSE(id.empty());
  EXPECT_NE(id, "0");
  auto e = store_->GetExperiment(id);
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->name, "exp-a");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/" + id);
  EXPECT_EQ(e->lifecycle_stage, kActive);
  EXPECT_GT(e->creation_time, 0);
  ASSERT_EQ(e->tags.size(), 1u);
  EXPECT_EQ(e->tags[0].key, "team");
  EXPECT_EQ(e->tags[0].value, "vision");

  auto by_name = store_->GetExperimentByName("exp-a");
  ASSERT_TRUE(by_name.ok());
  EXPECT_EQ(by_name->experiment_id, id);

  std::string id2 = NewExperiment("exp-b");
  EXPECT_NE(id2, id);

  auto custom = store_->CreateExperiment("exp-c", "mlflow-artifacts:/custom/place", {});
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(store_->GetExperiment(*custom)->artifact_location, "mlflow-artifacts:/custom/place");
}

TEST_F(SqliteStoreTest, ExperimentErrors) {
  NewExperiment("dup");
  auto again = store_->CreateExperiment("dup", "", {});
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceAlreadyExists);

  for (const char* bad : {"12345", "abc", "", "-1", "99999999999999999999999"}) {
    auto e = store_->GetExperiment(bad);
    ASSERT_FALSE(e.ok()) << bad;
    EXPECT_EQ(e.status().code(), ErrorCode::kResourceDoesNotExist) << bad;
  }
  auto by_name = store_->GetExperimentByName("nope");
  ASSERT_FALSE(by_name.ok());
  EXPECT_EQ(by_name.status().code(), ErrorCode::kResourceDoesNotExist);

  Status st = store_->RenameExperiment("424242", "x");
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
  st = store_->SetExperimentLifecycle("424242", kDeleted);
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
  st = store_->SetExperimentTag("424242", {"k", "v"});
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteStoreTest, RenameExperiment) {
  std::string a = NewExperiment("a");
  NewExperiment("b");
  ASSERT_TRUE(store_->RenameExperiment(a, "a2").ok());
  EXPECT_EQ(store_->GetExperiment(a)->name, "a2");
  EXPECT_TRUE(store_->GetExperimentByName("a2").ok());
  EXPECT_EQ(store_->GetExperimentByName("a").status().code(), ErrorCode::kResourceDoesNotExist);
  // Renaming to a taken name is refused and changes nothing.
  Status st = store_->RenameExperiment(a, "b");
  EXPECT_EQ(st.code(), ErrorCode::kResourceAlreadyExists);
  EXPECT_EQ(store_->GetExperiment(a)->name, "a2");
  // Renaming to its own name is a no-op.
  EXPECT_TRUE(store_->RenameExperiment(a, "a2").ok());
}

TEST_F(SqliteStoreTest, DeleteAndRestoreExperiment) {
  std::string id = NewExperiment("to-delete");
  ASSERT_TRUE(store_->SetExperimentLifecycle(id, kDeleted).ok());
  EXPECT_EQ(store_->GetExperiment(id)->lifecycle_stage, kDeleted);
  // The name stays taken while deleted.
  auto again = store_->CreateExperiment("to-delete", "", {});
  EXPECT_EQ(again.status().code(), ErrorCode::kResourceAlreadyExists);
  // Deleting twice is refused.
  EXPECT_FALSE(store_->SetExperimentLifecycle(id, kDeleted).ok());
  // A deleted experiment cannot be renamed or tagged.
  EXPECT_FALSE(store_->RenameExperiment(id, "other").ok());
  EXPECT_FALSE(store_->SetExperimentTag(id, {"k", "v"}).ok());

  ASSERT_TRUE(store_->SetExperimentLifecycle(id, kActive).ok());
  EXPECT_EQ(store_->GetExperiment(id)->lifecycle_stage, kActive);
  EXPECT_FALSE(store_->SetExperimentLifecycle(id, kActive).ok());

  // The default experiment cannot be deleted.
  Status st = store_->SetExperimentLifecycle("0", kDeleted);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(store_->GetExperiment("0")->lifecycle_stage, kActive);
}

TEST_F(SqliteStoreTest, ExperimentDeleteCascadesToRunsAndRestoreRestoresThem) {
  std::string id = NewExperiment("cascade");
  cairn::Run r1 = NewRunIn(id);
  cairn::Run r2 = NewRunIn(id);
  cairn::Run other = NewRunIn("0");
  ASSERT_TRUE(store_->SetExperimentLifecycle(id, kDeleted).ok());
  EXPECT_EQ(MustGetRun(r1.info.run_id).info.lifecycle_stage, kDeleted);
  EXPECT_EQ(MustGetRun(r2.info.run_id).info.lifecycle_stage, kDeleted);
  EXPECT_EQ(MustGetRun(other.info.run_id).info.lifecycle_stage, kActive);
  EXPECT_TRUE(Search(id, "").empty());
  EXPECT_EQ(Search(id, "", {}, ViewType::kDeletedOnly).size(), 2u);

  ASSERT_TRUE(store_->SetExperimentLifecycle(id, kActive).ok());
  EXPECT_EQ(MustGetRun(r1.info.run_id).info.lifecycle_stage, kActive);
  EXPECT_EQ(MustGetRun(r2.info.run_id).info.lifecycle_stage, kActive);
  EXPECT_EQ(Search(id, "").size(), 2u);
}

TEST_F(SqliteStoreTest, ExperimentTags) {
  std::string id = NewExperiment("tagged");
  ASSERT_TRUE(store_->SetExperimentTag(id, {"k", "v1"}).ok());
  ASSERT_TRUE(store_->SetExperimentTag(id, {"k", "v2"}).ok());  // upsert
  auto e = store_->GetExperiment(id);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->tags.size(), 1u);
  EXPECT_EQ(e->tags[0].value, "v2");
}

// ---- runs -------------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, CreateRunWithGeneratedName) {
  std::string exp = NewExperiment("runs");
  cairn::Run run = NewRunIn(exp);
  EXPECT_EQ(run.info.run_id.size(), 32u);
  EXPECT_EQ(run.info.experiment_id, exp);
  EXPECT_EQ(run.info.status, "RUNNING");
  EXPECT_EQ(run.info.lifecycle_stage, kActive);
  EXPECT_EQ(run.info.user_id, "tester");
  EXPECT_TRUE(run.info.start_time.has_value());
  EXPECT_FALSE(run.info.end_time.has_value());
  EXPECT_FALSE(run.info.run_name.empty());
  EXPECT_TRUE(std::regex_match(run.info.run_name, std::regex("[a-z]+-[a-z]+-[0-9]+")))
      << run.info.run_name;
  const Tag* name_tag = FindTag(run.tags, "mlflow.runName");
  ASSERT_NE(name_tag, nullptr);
  EXPECT_EQ(name_tag->value, run.info.run_name);
  EXPECT_EQ(run.info.artifact_uri,
            "mlflow-artifacts:/" + exp + "/" + run.info.run_id + "/artifacts");

  cairn::Run fetched = MustGetRun(run.info.run_id);
  EXPECT_EQ(fetched.info.run_name, run.info.run_name);
  EXPECT_EQ(fetched.info.artifact_uri, run.info.artifact_uri);
  ASSERT_NE(FindTag(fetched.tags, "mlflow.runName"), nullptr);
}

TEST_F(SqliteStoreTest, CreateRunsAllOrNothingAndSameAsStored) {
  std::vector<NewRun> runs(3);
  for (size_t i = 0; i < runs.size(); ++i) {
    runs[i].experiment_id = "0";
    runs[i].run_name = "step-" + std::to_string(i);
    runs[i].tags = {{"z", "1"}, {"a", "2"}, {"a", "3"}};  // a repeated key: the last wins
  }
  auto made = store_->CreateRuns(runs);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ASSERT_EQ(made->size(), 3u);
  for (const cairn::Run& r : *made) {
    auto stored = store_->GetRun(r.info.run_id);
    ASSERT_TRUE(stored.ok());
    EXPECT_EQ(r.info.run_name, stored->info.run_name);
    EXPECT_EQ(r.info.artifact_uri, stored->info.artifact_uri);
    ASSERT_EQ(r.tags.size(), stored->tags.size());
    for (size_t i = 0; i < r.tags.size(); ++i) {
      EXPECT_EQ(r.tags[i].key, stored->tags[i].key);
      EXPECT_EQ(r.tags[i].value, stored->tags[i].value);
    }
    EXPECT_EQ(FindTag(r.tags, "a")->value, "3");
  }
  // One bad run (no such experiment): none is created.
  runs[1].experiment_id = "424242";
  runs[0].run_name = "never";
  EXPECT_FALSE(store_->CreateRuns(runs).ok());
  RunQuery q;
  q.experiment_ids = {"0"};
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  for (const cairn::Run& r : page->items) EXPECT_NE(r.info.run_name, "never");
}

TEST_F(SqliteStoreTest, CreateRunWithNameAndTags) {
  NewRun nr;
  nr.experiment_id = "0";
  nr.run_name = "my-run";
  nr.start_time = 1234;
  nr.tags = {{"team", "a"}, {"mlflow.user", "alice"}};
  auto r = store_->CreateRun(nr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->info.run_name, "my-run");
  EXPECT_EQ(r->info.start_time, 1234);
  EXPECT_EQ(r->info.user_id, "alice");  // taken from mlflow.user when user_id is empty
  ASSERT_NE(FindTag(r->tags, "mlflow.runName"), nullptr);
  EXPECT_EQ(FindTag(r->tags, "mlflow.runName")->value, "my-run");
  ASSERT_NE(FindTag(r->tags, "team"), nullptr);

  // The name may come from the mlflow.runName tag instead.
  NewRun by_tag;
  by_tag.experiment_id = "0";
  by_tag.tags = {{"mlflow.runName", "from-tag"}};
  auto r2 = store_->CreateRun(by_tag);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->info.run_name, "from-tag");

  // Both given and different: refused.
  NewRun both;
  both.experiment_id = "0";
  both.run_name = "x";
  both.tags = {{"mlflow.runName", "y"}};
  auto r3 = store_->CreateRun(both);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(SqliteStoreTest, RunNameFollowsTagAndUpdateRun) {
  cairn::Run run = NewRunIn("0", "first");
  ASSERT_TRUE(store_->LogBatch(run.info.run_id, {}, {}, {{"mlflow.runName", "second"}}).ok());
  EXPECT_EQ(MustGetRun(run.info.run_id).info.run_name, "second");

  auto info = store_->UpdateRun(run.info.run_id, std::string("FINISHED"), int64_t{99},
                                std::string("third"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->status, "FINISHED");
  EXPECT_EQ(info->end_time, 99);
  EXPECT_EQ(info->run_name, "third");
  cairn::Run fetched = MustGetRun(run.info.run_id);
  EXPECT_EQ(TagValue(fetched.tags, "mlflow.runName"), "third");
  EXPECT_EQ(fetched.info.status, "FINISHED");
}

TEST_F(SqliteStoreTest, CreateRunErrors) {
  NewRun nr;
  nr.experiment_id = "777";
  auto r = store_->CreateRun(nr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kResourceDoesNotExist);

  std::string exp = NewExperiment("gone");
  ASSERT_TRUE(store_->SetExperimentLifecycle(exp, kDeleted).ok());
  nr.experiment_id = exp;
  r = store_->CreateRun(nr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(Search(exp, "", {}, ViewType::kAll).empty());

  auto missing = store_->GetRun("0123456789abcdef0123456789abcdef");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteStoreTest, DeleteAndRestoreRun) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->SetRunLifecycle(id, kDeleted).ok());
  EXPECT_EQ(MustGetRun(id).info.lifecycle_stage, kDeleted);
  ASSERT_TRUE(store_->SetRunLifecycle(id, kActive).ok());
  EXPECT_EQ(MustGetRun(id).info.lifecycle_stage, kActive);
  EXPECT_EQ(store_->SetRunLifecycle("nope", kDeleted).code(), ErrorCode::kResourceDoesNotExist);
}

// ---- logging ----------------------------------------------------------------------------------

TEST_F(SqliteStoreTest, LogBatchStoresEverything) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_
                  ->LogBatch(id, {{"acc", 0.5, 10, 0, ""}, {"acc", 0.7, 20, 1, ""}},
                             {{"lr", "0.1"}, {"model", "xgb"}}, {{"team", "a"}})
                  .ok());
  cairn::Run got = MustGetRun(id);
  ASSERT_EQ(got.metrics.size(), 1u);
  EXPECT_EQ(got.metrics[0].key, "acc");
  EXPECT_DOUBLE_EQ(got.metrics[0].value, 0.7);
  EXPECT_EQ(got.metrics[0].step, 1);
  EXPECT_EQ(got.metrics[0].timestamp, 20);
  ASSERT_EQ(got.params.size(), 2u);
  EXPECT_EQ(got.params[0].key, "lr");
  EXPECT_EQ(got.params[0].value, "0.1");
  ASSERT_NE(FindTag(got.tags, "team"), nullptr);
  EXPECT_EQ(FindTag(got.tags, "team")->value, "a");

  auto hist = store_->GetMetricHistory(id, "acc");
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 2u);
  EXPECT_DOUBLE_EQ((*hist)[0].value, 0.5);
  EXPECT_EQ((*hist)[0].step, 0);
  EXPECT_DOUBLE_EQ((*hist)[1].value, 0.7);

  // Tags upsert.
  ASSERT_TRUE(store_->LogBatch(id, {}, {}, {{"team", "b"}}).ok());
  EXPECT_EQ(TagValue(MustGetRun(id).tags, "team"), "b");
}

TEST_F(SqliteStoreTest, LogBatchIsAllOrNothing) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogBatch(id, {}, {{"lr", "0.1"}}, {}).ok());

  Status st = store_->LogBatch(id, {{"loss", 1.5, 1, 0, ""}}, {{"fresh", "1"}, {"lr", "0.2"}},
                               {{"newtag", "x"}});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);

  cairn::Run got = MustGetRun(id);
  EXPECT_TRUE(got.metrics.empty());
  ASSERT_EQ(got.params.size(), 1u);
  EXPECT_EQ(got.params[0].key, "lr");
  EXPECT_EQ(got.params[0].value, "0.1");
  EXPECT_EQ(FindTag(got.tags, "newtag"), nullptr);
  auto hist = store_->GetMetricHistory(id, "loss");
  ASSERT_TRUE(hist.ok());
  EXPECT_TRUE(hist->empty());
}

TEST_F(SqliteStoreTest, ParamRelogging) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogBatch(id, {}, {{"p", "v"}}, {}).ok());
  EXPECT_TRUE(store_->LogBatch(id, {}, {{"p", "v"}}, {}).ok());
  Status st = store_->LogBatch(id, {}, {{"p", "w"}}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  cairn::Run got = MustGetRun(id);
  ASSERT_EQ(got.params.size(), 1u);
  EXPECT_EQ(got.params[0].value, "v");
}

TEST_F(SqliteStoreTest, LatestMetricSemantics) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  auto latest = [&]() -> Metric {
    cairn::Run r = MustGetRun(id);
    const Metric* m = FindMetric(r.metrics, "m");
    EXPECT_NE(m, nullptr);
    return m ? *m : Metric{};
  };
  auto log = [&](double v, int64_t ts, int64_t step) {
    ASSERT_TRUE(store_->LogBatch(id, {{"m", v, ts, step, ""}}, {}, {}).ok());
  };

  log(1.0, 100, 5);
  EXPECT_DOUBLE_EQ(latest().value, 1.0);
  // An older step logged later (even with a newer timestamp) does not replace it.
  log(2.0, 500, 3);
  EXPECT_DOUBLE_EQ(latest().value, 1.0);
  EXPECT_EQ(latest().step, 5);
  // Same step, older timestamp: no.
  log(3.0, 50, 5);
  EXPECT_DOUBLE_EQ(latest().value, 1.0);
  // Same step and timestamp, smaller value: no.
  log(0.5, 100, 5);
  EXPECT_DOUBLE_EQ(latest().value, 1.0);
  // Same step and timestamp, greater value: yes.
  log(4.0, 100, 5);
  EXPECT_DOUBLE_EQ(latest().value, 4.0);
  // Same step, newer timestamp: yes, even with a smaller value.
  log(-1.0, 101, 5);
  EXPECT_DOUBLE_EQ(latest().value, -1.0);
  EXPECT_EQ(latest().timestamp, 101);
  // Greater step wins even with an old timestamp.
  log(-2.0, 1, 6);
  EXPECT_DOUBLE_EQ(latest().value, -2.0);
  EXPECT_EQ(latest().step, 6);
  EXPECT_EQ(latest().timestamp, 1);

  auto hist = store_->GetMetricHistory(id, "m");
  ASSERT_TRUE(hist.ok());
  EXPECT_EQ(hist->size(), 7u);
  // Ordered by step, then timestamp.
  for (size_t i = 1; i < hist->size(); ++i) {
    const Metric& a = (*hist)[i - 1];
    const Metric& b = (*hist)[i];
    EXPECT_TRUE(a.step < b.step || (a.step == b.step && a.timestamp <= b.timestamp)) << i;
  }
}

TEST_F(SqliteStoreTest, LatestMetricWithinOneBatch) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_
                  ->LogBatch(id,
                             {{"m", 1.0, 100, 5, ""},
                              {"m", 2.0, 500, 3, ""},
                              {"m", 4.0, 100, 5, ""},
                              {"m", 9.0, 50, 5, ""},
                              {"m", 0.5, 100, 5, ""},
                              {"other", 7.0, 1, 0, ""}},
                             {}, {})
                  .ok());
  cairn::Run got = MustGetRun(id);
  const Metric* m = FindMetric(got.metrics, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->value, 4.0);
  EXPECT_EQ(m->step, 5);
  EXPECT_EQ(m->timestamp, 100);
  ASSERT_NE(FindMetric(got.metrics, "other"), nullptr);
  EXPECT_EQ(store_->GetMetricHistory(id, "m")->size(), 5u);

  // A later batch whose best candidate is older than the stored latest changes nothing.
  ASSERT_TRUE(store_->LogBatch(id, {{"m", 100.0, 999, 4, ""}, {"m", 50.0, 1, 2, ""}}, {}, {}).ok());
  m = nullptr;
  got = MustGetRun(id);
  m = FindMetric(got.metrics, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->value, 4.0);
  // One that is newer replaces it.
  ASSERT_TRUE(store_->LogBatch(id, {{"m", -3.0, 1, 6, ""}, {"m", 100.0, 999, 4, ""}}, {}, {}).ok());
  got = MustGetRun(id);
  m = FindMetric(got.metrics, "m");
  ASSERT_NE(m, nullptr);
  EXPECT_DOUBLE_EQ(m->value, -3.0);
  EXPECT_EQ(m->step, 6);
}

TEST_F(SqliteStoreTest, NonFiniteMetricValuesRoundTrip) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  const double inf = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(store_
                  ->LogBatch(id,
                             {{"nan", std::nan(""), 1, 0, ""},
                              {"pinf", inf, 1, 0, ""},
                              {"ninf", -inf, 1, 0, ""},
                              {"seq", 1.0, 1, 0, ""},
                              {"seq", std::nan(""), 2, 1, ""},
                              {"seq", inf, 3, 2, ""},
                              {"seq", -inf, 4, 3, ""}},
                             {}, {})
                  .ok());
  cairn::Run got = MustGetRun(id);
  const Metric* nan_m = FindMetric(got.metrics, "nan");
  const Metric* pinf = FindMetric(got.metrics, "pinf");
  const Metric* ninf = FindMetric(got.metrics, "ninf");
  const Metric* seq = FindMetric(got.metrics, "seq");
  ASSERT_TRUE(nan_m && pinf && ninf && seq);
  EXPECT_TRUE(std::isnan(nan_m->value));
  EXPECT_TRUE(std::isinf(pinf->value) && pinf->value > 0) << pinf->value;
  EXPECT_TRUE(std::isinf(ninf->value) && ninf->value < 0) << ninf->value;
  EXPECT_TRUE(std::isinf(seq->value) && seq->value < 0) << seq->value;
  EXPECT_EQ(seq->step, 3);

  auto hist = store_->GetMetricHistory(id, "seq");
  ASSERT_TRUE(hist.ok());
  ASSERT_EQ(hist->size(), 4u);
  EXPECT_DOUBLE_EQ((*hist)[0].value, 1.0);
  EXPECT_TRUE(std::isnan((*hist)[1].value));
  EXPECT_TRUE(std::isinf((*hist)[2].value) && (*hist)[2].value > 0);
  EXPECT_TRUE(std::isinf((*hist)[3].value) && (*hist)[3].value < 0);

  // A NaN metric is not matched by numeric filters, and sorts after numbers.
  cairn::Run other = NewRunIn("0");
  ASSERT_TRUE(store_->LogBatch(other.info.run_id, {{"nan", 5.0, 1, 0, ""}}, {}, {}).ok());
  EXPECT_EQ(Search("0", "metrics.nan > -1000000"), (std::vector<std::string>{other.info.run_id}));
  EXPECT_EQ(Search("0", "metrics.pinf > 1e308"), (std::vector<std::string>{id}));
  auto ordered = Search("0", "", {"metrics.nan DESC"});
  ASSERT_EQ(ordered.size(), 2u);
  EXPECT_EQ(ordered[0], other.info.run_id);
  EXPECT_EQ(ordered[1], id);
}

TEST_F(SqliteStoreTest, LoggingToDeletedRunIsRefused) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogBatch(id, {}, {}, {{"t", "v"}}).ok());
  ASSERT_TRUE(store_->SetRunLifecycle(id, kDeleted).ok());
  Status st = store_->LogBatch(id, {{"m", 1, 1, 0, ""}}, {}, {});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  st = store_->LogBatch(id, {}, {{"p", "1"}}, {});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  st = store_->DeleteTag(id, "t");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  DatasetInput in;
  in.dataset = {"d", "x", "local", "/d", "", ""};
  st = store_->LogInputs(id, {in});
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  auto upd = store_->UpdateRun(id, std::string("FINISHED"), std::nullopt, std::nullopt);
  EXPECT_FALSE(upd.ok());
  cairn::Run got = MustGetRun(id);
  EXPECT_TRUE(got.metrics.empty());
  EXPECT_TRUE(got.params.empty());
  EXPECT_NE(FindTag(got.tags, "t"), nullptr);

  st = store_->LogBatch("no-such-run", {{"m", 1, 1, 0, ""}}, {}, {});
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteStoreTest, DeleteTag) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(store_->LogBatch(id, {}, {}, {{"t", "v"}}).ok());
  ASSERT_TRUE(store_->DeleteTag(id, "t").ok());
  EXPECT_EQ(FindTag(MustGetRun(id).tags, "t"), nullptr);
  Status st = store_->DeleteTag(id, "t");
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
  st = store_->DeleteTag(id, "never-set");
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteStoreTest, UpdateRunTagIsAtomicReadModifyWrite) {
  cairn::Run run = NewRunIn("0");
  const std::string id = run.info.run_id;
  bool saw_null = false;
  ASSERT_TRUE(store_
                  ->UpdateRunTag(id, "counter",
                                 [&](const std::string* cur) -> Result<std::string> {
                                   saw_null = cur == nullptr;
                                   return std::string("0");
                                 })
                  .ok());
  EXPECT_TRUE(saw_null);
  // A failing update changes nothing and reports its own status.
  Status st =
      store_->UpdateRunTag(id, "counter", [](const std::string* cur) -> Result<std::string> {
        return Status(ErrorCode::kInvalidParameterValue, "nope");
      });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(TagValue(MustGetRun(id).tags, "counter"), "0");

  constexpr int kThreads = 16;
  constexpr int kIncrements = 50;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kIncrements; ++i) {
        Status s = store_->UpdateRunTag(id, "counter", [](const std::string* cur) {
          return Result<std::string>(std::to_string(std::stoi(cur ? *cur : "0") + 1));
        });
        if (!s.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(TagValue(MustGetRun(id).tags, "counter"), std::to_string(kThreads * kIncrements));

  // Updating mlflow.runName renames the run, as every other tag write does.
  ASSERT_TRUE(store_
                  ->UpdateRunTag(id, "mlflow.runName",
                                 [](const std::string*) { return Result<std::string>("renamed"); })
                  .ok());
  EXPECT_EQ(MustGetRun(id).info.run_name, "renamed");

  ASSERT_TRUE(store_->SetRunLifecycle(id, kDeleted).ok());
  st = store_->UpdateRunTag(id, "counter",
                            [](const std::string*) { return Result<std::string>("x"); });
  EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue);
  st = store_->UpdateRunTag("no-such-run", "counter",
                            [](const std::string*) { return Result<std::string>("x"); });
  EXPECT_EQ(st.code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(SqliteStoreTest, LogInputsDedupsAndKeepsTags) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  DatasetInput in;
  in.dataset = {"train", "d1", "local", "/data/train.csv", "{\"cols\":[]}", "{}"};
  in.tags = {{"mlflow.data.context", "training"}};
  ASSERT_TRUE(store_->LogInputs(id, {in}).ok());
  ASSERT_TRUE(store_->LogInputs(id, {in, in}).ok());
  cairn::Run got = MustGetRun(id);
  ASSERT_EQ(got.inputs.size(), 1u);
  EXPECT_EQ(got.inputs[0].dataset.name, "train");
  EXPECT_EQ(got.inputs[0].dataset.digest, "d1");
  EXPECT_EQ(got.inputs[0].dataset.source_type, "local");
  EXPECT_EQ(got.inputs[0].dataset.source, "/data/train.csv");
  EXPECT_EQ(got.inputs[0].dataset.schema, "{\"cols\":[]}");
  ASSERT_EQ(got.inputs[0].tags.size(), 1u);
  EXPECT_EQ(got.inputs[0].tags[0].key, "mlflow.data.context");
  EXPECT_EQ(got.inputs[0].tags[0].value, "training");

  DatasetInput eval = in;
  eval.dataset.name = "eval";
  eval.dataset.digest = "d2";
  eval.tags = {{"mlflow.data.context", "eval"}};
  ASSERT_TRUE(store_->LogInputs(id, {eval}).ok());
  EXPECT_EQ(MustGetRun(id).inputs.size(), 2u);

  // The same dataset used by a second run is shared, and searchable per run.
  cairn::Run other = NewRunIn("0");
  ASSERT_TRUE(store_->LogInputs(other.info.run_id, {eval}).ok());
  EXPECT_EQ(AsSet(Search("0", "datasets.name = 'train'")), (std::set<std::string>{id}));
  EXPECT_EQ(AsSet(Search("0", "datasets.digest = 'd2'")),
            (std::set<std::string>{id, other.info.run_id}));
  EXPECT_EQ(AsSet(Search("0", "datasets.context = 'training'")), (std::set<std::string>{id}));
}

// ---- search -----------------------------------------------------------------------------------

class SqliteSearchTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    exp_ = NewExperiment("search");
    a_ = NewRunIn(exp_, "alpha", 1000).info.run_id;
    b_ = NewRunIn(exp_, "Beta", 2000).info.run_id;
    c_ = NewRunIn(exp_, "gamma", 3000).info.run_id;
    ASSERT_TRUE(store_
                    ->LogBatch(a_, {{"acc", 0.9, 1, 0, ""}, {"loss", 0.1, 1, 0, ""}},
                               {{"model", "xgb"}, {"depth", "b"}}, {{"team", "vision"}})
                    .ok());
    ASSERT_TRUE(store_
                    ->LogBatch(b_, {{"acc", 0.5, 1, 0, ""}}, {{"model", "XGB"}, {"depth", "a"}},
                               {{"team", "nlp"}})
                    .ok());
    ASSERT_TRUE(
        store_->LogBatch(c_, {{"loss", 0.3, 1, 0, ""}}, {{"model", "lr"}, {"depth", "c"}}, {})
            .ok());
    ASSERT_TRUE(store_->UpdateRun(b_, std::string("FINISHED"), int64_t{2500}, std::nullopt).ok());
  }

  std::string exp_, a_, b_, c_;
};

TEST_F(SqliteSearchTest, DefaultOrderIsStartTimeDescending) {
  EXPECT_EQ(Search(exp_, ""), (std::vector<std::string>{c_, b_, a_}));
}

TEST_F(SqliteSearchTest, FilterOnMetrics) {
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc > 0.6")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc >= 0.5")), (std::set<std::string>{a_, b_}));
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc < 0.9")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc <= 0.9")), (std::set<std::string>{a_, b_}));
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc = 0.5")), (std::set<std::string>{b_}));
  // Runs without the metric never match, not even !=.
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc != 0.5")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "metrics.acc > 0 AND metrics.loss > 0")),
            (std::set<std::string>{a_}));
  EXPECT_TRUE(Search(exp_, "metrics.nosuch > -1").empty());
}

TEST_F(SqliteSearchTest, FilterOnParamsAndTags) {
  EXPECT_EQ(AsSet(Search(exp_, "params.model = 'xgb'")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model != 'xgb'")), (std::set<std::string>{b_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "tags.team = 'nlp'")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "tags.team != 'nlp'")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "tags.\"mlflow.runName\" = 'gamma'")), (std::set<std::string>{c_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model = 'xgb' AND tags.team = 'nlp'")),
            (std::set<std::string>{}));
}

TEST_F(SqliteSearchTest, LikeIsCaseSensitiveAndILikeIsNot) {
  EXPECT_EQ(AsSet(Search(exp_, "params.model LIKE 'xg%'")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model LIKE 'XG%'")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model ILIKE 'xg%'")), (std::set<std::string>{a_, b_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model LIKE '_gb'")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.run_name LIKE 'b%'")), (std::set<std::string>{}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.run_name ILIKE 'b%'")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "tags.team LIKE '%i%'")), (std::set<std::string>{a_}));
}

TEST_F(SqliteSearchTest, InAndNotIn) {
  EXPECT_EQ(AsSet(Search(exp_, "params.model IN ('xgb', 'lr')")), (std::set<std::string>{a_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "params.model NOT IN ('xgb', 'lr')")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.run_id IN ('" + a_ + "', '" + c_ + "')")),
            (std::set<std::string>{a_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.run_id NOT IN ('" + a_ + "')")),
            (std::set<std::string>{b_, c_}));
}

TEST_F(SqliteSearchTest, FilterOnAttributes) {
  EXPECT_EQ(AsSet(Search(exp_, "attributes.status = 'FINISHED'")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "status != 'FINISHED'")), (std::set<std::string>{a_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.run_name = 'alpha'")), (std::set<std::string>{a_}));
  EXPECT_EQ(AsSet(Search(exp_, "run_name = 'Beta'")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.start_time > 1500")), (std::set<std::string>{b_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.start_time <= 2000")), (std::set<std::string>{a_, b_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.start_time = 3000")), (std::set<std::string>{c_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.end_time = 2500")), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "attributes.user_id = 'tester'")),
            (std::set<std::string>{a_, b_, c_}));
}

TEST_F(SqliteSearchTest, OrderByMetricPutsMissingLast) {
  EXPECT_EQ(Search(exp_, "", {"metrics.acc DESC"}), (std::vector<std::string>{a_, b_, c_}));
  EXPECT_EQ(Search(exp_, "", {"metrics.acc ASC"}), (std::vector<std::string>{b_, a_, c_}));
  EXPECT_EQ(Search(exp_, "", {"metrics.loss"}), (std::vector<std::string>{a_, c_, b_}));
}

TEST_F(SqliteSearchTest, OrderByParamTagAndAttribute) {
  EXPECT_EQ(Search(exp_, "", {"params.depth"}), (std::vector<std::string>{b_, a_, c_}));
  EXPECT_EQ(Search(exp_, "", {"params.depth DESC"}), (std::vector<std::string>{c_, a_, b_}));
  // Missing tag sorts last.
  EXPECT_EQ(Search(exp_, "", {"tags.team ASC"}), (std::vector<std::string>{b_, a_, c_}));
  EXPECT_EQ(Search(exp_, "", {"start_time"}), (std::vector<std::string>{a_, b_, c_}));
  EXPECT_EQ(Search(exp_, "", {"attributes.run_name DESC"}),
            (std::vector<std::string>{c_, a_, b_}));  // byte order: 'B' < 'a' < 'g'
}

TEST_F(SqliteSearchTest, ViewTypes) {
  ASSERT_TRUE(store_->SetRunLifecycle(b_, kDeleted).ok());
  EXPECT_EQ(AsSet(Search(exp_, "")), (std::set<std::string>{a_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "", {}, ViewType::kActiveOnly)), (std::set<std::string>{a_, c_}));
  EXPECT_EQ(AsSet(Search(exp_, "", {}, ViewType::kDeletedOnly)), (std::set<std::string>{b_}));
  EXPECT_EQ(AsSet(Search(exp_, "", {}, ViewType::kAll)), (std::set<std::string>{a_, b_, c_}));
}

TEST_F(SqliteSearchTest, SearchesOnlyTheGivenExperiments) {
  cairn::Run d = NewRunIn("0");
  EXPECT_EQ(AsSet(Search("0", "")), (std::set<std::string>{d.info.run_id}));
  RunQuery q;
  q.experiment_ids = {"0", exp_};
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 4u);
  q.experiment_ids = {"not-a-number"};
  page = store_->SearchRuns(q);
  ASSERT_FALSE(page.ok());
  EXPECT_EQ(page.status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(SqliteSearchTest, ResultsCarryRunData) {
  RunQuery q;
  q.experiment_ids = {exp_};
  auto f = ParseFilter("attributes.run_name = 'alpha'", SearchTarget::kRuns);
  ASSERT_TRUE(f.ok());
  q.filter = *f;
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->items.size(), 1u);
  const cairn::Run& r = page->items[0];
  EXPECT_EQ(r.metrics.size(), 2u);
  EXPECT_EQ(r.params.size(), 2u);
  EXPECT_NE(FindTag(r.tags, "team"), nullptr);
  EXPECT_TRUE(page->next_page_token.empty());
}

class SqliteServiceTest : public SqliteStoreTest {
 protected:
  void SetUp() override {
    SqliteStoreTest::SetUp();
    auto artifacts = OpenLocalArtifactStore(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    service_ = std::make_unique<TrackingService>(*store_, *artifacts_);
  }
  void TearDown() override {
    service_.reset();
    artifacts_.reset();
    SqliteStoreTest::TearDown();
  }
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<TrackingService> service_;
};

TEST_F(SqliteServiceTest, PaginationWalksEveryRunOnce) {
  std::string exp = NewExperiment("pages");
  std::set<std::string> expected;
  for (int i = 0; i < 23; ++i) {
    // Several runs share a start time, so ties must be broken consistently.
    cairn::Run r = NewRunIn(exp, "", 1000 + i / 4);
    expected.insert(r.info.run_id);
    // Runs with a value, runs with NaN and runs without the metric: pages must
    // walk across all three groups.
    double v = i % 7 == 1 ? std::nan("") : double(i % 5);
    if (i % 3 != 0) {
      ASSERT_TRUE(store_->LogBatch(r.info.run_id, {{"m", v, 1, 0, ""}}, {}, {}).ok());
    }
    if (i % 2 == 0) {
      ASSERT_TRUE(
          store_->LogBatch(r.info.run_id, {}, {{"p", std::to_string(i % 4)}}, {{"t", "x"}}).ok());
    }
  }
  const std::vector<std::vector<std::string>> orders = {
      {},
      {"metrics.m DESC"},
      {"metrics.m ASC", "params.p DESC"},
      {"params.p"},
      {"tags.t DESC"},
      {"start_time ASC"},
      {"attributes.run_name DESC"},
  };
  for (const auto& order : orders) {
    std::string label = order.empty() ? "<default>" : order[0];
    // The reference: everything in one page.
    SearchRequest one;
    one.order_by = order;
    auto full = service_->SearchRuns({exp}, one);
    ASSERT_TRUE(full.ok()) << label << ": " << full.status().ToString();
    std::vector<std::string> reference;
    for (const auto& r : full->items) reference.push_back(r.info.run_id);
    EXPECT_EQ(AsSet(reference), expected) << label;

    for (int64_t page_size : {int64_t{1}, int64_t{4}, int64_t{5}, int64_t{22}}) {
      SearchRequest req;
      req.max_results = page_size;
      req.order_by = order;
      std::vector<std::string> seen;
      int pages = 0;
      for (;;) {
        auto page = service_->SearchRuns({exp}, req);
        ASSERT_TRUE(page.ok()) << label << ": " << page.status().ToString();
        EXPECT_LE(static_cast<int64_t>(page->items.size()), page_size) << label;
        for (const auto& r : page->items) seen.push_back(r.info.run_id);
        ++pages;
        ASSERT_LT(pages, 50) << label << ": pagination does not terminate";
        if (page->next_page_token.empty()) break;
        req.page_token = page->next_page_token;
      }
      EXPECT_EQ(pages, (23 + page_size - 1) / page_size) << label << " / " << page_size;
      EXPECT_EQ(seen.size(), expected.size()) << label << " / " << page_size;
      EXPECT_EQ(AsSet(seen), expected) << label << " / " << page_size;
      EXPECT_EQ(seen, reference) << label << " / " << page_size;
    }
  }
  // Exactly one full page: no token.
  SearchRequest req;
  req.max_results = 23;
  auto page = service_->SearchRuns({exp}, req);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 23u);
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(SqliteServiceTest, PaginationWithFilterAcrossTiers) {
  std::string exp = NewExperiment("filtered-pages");
  std::set<std::string> expected;
  for (int i = 0; i < 30; ++i) {
    cairn::Run r = NewRunIn(exp, "", 5000 - i);
    std::string team = i % 2 == 0 ? "a" : "b";
    ASSERT_TRUE(store_->LogBatch(r.info.run_id, {}, {}, {{"team", team}}).ok());
    if (i % 3 == 0) {
      ASSERT_TRUE(store_->LogBatch(r.info.run_id, {{"acc", double(i), 1, 0, ""}}, {}, {}).ok());
    }
    if (team == "a") expected.insert(r.info.run_id);
  }
  SearchRequest req;
  req.filter = "tags.team = 'a'";
  req.order_by = {"metrics.acc DESC"};
  req.max_results = 3;
  std::vector<std::string> seen;
  for (int pages = 0; pages < 20; ++pages) {
    auto page = service_->SearchRuns({exp}, req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& r : page->items) seen.push_back(r.info.run_id);
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(seen.size(), expected.size());
  EXPECT_EQ(AsSet(seen), expected);
  // Runs with acc come first, in descending order.
  ASSERT_GE(seen.size(), 5u);
  std::vector<double> accs;
  for (size_t i = 0; i < 5; ++i) {
    cairn::Run r = MustGetRun(seen[i]);
    const Metric* m = FindMetric(r.metrics, "acc");
    ASSERT_NE(m, nullptr) << i;
    accs.push_back(m->value);
  }
  EXPECT_EQ(accs, (std::vector<double>{24, 18, 12, 6, 0}));
}

TEST_F(SqliteServiceTest, SearchExperiments) {
  std::string a = NewExperiment("exp-b", {{"team", "vision"}});
  std::string b = NewExperiment("exp-a", {{"team", "nlp"}});
  std::string c = NewExperiment("Exp-c");
  std::string d = NewExperiment("other");
  auto names = [&](const SearchRequest& req) {
    auto page = service_->SearchExperiments(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    std::vector<std::string> out;
    if (page.ok()) {
      for (const auto& e : page->items) out.push_back(e.name);
    }
    return out;
  };
  SearchRequest req;
  req.filter = "name LIKE 'exp-%'";
  req.order_by = {"name"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"exp-a", "exp-b"}));
  req.filter = "name ILIKE 'exp-%'";
  req.order_by = {"name DESC"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"exp-b", "exp-a", "Exp-c"}));
  req.filter = "tags.team = 'vision'";
  req.order_by = {};
  EXPECT_EQ(names(req), (std::vector<std::string>{"exp-b"}));
  req.filter = "tags.team LIKE '%'";
  req.order_by = {"tags.team"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"exp-a", "exp-b"}));
  req.filter = "";
  req.order_by = {"name ASC"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"Default", "Exp-c", "exp-a", "exp-b", "other"}));

  // Deleted experiments only show up in the matching view.
  ASSERT_TRUE(store_->SetExperimentLifecycle(d, kDeleted).ok());
  EXPECT_EQ(names(req), (std::vector<std::string>{"Default", "Exp-c", "exp-a", "exp-b"}));
  req.view = ViewType::kDeletedOnly;
  EXPECT_EQ(names(req), (std::vector<std::string>{"other"}));
  req.view = ViewType::kAll;
  EXPECT_EQ(names(req).size(), 5u);

  // Paging.
  req.view = ViewType::kAll;
  req.max_results = 2;
  std::vector<std::string> all;
  for (int i = 0; i < 10; ++i) {
    auto page = service_->SearchExperiments(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& e : page->items) all.push_back(e.name);
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(all, (std::vector<std::string>{"Default", "Exp-c", "exp-a", "exp-b", "other"}));
  (void)a;
  (void)b;
  (void)c;
}

// ---- metric history sampling ------------------------------------------------------------------

TEST_F(SqliteStoreTest, BulkIntervalSampling) {
  cairn::Run run = NewRunIn("0");
  const std::string& id = run.info.run_id;
  for (int chunk = 0; chunk < 1000; chunk += 500) {
    std::vector<Metric> ms;
    for (int s = chunk; s < chunk + 500; ++s) ms.push_back({"loss", s * 0.5, 1000 + s, s, ""});
    ASSERT_TRUE(store_->LogBatch(id, ms, {}, {}).ok());
  }
  auto got = store_->GetMetricHistoryBulkInterval({id}, "loss", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 10u);
  std::set<int64_t> steps;
  for (const auto& m : *got) {
    steps.insert(m.step);
    EXPECT_EQ(m.run_id, id);
    EXPECT_EQ(m.key, "loss");
    EXPECT_DOUBLE_EQ(m.value, m.step * 0.5);
  }
  EXPECT_EQ(steps.size(), 10u);
  EXPECT_EQ(*steps.begin(), 0);
  EXPECT_EQ(*steps.rbegin(), 999);

  // Within a window.
  got = store_->GetMetricHistoryBulkInterval({id}, "loss", int64_t{100}, int64_t{200}, 5);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 5u);
  EXPECT_EQ(got->front().step, 100);
  EXPECT_EQ(got->back().step, 200);
  for (const auto& m : *got) {
    EXPECT_GE(m.step, 100);
    EXPECT_LE(m.step, 200);
  }

  // Fewer steps than asked for: all of them.
  got = store_->GetMetricHistoryBulkInterval({id}, "loss", int64_t{0}, int64_t{3}, 10);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 4u);

  // max_results 1 keeps the first step.
  got = store_->GetMetricHistoryBulkInterval({id}, "loss", std::nullopt, std::nullopt, 1);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().step, 0);
}

TEST_F(SqliteStoreTest, BulkIntervalAcrossRuns) {
  cairn::Run r1 = NewRunIn("0");
  cairn::Run r2 = NewRunIn("0");
  std::vector<Metric> m1, m2;
  for (int s = 0; s < 100; ++s) m1.push_back({"acc", 1.0, 1, s, ""});
  for (int s = 0; s < 100; s += 2) m2.push_back({"acc", 2.0, 1, s, ""});
  ASSERT_TRUE(store_->LogBatch(r1.info.run_id, m1, {}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(r2.info.run_id, m2, {}, {}).ok());
  auto got = store_->GetMetricHistoryBulkInterval({r1.info.run_id, r2.info.run_id}, "acc",
                                                  std::nullopt, std::nullopt, 1000);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->size(), 150u);
  size_t from_r2 = 0;
  for (const auto& m : *got) from_r2 += m.run_id == r2.info.run_id;
  EXPECT_EQ(from_r2, 50u);

  auto missing =
      store_->GetMetricHistoryBulkInterval({"nope"}, "acc", std::nullopt, std::nullopt, 10);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ErrorCode::kResourceDoesNotExist);
}

// ---- concurrency and durability ---------------------------------------------------------------

TEST_F(SqliteStoreTest, ConcurrentLogBatchKeepsEveryMetric) {
  cairn::Run run = NewRunIn("0");
  const std::string id = run.info.run_id;
  ASSERT_TRUE(store_->LogBatch(id, {}, {{"fixed", "1"}}, {}).ok());
  constexpr int kThreads = 16;
  constexpr int kCalls = 200;
  std::atomic<int> failures{0};
  std::atomic<int> unexpected_success{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCalls; ++i) {
        std::string key = "t" + std::to_string(t);
        Status st = store_->LogBatch(id, {{key, double(i), 1000 + i, i, ""}}, {}, {});
        if (!st.ok()) ++failures;
        // Interleave a doomed request: it must roll back alone inside its group commit.
        if (i % 50 == 0) {
          // The first param is inserted before the second one conflicts.
          Status bad = store_->LogBatch(id, {{"doomed", 1.0, 1, i, ""}},
                                        {{"doomed" + std::to_string(t), "v"}, {"fixed", "2"}},
                                        {{"doomed", "x"}});
          if (bad.ok()) ++unexpected_success;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(unexpected_success.load(), 0);

  cairn::Run got = MustGetRun(id);
  for (int t = 0; t < kThreads; ++t) {
    std::string key = "t" + std::to_string(t);
    auto hist = store_->GetMetricHistory(id, key);
    ASSERT_TRUE(hist.ok());
    ASSERT_EQ(hist->size(), static_cast<size_t>(kCalls)) << key;
    for (int i = 0; i < kCalls; ++i) {
      EXPECT_EQ((*hist)[i].step, i) << key;
      EXPECT_DOUBLE_EQ((*hist)[i].value, double(i)) << key;
    }
    const Metric* latest = FindMetric(got.metrics, key);
    ASSERT_NE(latest, nullptr) << key;
    EXPECT_EQ(latest->step, kCalls - 1);
  }
  EXPECT_EQ(FindMetric(got.metrics, "doomed"), nullptr);
  EXPECT_EQ(FindTag(got.tags, "doomed"), nullptr);
  ASSERT_EQ(got.params.size(), 1u);
  EXPECT_EQ(got.params[0].key, "fixed");
  EXPECT_EQ(got.params[0].value, "1");

  // And all of it is on disk: a fresh store sees the same.
  Reopen();
  for (int t = 0; t < kThreads; ++t) {
    auto hist = store_->GetMetricHistory(id, "t" + std::to_string(t));
    ASSERT_TRUE(hist.ok());
    EXPECT_EQ(hist->size(), static_cast<size_t>(kCalls));
  }
}

TEST_F(SqliteStoreTest, ReopenKeepsAllData) {
  std::string exp = NewExperiment("persist", {{"k", "v"}});
  cairn::Run run = NewRunIn(exp, "durable");
  const std::string id = run.info.run_id;
  ASSERT_TRUE(
      store_
          ->LogBatch(id, {{"m", 1.5, 10, 2, ""}, {"m", 2.5, 11, 3, ""}}, {{"p", "x"}}, {{"t", "y"}})
          .ok());
  DatasetInput in;
  in.dataset = {"d", "dig", "local", "/d", "", ""};
  ASSERT_TRUE(store_->LogInputs(id, {in}).ok());
  ASSERT_TRUE(store_->UpdateRun(id, std::string("FINISHED"), int64_t{77}, std::nullopt).ok());
  int version = store_->SchemaVersion();

  Reopen();
  EXPECT_EQ(store_->SchemaVersion(), version);
  auto e = store_->GetExperimentByName("persist");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->experiment_id, exp);
  ASSERT_EQ(e->tags.size(), 1u);
  cairn::Run got = MustGetRun(id);
  EXPECT_EQ(got.info.run_name, "durable");
  EXPECT_EQ(got.info.status, "FINISHED");
  EXPECT_EQ(got.info.end_time, 77);
  ASSERT_EQ(got.metrics.size(), 1u);
  EXPECT_DOUBLE_EQ(got.metrics[0].value, 2.5);
  ASSERT_EQ(got.params.size(), 1u);
  EXPECT_EQ(got.params[0].value, "x");
  EXPECT_NE(FindTag(got.tags, "t"), nullptr);
  EXPECT_EQ(got.inputs.size(), 1u);
  EXPECT_EQ(store_->GetMetricHistory(id, "m")->size(), 2u);
  // The default experiment is not created twice and new ids keep counting.
  std::string next = NewExperiment("after-reopen");
  EXPECT_EQ(std::stoll(next), std::stoll(exp) + 1);
}

TEST_F(SqliteStoreTest, RefusesDatabaseFromNewerCairn) {
  store_.reset();
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(raw, "UPDATE schema_version SET version = 999", nullptr, nullptr, &err);
  std::string msg = err ? err : "";
  sqlite3_free(err);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << msg;

  auto s = SqliteStore::Open(db_path_, StoreOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidState);
  EXPECT_NE(s.status().message().find("999"), std::string::npos) << s.status().message();

  // The refusal changed nothing: the version is still 999.
  ASSERT_EQ(sqlite3_open(db_path_.c_str(), &raw), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(raw, "SELECT version FROM schema_version", -1, &stmt, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 999);
  sqlite3_finalize(stmt);
  sqlite3_close(raw);
}

TEST_F(SqliteStoreTest, OpenOnUnwritablePathFailsCleanly) {
  // A path below a regular file cannot be created, whatever the user's privileges.
  fs::path file = dir_ / "plain-file";
  std::ofstream(file) << "x";
  auto s = SqliteStore::Open((file / "sub" / "cairn.db").string(), StoreOptions{});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().code(), ErrorCode::kOk);
  EXPECT_FALSE(s.status().message().empty());

  auto missing_dir = SqliteStore::Open((dir_ / "no" / "such" / "dir" / "c.db").string(), {});
  ASSERT_FALSE(missing_dir.ok());
}

TEST_F(SqliteStoreTest, FullSyncModeWorks) {
  store_.reset();
  StoreOptions opts;
  opts.sync_mode = "full";
  opts.read_connections = 1;
  auto s = SqliteStore::Open(db_path_, opts);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  store_ = std::move(s).value();
  cairn::Run run = NewRunIn("0");
  ASSERT_TRUE(store_->LogBatch(run.info.run_id, {{"m", 1, 1, 0, ""}}, {}, {}).ok());
  EXPECT_EQ(MustGetRun(run.info.run_id).metrics.size(), 1u);
}

}  // namespace
}  // namespace cairn::sqlite
