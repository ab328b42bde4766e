#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace cairn {
namespace {

// Parses a run filter that must be valid and hold exactly one clause.
Clause One(const std::string& filter, SearchTarget target = SearchTarget::kRuns) {
  auto r = ParseFilter(filter, target);
  EXPECT_TRUE(r.ok()) << filter << ": " << r.status().message();
  if (!r.ok()) return Clause{};
  EXPECT_EQ(r->size(), 1u) << filter;
  if (r->size() != 1) return Clause{};
  return r->front();
}

void ExpectInvalid(const std::string& filter, SearchTarget target = SearchTarget::kRuns) {
  auto r = ParseFilter(filter, target);
  EXPECT_FALSE(r.ok()) << "accepted: " << filter;
  if (!r.ok()) {
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidParameterValue) << filter;
    EXPECT_FALSE(r.status().message().empty()) << filter;
  }
}

TEST(SearchFilter, EmptyAndBlankFiltersMatchEverything) {
  auto r = ParseFilter("", SearchTarget::kRuns);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseFilter("   \t ", SearchTarget::kRuns);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(SearchFilter, MetricNumericComparators) {
  const std::pair<const char*, Comparator> cases[] = {
      {"=", Comparator::kEq},  {"==", Comparator::kEq}, {"!=", Comparator::kNe},
      {"<", Comparator::kLt},  {"<=", Comparator::kLe}, {">", Comparator::kGt},
      {">=", Comparator::kGe},
  };
  for (const auto& [op, cmp] : cases) {
    std::string f = std::string("metrics.auc ") + op + " 0.75";
    Clause c = One(f);
    EXPECT_EQ(c.type, EntityType::kMetric) << f;
    EXPECT_EQ(c.key, "auc") << f;
    EXPECT_EQ(c.op, cmp) << f;
    EXPECT_TRUE(c.numeric) << f;
    EXPECT_DOUBLE_EQ(c.number, 0.75) << f;
    EXPECT_TRUE(c.values.empty()) << f;
  }
}

TEST(SearchFilter, ComparatorsWithoutSpaces) {
  Clause c = One("metrics.auc>=0.5");
  EXPECT_EQ(c.op, Comparator::kGe);
  EXPECT_DOUBLE_EQ(c.number, 0.5);
  c = One("params.model='xgb'");
  EXPECT_EQ(c.op, Comparator::kEq);
  ASSERT_EQ(c.values.size(), 1u);
  EXPECT_EQ(c.values[0], "xgb");
}

TEST(SearchFilter, ParamStringComparators) {
  const std::pair<const char*, Comparator> cases[] = {
      {"=", Comparator::kEq},
      {"!=", Comparator::kNe},
      {"LIKE", Comparator::kLike},
      {"ILIKE", Comparator::kILike},
  };
  for (const auto& [op, cmp] : cases) {
    std::string f = std::string("params.model ") + op + " 'xg%'";
    Clause c = One(f);
    EXPECT_EQ(c.type, EntityType::kParam) << f;
    EXPECT_EQ(c.key, "model") << f;
    EXPECT_EQ(c.op, cmp) << f;
    EXPECT_FALSE(c.numeric) << f;
    ASSERT_EQ(c.values.size(), 1u) << f;
    EXPECT_EQ(c.values[0], "xg%") << f;
  }
}

TEST(SearchFilter, InAndNotInLists) {
  Clause c = One("params.model IN ('xgb', 'lr', \"rf\")");
  EXPECT_EQ(c.type, EntityType::kParam);
  EXPECT_EQ(c.op, Comparator::kIn);
  EXPECT_EQ(c.values, (std::vector<std::string>{"xgb", "lr", "rf"}));

  c = One("tags.team NOT IN ('a')");
  EXPECT_EQ(c.type, EntityType::kTag);
  EXPECT_EQ(c.op, Comparator::kNotIn);
  EXPECT_EQ(c.values, (std::vector<std::string>{"a"}));

  c = One("attributes.run_id in ('abc','def')");
  EXPECT_EQ(c.type, EntityType::kAttribute);
  EXPECT_EQ(c.key, "run_id");
  EXPECT_EQ(c.op, Comparator::kIn);
  EXPECT_EQ(c.values, (std::vector<std::string>{"abc", "def"}));

  c = One("datasets.digest not in ('d1', 'd2')");
  EXPECT_EQ(c.type, EntityType::kDataset);
  EXPECT_EQ(c.op, Comparator::kNotIn);
  EXPECT_EQ(c.values.size(), 2u);
}

TEST(SearchFilter, InListErrors) {
  ExpectInvalid("params.model IN 'xgb'");      // no parentheses
  ExpectInvalid("params.model IN ()");         // empty list
  ExpectInvalid("params.model IN ('a' 'b')");  // missing comma
  ExpectInvalid("params.model IN ('a', 1)");   // unquoted element
  ExpectInvalid("params.model IN ('a'");       // unclosed
  ExpectInvalid("metrics.acc IN ('1', '2')");  // IN on a metric
  ExpectInvalid("params.model NOT LIKE 'a'");  // NOT only before IN
}

TEST(SearchFilter, TagsAndAttributesAndDatasets) {
  Clause c = One("tags.team = 'vision'");
  EXPECT_EQ(c.type, EntityType::kTag);
  EXPECT_EQ(c.key, "team");
  EXPECT_EQ(c.values.at(0), "vision");

  c = One("attributes.status = 'FINISHED'");
  EXPECT_EQ(c.type, EntityType::kAttribute);
  EXPECT_EQ(c.key, "status");
  EXPECT_FALSE(c.numeric);
  EXPECT_EQ(c.values.at(0), "FINISHED");

  c = One("attributes.start_time >= 1700000000000");
  EXPECT_EQ(c.key, "start_time");
  EXPECT_TRUE(c.numeric);
  EXPECT_EQ(c.op, Comparator::kGe);
  EXPECT_DOUBLE_EQ(c.number, 1700000000000.0);

  c = One("attributes.end_time < 5");
  EXPECT_EQ(c.key, "end_time");
  EXPECT_TRUE(c.numeric);

  c = One("attributes.run_name ILIKE '%bert%'");
  EXPECT_EQ(c.key, "run_name");
  EXPECT_EQ(c.op, Comparator::kILike);

  // A bare identifier is an attribute.
  c = One("status != 'RUNNING'");
  EXPECT_EQ(c.type, EntityType::kAttribute);
  EXPECT_EQ(c.key, "status");
  EXPECT_EQ(c.op, Comparator::kNe);

  // "created" is MLflow's alias for start_time.
  c = One("attributes.created > 10");
  EXPECT_EQ(c.key, "start_time");
  EXPECT_TRUE(c.numeric);

  for (const char* field : {"name", "digest", "context"}) {
    std::string f = std::string("datasets.") + field + " = 'x'";
    c = One(f);
    EXPECT_EQ(c.type, EntityType::kDataset) << f;
    EXPECT_EQ(c.key, field) << f;
  }
  c = One("dataset.name LIKE 'train%'");
  EXPECT_EQ(c.type, EntityType::kDataset);
  EXPECT_EQ(c.op, Comparator::kLike);
}

TEST(SearchFilter, EntityAliases) {
  const std::pair<const char*, EntityType> aliases[] = {
      {"metric", EntityType::kMetric},
      {"metrics", EntityType::kMetric},
      {"param", EntityType::kParam},
      {"params", EntityType::kParam},
      {"parameter", EntityType::kParam},
      {"parameters", EntityType::kParam},
      {"tag", EntityType::kTag},
      {"tags", EntityType::kTag},
      {"attr", EntityType::kAttribute},
      {"attribute", EntityType::kAttribute},
      {"attributes", EntityType::kAttribute},
      {"run", EntityType::kAttribute},
      {"METRICS", EntityType::kMetric},
      {"Params", EntityType::kParam},
  };
  for (const auto& [prefix, type] : aliases) {
    std::string key = type == EntityType::kAttribute ? "status" : "k";
    std::string value = type == EntityType::kMetric ? "1" : "'v'";
    std::string f = std::string(prefix) + "." + key + " = " + value;
    Clause c = One(f);
    EXPECT_EQ(c.type, type) << f;
    EXPECT_EQ(c.key, key) << f;
  }
}

TEST(SearchFilter, QuotedKeys) {
  Clause c = One("tags.\"mlflow.user\" = 'alice'");
  EXPECT_EQ(c.type, EntityType::kTag);
  EXPECT_EQ(c.key, "mlflow.user");
  EXPECT_EQ(c.values.at(0), "alice");

  c = One("metrics.`my key` > 1");
  EXPECT_EQ(c.type, EntityType::kMetric);
  EXPECT_EQ(c.key, "my key");

  c = One("params.\"learning rate\" = '0.1'");
  EXPECT_EQ(c.type, EntityType::kParam);
  EXPECT_EQ(c.key, "learning rate");

  // Unquoted dotted keys split on the first dot only.
  c = One("tags.mlflow.user = 'bob'");
  EXPECT_EQ(c.type, EntityType::kTag);
  EXPECT_EQ(c.key, "mlflow.user");
  c = One("metrics.a.b.c < 2");
  EXPECT_EQ(c.key, "a.b.c");

  // Keys may carry dashes, slashes and colons.
  c = One("metrics.val/loss-x:1 <= 3");
  EXPECT_EQ(c.key, "val/loss-x:1");
}

TEST(SearchFilter, StringValueQuoting) {
  Clause c = One("params.p = \"double\"");
  EXPECT_EQ(c.values.at(0), "double");
  c = One("params.p = 'it''s'");
  EXPECT_EQ(c.values.at(0), "it's");
  c = One("params.p = 'a AND b OR c'");
  EXPECT_EQ(c.values.at(0), "a AND b OR c");
  c = One("params.p = ''");
  EXPECT_EQ(c.values.at(0), "");
}

TEST(SearchFilter, Numbers) {
  EXPECT_DOUBLE_EQ(One("metrics.loss > -1").number, -1.0);
  EXPECT_DOUBLE_EQ(One("metrics.loss > -2.5").number, -2.5);
  EXPECT_DOUBLE_EQ(One("metrics.loss < 1e-3").number, 1e-3);
  EXPECT_DOUBLE_EQ(One("metrics.loss < 2.5E+2").number, 250.0);
  EXPECT_DOUBLE_EQ(One("metrics.loss < -1e-3").number, -1e-3);
  EXPECT_DOUBLE_EQ(One("metrics.loss = .5").number, 0.5);
  EXPECT_DOUBLE_EQ(One("metrics.loss = 0").number, 0.0);
  EXPECT_DOUBLE_EQ(One("metrics.loss<-7").number, -7.0);
  ExpectInvalid("metrics.loss > 1x");
  ExpectInvalid("metrics.loss > 1.2.3");
}

TEST(SearchFilter, ConjunctionsAreCaseInsensitive) {
  auto r = ParseFilter(
      "metrics.auc > 0.9 AND params.model = 'xgb' and tags.\"mlflow.user\" like 'a%' "
      "aNd attributes.status ilike 'fin%'",
      SearchTarget::kRuns);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0].type, EntityType::kMetric);
  EXPECT_EQ((*r)[1].type, EntityType::kParam);
  EXPECT_EQ((*r)[2].type, EntityType::kTag);
  EXPECT_EQ((*r)[2].key, "mlflow.user");
  EXPECT_EQ((*r)[2].op, Comparator::kLike);
  EXPECT_EQ((*r)[3].type, EntityType::kAttribute);
  EXPECT_EQ((*r)[3].op, Comparator::kILike);
}

