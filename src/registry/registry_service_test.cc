#include "registry/registry_service.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "artifacts/artifact_store.h"
#include "core/ids.h"
#include "store/migrations.h"
#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_registry_store.h"
#include "store/sqlite/sqlite_store.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;

void ExpectCode(const Status& st, ErrorCode code, const std::string& what) {
  EXPECT_FALSE(st.ok()) << "accepted: " << what;
  if (!st.ok()) {
    EXPECT_EQ(st.code(), code) << what << ": " << st.ToString();
  }
}

void ExpectInvalid(const Status& st, const std::string& what) {
  ExpectCode(st, ErrorCode::kInvalidParameterValue, what);
}

class RegistryServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cairn_registry_test_" + NewRunId());
    ASSERT_TRUE(fs::create_directories(dir_));
    auto s = sqlite::SqliteStore::Open((dir_ / "cairn.db").string(), StoreOptions{});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
    auto artifacts = OpenLocalArtifactStore(dir_ / "artifacts");
    ASSERT_TRUE(artifacts.ok()) << artifacts.status().ToString();
    artifacts_ = std::move(artifacts).value();
    registry_store_ = std::make_unique<sqlite::SqliteRegistryStore>(*store_);
    service_ = std::make_unique<RegistryService>(*registry_store_, *store_, *artifacts_);
    NewRun nr;
    nr.experiment_id = "0";
    auto run = store_->CreateRun(nr);
    ASSERT_TRUE(run.ok()) << run.status().ToString();
    run_ = run->info;
  }

  void TearDown() override {
    service_.reset();
    registry_store_.reset();
    artifacts_.reset();
    store_.reset();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  ModelVersion Register(const std::string& name, const std::string& path = "model") {
    auto m = service_->CreateRegisteredModel(name, "", {});
    if (!m.ok()) {
      EXPECT_EQ(m.status().code(), ErrorCode::kResourceAlreadyExists);
    }
    ModelVersionRequest req;
    req.name = name;
    req.source = "runs:/" + run_.run_id + "/" + path;
    req.run_id = run_.run_id;
    auto v = service_->CreateModelVersion(req);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ModelVersion{};
  }

  std::vector<OutboxEvent> Events() {
    auto e = registry_store_->UndeliveredEvents(1000);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return e.ok() ? *e : std::vector<OutboxEvent>{};
  }

  fs::path dir_;
  std::unique_ptr<sqlite::SqliteStore> store_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<sqlite::SqliteRegistryStore> registry_store_;
  std::unique_ptr<RegistryService> service_;
  RunInfo run_;
};

TEST(RegistryValidationTest, StagesAreCaseInsensitiveAndCanonical) {
  EXPECT_EQ(*CanonicalStage("production"), "Production");
  EXPECT_EQ(*CanonicalStage("STAGING"), "Staging");
  EXPECT_EQ(*CanonicalStage("none"), "None");
  EXPECT_EQ(*CanonicalStage("Archived"), "Archived");
  ExpectInvalid(CanonicalStage("prod").status(), "stage prod");
  ExpectInvalid(CanonicalStage("").status(), "empty stage");
}

TEST(RegistryValidationTest, VersionsAndAliases) {
  EXPECT_EQ(*ParseModelVersion("12"), 12);
  for (const char* bad : {"", "0", "-1", "1.5", "abc", "99999999999999999999"}) {
    ExpectInvalid(ParseModelVersion(bad).status(), std::string("version ") + bad);
  }
  EXPECT_TRUE(ValidateAliasName("champion").ok());
  EXPECT_TRUE(ValidateAliasName("blue-green_2").ok());
  for (const char* bad : {"", "latest", "LATEST", "v1", "V22", "a b", "a/b", "a@b"}) {
    ExpectInvalid(ValidateAliasName(bad), std::string("alias ") + bad);
  }
  ExpectInvalid(ValidateModelName(""), "empty name");
  ExpectInvalid(ValidateModelName("a/b"), "name with slash");
  EXPECT_TRUE(ValidateModelName("churn model v2").ok());
}

