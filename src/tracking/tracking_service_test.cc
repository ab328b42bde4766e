#include "tracking/tracking_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

void ExpectInvalid(const Status& st, const std::string& what) {
  EXPECT_FALSE(st.ok()) << "accepted: " << what;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue) << what << ": " << st.ToString();
  }
}

const Tag* FindTag(const std::vector<Tag>& tags, const std::string& key) {
  for (const auto& t : tags) {
    if (t.key == key) return &t;
  }
  return nullptr;
}

class TrackingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_tracking_service_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    artifact_root_ = dir_ / "artifacts";
    auto artifacts = OpenLocalArtifactStore(artifact_root_);
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    service_ = std::make_unique<TrackingService>(*store_, *artifacts_);
  }

  void TearDown() override {
    service_.reset();
    artifacts_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  cairn::Run NewRun_(const std::string& exp = "0") {
    NewRun nr;
    nr.experiment_id = exp;
    auto r = service_->CreateRun(nr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : cairn::Run{};
  }

  fs::path dir_;
  fs::path artifact_root_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<TrackingService> service_;
};

// ---- page tokens and limits -------------------------------------------------------------------

TEST_F(TrackingServiceTest, BadPageTokensAreRefused) {
  NewRun_();
  const std::string bad[] = {
      "garbage",                                           // not base64 (length)
      "!!!!",                                              // not base64 (alphabet)
      "@@@@@@@@",                                          //
      "Z2FyYmFnZQ==",                                      // base64 of "garbage"
      Base64Encode("{\"offset\": -5}"),                    // negative
      Base64Encode("{\"offset\": \"3\"}"),                 // string
      Base64Encode("{\"offset\": }"),                      // missing number
      Base64Encode("{\"nope\": 3}"),                       // wrong key
      Base64Encode("{\"offset\": 12345678901234567890}"),  // overflow
  };
  for (const auto& token : bad) {
    SearchRequest req;
    req.page_token = token;
    auto runs = service_->SearchRuns({"0"}, req);
    ASSERT_FALSE(runs.ok()) << "runs accepted token " << token;
    EXPECT_EQ(runs.status().code(), ErrorCode::kInvalidParameterValue) << token;
    auto exps = service_->SearchExperiments(req);
    ASSERT_FALSE(exps.ok()) << "experiments accepted token " << token;
    EXPECT_EQ(exps.status().code(), ErrorCode::kInvalidParameterValue) << token;
  }
}

TEST_F(TrackingServiceTest, WellFormedPageTokens) {
  for (int i = 0; i < 3; ++i) NewRun_();
  SearchRequest req;
  req.page_token = Base64Encode("{\"offset\": 2}");
  auto page = service_->SearchRuns({"0"}, req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 1u);
  EXPECT_TRUE(page->next_page_token.empty());
  req.page_token = Base64Encode("{\"offset\":100}");
  page = service_->SearchRuns({"0"}, req);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_TRUE(page->items.empty());
  EXPECT_TRUE(page->next_page_token.empty());
}

TEST_F(TrackingServiceTest, MaxResultsLimits) {
  for (int64_t n : {int64_t{0}, int64_t{-1}, int64_t{50001}}) {
    SearchRequest req;
    req.max_results = n;
    auto runs = service_->SearchRuns({"0"}, req);
    ASSERT_FALSE(runs.ok()) << n;
    EXPECT_EQ(runs.status().code(), ErrorCode::kInvalidParameterValue) << n;
    auto exps = service_->SearchExperiments(req);
    ASSERT_FALSE(exps.ok()) << n;
    EXPECT_EQ(exps.status().code(), ErrorCode::kInvalidParameterValue) << n;
  }
  for (int64_t n : {int64_t{1}, int64_t{50000}}) {
    SearchRequest req;
    req.max_results = n;
    EXPECT_TRUE(service_->SearchRuns({"0"}, req).ok()) << n;
    EXPECT_TRUE(service_->SearchExperiments(req).ok()) << n;
  }
}

TEST_F(TrackingServiceTest, SearchRejectsBadFilterAndOrderBy) {
  SearchRequest req;
  req.filter = "metrics.a > 1 OR metrics.b < 2";
  EXPECT_EQ(service_->SearchRuns({"0"}, req).status().code(), ErrorCode::kInvalidParameterValue);
  req.filter = "";
  req.order_by = {"metrics.auc SIDEWAYS"};
  EXPECT_EQ(service_->SearchRuns({"0"}, req).status().code(), ErrorCode::kInvalidParameterValue);
  req.order_by = {"metrics.auc"};
  EXPECT_EQ(service_->SearchExperiments(req).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(TrackingServiceTest, MetricHistoryPaging) {
  cairn::Run run = NewRun_();
  std::vector<Metric> ms;
  for (int s = 0; s < 10; ++s) ms.push_back({"loss", double(s), 100 + s, s, ""});
  ASSERT_TRUE(service_->LogBatch(run.info.run_id, ms, {}, {}).ok());

  auto all = service_->GetMetricHistory(run.info.run_id, "loss", std::nullopt, "");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->items.size(), 10u);
  EXPECT_TRUE(all->next_page_token.empty());

  std::vector<int64_t> steps;
  std::string token;
  for (int pages = 0; pages < 10; ++pages) {
    auto page = service_->GetMetricHistory(run.info.run_id, "loss", int64_t{3}, token);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    for (const auto& m : page->items) steps.push_back(m.step);
    token = page->next_page_token;
    if (token.empty()) break;
  }
  EXPECT_EQ(steps, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));

  auto bad = service_->GetMetricHistory(run.info.run_id, "loss", std::nullopt, "garbage");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameterValue);
  bad = service_->GetMetricHistory(run.info.run_id, "", std::nullopt, "");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameterValue);
  bad = service_->GetMetricHistory(run.info.run_id, "loss", int64_t{0}, "");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameterValue);
  bad = service_->GetMetricHistory("nope", "loss", std::nullopt, "");
  EXPECT_EQ(bad.status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(TrackingServiceTest, BulkIntervalArguments) {
  cairn::Run run = NewRun_();
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(service_->LogMetric(id, {"m", 1.0, 1, 0, ""}).ok());
  auto call = [&](std::vector<std::string> ids, std::string key, std::optional<int64_t> start,
                  std::optional<int64_t> end, std::optional<int64_t> max) {
    return service_->GetMetricHistoryBulkInterval(ids, key, start, end, max).status();
  };
  EXPECT_TRUE(call({id}, "m", std::nullopt, std::nullopt, std::nullopt).ok());
  ExpectInvalid(call({}, "m", std::nullopt, std::nullopt, std::nullopt), "no run ids");
  ExpectInvalid(
      call(std::vector<std::string>(101, id), "m", std::nullopt, std::nullopt, std::nullopt),
      "101 run ids");
  ExpectInvalid(call({id}, "", std::nullopt, std::nullopt, std::nullopt), "empty key");
  ExpectInvalid(call({id}, "m", int64_t{1}, std::nullopt, std::nullopt), "start only");
  ExpectInvalid(call({id}, "m", std::nullopt, int64_t{1}, std::nullopt), "end only");
  ExpectInvalid(call({id}, "m", int64_t{5}, int64_t{1}, std::nullopt), "start > end");
  ExpectInvalid(call({id}, "m", std::nullopt, std::nullopt, int64_t{0}), "max 0");
  ExpectInvalid(call({id}, "m", std::nullopt, std::nullopt, int64_t{2501}), "max 2501");
}

// ---- validation before the store --------------------------------------------------------------

TEST_F(TrackingServiceTest, ValidatesBeforeStoring) {
  cairn::Run run = NewRun_();
  const std::string& id = run.info.run_id;
  ExpectInvalid(service_->LogMetric(id, {"bad//key", 1, 1, 0, ""}), "bad metric key");
  ExpectInvalid(service_->LogParam(id, {"p", std::string(6001, 'x')}), "long param");
  ExpectInvalid(service_->SetTag(id, {"t", std::string(8001, 'x')}), "long tag");
  ExpectInvalid(service_->DeleteTag(id, ""), "empty tag key");
  std::vector<Metric> too_many(1001, Metric{"m", 1, 1, 0, ""});
  ExpectInvalid(service_->LogBatch(id, too_many, {}, {}), "1001 metrics");
  ExpectInvalid(service_->LogBatch(id, {}, {{"a", "1"}, {"a", "2"}}, {}), "duplicate params");
  ExpectInvalid(service_->UpdateRun(id, std::string("DONE"), std::nullopt, std::nullopt).status(),
                "bad status");
  DatasetInput in;
  in.dataset.name = "d";
  ExpectInvalid(service_->LogInputs(id, {in}), "incomplete dataset");
  cairn::Run got = *service_->GetRun(id);
  EXPECT_TRUE(got.metrics.empty());
  EXPECT_TRUE(got.params.empty());
  EXPECT_TRUE(got.inputs.empty());
  EXPECT_EQ(got.info.status, "RUNNING");

  ExpectInvalid(service_->CreateExperiment("", "", {}).status(), "empty experiment name");
  ExpectInvalid(service_->CreateExperiment("e", "file:///etc", {}).status(), "file: location");
  ExpectInvalid(service_->CreateExperiment("e", "/tmp/x", {}).status(), "host path location");
  ExpectInvalid(service_->CreateExperiment("e", "mlflow-artifacts:/../x", {}).status(),
                "traversal location");
  EXPECT_FALSE(service_->GetExperimentByName("e").ok());
  auto ok = service_->CreateExperiment("e", "mlflow-artifacts:/custom/e", {});
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  ExpectInvalid(service_->GetExperimentByName("").status(), "empty experiment name lookup");

  // An empty experiment id means the default experiment.
  NewRun nr;
  auto r = service_->CreateRun(nr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->info.experiment_id, "0");
}

// ---- pure helpers -----------------------------------------------------------------------------

TEST(ArtifactUriToPathTest, MapsServerUris) {
  EXPECT_EQ(*ArtifactUriToPath("mlflow-artifacts:/0/abc/artifacts"), "0/abc/artifacts");
  EXPECT_EQ(*ArtifactUriToPath("mlflow-artifacts:/7"), "7");
  EXPECT_EQ(*ArtifactUriToPath("mlflow-artifacts:///0/abc"), "0/abc");
  EXPECT_EQ(*ArtifactUriToPath("mlflow-artifacts:/"), "");
  EXPECT_EQ(*ArtifactUriToPath("mlflow-artifacts:"), "");
}

TEST(ArtifactUriToPathTest, RefusesOtherSchemesAndTraversal) {
  const char* bad[] = {
      "",
      "s3://bucket/key",
      "file:///etc/passwd",
      "/var/lib/cairn",
      "relative/path",
      "MLFLOW-ARTIFACTS:/0",
      "mlflow-artifacts:/../etc",
      "mlflow-artifacts:/0/../../etc",
      "mlflow-artifacts:/0/%2e%2e/x",
      "mlflow-artifacts:/0\\..\\x",
  };
  for (const char* uri : bad) {
    auto r = ArtifactUriToPath(uri);
    EXPECT_FALSE(r.ok()) << uri;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << uri;
    }
  }
}

