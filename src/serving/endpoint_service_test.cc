// EndpointService over the real SQLite stores, registry and assets, with a
// recording ServingPlane: traffic rules and their errors, keys, history and
// rollback, deployment materialization, lineage and the ModelDeployed event,
// and what the data plane is handed after each change.
#include "serving/endpoint_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "artifacts/artifact_store.h"
#include "assets/asset_service.h"
#include "core/ids.h"
#include "registry/registry_service.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_registry_store.h"
#include "store/sqlite/sqlite_serving_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

// Records every call, as the data plane would receive them.
class RecordingPlane final : public ServingPlane {
 public:
  void ApplyEndpoint(const EndpointConfig& config) override { applied.push_back(config); }
  void RemoveEndpoint(const std::string& endpoint) override { removed.push_back(endpoint); }
  DeploymentState GetDeploymentState(const std::string&, const std::string&) override {
    DeploymentState s;
    s.provisioning_state = "Succeeded";
    s.ready = true;
    return s;
  }
  std::string GetLogs(const std::string& e, const std::string& d, int n) override {
    return e + "/" + d + " last " + std::to_string(n);
  }
  void SetLoadListener(LoadListener l) override { listener = std::move(l); }
  // Reports a load result as the data plane would.
  void Report(const std::string& deployment, int64_t generation, bool ok, int64_t serving,
              const std::string& error = "") {
    listener(LoadReport{"churn-ep", deployment, generation, ok, error, serving});
  }
  LoadListener listener;
  std::vector<EndpointConfig> applied;
  std::vector<std::string> removed;
};

constexpr const char* kMLmodel = R"(flavors:
  xgboost:
    data: model.ubj
signature:
  inputs: '[{"name": "x1", "type": "double"}, {"name": "x2", "type": "double"}]'
  outputs: '[{"type": "double"}]'
)";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class EndpointServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_endpoint_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto artifacts = OpenLocalArtifactStore(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    registry_store_ = std::make_unique<sqlite::SqliteRegistryStore>(*store_);
    asset_store_ = std::make_unique<sqlite::SqliteAssetStore>(*store_);
    serving_store_ = std::make_unique<sqlite::SqliteServingStore>(*store_);
    registry_ = std::make_unique<RegistryService>(*registry_store_, *store_, *artifacts_);
    assets_ = std::make_unique<AssetService>(*asset_store_, *store_, *artifacts_, nullptr);
    service_ = std::make_unique<EndpointService>(*serving_store_, *registry_, *assets_, plane_,
                                                 dir_ / "serving");
    NewRun nr;
    nr.experiment_id = "0";
    auto run = store_->CreateRun(nr);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_ = run->info;
    ASSERT_TRUE(registry_->CreateRegisteredModel("churn", "", {}).ok());
    AddVersion("tree-v1");  // churn:1
    AddVersion("tree-v2");  // churn:2
  }

  void TearDown() override {
    service_.reset();
    assets_.reset();
    registry_.reset();
    serving_store_.reset();
    asset_store_.reset();
    registry_store_.reset();
    artifacts_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  void AddVersion(const std::string& model_bytes) {
    auto root = ArtifactUriToPath(run_.artifact_uri);
    ASSERT_TRUE(root.ok());
    const std::string dir = "m" + std::to_string(++versions_);
    ASSERT_TRUE(artifacts_->Put(*root + "/" + dir + "/MLmodel", kMLmodel).ok());
    ASSERT_TRUE(artifacts_->Put(*root + "/" + dir + "/model.ubj", model_bytes).ok());
    ModelVersionRequest req;
    req.name = "churn";
    req.source = "runs:/" + run_.run_id + "/" + dir;
    req.run_id = run_.run_id;
    auto v = registry_->CreateModelVersion(req);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
  }

  void MakeEndpoint(const std::string& name = "churn-ep") {
    EndpointSpec spec;
    spec.name = name;
    auto e = service_->CreateEndpoint(spec, "alice");
    ASSERT_TRUE(e.ok()) << e.status().ToString();
  }

  void Deploy(const std::string& name, const std::string& model,
              const std::string& endpoint = "churn-ep") {
    DeploymentSpec spec;
    spec.endpoint = endpoint;
    spec.name = name;
    spec.model = model;
    auto d = service_->CreateDeployment(spec, "alice");
    ASSERT_TRUE(d.ok()) << d.status().ToString();
  }

  // A new generation of `deployment` serving `model`.
  Result<DeploymentInfo> UpdateModel(const std::string& deployment, const std::string& model) {
    return service_->UpdateDeployment(
        "churn-ep", deployment,
        [&](DeploymentSpec& s) {
          s.model = model;
          return Status::Ok();
        },
        "bob");
  }

  Result<EndpointInfo> SetTraffic(TrafficMap traffic, std::optional<TrafficMap> mirror = {}) {
    EndpointUpdate u;
    u.traffic = std::move(traffic);
    u.mirror_traffic = std::move(mirror);
    return service_->UpdateEndpoint("churn-ep", u, "bob");
  }

  std::vector<OutboxEvent> Events() {
    auto e = registry_store_->UndeliveredEvents(1000);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : std::vector<OutboxEvent>{};
  }

  fs::path dir_;
  int versions_ = 0;
  RunInfo run_;
  RecordingPlane plane_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<sqlite::SqliteRegistryStore> registry_store_;
  std::unique_ptr<sqlite::SqliteAssetStore> asset_store_;
  std::unique_ptr<sqlite::SqliteServingStore> serving_store_;
  std::unique_ptr<RegistryService> registry_;
  std::unique_ptr<AssetService> assets_;
  std::unique_ptr<EndpointService> service_;
};