TEST_F(RegistryServiceTest, CreateGetRenameUpdateDelete) {
  auto m = service_->CreateRegisteredModel("churn", "predicts churn", {{"team", "growth"}});
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->name, "churn");
  EXPECT_EQ(m->description, "predicts churn");
  ASSERT_EQ(m->tags.size(), 1u);
  EXPECT_GT(m->creation_timestamp, 0);
  ExpectCode(service_->CreateRegisteredModel("churn", "", {}).status(),
             ErrorCode::kResourceAlreadyExists, "duplicate model");
  ExpectCode(service_->GetRegisteredModel("nope").status(), ErrorCode::kResourceDoesNotExist,
             "missing model");
  ExpectInvalid(service_->CreateRegisteredModel("x", "", {{"", "v"}}).status(), "empty tag key");

  Register("churn");
  auto renamed = service_->RenameRegisteredModel("churn", "churn2");
  ASSERT_TRUE(renamed.ok()) << renamed.status().ToString();
  ASSERT_EQ(renamed->latest_versions.size(), 1u);
  EXPECT_EQ(renamed->latest_versions[0].name, "churn2");
  ExpectCode(service_->GetRegisteredModel("churn").status(), ErrorCode::kResourceDoesNotExist,
             "old name after rename");
  ASSERT_TRUE(service_->CreateRegisteredModel("other", "", {}).ok());
  ExpectCode(service_->RenameRegisteredModel("churn2", "other").status(),
             ErrorCode::kResourceAlreadyExists, "rename onto an existing name");

  auto updated = service_->UpdateRegisteredModel("churn2", "new text");
  ASSERT_TRUE(updated.ok());
  EXPECT_EQ(updated->description, "new text");

  ASSERT_TRUE(service_->DeleteRegisteredModel("churn2").ok());
  ExpectCode(service_->GetModelVersion("churn2", "1").status(), ErrorCode::kResourceDoesNotExist,
             "version of a deleted model");
}

TEST_F(RegistryServiceTest, VersionNumbersAreNeverReused) {
  EXPECT_EQ(Register("m").version, 1);
  EXPECT_EQ(Register("m").version, 2);
  ASSERT_TRUE(service_->DeleteModelVersion("m", "2").ok());
  EXPECT_EQ(Register("m").version, 3);
  EXPECT_EQ(Register("other").version, 1);
  ExpectCode(service_->GetModelVersion("m", "2").status(), ErrorCode::kResourceDoesNotExist,
             "deleted version");
}

TEST_F(RegistryServiceTest, RunsSourceResolvesToTheRunArtifactDirectory) {
  ModelVersion v = Register("m", "model");
  EXPECT_EQ(v.source, "runs:/" + run_.run_id + "/model");
  EXPECT_EQ(v.storage_location, run_.artifact_uri + "/model");
  EXPECT_EQ(v.current_stage, "None");
  EXPECT_EQ(v.status, "READY");
  auto uri = service_->GetDownloadUri("m", "1");
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(*uri, "mlflow-artifacts:/0/" + run_.run_id + "/artifacts/model");
}

TEST_F(RegistryServiceTest, AcceptedSources) {
  Register("base");
  ASSERT_TRUE(service_->SetAlias("base", "champion", "1").ok());
  std::string root = run_.artifact_uri;
  struct Case {
    std::string source, run_id, expect;
  } cases[] = {
      {root + "/model", run_.run_id, root + "/model"},
      {root, run_.run_id, root},
      {"runs:/" + run_.run_id, "", root},
      {"models:/base/1", "", root + "/model"},
      {"models:/base@champion", "", root + "/model"},
      {"mlflow-artifacts:/0/abc/artifacts/model", "", "mlflow-artifacts:/0/abc/artifacts/model"},
      {"mlflow-artifacts:///0/x", "", "mlflow-artifacts:/0/x"},
  };
  for (const auto& c : cases) {
    auto got = service_->ResolveSource(c.source, c.run_id);
    ASSERT_TRUE(got.ok()) << c.source << ": " << got.status().ToString();
    EXPECT_EQ(*got, c.expect) << c.source;
  }
}

