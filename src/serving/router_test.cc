// Tests of the serving data plane's routing: traffic split ratios, header
// targeting, mirroring that never slows live traffic, readiness gating, the
// zero-failure generation swap under load, 429/504, keys, metrics and the
// request log. Runtimes here are test doubles whose answers name the
// deployment and generation that scored.
#include "serving/router.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

namespace cairn::serving {
namespace {

using Json = nlohmann::json;
namespace fs = std::filesystem;

// A gate test threads wait on until it is opened.
class Gate {
 public:
  void Open() {
    std::lock_guard lk(mu_);
    open_ = true;
    cv_.notify_all();
  }
  bool Wait(SteadyClock::time_point deadline) {
    std::unique_lock lk(mu_);
    return cv_.wait_until(lk, deadline, [&] { return open_; });
  }
  void Wait() {
    std::unique_lock lk(mu_);
    cv_.wait(lk, [&] { return open_; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

// Scores every row as `answer` (deployment index * 1000 + generation).
class TestRuntime final : public Runtime {
 public:
  using Hook = std::function<Status(SteadyClock::time_point deadline, ScoreResult& out)>;
  TestRuntime(float answer, Hook hook) : answer_(answer), hook_(std::move(hook)) {
    ColumnSpec c;
    c.name = "x";
    c.type = ColumnType::kDouble;
    c.type_name = "double";
    columns_.push_back(c);
  }
  bool wants_raw() const override { return false; }
  const std::vector<ColumnSpec>& columns() const override { return columns_; }
  std::string platform() const override { return "test"; }
  Status Predict(const ScoreBatch& batch, SteadyClock::time_point deadline,
                 ScoreResult& out) override {
    calls.fetch_add(1);
    if (hook_) {
      Status st = hook_(deadline, out);
      if (!st.ok() || out.timed_out) return st;
    }
    out.values.assign(batch.rows, answer_);
    out.rows = batch.rows;
    out.cols = 1;
    return Status::Ok();
  }
  std::atomic<int> calls{0};

 private:
  float answer_;
  Hook hook_;
  std::vector<ColumnSpec> columns_;
};

float AnswerFor(const DeploymentConfig& c) {
  float index = c.name == "blue" ? 1 : c.name == "green" ? 2 : 3;
  return index * 1000 + static_cast<float>(c.generation);
}

struct Fixture {
  std::map<std::string, TestRuntime::Hook> hooks;           // per deployment name
  std::map<std::string, std::shared_ptr<Gate>> load_gates;  // a load waits on these
  std::map<std::string, std::string> load_errors;
  std::mutex mu;

  RouterOptions Options(const std::string& log_root = "") {
    RouterOptions o;
    o.log_root = log_root;
    o.mirror_queue_capacity = 8;
    o.runtime_factory = [this](const DeploymentConfig& c,
                               const LogSink& log) -> Result<std::unique_ptr<Runtime>> {
      std::shared_ptr<Gate> gate;
      TestRuntime::Hook hook;
      std::string error;
      {
        std::lock_guard lk(mu);
        if (load_gates.count(c.name)) gate = load_gates[c.name];
        if (hooks.count(c.name)) hook = hooks[c.name];
        if (load_errors.count(c.name)) error = load_errors[c.name];
      }
      if (gate) gate->Wait();
      log("test load of " + c.name);
      if (!error.empty()) return InvalidParameter(error);
      return std::unique_ptr<Runtime>(std::make_unique<TestRuntime>(AnswerFor(c), hook));
    };
    return o;
  }
};

// The value of one metric line starting with `prefix` (-1 when absent).
double Metric(const std::string& text, const std::string& prefix) {
  size_t at = text.find(prefix);
  if (at == std::string::npos) return -1;
  size_t sp = text.find(' ', at + prefix.size());
  return std::stod(text.substr(sp + 1, text.find('\n', sp) - sp - 1));
}

DeploymentConfig Deployment(const std::string& name, int64_t generation = 1) {
  DeploymentConfig d;
  d.name = name;
  d.model_dir = "/models/" + name;
  d.generation = generation;
  d.request.max_concurrent_requests_per_instance = 64;
  d.request.request_timeout_ms = 10'000;
  d.request.max_queue_wait_ms = 10'000;
  return d;
}

EndpointConfig Endpoint(std::map<std::string, int> traffic,
                        std::map<std::string, int> mirror = {}) {
  EndpointConfig e;
  e.name = "fraud";
  e.primary_key = "key-one";
  e.secondary_key = "key-two";
  e.traffic = std::move(traffic);
  e.mirror_traffic = std::move(mirror);
  for (const char* n : {"blue", "green"}) e.deployments.push_back(Deployment(n));
  return e;
}

ScoreResponse Call(Router& r, std::string_view pinned = {},
                   std::string_view auth = "Bearer key-one",
                   std::string_view body = R"({"data": [[1.5]]})") {
  ScoreCall c;
  c.protocol = Protocol::kAzure;
  c.endpoint = "fraud";
  c.deployment = pinned;
  c.authorization = auth;
  c.body = body;
  return r.Score(c);
}

TEST(ServingRouter, SplitsLiveTrafficByWeightWithinTolerance) {
  Fixture f;
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 90}, {"green", 10}});
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  std::map<std::string, int> counts;
  const int n = 10'000;
  for (int i = 0; i < n; ++i) {
    auto r = Call(router);
    ASSERT_EQ(r.status, 200) << r.body;
    counts[r.deployment]++;
  }
  // Within 1% of the weights (the wheel is exact over every 100 requests).
  EXPECT_NEAR(counts["blue"], 9000, 100);
  EXPECT_NEAR(counts["green"], 1000, 100);
  // Any window of 100 consecutive requests carries the 90/10 split too.
  e.traffic = {{"blue", 50}, {"green", 50}};
  router.ApplyEndpoint(e);
  std::map<std::string, int> window;
  for (int i = 0; i < 100; ++i) window[Call(router).deployment]++;
  EXPECT_EQ(window["blue"], 50);
  EXPECT_EQ(window["green"], 50);
}

TEST(ServingRouter, SplitHoldsUnderConcurrentClients) {
  Fixture f;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 70}, {"green", 30}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  std::atomic<int> blue{0}, green{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        auto r = Call(router);
        if (r.status != 200) failed++;
        (r.deployment == "blue" ? blue : green)++;
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_NEAR(blue.load(), 5600, 80);  // 8000 requests, 70% +- 1%
  EXPECT_NEAR(green.load(), 2400, 80);
}

TEST(ServingRouter, HeaderTargetsOneDeploymentAndIsNeverMirrored) {
  Fixture f;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 100}}, {{"green", 50}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  for (int i = 0; i < 20; ++i) {
    auto r = Call(router, "green");
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.deployment, "green");
    EXPECT_EQ(Json::parse(r.body), Json::parse("[2001.0]"));
  }
  router.DrainMirror();
  // Pinned requests never produced mirror copies.
  std::string metrics = router.MetricsText();
  EXPECT_EQ(metrics.find("cairn_serving_mirror_requests_total{endpoint=\"fraud\""),
            std::string::npos);
  auto missing = Call(router, "purple");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("purple"), std::string::npos);
}