TEST(TrafficRulesTest, AcceptsZeroOrHundredOverExistingDeployments) {
  TrafficMap t{{"blue", 90}, {"green", 10}}, m;
  EXPECT_TRUE(ValidateTraffic("ep", t, m, {"blue", "green"}).ok());
  TrafficMap none{{"blue", 0}}, m2;
  EXPECT_TRUE(ValidateTraffic("ep", none, m2, {"blue"}).ok());
  EXPECT_TRUE(none.empty()) << "0% entries are dropped";
}

TEST(TrafficRulesTest, RefusesBadMapsNamingTheProblem) {
  std::vector<std::string> deps{"blue", "green", "red"};
  auto refuse = [&](TrafficMap t, TrafficMap m, const std::string& expect) {
    Status st = ValidateTraffic("ep", t, m, deps);
    EXPECT_EQ(st.code(), ErrorCode::kInvalidParameterValue) << expect;
    EXPECT_NE(st.message().find(expect), std::string::npos) << st.message();
  };
  refuse({{"blue", 90}}, {}, "must sum to 100");
  refuse({{"blue", 60}, {"green", 50}}, {}, "must sum to 100");
  refuse({{"nope", 100}}, {}, "'nope', which does not exist");
  refuse({{"blue", 101}}, {}, "between 0 and 100");
  refuse({{"blue", -5}, {"green", 105}}, {}, "between 0 and 100");
  refuse({{"blue", 100}}, {{"green", 51}}, "between 0 and 50");
  refuse({{"blue", 100}}, {{"green", 10}, {"red", 10}}, "one deployment only");
  refuse({{"blue", 90}, {"green", 10}}, {{"green", 10}}, "no live traffic");
  refuse({{"blue", 100}}, {{"ghost", 10}}, "'ghost', which does not exist");
}

TEST(TrafficRulesTest, NamesFollowAzureRule) {
  EXPECT_TRUE(ValidateServingName("endpoint", "churn-ep").ok());
  EXPECT_FALSE(ValidateServingName("endpoint", "ab").ok());
  EXPECT_FALSE(ValidateServingName("endpoint", "1abc").ok());
  EXPECT_FALSE(ValidateServingName("endpoint", "a/../b").ok());
  EXPECT_FALSE(ValidateServingName("endpoint", std::string(33, 'a')).ok());
}