TEST(ParseViewTypeTest, NamesAndNumbers) {
  EXPECT_EQ(*ParseViewType(""), ViewType::kActiveOnly);
  EXPECT_EQ(*ParseViewType("ACTIVE_ONLY"), ViewType::kActiveOnly);
  EXPECT_EQ(*ParseViewType("1"), ViewType::kActiveOnly);
  EXPECT_EQ(*ParseViewType("DELETED_ONLY"), ViewType::kDeletedOnly);
  EXPECT_EQ(*ParseViewType("2"), ViewType::kDeletedOnly);
  EXPECT_EQ(*ParseViewType("ALL"), ViewType::kAll);
  EXPECT_EQ(*ParseViewType("3"), ViewType::kAll);
  for (const char* bad : {"0", "4", "active", "EVERYTHING", "ALL ", "-1"}) {
    auto v = ParseViewType(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_EQ(v.status().code(), ErrorCode::kInvalidParameterValue) << bad;
    }
  }
}

// ---- logged models ----------------------------------------------------------------------------

TEST_F(TrackingServiceTest, LogModelAppendsToHistory) {
  cairn::Run run = NewRun_();
  const std::string& id = run.info.run_id;
  ASSERT_TRUE(service_->LogModel(id, R"({"artifact_path": "model", "flavors": {}})").ok());
  cairn::Run first = *service_->GetRun(id);
  const Tag* tag = FindTag(first.tags, "mlflow.log-model.history");
  ASSERT_NE(tag, nullptr);
  auto j = nlohmann::json::parse(tag->value, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(j.is_discarded()) << tag->value;
  ASSERT_TRUE(j.is_array()) << tag->value;
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["artifact_path"], "model");

  ASSERT_TRUE(service_->LogModel(id, R"({"artifact_path": "model2"})").ok());
  ASSERT_TRUE(service_->LogModel(id, R"({"artifact_path": "model3", "list": [1, 2]})").ok());
  cairn::Run got = *service_->GetRun(id);
  tag = FindTag(got.tags, "mlflow.log-model.history");
  ASSERT_NE(tag, nullptr);
  j = nlohmann::json::parse(tag->value, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << tag->value;
  ASSERT_TRUE(j.is_array());
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[0]["artifact_path"], "model");
  EXPECT_EQ(j[1]["artifact_path"], "model2");
  EXPECT_EQ(j[2]["artifact_path"], "model3");
  EXPECT_EQ(j[2]["list"].size(), 2u);
}