TEST_F(RegistryServiceTest, SourcesOutsideTheWorkspaceAreRefused) {
  Register("base");
  std::string root = run_.artifact_uri;
  const std::string bad[] = {
      "file:///etc",
      "/etc/passwd",
      "etc/passwd",
      "http://evil.example/model",
      "https://evil.example/model",
      "s3://bucket/model",
      "runs:/" + run_.run_id + "/../../../etc",
      "runs:/" + run_.run_id + "/model/%2e%2e/%2e%2e",
      "runs:/" + run_.run_id + "/%252e%252e/x",
      "runs:/nosuchrun/model",
      "runs:/",
      "mlflow-artifacts:/../etc",
      "mlflow-artifacts:/0/%2e%2e/%2e%2e/etc",
      "mlflow-artifacts:/",
      "mlflow-artifacts:/a\\..\\b",
      "models:/base/7",
      "models:/base@nobody",
      "models:/base",
      root + "/../../other",
      root + "/%2e%2e/x",
      "",
  };
  for (const auto& source : bad) {
    ExpectInvalid(service_->ResolveSource(source, "").status(), "source " + source);
    ModelVersionRequest req{"base", source, "", "", "", {}};
    ExpectInvalid(service_->CreateModelVersion(req).status(), "create with source " + source);
  }
  // With a run id, a path inside the run's root is fine, but not one escaping it.
  ExpectInvalid(service_->ResolveSource(root + "/../x", run_.run_id).status(), "escape the run");
  ExpectCode(service_->ResolveSource(root + "/m", "nosuchrun").status(),
             ErrorCode::kResourceDoesNotExist, "unknown run_id");
}

TEST_F(RegistryServiceTest, StageTransitionsArchiveExistingVersions) {
  Register("m");
  Register("m");
  Register("m");
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", "1", "production", false).ok());
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", "2", "Production", false).ok());
  auto v3 = service_->TransitionModelVersionStage("m", "3", "PRODUCTION", true);
  ASSERT_TRUE(v3.ok()) << v3.status().ToString();
  EXPECT_EQ(v3->current_stage, "Production");
  EXPECT_EQ(service_->GetModelVersion("m", "1")->current_stage, "Archived");
  EXPECT_EQ(service_->GetModelVersion("m", "2")->current_stage, "Archived");
  ExpectInvalid(service_->TransitionModelVersionStage("m", "1", "prod", false).status(),
                "unknown stage");
  ExpectInvalid(service_->TransitionModelVersionStage("m", "1", "None", true).status(),
                "archive_existing_versions with stage None");

  auto latest = service_->GetLatestVersions("m", {});
  ASSERT_TRUE(latest.ok());
  ASSERT_EQ(latest->size(), 2u);  // Production: 3, Archived: 2
  EXPECT_EQ((*latest)[0].version, 3);
  EXPECT_EQ((*latest)[1].version, 2);
  auto archived = service_->GetLatestVersions("m", {"archived"});
  ASSERT_TRUE(archived.ok());
  ASSERT_EQ(archived->size(), 1u);
  EXPECT_EQ((*archived)[0].version, 2);
}

TEST_F(RegistryServiceTest, AliasesAndDeletingAnAliasedVersion) {
  Register("m");
  Register("m");
  ExpectInvalid(service_->SetAlias("m", "champion", "9"), "alias on a missing version");
  ExpectInvalid(service_->SetAlias("m", "latest", "1"), "reserved alias");
  ASSERT_TRUE(service_->SetAlias("m", "champion", "1").ok());
  ASSERT_TRUE(service_->SetAlias("m", "champion", "2").ok());  // moves
  auto v = service_->GetModelVersionByAlias("m", "champion");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, 2);
  EXPECT_EQ(v->aliases, std::vector<std::string>{"champion"});
  auto m = service_->GetRegisteredModel("m");
  ASSERT_EQ(m->aliases.size(), 1u);
  EXPECT_EQ(m->aliases[0].version, 2);

  Status st = service_->DeleteModelVersion("m", "2");
  ExpectCode(st, ErrorCode::kInvalidState, "delete an aliased version");
  EXPECT_NE(st.message().find("'champion'"), std::string::npos) << st.message();
  EXPECT_TRUE(service_->GetModelVersion("m", "2").ok());
  ASSERT_TRUE(service_->DeleteAlias("m", "champion").ok());
  ASSERT_TRUE(service_->DeleteModelVersion("m", "2").ok());
  ExpectCode(service_->GetModelVersionByAlias("m", "champion").status(),
             ErrorCode::kResourceDoesNotExist, "deleted alias");
}