TEST(ServingRouter, MirrorCopiesAShareOfLiveTraffic) {
  Fixture f;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 100}}, {{"green", 20}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  for (int i = 0; i < 100; ++i) {
    auto r = Call(router);
    ASSERT_EQ(r.deployment, "blue");  // mirrored responses are discarded
    router.DrainMirror();             // keep the small queue from dropping
  }
  std::string metrics = router.MetricsText();
  EXPECT_NE(
      metrics.find("cairn_serving_mirror_requests_total{endpoint=\"fraud\",deployment=\"green\","
                   "code=\"200\"} 20"),
      std::string::npos)
      << metrics;
}

TEST(ServingRouter, SlowOrFailingMirrorNeverSlowsLiveResponses) {
  Fixture f;
  auto mirror_gate = std::make_shared<Gate>();
  // The mirror blocks until the test ends: if live requests waited on it,
  // this test would hang (the live loop finishes before the gate opens).
  f.hooks["green"] = [mirror_gate](SteadyClock::time_point, ScoreResult&) {
    mirror_gate->Wait();
    return InternalError("mirror model failed");
  };
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 100}}, {{"green", 50}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  for (int i = 0; i < 200; ++i) {
    auto r = Call(router);
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.deployment, "blue");
  }
  mirror_gate->Open();
  router.DrainMirror();
  std::string metrics = router.MetricsText();
  // 100 copies wanted: the one the mirror thread holds plus the 8 queued were
  // scored (and failed) once the gate opened; the rest were dropped, counted.
  double dropped = Metric(metrics,
                          "cairn_serving_mirror_dropped_total{endpoint=\"fraud\","
                          "deployment=\"green\"}");
  double failed = Metric(metrics,
                         "cairn_serving_mirror_requests_total{endpoint=\"fraud\","
                         "deployment=\"green\",code=\"500\"}");
  EXPECT_EQ(dropped + failed, 100) << metrics;
  EXPECT_GE(failed, 8);
  EXPECT_LE(failed, 9);
  EXPECT_EQ(Metric(metrics,
                   "cairn_serving_requests_total{endpoint=\"fraud\",deployment=\"blue\","
                   "code=\"200\"}"),
            200);
}

