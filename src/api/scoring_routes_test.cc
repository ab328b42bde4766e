// Scoring routes over real HTTP: an http::Server with RegisterScoringRoutes
// and a serving::Router holding a real XGBoost model (trained here), driven by
// an HTTP client — V2 conformance (health, metadata, ready, infer, errors,
// versions), MLflow invocations (JSON and CSV), Azure /score, the deployment
// header, keys and /metrics. (The control plane's REST routes are not needed:
// the test applies the endpoint to the router directly.)
#include "api/scoring_routes.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <thread>

#include "serving/router.h"
#include "serving/synthetic_model.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class ScoringRoutesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ =
        new fs::path(fs::temp_directory_path() / ("cairn-scoring-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    serving::SyntheticModelOptions o;
    o.trees = 10;
    o.features = 3;
    ASSERT_TRUE(serving::WriteSyntheticXgbModel(*dir_ / "model", o).ok());
    router_ = new serving::Router();
    serving::EndpointConfig e;
    e.name = "fraud";
    e.primary_key = "secret";
    e.traffic = {{"blue", 100}};
    for (const char* n : {"blue", "green"}) {
      serving::DeploymentConfig d;
      d.name = n;
      d.model_dir = (*dir_ / "model").string();
      d.model_name = "fraud-model";
      d.model_version = "1";
      e.deployments.push_back(d);
    }
    router_->ApplyEndpoint(e);
    ASSERT_TRUE(router_->WaitForLoads(std::chrono::seconds(30)));
    http::ServerOptions so;
    so.threads = 4;
    server_ = new http::Server(so);
    RegisterScoringRoutes(*server_, *router_);
    port_ = server_->Bind("127.0.0.1", 0);
    ASSERT_GT(port_, 0);
    thread_ = new std::thread([] { server_->Run(); });
  }
  static void TearDownTestSuite() {
    server_->Stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete router_;
    fs::remove_all(*dir_);
    delete dir_;
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_default_headers({{"Authorization", "Bearer secret"}});
    return c;
  }

  static inline fs::path* dir_ = nullptr;
  static inline serving::Router* router_ = nullptr;
  static inline http::Server* server_ = nullptr;
  static inline std::thread* thread_ = nullptr;
  static inline int port_ = 0;
};

TEST_F(ScoringRoutesTest, V2HealthAndMetadata) {
  auto c = Client();
  auto live = c.Get("/v2/health/live");
  ASSERT_TRUE(live);
  EXPECT_EQ(live->status, 200);
  EXPECT_EQ(Json::parse(live->body)["live"], true);
  auto ready = c.Get("/v2/health/ready");
  EXPECT_EQ(ready->status, 200);
  auto meta = c.Get("/v2/models/fraud");
  ASSERT_EQ(meta->status, 200) << meta->body;
  Json m = Json::parse(meta->body);
  EXPECT_EQ(m["name"], "fraud");
  EXPECT_EQ(m["platform"], "xgboost");
  EXPECT_EQ(m["versions"], Json::parse(R"(["blue", "green"])"));
  EXPECT_EQ(m["inputs"][0], Json::parse(R"({"name": "f0", "datatype": "FP64", "shape": [-1]})"));
  EXPECT_EQ(m["outputs"][0]["datatype"], "FP32");
  auto v = c.Get("/v2/models/fraud/versions/green");
  ASSERT_EQ(v->status, 200);
  EXPECT_EQ(Json::parse(v->body)["versions"], Json::parse(R"(["green"])"));
  EXPECT_EQ(c.Get("/v2/models/fraud/ready")->status, 200);
  EXPECT_EQ(c.Get("/v2/models/fraud/versions/green/ready")->status, 200);
  auto missing = c.Get("/v2/models/nope");
  EXPECT_EQ(missing->status, 404);
  EXPECT_TRUE(Json::parse(missing->body).contains("error"));
  EXPECT_EQ(c.Get("/v2/models/fraud/versions/purple/ready")->status, 404);
}