TEST_F(TrackingServiceTest, LogModelErrors) {
  cairn::Run run = NewRun_();
  const std::string& id = run.info.run_id;
  ExpectInvalid(service_->LogModel(id, ""), "empty model json");
  ExpectInvalid(service_->LogModel(id, "[1]"), "array model json");
  ExpectInvalid(service_->LogModel(id, "model"), "non-json");
  EXPECT_EQ(service_->LogModel("no-such-run", "{}").code(), ErrorCode::kResourceDoesNotExist);
  // The history tag is bounded by the tag value limit.
  std::string big = "{\"x\": \"" + std::string(7000, 'a') + "\"}";
  ASSERT_TRUE(service_->LogModel(id, big).ok());
  ExpectInvalid(service_->LogModel(id, big), "history over 8000 chars");
  cairn::Run got = *service_->GetRun(id);
  auto tag = FindTag(got.tags, "mlflow.log-model.history");
  ASSERT_NE(tag, nullptr);
  auto j = nlohmann::json::parse(tag->value, nullptr, false);
  ASSERT_TRUE(j.is_array());
  EXPECT_EQ(j.size(), 1u);
}

TEST_F(TrackingServiceTest, ConcurrentLogModelKeepsEveryModel) {
  cairn::Run run = NewRun_();
  const std::string id = run.info.run_id;
  constexpr int kThreads = 16;
  constexpr int kPerThread = 20;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string m = "{\"i\":" + std::to_string(t * 100 + i) + "}";
        EXPECT_TRUE(service_->LogModel(id, m).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  cairn::Run got = *service_->GetRun(id);
  auto tag = FindTag(got.tags, "mlflow.log-model.history");
  ASSERT_NE(tag, nullptr);
  auto j = nlohmann::json::parse(tag->value, nullptr, false);
  ASSERT_TRUE(j.is_array()) << tag->value;
  // Regression: LogModel once read the history with GetRun and wrote it back with
  // a separate LogBatch, so concurrent calls on one run lost each other's models.
  EXPECT_EQ(j.size(), static_cast<size_t>(kThreads * kPerThread));
}

// ---- run artifacts ----------------------------------------------------------------------------

class RunArtifactsTest : public TrackingServiceTest {
 protected:
  void SetUp() override {
    TrackingServiceTest::SetUp();
    run_ = NewRun_();
    auto root = ArtifactUriToPath(run_.info.artifact_uri);
    ASSERT_TRUE(root.ok()) << run_.info.artifact_uri;
    root_ = *root;
    ASSERT_TRUE(artifacts_->Put(root_ + "/metrics.txt", "0.9\n").ok());
    ASSERT_TRUE(artifacts_->Put(root_ + "/model/MLmodel", "flavors: {}\n").ok());
    ASSERT_TRUE(artifacts_->Put(root_ + "/model/data/weights.bin", std::string(10, 'w')).ok());
    // Entries of the content-addressed store live under <root>/tree/.
    run_dir_ = artifact_root_ / "tree" / root_;
    ASSERT_TRUE(fs::is_directory(run_dir_));
    outside_ = dir_ / "outside";
    fs::create_directories(outside_);
    std::ofstream(outside_ / "secret.txt") << "top secret";
  }

  cairn::Run run_;
  std::string root_;
  fs::path run_dir_;
  fs::path outside_;
};

TEST_F(RunArtifactsTest, ListsRelativeToTheRunRoot) {
  auto list = service_->ListRunArtifacts(run_.info.run_id, "");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->root_uri, run_.info.artifact_uri);
  ASSERT_EQ(list->files.size(), 2u);
  EXPECT_EQ(list->files[0].path, "metrics.txt");
  EXPECT_FALSE(list->files[0].is_dir);
  EXPECT_EQ(list->files[0].file_size, 4);
  EXPECT_EQ(list->files[1].path, "model");
  EXPECT_TRUE(list->files[1].is_dir);

  list = service_->ListRunArtifacts(run_.info.run_id, "model");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->files.size(), 2u);
  EXPECT_EQ(list->files[0].path, "model/MLmodel");
  EXPECT_EQ(list->files[1].path, "model/data");
  EXPECT_TRUE(list->files[1].is_dir);

  list = service_->ListRunArtifacts(run_.info.run_id, "model/data/");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->files.size(), 1u);
  EXPECT_EQ(list->files[0].path, "model/data/weights.bin");
  EXPECT_EQ(list->files[0].file_size, 10);

  // A missing directory lists as empty; a run without artifacts too.
  list = service_->ListRunArtifacts(run_.info.run_id, "nothing/here");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->files.empty());
  cairn::Run empty = NewRun_();
  list = service_->ListRunArtifacts(empty.info.run_id, "");
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->files.empty());

  EXPECT_EQ(service_->ListRunArtifacts("no-such-run", "").status().code(),
            ErrorCode::kResourceDoesNotExist);
}