TEST(SearchFilter, Errors) {
  ExpectInvalid("metrics.a > 1 OR metrics.b > 2");  // OR
  ExpectInvalid("metrics.a > 1 or metrics.b > 2");  // or
  ExpectInvalid("params.model = 'xgb");             // unterminated single quote
  ExpectInvalid("tags.\"mlflow.user = 'x'");        // unterminated double quote
  ExpectInvalid("metrics.`my key > 1");             // unterminated backtick
  ExpectInvalid("params.lr > '0.1'");               // numeric comparator on a param
  ExpectInvalid("params.lr <= '0.1'");
  ExpectInvalid("tags.t >= 'a'");            // ... or a tag
  ExpectInvalid("attributes.status < 'A'");  // ... or a string attribute
  ExpectInvalid("metrics.acc LIKE '1%'");    // LIKE on a metric
  ExpectInvalid("metrics.acc ILIKE '1%'");
  ExpectInvalid("attributes.start_time LIKE '1%'");  // ... or a numeric attribute
  ExpectInvalid("metrics.acc = 'high'");             // string value for a metric
  ExpectInvalid("attributes.start_time = '5'");
  ExpectInvalid("params.model = xgb");        // bare word for a param
  ExpectInvalid("params.model = 5");          // number for a param
  ExpectInvalid("attributes.color = 'red'");  // unknown attribute
  ExpectInvalid("nosuch = 'x'");              // unknown bare attribute
  ExpectInvalid("foo.bar = 'x'");             // unknown entity prefix
  ExpectInvalid("datasets.owner = 'x'");      // unknown dataset field
  ExpectInvalid("metrics. > 1");              // no key
  ExpectInvalid("metrics.acc >");             // missing value
  ExpectInvalid("params.model =");
  ExpectInvalid("metrics.acc");                    // missing comparator
  ExpectInvalid("metrics.acc > 1 AND");            // dangling AND
  ExpectInvalid("AND metrics.acc > 1");            // leading AND
  ExpectInvalid("metrics.acc > 1 metrics.b > 2");  // missing AND
  ExpectInvalid("metrics.acc > 1 $");              // garbage characters
  ExpectInvalid("metrics.acc # 1");
  ExpectInvalid("metrics.acc ! 1");  // '!' alone
  ExpectInvalid("metrics.acc ~= 1");
  ExpectInvalid("(metrics.acc > 1)");  // grouping is not supported
  ExpectInvalid("'just a string'");
}

