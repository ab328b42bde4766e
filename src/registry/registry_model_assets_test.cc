// Cairn's additions to model versions: lineage edges written with the version,
// MLmodel parsing, parents and flags, uploaded folders, alias history.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "core/sha256.h"
#include "registry/registry_service.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_registry_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

constexpr const char* kMLmodel = R"(flavors:
  python_function:
    loader_module: mlflow.sklearn
  sklearn:
    sklearn_version: 1.3.0
run_id: r1
signature:
  inputs: '[{"name": "tenure", "type": "double"}]'
  outputs: '[{"type": "long"}]'
)";

class ModelAssetsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_model_assets_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto artifacts = OpenLocalArtifactStore(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    registry_store_ = std::make_unique<sqlite::SqliteRegistryStore>(*store_);
    asset_store_ = std::make_unique<sqlite::SqliteAssetStore>(*store_);
    service_ = std::make_unique<RegistryService>(*registry_store_, *store_, *artifacts_);
    NewRun nr;
    nr.experiment_id = "0";
    auto run = store_->CreateRun(nr);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_ = run->info;
    ASSERT_TRUE(service_->CreateRegisteredModel("churn", "", {}).ok());
  }

  void TearDown() override {
    service_.reset();
    asset_store_.reset();
    registry_store_.reset();
    artifacts_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  // Puts a file into the run's artifacts (as log_artifact would).
  void PutRunArtifact(const std::string& path, const std::string& content) {
    auto root = ArtifactUriToPath(run_.artifact_uri);
    ASSERT_TRUE(root.ok()) << root.status().ToString();
    ASSERT_TRUE(artifacts_->Put(*root + "/" + path, content).ok());
  }

  std::vector<LineageEdge> Upstream(const std::string& entity) {
    auto edges = asset_store_->WalkLineage(entity, true, 5, 100);
    EXPECT_TRUE(edges.ok()) << edges.status().ToString();
    return edges.ok() ? *edges : std::vector<LineageEdge>{};
  }

  static std::string TagOf(const ModelVersion& v, const std::string& key) {
    for (const Tag& t : v.tags) {
      if (t.key == key) return t.value;
    }
    return "<absent>";
  }

  fs::path dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<sqlite::SqliteRegistryStore> registry_store_;
  std::unique_ptr<sqlite::SqliteAssetStore> asset_store_;
  std::unique_ptr<RegistryService> service_;
  RunInfo run_;
};

TEST_F(ModelAssetsTest, VersionFromARunWritesTheProducedEdge) {
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/model";  // no run_id: taken from the source
  auto v = service_->CreateModelVersion(req);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->run_id, run_.run_id);
  auto edges = Upstream("model:churn:1");
  ASSERT_EQ(edges.size(), 1u);
  EXPECT_EQ(edges[0].src, "run:" + run_.run_id);
  EXPECT_EQ(edges[0].dst, "model:churn:1");
  EXPECT_EQ(edges[0].relation, "produced");
}

TEST_F(ModelAssetsTest, UpstreamReachesTheDataTheRunConsumed) {
  ASSERT_TRUE(
      asset_store_->AddLineageEdges({{"data:flights:3", "run:" + run_.run_id, "input", 0}}).ok());
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/model";
  req.run_id = run_.run_id;
  ASSERT_TRUE(service_->CreateModelVersion(req).ok());
  bool reached = false;
  for (const auto& e : Upstream("model:churn:1")) reached |= e.src == "data:flights:3";
  EXPECT_TRUE(reached);
}