TEST_F(ScoringRoutesTest, V2InferEchoesIdAndPinsVersions) {
  auto c = Client();
  std::string body =
      R"({"id": "abc-1", "inputs": [{"name": "x", "shape": [2, 3], "datatype": "FP32",
                         "data": [[1, 2, 3], [-4, 0.5, 2]]}]})";
  auto r = c.Post("/v2/models/fraud/infer", body, "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  Json j = Json::parse(r->body);
  EXPECT_EQ(j["id"], "abc-1");
  EXPECT_EQ(j["model_name"], "fraud");
  EXPECT_EQ(j["model_version"], "blue");
  EXPECT_EQ(j["outputs"][0]["shape"], Json::parse("[2]"));
  EXPECT_EQ(j["outputs"][0]["datatype"], "FP32");
  float p = j["outputs"][0]["data"][0];
  EXPECT_GE(p, 0.0f);
  EXPECT_LE(p, 1.0f);
  EXPECT_EQ(r->get_header_value("azureml-model-deployment"), "blue");
  auto pinned = c.Post("/v2/models/fraud/versions/green/infer", body, "application/json");
  ASSERT_EQ(pinned->status, 200);
  EXPECT_EQ(Json::parse(pinned->body)["model_version"], "green");
  EXPECT_EQ(Json::parse(pinned->body)["outputs"], j["outputs"]);  // same model
  auto bad = c.Post("/v2/models/fraud/infer", R"({"inputs": [{"name": "f0", "shape": [1],
                    "datatype": "BYTES", "data": ["x"]}]})",
                    "application/json");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(Json::parse(bad->body)["error"].get<std::string>().find("f0"), std::string::npos);
  EXPECT_EQ(c.Post("/v2/models/fraud/versions/purple/infer", body, "application/json")->status,
            404);
}

TEST_F(ScoringRoutesTest, MlflowAndAzureFormatsAndTheDeploymentHeader) {
  auto c = Client();
  auto split =
      c.Post("/endpoints/fraud/invocations",
             R"({"dataframe_split": {"columns": ["f0", "f1", "f2"], "data": [[1, 2, 3]]}})",
             "application/json");
  ASSERT_EQ(split->status, 200) << split->body;
  Json preds = Json::parse(split->body)["predictions"];
  ASSERT_EQ(preds.size(), 1u);
  auto csv = c.Post("/endpoints/fraud/invocations", "f2,f1,f0\n3,2,1\n", "text/csv");
  ASSERT_EQ(csv->status, 200) << csv->body;
  EXPECT_EQ(Json::parse(csv->body)["predictions"], preds);
  auto score = c.Post("/endpoints/fraud/score", R"({"data": [[1, 2, 3]]})", "application/json");
  ASSERT_EQ(score->status, 200);
  EXPECT_EQ(Json::parse(score->body), preds);
  httplib::Headers pin = {{"azureml-model-deployment", "green"}};
  auto header =
      c.Post("/endpoints/fraud/score", pin, R"({"data": [[1, 2, 3]]})", "application/json");
  EXPECT_EQ(header->get_header_value("azureml-model-deployment"), "green");
  httplib::Headers cairn_pin = {{"cairn-model-deployment", "green"}};
  EXPECT_EQ(
      c.Post("/endpoints/fraud/score", cairn_pin, R"({"data": [[1, 2, 3]]})", "application/json")
          ->get_header_value("azureml-model-deployment"),
      "green");
  auto missing = c.Post("/endpoints/fraud/invocations",
                        R"({"dataframe_records": [{"f0": 1, "f2": 3}]})", "application/json");
  EXPECT_EQ(missing->status, 400);
  EXPECT_EQ(Json::parse(missing->body)["error_code"], "INVALID_PARAMETER_VALUE");
  EXPECT_NE(missing->body.find("column 'f1' is missing"), std::string::npos);
}

TEST_F(ScoringRoutesTest, KeysAndMetrics) {
  httplib::Client anon("127.0.0.1", port_);
  EXPECT_EQ(
      anon.Post("/endpoints/fraud/score", R"({"data": [[1, 2, 3]]})", "application/json")->status,
      401);
  EXPECT_EQ(anon.Get("/v2/models/fraud")->status, 401);
  auto c = Client();
  ASSERT_EQ(
      c.Post("/endpoints/fraud/score", R"({"data": [[1, 2, 3]]})", "application/json")->status,
      200);
  auto m = anon.Get("/metrics");
  ASSERT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("cairn_serving_requests_total{endpoint=\"fraud\",deployment=\"blue\","
                         "code=\"200\"}"),
            std::string::npos);
  EXPECT_NE(m->body.find("cairn_serving_requests_total{endpoint=\"fraud\",deployment=\"\","
                         "code=\"401\"}"),
            std::string::npos);
  EXPECT_NE(m->body.find("cairn_serving_request_duration_seconds_bucket{endpoint=\"fraud\","
                         "deployment=\"blue\",le=\"+Inf\"}"),
            std::string::npos);
  EXPECT_NE(
      m->body.find("cairn_serving_deployment_ready{endpoint=\"fraud\",deployment=\"green\"} 1"),
      std::string::npos);
  EXPECT_EQ(c.Post("/endpoints/nope/score", "{}", "application/json")->status, 404);
  EXPECT_EQ(c.Post("/endpoints/fraud/other", "{}", "application/json")->status, 404);
}

}  // namespace
}  // namespace cairn