TEST(SearchFilter, ErrorMessagesNameTheProblem) {
  auto r = ParseFilter("metrics.a > 1 OR metrics.b > 2", SearchTarget::kRuns);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("OR"), std::string::npos) << r.status().message();
  r = ParseFilter("attributes.color = 'red'", SearchTarget::kRuns);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("color"), std::string::npos) << r.status().message();
  r = ParseFilter("foo.bar = 'x'", SearchTarget::kRuns);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("foo"), std::string::npos) << r.status().message();
}

TEST(SearchFilter, ExperimentTarget) {
  Clause c = One("name LIKE 'exp-%'", SearchTarget::kExperiments);
  EXPECT_EQ(c.type, EntityType::kAttribute);
  EXPECT_EQ(c.key, "name");
  EXPECT_EQ(c.op, Comparator::kLike);

  c = One("attributes.creation_time > 5", SearchTarget::kExperiments);
  EXPECT_TRUE(c.numeric);
  c = One("tags.team = 'x'", SearchTarget::kExperiments);
  EXPECT_EQ(c.type, EntityType::kTag);

  ExpectInvalid("metrics.acc > 1", SearchTarget::kExperiments);
  ExpectInvalid("params.lr = '1'", SearchTarget::kExperiments);
  ExpectInvalid("datasets.name = 'd'", SearchTarget::kExperiments);
  ExpectInvalid("attributes.status = 'RUNNING'", SearchTarget::kExperiments);  // run-only
  ExpectInvalid("attributes.name = 'x'", SearchTarget::kRuns);                 // experiment-only
  ExpectInvalid("name > 'x'", SearchTarget::kExperiments);
}

