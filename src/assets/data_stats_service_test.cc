#include "assets/data_stats_service.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/ids.h"
#include "core/sha256.h"
#include "data/stats_io.h"
#include "store/sqlite/sqlite_asset_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

// The service over a real SQLite workspace and local artifact store, as `cairn server` wires it.
class DataStatsServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_data_stats_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    asset_store_ = std::make_unique<sqlite::SqliteAssetStore>(*store_);
    auto artifacts = OpenLocalArtifactStore(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    assets_ = std::make_unique<AssetService>(*asset_store_, *store_, *artifacts_, nullptr);
    service_ = std::make_unique<DataStatsService>(*assets_, *artifacts_, 1);
  }
  void TearDown() override {
    service_.reset();
    assets_.reset();
    artifacts_.reset();
    asset_store_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  AssetVersion Create(const std::string& name,
                      const std::vector<std::pair<std::string, std::string>>& files) {
    NewDataVersion d;
    d.name = name;
    for (const auto& [path, content] : files) {
      std::string sha = Sha256Hex(content);
      EXPECT_TRUE(assets_->PutBlob(sha, "", {}, content).ok());
      d.files.push_back({path, sha, static_cast<int64_t>(content.size())});
    }
    auto made = assets_->CreateData(std::move(d));
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return made->asset;
  }

  fs::path dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<sqlite::SqliteAssetStore> asset_store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<AssetService> assets_;
  std::unique_ptr<DataStatsService> service_;
};

TEST_F(DataStatsServiceTest, ComputesOnceStoresByContentHashThenReads) {
  AssetVersion v = Create("t", {{"t.csv", "a,c\n1,x\n2,y\n"}});
  auto first = service_->Stats("t:1");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->computed);
  EXPECT_EQ(first->stats.num_rows, 2);
  EXPECT_EQ(first->stats.source, "t:1");
  auto stored = artifacts_->Get(DataStatsPath(v.content_hash));
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  auto parsed = data::StatsFromJsonText(*stored, "stored");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->num_rows, 2);

  auto second = service_->Stats("t@latest");
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->computed);
  EXPECT_EQ(data::StatsToJson(second->stats), data::StatsToJson(first->stats));
}

TEST_F(DataStatsServiceTest, InferAndValidate) {
  Create("train", {{"train.csv", "a,c\n1,x\n2,y\n"}});
  Create("serve", {{"serve.csv", "a,c\n1,x\n2,zz\n"}});
  auto schema = service_->InferSchema("train:1");
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  ASSERT_TRUE(schema->Find("c")->domain.has_value());
  auto clean = service_->Validate("train:1", *schema, nullptr);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->clean());
  auto report = service_->Validate("serve:1", *schema, nullptr);
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->anomalies.size(), 1u);
  EXPECT_EQ(report->anomalies[0].type, "ENUM_TYPE_UNEXPECTED_STRING_VALUES");
}

TEST_F(DataStatsServiceTest, ErrorsNameTheVersion) {
  Create("two", {{"a.csv", "x\n1\n"}, {"b.csv", "x\n2\n"}});
  auto two = service_->Stats("two:1");
  EXPECT_EQ(two.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(two.status().message().find("holds 2 table files"), std::string::npos);
  Create("bad", {{"bad.csv", "a,b\n1,\"x\n"}});
  auto bad = service_->Stats("bad:1");
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(bad.status().message().find("bad:1/bad.csv:2:"), std::string::npos)
      << bad.status().message();
  EXPECT_EQ(service_->Stats("none:1").status().code(), ErrorCode::kResourceDoesNotExist);
}

}  // namespace
}  // namespace cairn