TEST_F(RunArtifactsTest, GetsFiles) {
  auto data = service_->GetRunArtifact(run_.info.run_id, "model/MLmodel");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_EQ(*data, "flavors: {}\n");
  EXPECT_EQ(*service_->GetRunArtifact(run_.info.run_id, "metrics.txt"), "0.9\n");

  EXPECT_EQ(service_->GetRunArtifact(run_.info.run_id, "missing.txt").status().code(),
            ErrorCode::kResourceDoesNotExist);
  EXPECT_EQ(service_->GetRunArtifact(run_.info.run_id, "model").status().code(),
            ErrorCode::kResourceDoesNotExist);  // a directory is not a file
  ExpectInvalid(service_->GetRunArtifact(run_.info.run_id, "").status(), "empty path");
  EXPECT_EQ(service_->GetRunArtifact("no-such-run", "metrics.txt").status().code(),
            ErrorCode::kResourceDoesNotExist);
}

TEST_F(RunArtifactsTest, RefusesTraversal) {
  cairn::Run other = NewRun_();
  ASSERT_TRUE(artifacts_->Put(*ArtifactUriToPath(other.info.artifact_uri) + "/x.txt", "x").ok());
  const std::string bad[] = {
      "..",
      "../x",
      "../../" + other.info.run_id + "/artifacts/x.txt",
      "model/../../../" + other.info.run_id + "/artifacts/x.txt",
      "/etc/passwd",
      "%2e%2e/%2e%2e/" + other.info.run_id + "/artifacts/x.txt",
      "..\\..\\x",
      "file:///etc/passwd",
      std::string("a\0b", 3),
  };
  for (const auto& p : bad) {
    ExpectInvalid(service_->GetRunArtifact(run_.info.run_id, p).status(), "get " + p);
    ExpectInvalid(service_->ListRunArtifacts(run_.info.run_id, p).status(), "list " + p);
  }
}