TEST_F(EndpointServiceTest, CreateGeneratesDistinctKeysAndAppliesToPlane) {
  MakeEndpoint();
  auto creds = service_->GetCredentials("churn-ep");
  ASSERT_TRUE(creds.ok());
  EXPECT_EQ(creds->primary_key.size(), 64u);
  EXPECT_NE(creds->primary_key, creds->secondary_key);
  ASSERT_EQ(plane_.applied.size(), 1u);
  EXPECT_EQ(plane_.applied[0].primary_key, creds->primary_key);

  EndpointSpec again;
  again.name = "churn-ep";
  EXPECT_EQ(service_->CreateEndpoint(again, "x").status().code(),
            ErrorCode::kResourceAlreadyExists);
  EndpointSpec with_traffic;
  with_traffic.name = "other-ep";
  with_traffic.traffic = {{"blue", 100}};
  EXPECT_EQ(service_->CreateEndpoint(with_traffic, "x").status().code(),
            ErrorCode::kInvalidParameterValue);

  std::string old_primary = creds->primary_key;
  ASSERT_TRUE(service_->RegenerateKeys("churn-ep", "primary").ok());
  auto after = service_->GetCredentials("churn-ep");
  EXPECT_NE(after->primary_key, old_primary);
  EXPECT_EQ(after->secondary_key, creds->secondary_key);
  EXPECT_EQ(plane_.applied.back().primary_key, after->primary_key);
  EXPECT_EQ(service_->RegenerateKeys("churn-ep", "tertiary").status().code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(EndpointServiceTest, DeploymentMaterializesModelAndResolvesAlias) {
  MakeEndpoint();
  ASSERT_TRUE(registry_->SetAlias("churn", "champion", "2").ok());
  Deploy("blue", "azureml:churn@champion");
  auto d = service_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->record.model_version, "2");
  EXPECT_EQ(d->record.model_ref, "azureml:churn@champion");
  EXPECT_EQ(d->record.generation, 1);
  EXPECT_EQ(ReadAll(fs::path(d->record.model_dir) / "model.ubj"), "tree-v2");
  EXPECT_TRUE(fs::exists(fs::path(d->record.model_dir) / "MLmodel"));
  EXPECT_EQ(d->record.model_dir, (dir_ / "serving/churn-ep/blue/1/model").string());
  auto sig = nlohmann::json::parse(d->record.signature_inputs_json);
  EXPECT_EQ(sig[1]["name"], "x2");

  // The data plane gets the deployment with its files and settings.
  const EndpointConfig& cfg = plane_.applied.back();
  ASSERT_EQ(cfg.deployments.size(), 1u);
  EXPECT_EQ(cfg.deployments[0].model_dir, d->record.model_dir);
  EXPECT_EQ(cfg.deployments[0].model_version, "2");

  // Moving the alias later does not change what is deployed.
  ASSERT_TRUE(registry_->SetAlias("churn", "champion", "1").ok());
  EXPECT_EQ(service_->GetDeployment("churn-ep", "blue")->record.model_version, "2");
}

TEST_F(EndpointServiceTest, DeploymentRecordsLineageAndModelDeployedEvent) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  auto down = asset_store_->WalkLineage("model:churn:1", false, 1, 100);
  ASSERT_TRUE(down.ok());
  ASSERT_EQ(down->size(), 1u);
  EXPECT_EQ((*down)[0].dst, "deployment:churn-ep/blue");
  std::vector<OutboxEvent> deployed;
  for (const auto& e : Events()) {
    if (e.type == "ModelDeployed") deployed.push_back(e);
  }
  ASSERT_EQ(deployed.size(), 1u);
  auto data = nlohmann::json::parse(deployed[0].data);
  EXPECT_EQ(data["ServiceName"], "churn-ep/blue");
  EXPECT_EQ(data["ModelIds"], "churn:1");
  EXPECT_EQ(data["ServiceComputeType"], "Managed");
  EXPECT_TRUE(data["ServiceTags"].is_object());
  EXPECT_GT(deployed[0].time, 0);

  // Updating to another version moves the edge: "where deployed" stays true.
  auto up = service_->UpdateDeployment(
      "churn-ep", "blue",
      [](DeploymentSpec& s) {
        s.model = "churn:2";
        return Status::Ok();
      },
      "bob");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->record.generation, 2);
  EXPECT_EQ(ReadAll(fs::path(up->record.model_dir) / "model.ubj"), "tree-v2");
  EXPECT_TRUE(asset_store_->WalkLineage("model:churn:1", false, 1, 100)->empty());
  EXPECT_EQ(asset_store_->WalkLineage("model:churn:2", false, 1, 100)->size(), 1u);
  EXPECT_EQ(plane_.applied.back().deployments[0].generation, 2);

  // Deleting it removes the edge.
  ASSERT_TRUE(service_->DeleteDeployment("churn-ep", "blue").ok());
  EXPECT_TRUE(asset_store_->WalkLineage("model:churn:2", false, 1, 100)->empty());
  EXPECT_FALSE(fs::exists(dir_ / "serving/churn-ep/blue"));
}