TEST_F(ModelAssetsTest, RefusedVersionWritesNoEdge) {
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "file:///etc";
  req.run_id = run_.run_id;
  EXPECT_EQ(service_->CreateModelVersion(req).status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_TRUE(asset_store_->WalkLineage("run:" + run_.run_id, false, 2, 10)->empty());
}

TEST_F(ModelAssetsTest, ParentAndFlagsAreRecorded) {
  ModelVersionRequest base;
  base.name = "churn";
  base.source = "runs:/" + run_.run_id + "/model";
  ASSERT_TRUE(service_->CreateModelVersion(base).ok());
  ASSERT_TRUE(service_->CreateRegisteredModel("churn-onnx", "", {}).ok());
  ModelVersionRequest child = base;
  child.name = "churn-onnx";
  child.parent = "churn:1";
  child.converted = true;
  child.quantized = true;
  auto v = service_->CreateModelVersion(child);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(TagOf(*v, kParentTag), "churn:1");
  EXPECT_EQ(TagOf(*v, kConvertedTag), "true");
  EXPECT_EQ(TagOf(*v, kQuantizedTag), "true");
  bool derived = false;
  for (const auto& e : Upstream("model:churn-onnx:1")) {
    derived |= e.src == "model:churn:1" && e.relation == "derived";
  }
  EXPECT_TRUE(derived);

  child.parent = "churn:9";
  EXPECT_EQ(service_->CreateModelVersion(child).status().code(), ErrorCode::kInvalidParameterValue);
  child.parent = "churn";
  EXPECT_EQ(service_->CreateModelVersion(child).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(ModelAssetsTest, MLmodelInTheSourceIsParsedIntoTheVersion) {
  PutRunArtifact("model/MLmodel", kMLmodel);
  PutRunArtifact("model/requirements.txt", "scikit-learn==1.3.0\n");
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/model";
  auto v = service_->CreateModelVersion(req);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(TagOf(*v, kModelTypeTag), "mlflow_model");
  auto mlmodel = nlohmann::json::parse(TagOf(*v, kMLmodelTag), nullptr, false);
  ASSERT_TRUE(mlmodel.is_object()) << TagOf(*v, kMLmodelTag);
  EXPECT_EQ(mlmodel["flavors"]["sklearn"]["sklearn_version"], "1.3.0");
  EXPECT_EQ(mlmodel["signature"]["inputs"][0]["name"], "tenure");
  EXPECT_TRUE(mlmodel["requirements_txt"].get<bool>());
  EXPECT_FALSE(mlmodel["conda_yaml"].get<bool>());
}

TEST_F(ModelAssetsTest, MalformedMLmodelRefusesTheVersionWithItsPosition) {
  PutRunArtifact("bad/MLmodel", "flavors:\n  sklearn: [unclosed\n");
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/bad";
  auto v = service_->CreateModelVersion(req);
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(v.status().message().find("/bad/MLmodel:"), std::string::npos) << v.status().message();
  EXPECT_FALSE(service_->GetModelVersion("churn", "1").ok());
}

TEST_F(ModelAssetsTest, ModelTypeFollowsTheContent) {
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/plain";
  auto mlflow_api = service_->CreateModelVersion(req);
  ASSERT_TRUE(mlflow_api.ok());
  EXPECT_EQ(TagOf(*mlflow_api, kModelTypeTag), "<absent>");  // MLflow clients see their own tags
  req.record_model_type = true;
  EXPECT_EQ(TagOf(*service_->CreateModelVersion(req), kModelTypeTag), "custom_model");
  req.model_type = "mlflow_model";
  EXPECT_EQ(service_->CreateModelVersion(req).status().code(), ErrorCode::kInvalidParameterValue);
  req.model_type = "triton_model";
  EXPECT_EQ(service_->CreateModelVersion(req).status().code(), ErrorCode::kInvalidParameterValue);
}

TEST_F(ModelAssetsTest, ExpectedVersionMustBeTheNextNumber) {
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/model";
  req.expected_version = 2;
  EXPECT_EQ(service_->CreateModelVersion(req).status().code(), ErrorCode::kInvalidParameterValue);
  req.expected_version = 1;
  ASSERT_TRUE(service_->CreateModelVersion(req).ok());
  EXPECT_EQ(service_->CreateModelVersion(req).status().code(), ErrorCode::kResourceAlreadyExists);
}

TEST_F(ModelAssetsTest, UploadedFolderIsStoredContentAddressed) {
  const std::string content = "weights";
  auto blob = artifacts_->PutBlobFile([&] {
    fs::path f = dir_ / "w.bin";
    std::ofstream(f) << content;
    return f;
  }());
  ASSERT_TRUE(blob.ok()) << blob.status().ToString();
  ModelVersionRequest req;
  req.name = "churn";
  auto v = service_->CreateModelVersionFromFiles(req, {{"model/w.bin", blob->sha256, blob->size}});
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->source.rfind("mlflow-artifacts:/assets/model/", 0), 0u) << v->source;
  auto files = service_->ListModelVersionFiles("churn", "1");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].path, "model/w.bin");
  EXPECT_EQ((*files)[0].file_size, static_cast<int64_t>(content.size()));

  std::string absent(64, 'a');
  EXPECT_EQ(service_->CreateModelVersionFromFiles(req, {{"x.bin", absent, 3}}).status().code(),
            ErrorCode::kInvalidState);
  EXPECT_EQ(service_->CreateModelVersionFromFiles(req, {{"../x.bin", blob->sha256, blob->size}})
                .status()
                .code(),
            ErrorCode::kInvalidParameterValue);
}

TEST_F(ModelAssetsTest, AliasHistoryRecordsWhoWhenAndWhy) {
  ModelVersionRequest req;
  req.name = "churn";
  req.source = "runs:/" + run_.run_id + "/model";
  ASSERT_TRUE(service_->CreateModelVersion(req).ok());
  ASSERT_TRUE(service_->CreateModelVersion(req).ok());
  ASSERT_TRUE(service_->SetAlias("churn", "champion", "1", "ana", "first model").ok());
  ASSERT_TRUE(service_->SetAlias("churn", "champion", "2", "bo", "auc +0.02").ok());
  ASSERT_TRUE(service_->DeleteAlias("churn", "champion").ok());
  auto h = service_->AliasHistory("churn");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  ASSERT_EQ(h->size(), 3u);
  EXPECT_EQ((*h)[0].version, 1);
  EXPECT_EQ((*h)[0].user, "ana");
  EXPECT_EQ((*h)[0].reason, "first model");
  EXPECT_FALSE((*h)[0].previous_version.has_value());
  EXPECT_EQ((*h)[1].version, 2);
  EXPECT_EQ((*h)[1].previous_version, 1);
  EXPECT_EQ((*h)[1].reason, "auc +0.02");
  EXPECT_GT((*h)[1].time, 0);
  EXPECT_EQ((*h)[2].action, "Deleted");
  // Delivered events stay in the history.
  auto pending = registry_store_->UndeliveredEvents(100);
  ASSERT_TRUE(pending.ok());
  std::vector<int64_t> ids;
  for (const auto& e : *pending) ids.push_back(e.event_id);
  ASSERT_TRUE(registry_store_->MarkDelivered(ids).ok());
  EXPECT_EQ(service_->AliasHistory("churn")->size(), 3u);
  // Another model's name that shares the prefix is not mixed in.
  ASSERT_TRUE(service_->CreateRegisteredModel("churn:x", "", {}).ok());
  req.name = "churn:x";
  ASSERT_TRUE(service_->CreateModelVersion(req).ok());
  ASSERT_TRUE(service_->SetAlias("churn:x", "champion", "1").ok());
  EXPECT_EQ(service_->AliasHistory("churn:x")->size(), 1u);
  EXPECT_EQ(service_->AliasHistory("churn")->size(), 3u);
  EXPECT_EQ(service_->AliasHistory("nope").status().code(), ErrorCode::kResourceDoesNotExist);
}

}  // namespace
}  // namespace cairn