TEST(ServingRouter, ReadinessGatesTraffic) {
  Fixture f;
  auto green_loads = std::make_shared<Gate>();
  f.load_gates["green"] = green_loads;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 50}, {"green", 50}}));
  // Blue is ready, green still loading: all live traffic goes to blue.
  for (int i = 0; i < 1000 && !router.GetDeploymentState("fraud", "blue").ready; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(router.GetDeploymentState("fraud", "blue").ready);
  EXPECT_EQ(router.GetDeploymentState("fraud", "green").provisioning_state, "Creating");
  EXPECT_FALSE(router.Ready());
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Call(router).deployment, "blue");
  EXPECT_EQ(Call(router, "green").status, 503);
  green_loads->Open();
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  EXPECT_TRUE(router.Ready());
  EXPECT_EQ(router.GetDeploymentState("fraud", "green").provisioning_state, "Succeeded");
  std::map<std::string, int> counts;
  for (int i = 0; i < 100; ++i) counts[Call(router).deployment]++;
  EXPECT_EQ(counts["green"], 50);
}

TEST(ServingRouter, NoReadyDeploymentIs503AndLoadFailureIsReported) {
  Fixture f;
  f.load_errors["blue"] = "model.xgb is corrupt";
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 100}});
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  DeploymentState s = router.GetDeploymentState("fraud", "blue");
  EXPECT_EQ(s.provisioning_state, "Failed");
  EXPECT_EQ(s.error, "model.xgb is corrupt");
  EXPECT_NE(router.GetLogs("fraud", "blue", 10).find("model.xgb is corrupt"), std::string::npos);
  EXPECT_EQ(Call(router).status, 503);
}

TEST(ServingRouter, LoadResultsAreReportedWithTheGenerationThatServes) {
  Fixture f;
  Router router(f.Options());
  std::mutex mu;
  std::vector<LoadReport> reports;
  router.SetLoadListener([&](const LoadReport& r) {
    std::lock_guard lk(mu);
    reports.push_back(r);
  });
  EndpointConfig e = Endpoint({{"blue", 100}});
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  {
    std::lock_guard lk(f.mu);
    f.load_errors["blue"] = "generation 2 is corrupt";
  }
  e.deployments[0].generation = 2;
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  router.SetLoadListener(nullptr);
  std::lock_guard lk(mu);
  std::vector<LoadReport> blue;
  for (const auto& r : reports) {
    if (r.deployment == "blue") blue.push_back(r);
  }
  ASSERT_EQ(blue.size(), 2u);
  EXPECT_TRUE(blue[0].ok);
  EXPECT_EQ(blue[0].generation, 1);
  EXPECT_EQ(blue[0].serving_generation, 1);
  EXPECT_FALSE(blue[1].ok);
  EXPECT_EQ(blue[1].generation, 2);
  EXPECT_EQ(blue[1].error, "generation 2 is corrupt");
  EXPECT_EQ(blue[1].serving_generation, 1);  // the old generation keeps serving
  EXPECT_EQ(Call(router, "blue").body, "[1001]");
}