TEST_F(EndpointServiceTest, DeploymentErrorsNameTheFix) {
  MakeEndpoint();
  DeploymentSpec spec;
  spec.endpoint = "churn-ep";
  spec.name = "blue";
  spec.model = "churn:9";
  EXPECT_EQ(service_->CreateDeployment(spec, "").status().code(), ErrorCode::kResourceDoesNotExist);
  spec.model = "./model-folder";
  EXPECT_EQ(service_->CreateDeployment(spec, "").status().code(),
            ErrorCode::kInvalidParameterValue);
  spec.model = "churn:1";
  spec.request.max_concurrent_requests_per_instance = 0;
  auto st = service_->CreateDeployment(spec, "").status();
  EXPECT_NE(st.message().find("max_concurrent_requests_per_instance"), std::string::npos);
  spec.request.max_concurrent_requests_per_instance = 1;
  spec.scoring_script = "score.py";
  st = service_->CreateDeployment(spec, "").status();
  EXPECT_NE(st.message().find("code_configuration"), std::string::npos) << st.message();
  spec.scoring_script.clear();
  spec.endpoint = "missing-ep";
  EXPECT_EQ(service_->CreateDeployment(spec, "").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_FALSE(fs::exists(dir_ / "serving/churn-ep/blue")) << "no files left by failures";
  Deploy("blue", "churn:1");
  spec.endpoint = "churn-ep";
  EXPECT_EQ(service_->CreateDeployment(spec, "").status().code(),
            ErrorCode::kResourceAlreadyExists);
}

TEST_F(EndpointServiceTest, CodeSnapshotIsMaterializedWithItsScript) {
  MakeEndpoint();
  auto blob = artifacts_->PutBlobBytes("def init(): pass\ndef run(d): return d\n");
  ASSERT_TRUE(blob.ok());
  NewCodeSnapshot code;
  code.files = {{"src/score.py", blob->sha256, blob->size}};
  auto made = assets_->CreateCodeSnapshot(code);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  DeploymentSpec spec;
  spec.endpoint = "churn-ep";
  spec.name = "green";
  spec.model = "churn:1";
  spec.code = made->asset.name;
  spec.scoring_script = "src/missing.py";
  auto bad = service_->CreateDeployment(spec, "");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(bad.status().message().find("src/missing.py"), std::string::npos);
  spec.scoring_script = "src/score.py";
  auto d = service_->CreateDeployment(spec, "");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(ReadAll(fs::path(d->record.code_dir) / "src/score.py"),
            "def init(): pass\ndef run(d): return d\n");
  EXPECT_EQ(plane_.applied.back().deployments[0].scoring_script, "src/score.py");
  EXPECT_EQ(plane_.applied.back().deployments[0].code_dir, d->record.code_dir);
}

TEST_F(EndpointServiceTest, TrafficRulesHistoryAndRollback) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  Deploy("green", "churn:2");
  ASSERT_TRUE(SetTraffic({{"blue", 100}}).ok());
  ASSERT_TRUE(SetTraffic({{"blue", 100}}, TrafficMap{{"green", 10}}).ok());
  auto canary = SetTraffic({{"blue", 90}, {"green", 10}}, TrafficMap{});
  ASSERT_TRUE(canary.ok()) << canary.status().ToString();
  EXPECT_EQ(plane_.applied.back().traffic, (TrafficMap{{"blue", 90}, {"green", 10}}));
  EXPECT_TRUE(plane_.applied.back().mirror_traffic.empty());

  // Refusals change nothing and record nothing.
  EXPECT_EQ(SetTraffic({{"blue", 80}}).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_EQ(SetTraffic({{"blue", 90}, {"green", 10}}, TrafficMap{{"green", 5}}).status().code(),
            ErrorCode::kInvalidParameterValue);
  auto history = service_->History("churn-ep", 0);
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[2].change.changed_by, "bob");
  EXPECT_EQ((*history)[2].traffic_before, (TrafficMap{{"blue", 100}}));
  EXPECT_EQ((*history)[2].mirror_before, (TrafficMap{{"green", 10}}));
  EXPECT_EQ((*history)[2].traffic_after, (TrafficMap{{"blue", 90}, {"green", 10}}));
  EXPECT_EQ(service_->History("churn-ep", 1)->size(), 1u);

  // A description change is not a traffic change.
  EndpointUpdate desc;
  desc.description = "churn model";
  ASSERT_TRUE(service_->UpdateEndpoint("churn-ep", desc, "bob").ok());
  EXPECT_EQ(service_->History("churn-ep", 0)->size(), 3u);

  // Rollback restores the previous maps and is recorded itself.
  auto rolled = service_->Rollback("churn-ep", "carol", "canary errors");
  ASSERT_TRUE(rolled.ok()) << rolled.status().ToString();
  EXPECT_EQ(rolled->traffic, (TrafficMap{{"blue", 100}}));
  EXPECT_EQ(rolled->mirror_traffic, (TrafficMap{{"green", 10}}));
  EXPECT_EQ(plane_.applied.back().traffic, (TrafficMap{{"blue", 100}}));
  history = service_->History("churn-ep", 0);
  ASSERT_EQ(history->size(), 4u);
  EXPECT_EQ(history->back().change.changed_by, "carol");
  EXPECT_EQ(history->back().change.reason, "rollback of change #3: canary errors");
  // Rolling back the rollback returns to the canary.
  auto again = service_->Rollback("churn-ep", "carol", "");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->traffic, (TrafficMap{{"blue", 90}, {"green", 10}}));
}