TEST_F(RegistryServiceTest, TagsOnModelsAndVersions) {
  Register("m");
  ASSERT_TRUE(service_->SetRegisteredModelTag("m", {"k", "v"}).ok());
  ASSERT_TRUE(service_->SetModelVersionTag("m", "1", {"k2", "v2"}).ok());
  ExpectInvalid(service_->SetModelVersionTag("m", "1", {"bad/../key", "v"}), "bad tag key");
  ExpectInvalid(service_->SetModelVersionTag("m", "1", {"k", std::string(5001, 'x')}),
                "long tag value");
  ExpectCode(service_->SetModelVersionTag("m", "5", {"k", "v"}), ErrorCode::kResourceDoesNotExist,
             "tag on a missing version");
  EXPECT_EQ(service_->GetRegisteredModel("m")->tags.size(), 1u);
  EXPECT_EQ(service_->GetModelVersion("m", "1")->tags.size(), 1u);
  ASSERT_TRUE(service_->DeleteRegisteredModelTag("m", "k").ok());
  ASSERT_TRUE(service_->DeleteModelVersionTag("m", "1", "k2").ok());
  EXPECT_TRUE(service_->GetRegisteredModel("m")->tags.empty());
  EXPECT_TRUE(service_->GetModelVersion("m", "1")->tags.empty());
}

TEST_F(RegistryServiceTest, SearchRegisteredModels) {
  for (const char* name : {"alpha", "beta", "Alphabet", "gamma"}) {
    ASSERT_TRUE(service_->CreateRegisteredModel(name, "", {}).ok());
  }
  ASSERT_TRUE(service_->SetRegisteredModelTag("gamma", {"team", "a"}).ok());
  auto names = [&](const SearchRequest& req) {
    std::vector<std::string> out;
    auto page = service_->SearchRegisteredModels(req);
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const auto& m : page->items) out.push_back(m.name);
    }
    return out;
  };
  SearchRequest req;
  EXPECT_EQ(names(req), (std::vector<std::string>{"Alphabet", "alpha", "beta", "gamma"}));
  req.filter = "name LIKE 'alpha%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"alpha"}));
  req.filter = "name ILIKE 'alpha%'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"Alphabet", "alpha"}));
  req.filter = "name = 'beta'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"beta"}));
  req.filter = "tags.team = 'a'";
  EXPECT_EQ(names(req), (std::vector<std::string>{"gamma"}));
  req.filter = "";
  req.order_by = {"name DESC"};
  EXPECT_EQ(names(req), (std::vector<std::string>{"gamma", "beta", "alpha", "Alphabet"}));

  // Paging walks every model once.
  req.order_by = {};
  req.max_results = 3;
  auto first = service_->SearchRegisteredModels(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->items.size(), 3u);
  ASSERT_FALSE(first->next_page_token.empty());
  req.page_token = first->next_page_token;
  auto second = service_->SearchRegisteredModels(req);
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->items.size(), 1u);
  EXPECT_EQ(second->items[0].name, "gamma");
  EXPECT_TRUE(second->next_page_token.empty());

  SearchRequest bad;
  for (const char* f : {"metrics.acc > 1", "params.x = 'a'", "run_id = 'x'", "name > 'a'",
                        "name = 'a' OR name = 'b'", "name IN ('a')"}) {
    bad.filter = f;
    ExpectInvalid(service_->SearchRegisteredModels(bad).status(), f);
  }
  bad.filter = "";
  bad.order_by = {"tags.team"};
  ExpectInvalid(service_->SearchRegisteredModels(bad).status(), "order by tag");
  bad.order_by = {};
  bad.max_results = 1001;
  ExpectInvalid(service_->SearchRegisteredModels(bad).status(), "max_results 1001");
  bad.max_results = 10;
  bad.page_token = "garbage";
  ExpectInvalid(service_->SearchRegisteredModels(bad).status(), "bad page token");
}