TEST(ServingRouter, GenerationSwapUnderLoadHasZeroFailedRequests) {
  Fixture f;
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 100}});
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  auto gen2_gate = std::make_shared<Gate>();
  {
    std::lock_guard lk(f.mu);
    f.load_gates["blue"] = gen2_gate;
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0}, gen1{0}, gen2{0};
  std::vector<std::thread> load;
  for (int t = 0; t < 4; ++t) {
    load.emplace_back([&] {
      while (!stop) {
        auto r = Call(router);
        if (r.status != 200) {
          failed++;
          continue;
        }
        float v = Json::parse(r.body)[0].get<float>();
        (v == 1001.0f ? gen1 : gen2)++;
      }
    });
  }
  while (gen1 < 200) std::this_thread::yield();
  e.deployments[0].generation = 2;
  router.ApplyEndpoint(e);  // loads beside generation 1, which keeps serving
  int before = gen1;
  while (gen1 < before + 200) std::this_thread::yield();
  EXPECT_EQ(gen2.load(), 0);
  // Until generation 2 is ready the deployment reads Updating (and still ready).
  DeploymentState updating = router.GetDeploymentState("fraud", "blue");
  EXPECT_EQ(updating.provisioning_state, "Updating");
  EXPECT_TRUE(updating.ready);
  gen2_gate->Open();
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  EXPECT_EQ(router.GetDeploymentState("fraud", "blue").provisioning_state, "Succeeded");
  while (gen2 < 200) std::this_thread::yield();
  stop = true;
  for (auto& t : load) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(gen1.load(), 0);
  EXPECT_GT(gen2.load(), 0);
  EXPECT_EQ(Json::parse(Call(router).body)[0].get<float>(), 1002.0f);
}

TEST(ServingRouter, ConcurrencyLimitAnswers429AfterQueueWait) {
  Fixture f;
  auto release = std::make_shared<Gate>();
  std::atomic<int> entered{0};
  f.hooks["blue"] = [release, &entered](SteadyClock::time_point, ScoreResult&) {
    entered++;
    release->Wait();
    return Status::Ok();
  };
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 100}});
  e.deployments[0].instance_count = 2;
  e.deployments[0].request.max_concurrent_requests_per_instance = 1;  // 2 slots
  e.deployments[0].request.max_queue_wait_ms = 20;
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  std::vector<std::thread> busy;
  for (int i = 0; i < 2; ++i) busy.emplace_back([&] { EXPECT_EQ(Call(router).status, 200); });
  while (entered < 2) std::this_thread::yield();
  auto r = Call(router);
  EXPECT_EQ(r.status, 429);
  EXPECT_NE(r.body.find("max_concurrent_requests_per_instance"), std::string::npos);
  release->Open();
  for (auto& t : busy) t.join();
  EXPECT_EQ(Call(router).status, 200);
  EXPECT_NE(
      router.MetricsText().find(
          "cairn_serving_requests_total{endpoint=\"fraud\",deployment=\"blue\",code=\"429\"} 1"),
      std::string::npos);
}

TEST(ServingRouter, RequestTimeoutAnswers504) {
  Fixture f;
  f.hooks["blue"] = [](SteadyClock::time_point deadline, ScoreResult& out) {
    std::this_thread::sleep_until(deadline);  // a model slower than the timeout
    out.timed_out = true;
    return Status(ErrorCode::kTemporarilyUnavailable, "model still scoring");
  };
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 100}});
  e.deployments[0].request.request_timeout_ms = 30;
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  auto r = Call(router);
  EXPECT_EQ(r.status, 504);
  EXPECT_NE(r.body.find("request_timeout_ms"), std::string::npos);
}