TEST_F(EndpointServiceTest, RollbackWithoutHistoryIsRefused) {
  MakeEndpoint();
  auto st = service_->Rollback("churn-ep", "x", "").status();
  EXPECT_EQ(st.code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.message().find("no traffic change"), std::string::npos);
}

TEST_F(EndpointServiceTest, DeploymentWithTrafficCannotBeDeleted) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  Deploy("green", "churn:2");
  ASSERT_TRUE(SetTraffic({{"blue", 100}}, TrafficMap{{"green", 20}}).ok());
  auto st = service_->DeleteDeployment("churn-ep", "blue");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.message().find("100% of live traffic"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("cairn endpoint update churn-ep"), std::string::npos);
  st = service_->DeleteDeployment("churn-ep", "green");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.message().find("mirror"), std::string::npos) << st.message();
  ASSERT_TRUE(service_->GetDeployment("churn-ep", "blue").ok());

  // Once its traffic moved, it goes; a rollback to a map naming it is refused.
  ASSERT_TRUE(SetTraffic({{"green", 100}}, TrafficMap{}).ok());
  ASSERT_TRUE(service_->DeleteDeployment("churn-ep", "blue").ok());
  auto rb = service_->Rollback("churn-ep", "x", "");
  EXPECT_EQ(rb.status().code(), ErrorCode::kInvalidState);
  EXPECT_NE(rb.status().message().find("'blue', which does not exist"), std::string::npos)
      << rb.status().message();
}

TEST_F(EndpointServiceTest, DeleteEndpointRemovesEverything) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  ASSERT_TRUE(SetTraffic({{"blue", 100}}).ok());
  ASSERT_TRUE(service_->DeleteEndpoint("churn-ep").ok());
  EXPECT_EQ(plane_.removed, std::vector<std::string>{"churn-ep"});
  EXPECT_EQ(service_->GetEndpoint("churn-ep").status().code(), ErrorCode::kResourceDoesNotExist);
  EXPECT_TRUE(asset_store_->WalkLineage("model:churn:1", false, 1, 100)->empty());
  EXPECT_FALSE(fs::exists(dir_ / "serving/churn-ep"));
  // The name is free again, with no history carried over.
  MakeEndpoint();
  EXPECT_TRUE(service_->History("churn-ep", 0)->empty());
}

TEST_F(EndpointServiceTest, ApplyAllHandsEveryEndpointToThePlane) {
  MakeEndpoint("ep-one");
  MakeEndpoint("ep-two");
  Deploy("blue", "churn:1", "ep-two");
  plane_.applied.clear();
  ASSERT_TRUE(service_->ApplyAll().ok());
  ASSERT_EQ(plane_.applied.size(), 2u);
  EXPECT_EQ(plane_.applied[1].name, "ep-two");
  EXPECT_EQ(plane_.applied[1].deployments.size(), 1u);
  EXPECT_EQ(service_->GetLogs("ep-two", "blue", 5).value(), "ep-two/blue last 5");
}

}  // namespace
}  // namespace cairn::serving

