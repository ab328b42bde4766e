// Tests of the scoring-script worker pool with real Python workers (Debian's
// python3): init() once per worker, run(raw_data), AZUREML_MODEL_DIR, errors
// in run(), a worker crash answered 500 and the worker restarted, a request
// past its deadline answered 504, init() failures reported at load.
#include "serving/worker_runtime.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "serving/router.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

constexpr const char* kScore = R"(
import json, os, signal, threading, time
model = None
def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "weights.json")) as f:
        model = json.load(f)
    print("init done in", os.getpid())
def run(raw_data):
    req = json.loads(raw_data)
    if req.get("crash"):
        os._exit(3)
    if req.get("sleep"):
        time.sleep(req["sleep"])
    if req.get("hang_later"):  # stop this process (a hung worker) once it is idle again
        threading.Timer(req["hang_later"], lambda: os.kill(os.getpid(), signal.SIGSTOP)).start()
    if req.get("fail"):
        raise ValueError("bad input " + str(req["fail"]))
    return {"scores": [model["w"] * x for x in req["data"]], "pid": os.getpid()}
)";

class WorkerRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("cairn-worker-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "code");
    fs::create_directories(dir_ / "model");
    std::ofstream(dir_ / "model" / "weights.json") << R"({"w": 2})";
    std::ofstream(dir_ / "code" / "score.py") << kScore;
  }
  void TearDown() override { fs::remove_all(dir_); }

  DeploymentConfig Config(int instances = 1) {
    DeploymentConfig c;
    c.endpoint = "e";
    c.name = "blue";
    c.model_dir = (dir_ / "model").string();
    c.code_dir = (dir_ / "code").string();
    c.scoring_script = "score.py";
    c.python = "/usr/bin/python3";
    c.instance_count = instances;
    return c;
  }

  Result<std::unique_ptr<Runtime>> Load(const DeploymentConfig& c) {
    return LoadWorkerRuntime(c, [this](const std::string& line) {
      std::lock_guard lk(mu_);
      log_ += line + "\n";
    });
  }

  static Status Run(Runtime& rt, const std::string& body, ScoreResult& out, int ms = 10'000) {
    ScoreBatch b;
    b.raw_body = body;
    out = ScoreResult();
    return rt.Predict(b, SteadyClock::now() + std::chrono::milliseconds(ms), out);
  }

  fs::path dir_;
  std::mutex mu_;
  std::string log_;
  std::string Log() {
    std::lock_guard lk(mu_);
    return log_;
  }
};

TEST_F(WorkerRuntimeTest, InitOnceThenRunPerRequest) {
  auto rt = Load(Config(2));
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_TRUE((*rt)->wants_raw());
  std::set<int> pids;
  for (int i = 0; i < 10; ++i) {
    ScoreResult out;
    ASSERT_TRUE(Run(**rt, R"({"data": [1, 2.5]})", out).ok());
    Json j = Json::parse(out.json);
    EXPECT_EQ(j["scores"], Json::parse("[2, 5.0]"));
    pids.insert(j["pid"].get<int>());
  }
  EXPECT_LE(pids.size(), 2u);
  std::lock_guard lk(mu_);
  EXPECT_NE(log_.find("init done in"), std::string::npos) << log_;
}

TEST_F(WorkerRuntimeTest, RunErrorsAre500AndTheWorkerStays) {
  auto rt = Load(Config());
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  ScoreResult out;
  Status st = Run(**rt, R"({"fail": 7})", out);
  EXPECT_EQ(st.code(), ErrorCode::kInternalError);
  EXPECT_NE(st.message().find("ValueError: bad input 7"), std::string::npos) << st.message();
  EXPECT_TRUE(Run(**rt, R"({"data": [1]})", out).ok());
}

