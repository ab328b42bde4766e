#include "store/registry_search.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "store/registry_events.h"

namespace cairn {
namespace {

RegistryQuery NameQuery(Comparator op, const std::string& value) {
  RegistryQuery q;
  Clause c;
  c.key = "name";
  c.op = op;
  c.values = {value};
  q.filter.push_back(c);
  q.order_by.push_back({EntityType::kAttribute, "last_updated_timestamp", false});
  q.max_results = 10;
  q.offset = 20;
  return q;
}

TEST(RegistrySearchSql, ValuesAreBoundPerDialect) {
  RegistryQuery q = NameQuery(Comparator::kILike, "%x'; DROP TABLE t; --%");
  SqlQuery pg = BuildRegisteredModelSearchSql(q, PostgresDialect());
  EXPECT_NE(pg.sql.find("r.name ILIKE $1"), std::string::npos) << pg.sql;
  EXPECT_NE(pg.sql.find("ORDER BY r.last_updated_time DESC, r.name ASC"), std::string::npos)
      << pg.sql;
  EXPECT_NE(pg.sql.find("LIMIT $2 OFFSET $3"), std::string::npos) << pg.sql;
  EXPECT_EQ(pg.sql.find("DROP"), std::string::npos) << "value spliced into SQL: " << pg.sql;
  ASSERT_EQ(pg.params.size(), 3u);
  EXPECT_EQ(std::get<int64_t>(pg.params[1]), 11);  // one extra row tells whether a page follows
  EXPECT_EQ(std::get<int64_t>(pg.params[2]), 20);

  SqlQuery lite = BuildRegisteredModelSearchSql(q, SqliteDialect());
  EXPECT_NE(lite.sql.find("lower(r.name) LIKE lower(?1)"), std::string::npos) << lite.sql;
}

TEST(RegistrySearchSql, VersionSearchJoinsModelsAndComparesIntegers) {
  RegistryQuery q = NameQuery(Comparator::kEq, "churn");
  q.order_by = {{EntityType::kAttribute, "version_number", true}};
  Clause version;
  version.key = "version_number";
  version.op = Comparator::kGe;
  version.numeric = true;
  version.number = 3;
  q.filter.push_back(version);
  Clause tag;
  tag.type = EntityType::kTag;
  tag.key = "ok";
  tag.values = {"yes"};
  q.filter.push_back(tag);
  SqlQuery s = BuildModelVersionSearchSql(q, SqliteDialect());
  EXPECT_NE(s.sql.find("JOIN registered_models r ON r.model_id = v.model_id"), std::string::npos);
  EXPECT_NE(s.sql.find("v.version >= ?2"), std::string::npos) << s.sql;
  EXPECT_EQ(std::get<int64_t>(s.params[1]), 3);
  EXPECT_NE(s.sql.find("FROM model_version_tags t"), std::string::npos) << s.sql;
  EXPECT_NE(s.sql.find("ORDER BY v.version ASC, r.name ASC, v.version DESC"), std::string::npos)
      << s.sql;
}

TEST(RegistryEvents, PayloadFollowsEventGrid) {
  ModelVersion v;
  v.name = "churn";
  v.version = 4;
  v.source = "runs:/abc/model";
  v.storage_location = "mlflow-artifacts:/0/abc/artifacts/model";
  v.run_id = "abc";
  v.current_stage = "Staging";
  v.tags = {{"k", "v"}};
  OutboxEvent e = MakeModelEvent("ModelStageChanged", v, {{"Stage", "Staging"}}, 1234);
  EXPECT_EQ(e.subject, "models/churn:4");
  EXPECT_EQ(e.time, 1234);
  auto data = nlohmann::json::parse(e.data);
  EXPECT_EQ(data["ModelName"], "churn");
  EXPECT_EQ(data["ModelVersion"], "4");
  EXPECT_EQ(data["ModelTags"], (nlohmann::json{{"k", "v"}}));
  EXPECT_EQ(data["ModelProperties"]["artifact_uri"], v.storage_location);
  EXPECT_EQ(data["Stage"], "Staging");

  ModelVersion whole;
  whole.name = "churn";
  e = MakeModelEvent("ModelDeleted", whole, {}, 1);
  EXPECT_EQ(e.subject, "models/churn");
  EXPECT_EQ(nlohmann::json::parse(e.data)["ModelVersion"], "");
}

}  // namespace
}  // namespace cairn