namespace cairn::serving {
namespace {

TEST_F(EndpointServiceTest, StoreRefusesAStaleGenerationAndRefusedMutationsChangeNothing) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  auto stored = serving_store_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(stored.ok());
  DeploymentRecord stale = *stored;
  stale.generation = 1;  // not the stored generation + 1: someone else updated first
  auto st = serving_store_->UpdateDeployment(stale, {});
  EXPECT_EQ(st.status().code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.status().message().find("retry"), std::string::npos);
  stale.generation = 2;
  ASSERT_TRUE(serving_store_->UpdateDeployment(stale, {}).ok());

  auto before = serving_store_->GetEndpoint("churn-ep");
  auto refused = serving_store_->UpdateEndpoint(
      "churn-ep",
      [](EndpointRecord& e, const EndpointContext&) {
        e.traffic_json = R"({"blue":100})";
        return Status(ErrorCode::kInvalidState, "no");
      },
      "x", "");
  EXPECT_EQ(refused.status().code(), ErrorCode::kInvalidState);
  auto after = serving_store_->GetEndpoint("churn-ep");
  EXPECT_EQ(after->traffic_json, before->traffic_json);
  EXPECT_EQ(after->last_updated_time, before->last_updated_time);
  EXPECT_TRUE(serving_store_->TrafficHistory("churn-ep", 0)->empty());
}

// Two updates before the first finished loading: the generation still
// serving keeps its files (a scoring-script worker restarted meanwhile runs
// from them) until the data plane reports a newer one serving.
TEST_F(EndpointServiceTest, QuickSuccessiveUpdatesKeepTheServingGenerationsFiles) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  plane_.Report("blue", 1, true, 1);
  auto d = service_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(d.ok());
  const fs::path gen1 = fs::path(d->record.model_dir).parent_path();
  auto update = [&](const std::string& model) { return UpdateModel("blue", model); };
  ASSERT_TRUE(update("churn:2").ok());  // generation 2: still loading
  const fs::path gen2 =
      fs::path(service_->GetDeployment("churn-ep", "blue")->record.model_dir).parent_path();
  ASSERT_TRUE(update("churn:1").ok());  // generation 3 arrives: 1 still serves
  EXPECT_TRUE(fs::exists(gen1)) << gen1;
  EXPECT_TRUE(fs::exists(gen2)) << gen2;
  // Generation 3 loads and serves: 1 and 2 go at the next update.
  plane_.Report("blue", 3, true, 3);
  ASSERT_TRUE(update("churn:2").ok());
  EXPECT_FALSE(fs::exists(gen1)) << gen1;
  EXPECT_FALSE(fs::exists(gen2)) << gen2;
}