TEST_F(WorkerRuntimeTest, CrashedWorkerAnswers500AndIsRestarted) {
  auto rt = Load(Config());
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  ScoreResult out;
  ASSERT_TRUE(Run(**rt, R"({"data": [1]})", out).ok());
  int first_pid = Json::parse(out.json)["pid"];
  Status st = Run(**rt, R"({"crash": true})", out);
  EXPECT_EQ(st.code(), ErrorCode::kInternalError);
  EXPECT_NE(st.message().find("crashed"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("exit code 3"), std::string::npos) << st.message();
  // The next request waits for the restarted worker (never hangs: bounded by its deadline).
  ASSERT_TRUE(Run(**rt, R"({"data": [1]})", out, 30'000).ok());
  EXPECT_NE(Json::parse(out.json)["pid"].get<int>(), first_pid);
  std::lock_guard lk(mu_);
  EXPECT_NE(log_.find("worker 0 restarted"), std::string::npos) << log_;
}

TEST_F(WorkerRuntimeTest, OverrunningRequestTimesOutAndTheWorkerIsReplaced) {
  auto rt = Load(Config());
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  ScoreResult out;
  Status st = Run(**rt, R"({"sleep": 30})", out, 200);
  EXPECT_FALSE(st.ok());
  EXPECT_TRUE(out.timed_out);
  ASSERT_TRUE(Run(**rt, R"({"data": [3]})", out, 30'000).ok());
  EXPECT_EQ(Json::parse(out.json)["scores"], Json::parse("[6]"));
}

TEST_F(WorkerRuntimeTest, LivenessProbeRestartsAHungIdleWorker) {
  DeploymentConfig c = Config();
  c.liveness_probe.initial_delay_seconds = 0;
  c.liveness_probe.period_seconds = 1;
  c.liveness_probe.timeout_seconds = 1;
  c.liveness_probe.failure_threshold = 2;
  auto rt = Load(c);
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  ScoreResult out;
  ASSERT_TRUE(Run(**rt, R"({"data": [1]})", out).ok());
  const int pid = Json::parse(out.json)["pid"];
  // A healthy idle worker answers its pings and keeps serving.
  auto until = SteadyClock::now() + std::chrono::seconds(30);
  while (Log().find("worker 0 answers liveness probes") == std::string::npos &&
         SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_NE(Log().find("worker 0 answers liveness probes"), std::string::npos) << Log();
  ASSERT_TRUE(Run(**rt, R"({"data": [1]})", out).ok());
  EXPECT_EQ(Json::parse(out.json)["pid"], pid);
  EXPECT_EQ(Log().find("missed liveness probe"), std::string::npos) << Log();

  // The worker hangs while idle: the probe misses twice, kills and restarts it.
  ASSERT_TRUE(Run(**rt, R"({"data": [1], "hang_later": 0.05})", out).ok());
  until = SteadyClock::now() + std::chrono::seconds(60);
  while (Log().find("worker 0 restarted") == std::string::npos && SteadyClock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string log = Log();
  EXPECT_NE(log.find("worker 0 missed liveness probe 1 of 2"), std::string::npos) << log;
  EXPECT_NE(log.find("worker 0 did not answer 2 liveness probes"), std::string::npos) << log;
  ASSERT_NE(log.find("worker 0 restarted"), std::string::npos) << log;
  ASSERT_TRUE(Run(**rt, R"({"data": [3]})", out).ok());
  EXPECT_NE(Json::parse(out.json)["pid"], pid);
  EXPECT_EQ(Json::parse(out.json)["scores"][0], 6);
}

TEST_F(WorkerRuntimeTest, InitFailureFailsTheLoad) {
  std::ofstream(dir_ / "code" / "score.py") << "def init():\n    raise RuntimeError('no GPU')\n";
  auto rt = Load(Config());
  ASSERT_FALSE(rt.ok());
  EXPECT_NE(rt.status().message().find("RuntimeError: no GPU"), std::string::npos)
      << rt.status().message();
  DeploymentConfig c = Config();
  c.scoring_script = "../escape.py";
  EXPECT_FALSE(Load(c).ok());
  c.scoring_script = "missing.py";
  EXPECT_EQ(Load(c).status().code(), ErrorCode::kResourceDoesNotExist);
}

TEST_F(WorkerRuntimeTest, ThroughTheRouterCrashIs500ThenRecovers) {
  Router router;
  EndpointConfig e;
  e.name = "e";
  e.primary_key = "k";
  e.traffic = {{"blue", 100}};
  DeploymentConfig d = Config();
  d.request.request_timeout_ms = 30'000;
  e.deployments.push_back(d);
  router.ApplyEndpoint(e);
  ASSERT_TRUE(router.WaitForLoads(std::chrono::seconds(30)));
  ASSERT_EQ(router.GetDeploymentState("e", "blue").provisioning_state, "Succeeded")
      << router.GetDeploymentState("e", "blue").error;
  auto call = [&](const std::string& body) {
    ScoreCall c;
    c.protocol = Protocol::kAzure;
    c.endpoint = "e";
    c.authorization = "Bearer k";
    c.body = body;
    return router.Score(c);
  };
  auto ok = call(R"({"data": [4]})");
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(Json::parse(ok.body)["scores"], Json::parse("[8]"));
  EXPECT_EQ(call(R"({"crash": 1})").status, 500);
  EXPECT_EQ(call(R"({"data": [4]})").status, 200);
  EXPECT_NE(router.GetLogs("e", "blue", 100).find("restarting"), std::string::npos);
}

}  // namespace
}  // namespace cairn::serving