TEST(SearchOrderBy, ParsesKeysAndDirections) {
  auto k = ParseOrderBy("metrics.auc DESC", SearchTarget::kRuns);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, EntityType::kMetric);
  EXPECT_EQ(k->key, "auc");
  EXPECT_FALSE(k->ascending);

  k = ParseOrderBy("start_time", SearchTarget::kRuns);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, EntityType::kAttribute);
  EXPECT_EQ(k->key, "start_time");
  EXPECT_TRUE(k->ascending);

  k = ParseOrderBy("params.x ASC", SearchTarget::kRuns);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, EntityType::kParam);
  EXPECT_EQ(k->key, "x");
  EXPECT_TRUE(k->ascending);

  k = ParseOrderBy("tags.\"mlflow.user\" desc", SearchTarget::kRuns);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, EntityType::kTag);
  EXPECT_EQ(k->key, "mlflow.user");
  EXPECT_FALSE(k->ascending);

  k = ParseOrderBy("metrics.`my key` asc", SearchTarget::kRuns);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->key, "my key");
  EXPECT_TRUE(k->ascending);

  k = ParseOrderBy("name DESC", SearchTarget::kExperiments);
  ASSERT_TRUE(k.ok()) << k.status().message();
  EXPECT_EQ(k->type, EntityType::kAttribute);
  EXPECT_EQ(k->key, "name");
  EXPECT_FALSE(k->ascending);
}