TEST_F(EndpointServiceTest, FailedUpdateRecordsTheFailureAndRestoresWhatServes) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  ASSERT_TRUE(plane_.listener);
  plane_.Report("blue", 1, true, 1);
  auto d = service_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->record.provisioning_state, "Succeeded");
  EXPECT_EQ(d->record.serving_generation, 1);
  const std::string gen1_dir = d->record.model_dir;

  auto update = [&](const std::string& model) { return UpdateModel("blue", model); };
  ASSERT_TRUE(update("churn:2").ok());
  EXPECT_EQ(asset_store_->WalkLineage("model:churn:2", false, 1, 100)->size(), 1u);
  // Generation 2 fails to load; generation 1 keeps serving.
  plane_.Report("blue", 2, false, 1, "model.ubj: not an XGBoost model");
  d = service_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->record.provisioning_state, "Failed");
  EXPECT_EQ(d->record.provisioning_error, "model.ubj: not an XGBoost model");
  EXPECT_EQ(d->record.failed_model, "churn:2");
  EXPECT_EQ(d->record.model_version, "1");  // the record names what serves
  EXPECT_EQ(d->record.model_ref, "churn:1");
  EXPECT_EQ(d->record.model_dir, gen1_dir);
  EXPECT_EQ(d->record.generation, 2);  // the next update is generation 3
  EXPECT_EQ(d->record.serving_generation, 1);
  EXPECT_TRUE(asset_store_->WalkLineage("model:churn:2", false, 1, 100)->empty());
  EXPECT_EQ(asset_store_->WalkLineage("model:churn:1", false, 1, 100)->size(), 1u);
  // ModelDeployed went out with the update; the failure follows it, naming
  // the model that did not load and the one that serves.
  std::vector<nlohmann::json> failed;
  for (const auto& e : Events()) {
    if (e.type == "ModelDeploymentFailed") {
      EXPECT_EQ(e.subject, "endpoints/churn-ep/deployments/blue");
      EXPECT_GT(e.time, 0);
      failed.push_back(nlohmann::json::parse(e.data));
    }
  }
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0]["ModelIds"], "churn:2");
  EXPECT_EQ(failed[0]["ServingModelIds"], "churn:1");
  EXPECT_EQ(failed[0]["Error"], "model.ubj: not an XGBoost model");
  EXPECT_EQ(failed[0]["ServiceProperties"]["serving_generation"], "1");
  // Re-applied (e.g. at a restart or a traffic change), the plane is handed
  // the serving generation, not a reload.
  ASSERT_TRUE(SetTraffic({{"blue", 100}}).ok());
  EXPECT_EQ(plane_.applied.back().deployments[0].generation, 1);
  EXPECT_EQ(plane_.applied.back().deployments[0].model_dir, gen1_dir);
  // A stale report (for a generation the record no longer names) changes nothing.
  plane_.Report("blue", 2, true, 2);
  EXPECT_EQ(service_->GetDeployment("churn-ep", "blue")->record.provisioning_state, "Failed");
  plane_.Report("blue", 2, false, 1, "late");  // stale too: no second failure event
  size_t failures = 0;
  for (const auto& e : Events()) failures += e.type == "ModelDeploymentFailed";
  EXPECT_EQ(failures, 1u);

  // The next update (generation 3) keeps generation 1's files until it loads.
  ASSERT_TRUE(update("churn:2").ok());
  EXPECT_TRUE(fs::exists(gen1_dir));
  plane_.Report("blue", 3, true, 3);
  d = service_->GetDeployment("churn-ep", "blue");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->record.provisioning_state, "Succeeded");
  EXPECT_TRUE(d->record.failed_model.empty());
  EXPECT_EQ(d->record.model_version, "2");
  EXPECT_EQ(d->record.serving_generation, 3);
  EXPECT_EQ(asset_store_->WalkLineage("model:churn:2", false, 1, 100)->size(), 1u);

  // A first load that fails has nothing to restore: the record keeps its model.
  Deploy("green", "churn:2");
  plane_.Report("green", 1, false, 0, "boom");
  d = service_->GetDeployment("churn-ep", "green");
  EXPECT_EQ(d->record.provisioning_state, "Failed");
  EXPECT_EQ(d->record.failed_model, "churn:2");
  EXPECT_EQ(d->record.model_version, "2");
  EXPECT_EQ(d->record.serving_generation, 0);
}

TEST_F(EndpointServiceTest, DeletingAServedModelVersionIsRefusedNamingTheDeployment) {
  MakeEndpoint();
  Deploy("blue", "churn:1");
  Status st = registry_->DeleteModelVersion("churn", "1");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.message().find("served by deployment 'blue' of endpoint 'churn-ep'"),
            std::string::npos)
      << st.message();
  st = registry_->DeleteRegisteredModel("churn");
  EXPECT_EQ(st.code(), ErrorCode::kInvalidState);
  EXPECT_NE(st.message().find("Cannot delete model 'churn': its version 1 is served by"),
            std::string::npos)
      << st.message();
  EXPECT_TRUE(registry_->GetModelVersion("churn", "1").ok());
  // A version no deployment serves may go; once the deployment is gone, so may the rest.
  EXPECT_TRUE(registry_->DeleteModelVersion("churn", "2").ok());
  ASSERT_TRUE(service_->DeleteDeployment("churn-ep", "blue").ok());
  EXPECT_TRUE(registry_->DeleteModelVersion("churn", "1").ok());
  EXPECT_TRUE(registry_->DeleteRegisteredModel("churn").ok());
}

}  // namespace
}  // namespace cairn::serving