TEST_F(RunArtifactsTest, RefusesSymlinksOutOfTheRoot) {
  std::error_code ec;
  fs::create_directory_symlink(outside_, run_dir_ / "escape", ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::create_symlink(outside_ / "secret.txt", run_dir_ / "leak.txt", ec);
  ASSERT_FALSE(ec) << ec.message();
  fs::create_directory_symlink("/", run_dir_ / "model" / "rootfs", ec);
  ASSERT_FALSE(ec) << ec.message();

  auto check_get = [&](const std::string& path) {
    auto r = service_->GetRunArtifact(run_.info.run_id, path);
    EXPECT_FALSE(r.ok()) << "read through symlink: " << path;
    if (r.ok()) {
      EXPECT_NE(*r, "top secret") << path;
    } else {
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << path;
    }
  };
  check_get("escape/secret.txt");
  check_get("leak.txt");
  check_get("model/rootfs/etc/hostname");

  for (const char* dir : {"escape", "model/rootfs", "model/rootfs/etc"}) {
    auto list = service_->ListRunArtifacts(run_.info.run_id, dir);
    EXPECT_FALSE(list.ok()) << "listed through symlink: " << dir;
    if (!list.ok()) {
      EXPECT_EQ(list.status().code(), ErrorCode::kInvalidParameterValue) << dir;
    }
  }
  // The rest of the run's artifacts stay readable.
  EXPECT_TRUE(service_->GetRunArtifact(run_.info.run_id, "model/MLmodel").ok());
  EXPECT_TRUE(service_->ListRunArtifacts(run_.info.run_id, "").ok());
}

TEST_F(TrackingServiceTest, ArtifactsOfRunsOutsideTheServerAreRefused) {
  // The store itself accepts any location; the service only serves mlflow-artifacts:/.
  auto exp = store_->CreateExperiment("s3-exp", "s3://bucket/prefix", {});
  ASSERT_TRUE(exp.ok());
  cairn::Run run = NewRun_(*exp);
  EXPECT_EQ(run.info.artifact_uri, "s3://bucket/prefix/" + run.info.run_id + "/artifacts");
  ExpectInvalid(service_->ListRunArtifacts(run.info.run_id, "").status(), "s3 list");
  ExpectInvalid(service_->GetRunArtifact(run.info.run_id, "x").status(), "s3 get");
}

}  // namespace
}  // namespace cairn
