#include "data/schema.h"

#include <gtest/gtest.h>

#include "data/test_util.h"

namespace cairn::data {
namespace {

using testing::ScratchDir;

DatasetStats StatsOfText(const ScratchDir& dir, const std::string& csv) {
  auto path = dir.Write("t.csv", csv);
  auto reader = TableReader::Open(path);
  EXPECT_TRUE(reader.ok());
  auto stats = ComputeStats(**reader, SchemaStatsOptions());
  EXPECT_TRUE(stats.ok()) << stats.status().ToString();
  return *stats;
}

TEST(Schema, InfersTypesPresenceAndDomains) {
  ScratchDir dir;
  Schema s = InferSchema(StatsOfText(dir,
                                     "i,f,s,b01,tf,ts,opt\n"
                                     "1,0.5,red,0,true,2024-01-01,x\n"
                                     "2,1.5,blue,1,false,2024-01-02,\n"
                                     "3,NaN,red,1,true,2024-01-03,y\n"));
  ASSERT_EQ(s.features.size(), 7u);
  EXPECT_EQ(s.Find("i")->type, FeatureType::kInt);
  EXPECT_EQ(s.Find("i")->min_fraction, 1);
  EXPECT_EQ(s.Find("f")->type, FeatureType::kFloat);
  EXPECT_TRUE(s.Find("f")->allow_nan);
  EXPECT_FALSE(s.Find("f")->allow_inf);
  ASSERT_TRUE(s.Find("s")->domain.has_value());
  EXPECT_EQ(*s.Find("s")->domain, (std::vector<std::string>{"blue", "red"}));
  EXPECT_EQ(s.Find("b01")->type, FeatureType::kBool);
  EXPECT_EQ(s.Find("b01")->bool_domain->true_value, "1");
  EXPECT_EQ(s.Find("tf")->type, FeatureType::kBool);
  EXPECT_EQ(s.Find("tf")->bool_domain->true_value, "true");
  EXPECT_EQ(s.Find("ts")->type, FeatureType::kTimestamp);
  EXPECT_EQ(s.Find("opt")->min_fraction, 0);  // missing once: not required
  EXPECT_EQ(s.Find("opt")->min_count, 1);
}

TEST(Schema, NoDomainPastOneHundredValues) {
  ScratchDir dir;
  std::string csv = "id\n";
  for (int i = 0; i < 101; ++i) csv += "v" + std::to_string(i) + "\n";
  Schema s = InferSchema(StatsOfText(dir, csv));
  EXPECT_FALSE(s.Find("id")->domain.has_value());
  csv = "id\n";
  for (int i = 0; i < 100; ++i) csv += "v" + std::to_string(i) + "\n";
  s = InferSchema(StatsOfText(dir, csv));
  ASSERT_TRUE(s.Find("id")->domain.has_value());
  EXPECT_EQ(s.Find("id")->domain->size(), 100u);
}

Schema Sample() {
  Schema s;
  s.min_examples = 10;
  FeatureSchema a;
  a.name = "age";
  a.type = FeatureType::kInt;
  a.min_fraction = 0.9;
  a.min_count = 1;
  a.min = 0;
  a.max = 120;
  a.drift_comparator.jensen_shannon = 0.1;
  FeatureSchema c;
  c.name = "color";
  c.type = FeatureType::kString;
  c.domain = std::vector<std::string>{"1", "true", "null", "red: dark", "ü"};
  c.min_domain_mass = 0.95;
  c.unique_max = 10;
  c.skew_comparator.l_infinity = 0.2;
  FeatureSchema f;
  f.name = "x";
  f.type = FeatureType::kFloat;
  f.allow_nan = false;
  f.min = -1.5;
  FeatureSchema b;
  b.name = "flag";
  b.type = FeatureType::kBool;
  b.bool_domain = BoolDomain{"Y", "N"};
  s.features = {a, c, f, b};
  return s;
}

TEST(Schema, YamlAndJsonRoundTrip) {
  Schema s = Sample();
  for (const std::string& text : {SchemaToYaml(s), SchemaToJson(s).dump(2)}) {
    auto back = ParseSchema(text, "s");
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << text;
    EXPECT_EQ(SchemaToJson(*back), SchemaToJson(s)) << text;
  }
}

TEST(Schema, FilesByExtension) {
  ScratchDir dir;
  Schema s = Sample();
  for (const char* name : {"s.yml", "s.yaml", "s.json"}) {
    std::string path = dir.path(name).string();
    ASSERT_TRUE(SaveSchemaFile(s, path).ok());
    auto back = LoadSchemaFile(path);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(SchemaToJson(*back), SchemaToJson(s));
  }
  EXPECT_FALSE(SaveSchemaFile(s, dir.path("s.txt").string()).ok());
  EXPECT_EQ(LoadSchemaFile(dir.path("none.yml").string()).status().code(),
            ErrorCode::kResourceDoesNotExist);
}

TEST(Schema, MaxMissingFractionIsPresence) {
  auto s = ParseSchema(
      "format: cairn.schema/1\nfeatures:\n  - {name: a, type: int, max_missing_fraction: 0.25}\n",
      "s.yml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_DOUBLE_EQ(s->features[0].min_fraction, 0.75);
}

void ExpectError(const std::string& text, const std::string& where, const std::string& what) {
  auto s = ParseSchema(text, "s.yml");
  ASSERT_FALSE(s.ok()) << text;
  EXPECT_EQ(s.status().code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(s.status().message().find(where), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find(what), std::string::npos) << s.status().message();
}

TEST(Schema, ErrorsPointAtLineAndColumn) {
  const std::string head = "format: cairn.schema/1\nfeatures:\n";
  ExpectError(head + "  - name: a\n    type: DECIMAL\n", "s.yml:4:11", "unknown feature type");
  ExpectError(head + "  - name: a\n    type: INT\n    mni: 3\n", "s.yml:5:5", "unknown key 'mni'");
  ExpectError(head + "  - name: a\n    type: INT\n    max: lots\n", "s.yml:5:10",
              "'max' must be a number");
  ExpectError(head + "  - name: a\n    type: STRING\n    min: 1\n", "s.yml:3:5",
              "applies to INT and FLOAT");
  ExpectError(head + "  - name: a\n    type: INT\n  - name: a\n    type: INT\n", "s.yml:5:5",
              "defined twice");
  ExpectError(head + "  - name: a\n    type: INT\n    presence: {min_fraction: 2}\n", "s.yml:5:30",
              "between 0 and 1");
  ExpectError(head + "  - name: a\n    type: [INT\n", "s.yml:", "not valid YAML");
  ExpectError("features: []\n", "s.yml:1:1", "missing 'format");
  ExpectError("format: cairn.schema/2\nfeatures: []\n", "s.yml:1:9", "expected 'cairn.schema/1'");
  ExpectError(head + "  - type: INT\n", "s.yml:3:5", "needs a 'name'");
  ExpectError("{\"format\": \"cairn.schema/1\", \"features\": [{\"name\": \"a\", \"type\": 3}]}",
              "s.yml:1:", "unknown feature type '3'");
}

}  // namespace
}  // namespace cairn::data