TEST(ServingRouter, KeysAreRequired) {
  Fixture f;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 100}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  EXPECT_EQ(Call(router, {}, "").status, 401);
  EXPECT_EQ(Call(router, {}, "Bearer key-on").status, 401);
  EXPECT_EQ(Call(router, {}, "Bearer key-one-and-more").status, 401);
  EXPECT_EQ(Call(router, {}, "Basic key-one").status, 401);
  EXPECT_EQ(Call(router, {}, "Bearer key-one").status, 200);
  EXPECT_EQ(Call(router, {}, "Bearer key-two").status, 200);
  // Regenerated keys apply at once.
  EndpointConfig e = Endpoint({{"blue", 100}});
  e.primary_key = "rotated";
  router.ApplyEndpoint(e);
  EXPECT_EQ(Call(router, {}, "Bearer key-one").status, 401);
  EXPECT_EQ(Call(router, {}, "Bearer rotated").status, 200);
}

TEST(ServingRouter, SignatureErrorsAre400AndCounted) {
  Fixture f;
  Router router(f.Options());
  router.ApplyEndpoint(Endpoint({{"blue", 100}}));
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  auto r = Call(router, {}, "Bearer key-one", R"({"data": [["high"]]})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("column 'x'"), std::string::npos) << r.body;
  EXPECT_NE(router.MetricsText().find("code=\"400\"} 1"), std::string::npos);
}

TEST(ServingRouter, RemovedEndpointIs404AndSettingsApplyWithoutReload) {
  Fixture f;
  Router router(f.Options());
  EndpointConfig e = Endpoint({{"blue", 100}});
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
  e.deployments[0].request.request_timeout_ms = 1234;  // same generation: no reload
  router.ApplyEndpoint(e);
  EXPECT_TRUE(router.Ready());
  EXPECT_EQ(Call(router).status, 200);
  EXPECT_EQ(router.GetLogs("fraud", "blue", 100).find("generation 1 is ready") != std::string::npos,
            true);
  router.RemoveEndpoint("fraud");
  EXPECT_EQ(Call(router).status, 404);
}

TEST(ServingRouter, RequestLogWritesSampledJsonLines) {
  fs::path dir = fs::temp_directory_path() / ("cairn-reqlog-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Fixture f;
  {
    Router router(f.Options(dir.string()));
    EndpointConfig e = Endpoint({{"blue", 100}});
    e.deployments[0].data_collector.enabled = true;
    e.deployments[0].model_name = "fraud-model";
    e.deployments[0].model_version = "3";
    e.deployments[1].data_collector.enabled = true;
    e.deployments[1].data_collector.sampling_rate = 0.0;
    router.ApplyEndpoint(e);
    ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(10)));
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Call(router).status, 200);
    for (int i = 0; i < 5; ++i) ASSERT_EQ(Call(router, "green").status, 200);
    router.FlushRequestLog();
  }
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  ASSERT_EQ(files.size(), 1u);  // green samples nothing
  EXPECT_EQ(files[0].parent_path(), dir / "fraud" / "blue");
  EXPECT_EQ(files[0].extension(), ".jsonl");
  std::ifstream in(files[0]);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    Json j = Json::parse(line);
    EXPECT_EQ(j["endpoint"], "fraud");
    EXPECT_EQ(j["deployment"], "blue");
    EXPECT_EQ(j["model_name"], "fraud-model");
    EXPECT_EQ(j["model_version"], "3");
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["inputs"], Json::parse(R"({"data": [[1.5]]})"));
    EXPECT_EQ(j["outputs"], Json::parse("[1001.0]"));
    EXPECT_EQ(j["features"]["columns"], Json::parse(R"(["x"])"));
    EXPECT_EQ(j["features"]["data"], Json::parse("[[1.5]]"));
    EXPECT_EQ(j["request_id"].get<std::string>().size(), 36u);
    EXPECT_EQ(j["timestamp"].get<std::string>().back(), 'Z');
    ++n;
  }
  EXPECT_EQ(n, 5);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace cairn::serving
