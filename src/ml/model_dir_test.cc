// Tests for the model schema: cell encoding, binding to table columns, chunk
// encoding with per-row errors, output formatting and the JSON round trip.
#include "ml/model_dir.h"

#include <gtest/gtest.h>

#include <cmath>

#include "data/test_util.h"

namespace cairn::ml {
namespace {

ModelSchema Schema() {
  ModelSchema s;
  s.label = "y";
  s.objective = "binary:logistic";
  s.classes = {"no", "yes"};
  s.features = {{"dist", FeatureSpec::Kind::kNumeric, {}},
                {"origin", FeatureSpec::Kind::kCategorical, {"JFK", "SFO"}}};
  return s;
}

TEST(ModelSchemaTest, EncodesCells) {
  ModelSchema s = Schema();
  EXPECT_EQ(*s.Encode(0, "12.5", false), 12.5f);
  EXPECT_EQ(*s.Encode(0, " 3 ", false), 3.0f);
  EXPECT_EQ(*s.Encode(0, "true", false), 1.0f);
  EXPECT_TRUE(std::isnan(*s.Encode(0, "", true)));
  auto bad = s.Encode(0, "far", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("column 'dist'"), std::string::npos);
  EXPECT_EQ(*s.Encode(1, "SFO", false), 1.0f);
  EXPECT_TRUE(std::isnan(*s.Encode(1, "LAX", false)));  // unseen: missing
}

TEST(ModelSchemaTest, BindsAndEncodesChunksWithRowErrors) {
  data::testing::ScratchDir dir;
  auto path = dir.Write("t.csv", "origin,extra,dist\nSFO,a,10\nJFK,b,x\nLAX,c,\n");
  auto reader = data::TableReader::Open(path);
  ASSERT_TRUE(reader.ok());
  data::RowChunk chunk;
  ASSERT_TRUE(*(*reader)->Next(&chunk));
  ModelSchema s = Schema();
  auto binding = BindFeatures(s, (*reader)->columns());
  ASSERT_TRUE(binding.ok());
  EXPECT_EQ(*binding, (std::vector<size_t>{2, 0}));
  std::vector<float> x;
  std::vector<std::string> errors;
  EncodeChunk(s, *binding, chunk, &x, &errors);
  ASSERT_EQ(x.size(), 6u);
  EXPECT_EQ(x[0], 10.0f);
  EXPECT_EQ(x[1], 1.0f);
  EXPECT_TRUE(errors[0].empty());
  EXPECT_NE(errors[1].find("line 3"), std::string::npos);  // "x" in a numeric column
  EXPECT_TRUE(std::isnan(x[2]) && std::isnan(x[3]));
  EXPECT_TRUE(errors[2].empty());
  EXPECT_TRUE(std::isnan(x[4]) && std::isnan(x[5]));  // null and unseen
  auto missing = BindFeatures(s, {"origin"});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'dist'"), std::string::npos);
}

TEST(ModelSchemaTest, OutputsAndJsonRoundTrip) {
  ModelSchema s = Schema();
  EXPECT_EQ(s.OutputColumns(), (std::vector<std::string>{"prediction", "probability"}));
  float p = 0.75f;
  EXPECT_EQ(s.FormatOutput(&p, 1), (std::vector<std::string>{"yes", "0.75"}));
  EXPECT_EQ(s.ClassIndex("no"), 0);
  EXPECT_EQ(s.ClassIndex("maybe"), -1);
  auto back = ModelSchema::FromJson(s.ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->features[1].categories, s.features[1].categories);
  EXPECT_EQ(back->classes, s.classes);
  EXPECT_EQ(back->features[1].kind, FeatureSpec::Kind::kCategorical);
  EXPECT_FALSE(ModelSchema::FromJson("[]").ok());
  EXPECT_FALSE(ModelSchema::FromJson("{\"features\": [{\"name\": \"a\", \"kind\": \"x\"}]}").ok());
  ModelSchema reg;
  reg.features = s.features;
  float v = 2.5f;
  EXPECT_EQ(reg.FormatOutput(&v, 1), (std::vector<std::string>{"2.5"}));
}

}  // namespace
}  // namespace cairn::ml