TEST_F(RegistryServiceTest, SearchModelVersions) {
  Register("a");
  Register("a");
  Register("b", "other");
  ASSERT_TRUE(service_->SetModelVersionTag("a", "2", {"ok", "yes"}).ok());
  auto keys = [&](const std::string& filter, std::vector<std::string> order = {}) {
    SearchRequest req;
    req.filter = filter;
    req.order_by = std::move(order);
    std::vector<std::string> out;
    auto page = service_->SearchModelVersions(req);
    EXPECT_TRUE(page.ok()) << filter << ": " << page.status().ToString();
    if (page.ok()) {
      for (const auto& v : page->items) out.push_back(v.name + "/" + std::to_string(v.version));
    }
    return out;
  };
  EXPECT_EQ(keys(""), (std::vector<std::string>{"a/2", "a/1", "b/1"}));
  EXPECT_EQ(keys("name = 'a'", {"version_number ASC"}), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(keys("name = 'a' AND version_number = 2"), (std::vector<std::string>{"a/2"}));
  EXPECT_EQ(keys("run_id = '" + run_.run_id + "' AND name LIKE 'b%'"),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(keys("run_id IN ('x', '" + run_.run_id + "') AND name = 'b'"),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(keys("source_path = 'runs:/" + run_.run_id + "/other'"),
            (std::vector<std::string>{"b/1"}));
  EXPECT_EQ(keys("tags.ok = 'yes'"), (std::vector<std::string>{"a/2"}));
  SearchRequest bad;
  bad.filter = "stage = 'x'";
  Status st = service_->SearchModelVersions(bad).status();
  ExpectInvalid(st, "unknown attribute");
  EXPECT_NE(st.message().find("version_number"), std::string::npos) << st.message();
}

// ---- outbox ---------------------------------------------------------------------------------

TEST_F(RegistryServiceTest, EveryChangeWritesItsEvent) {
  Register("m");
  Register("m");
  ASSERT_TRUE(service_->SetAlias("m", "champion", "1").ok());
  ASSERT_TRUE(service_->TransitionModelVersionStage("m", "1", "staging", false).ok());
  ASSERT_TRUE(service_->DeleteAlias("m", "champion").ok());
  ASSERT_TRUE(service_->DeleteModelVersion("m", "2").ok());
  auto events = Events();
  std::vector<std::string> types;
  for (const auto& e : events) types.push_back(e.type);
  EXPECT_EQ(types,
            (std::vector<std::string>{"ModelRegistered", "ModelRegistered", "ModelAliasChanged",
                                      "ModelStageChanged", "ModelAliasChanged", "ModelDeleted"}));
  ASSERT_EQ(events.size(), 6u);
  auto data = nlohmann::json::parse(events[0].data);
  EXPECT_EQ(data["ModelName"], "m");
  EXPECT_EQ(data["ModelVersion"], "1");
  EXPECT_TRUE(data["ModelTags"].is_object());
  EXPECT_EQ(data["ModelProperties"]["source"], "runs:/" + run_.run_id + "/model");
  EXPECT_EQ(events[0].subject, "models/m:1");
  EXPECT_EQ(nlohmann::json::parse(events[2].data)["Alias"], "champion");
  auto stage = nlohmann::json::parse(events[3].data);
  EXPECT_EQ(stage["Stage"], "Staging");
  EXPECT_EQ(stage["PreviousStage"], "None");
  EXPECT_EQ(nlohmann::json::parse(events[5].data)["ModelVersion"], "2");
  for (size_t i = 1; i < events.size(); ++i) EXPECT_GT(events[i].event_id, events[i - 1].event_id);

  ASSERT_TRUE(registry_store_->MarkDelivered({events[0].event_id, events[1].event_id}).ok());
  EXPECT_EQ(Events().size(), 4u);
}

TEST_F(RegistryServiceTest, FailedChangesWriteNoEvent) {
  Register("m");
  size_t before = Events().size();
  ExpectInvalid(service_->SetAlias("m", "champion", "7"), "alias on a missing version");
  ASSERT_TRUE(service_->SetAlias("m", "champion", "1").ok());
  before += 1;
  ExpectCode(service_->DeleteModelVersion("m", "1"), ErrorCode::kInvalidState, "aliased version");
  EXPECT_EQ(Events().size(), before);

  // A failure after the event row was written (the registered model's update
  // comes last in CreateModelVersion) must take the event down with it.
  ASSERT_TRUE(store_
                  ->Write([](sqlite::Db& db) {
                    db.Exec(
                        "CREATE TRIGGER refuse_model_update BEFORE UPDATE ON registered_models "
                        "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
                  })
                  .ok());
  ModelVersionRequest req{"m", "runs:/" + run_.run_id + "/model", run_.run_id, "", "", {}};
  EXPECT_FALSE(service_->CreateModelVersion(req).ok());
  EXPECT_EQ(Events().size(), before);
  SearchRequest all;
  auto versions = service_->SearchModelVersions(all);
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ(versions->items.size(), 1u);
  ASSERT_TRUE(
      store_->Write([](sqlite::Db& db) { db.Exec("DROP TRIGGER refuse_model_update"); }).ok());
  EXPECT_EQ(Register("m").version, 2);  // the failed attempt consumed no number
  EXPECT_EQ(Events().size(), before + 1);
}

TEST_F(RegistryServiceTest, DeletingAModelEmitsOneEventPerVersionAndOneForTheModel) {
  Register("m");
  Register("m");
  size_t before = Events().size();
  ASSERT_TRUE(service_->DeleteRegisteredModel("m").ok());
  auto events = Events();
  ASSERT_EQ(events.size(), before + 3);
  EXPECT_EQ(events[before].subject, "models/m:1");
  EXPECT_EQ(events[before + 1].subject, "models/m:2");
  EXPECT_EQ(events[before + 2].subject, "models/m");
  for (size_t i = before; i < events.size(); ++i) EXPECT_EQ(events[i].type, "ModelDeleted");
}

// A workspace written before the registry existed (schema 1) gains the registry
// tables on open and keeps its runs, which can then be registered.
TEST(RegistryMigrationTest, ASchemaOneWorkspaceUpgrades) {
  fs::path dir = fs::temp_directory_path() / ("cairn_registry_upgrade_" + NewRunId());
  ASSERT_TRUE(fs::create_directories(dir));
  std::string db_path = (dir / "cairn.db").string();
  {
    sqlite3* raw = nullptr;
    ASSERT_EQ(sqlite3_open(db_path.c_str(), &raw), SQLITE_OK);
    std::string sql = MigrationSql(0, SqliteDialect()) +
                      "CREATE TABLE schema_version (version INTEGER NOT NULL);"
                      "INSERT INTO schema_version (version) VALUES (1);"
                      "INSERT INTO experiments VALUES (0, 'Default', 'mlflow-artifacts:/0', "
                      "'active', 1, 1);"
                      "INSERT INTO runs VALUES ('r1', 0, 'old', 'u', 'FINISHED', 1, 2, 'active', "
                      "'mlflow-artifacts:/0/r1/artifacts', NULL);";
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(raw, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
    sqlite3_close(raw);
  }
  {
    auto store = sqlite::SqliteStore::Open(db_path, StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    EXPECT_EQ((*store)->SchemaVersion(), LatestSchemaVersion());
    auto artifacts = OpenLocalArtifactStore(dir / "artifacts");
    ASSERT_TRUE(artifacts.ok());
    sqlite::SqliteRegistryStore registry_store(**store);
    RegistryService service(registry_store, **store, **artifacts);
    ASSERT_TRUE(service.CreateRegisteredModel("m", "", {}).ok());
    ModelVersionRequest req{"m", "runs:/r1/model", "r1", "", "", {}};
    auto v = service.CreateModelVersion(req);
    ASSERT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_EQ(v->storage_location, "mlflow-artifacts:/0/r1/artifacts/model");
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
}

}  // namespace
}  // namespace cairn