TEST(SearchOrderBy, Errors) {
  const char* bad[] = {
      "",                        // empty
      "metrics.auc UP",          // bad direction
      "metrics.auc DESC extra",  // trailing token
      "metrics.auc DESC, x",     // a list in one entry
      "foo.auc",                 // unknown entity
      "attributes.color",        // unknown attribute
      "datasets.name",           // datasets cannot order
      "'metrics.auc'",           // a string, not an identifier
      "metrics.auc $",           // garbage
  };
  for (const char* o : bad) {
    auto k = ParseOrderBy(o, SearchTarget::kRuns);
    EXPECT_FALSE(k.ok()) << "accepted: " << o;
    if (!k.ok()) {
      EXPECT_EQ(k.status().code(), ErrorCode::kInvalidParameterValue) << o;
    }
  }
  for (const char* o : {"metrics.auc DESC", "params.lr", "datasets.name"}) {
    auto k = ParseOrderBy(o, SearchTarget::kExperiments);
    EXPECT_FALSE(k.ok()) << "experiments accepted: " << o;
    if (!k.ok()) {
      EXPECT_EQ(k.status().code(), ErrorCode::kInvalidParameterValue) << o;
    }
  }
}

TEST(SearchFilter, RegistryTargets) {
  const auto models = SearchTarget::kRegisteredModels;
  const auto versions = SearchTarget::kModelVersions;
  Clause c = One("name ILIKE '%churn%'", models);
  EXPECT_EQ(c.type, EntityType::kAttribute);
  EXPECT_EQ(c.key, "name");
  EXPECT_EQ(c.op, Comparator::kILike);
  c = One("tags.team = 'risk'", models);
  EXPECT_EQ(c.type, EntityType::kTag);
  c = One("version_number >= 3", versions);
  EXPECT_TRUE(c.numeric);
  EXPECT_EQ(c.number, 3);
  c = One("run_id IN ('a', 'b')", versions);
  EXPECT_EQ(c.values, (std::vector<std::string>{"a", "b"}));
  c = One("source_path = 'runs:/x/model'", versions);
  EXPECT_EQ(c.key, "source_path");
  ExpectInvalid("run_id = 'a'", models);
  ExpectInvalid("version_number = 1", models);
  ExpectInvalid("metrics.acc > 1", models);
  ExpectInvalid("params.a = 'b'", versions);
  ExpectInvalid("version_number = 'one'", versions);
  ExpectInvalid("current_stage = 'None'", versions);
  auto order = ParseOrderBy("timestamp DESC", models);
  ASSERT_TRUE(order.ok());
  EXPECT_EQ(order->key, "last_updated_timestamp");
  EXPECT_FALSE(order->ascending);
  auto bad = ParseFilter("stage = 'x'", versions);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("version_number"), std::string::npos)
      << bad.status().message();
}

}  // namespace
}  // namespace cairn
