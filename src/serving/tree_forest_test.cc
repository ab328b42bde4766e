// Tests of the compiled tree walker against libxgboost itself on real models
// (binary:logistic and reg:squarederror, with missing values), and its
// refusals of models it does not reproduce.
#include "serving/tree_forest.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "ml/xgb_booster.h"
#include "serving/synthetic_model.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

void ExpectSameAsLibxgboost(const std::string& objective) {
  fs::path dir = fs::temp_directory_path() /
                 ("cairn-forest-" + std::to_string(::getpid()) + "-" + objective.substr(0, 3));
  SyntheticModelOptions o;
  o.objective = objective;
  o.trees = 50;
  ASSERT_TRUE(WriteSyntheticXgbModel(dir, o).ok());
  auto booster = ml::XgbBooster::LoadFile((dir / "model.json").string());
  ASSERT_TRUE(booster.ok());
  auto json = (*booster)->SaveJson();
  ASSERT_TRUE(json.ok());
  auto forest = TreeForest::FromXgboostJson(*json);
  ASSERT_TRUE(forest.ok()) << forest.status().message();
  EXPECT_EQ((*forest)->num_trees(), 50u);
  std::vector<float> rows = SyntheticRows(1000, 10, 3);
  for (size_t i = 0; i < rows.size(); i += 7) rows[i] = std::nanf("");  // missing values
  std::vector<float> want, got(1000);
  size_t cols = 0;
  ASSERT_TRUE((*booster)->Predict(rows.data(), 1000, 10, want, cols).ok());
  (*forest)->Predict(rows.data(), 1000, got.data());
  for (size_t i = 0; i < 1000; ++i) {
    EXPECT_NEAR(got[i], want[i], 1e-6 + 1e-5 * std::fabs(want[i])) << "row " << i;
  }
  fs::remove_all(dir);
}

TEST(TreeForest, MatchesLibxgboostBinaryLogistic) { ExpectSameAsLibxgboost("binary:logistic"); }
TEST(TreeForest, MatchesLibxgboostSquaredError) { ExpectSameAsLibxgboost("reg:squarederror"); }

TEST(TreeForest, RefusesWhatItDoesNotReproduce) {
  EXPECT_FALSE(TreeForest::FromXgboostJson("{}").ok());
  EXPECT_FALSE(TreeForest::FromXgboostJson("not json").ok());
  auto dart = TreeForest::FromXgboostJson(
      R"({"learner": {"gradient_booster": {"name": "dart"}, "learner_model_param": {}}})");
  ASSERT_FALSE(dart.ok());
  EXPECT_NE(dart.status().message().find("dart"), std::string::npos);
  auto multi = TreeForest::FromXgboostJson(R"({"learner": {"gradient_booster": {"name": "gbtree"},
      "learner_model_param": {"base_score": "5E-1", "num_class": "3", "num_feature": "2"}}})");
  EXPECT_FALSE(multi.ok());
}

// XGBoost writes NaN split conditions for categorical nodes; such a model is
// declined for its categorical splits (not as "not a model"), and fields of a
// wrong JSON type are refused, never thrown.
TEST(TreeForest, ReadsNonFiniteFloatsAndRefusesMalformedTrees) {
  const std::string head =
      R"({"learner": {"gradient_booster": {"name": "gbtree", "model": {"trees": [
      {"left_children": [1, -1, -1], "right_children": [2, -1, -1], "split_indices": [0, 0, 0],
       "default_left": [0, 0, 0], )";
  const std::string tail = R"(}]}},
      "objective": {"name": "binary:logistic"}, "feature_names": ["a \"NaN\""],
      "learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "1"}}})";
  auto categorical = TreeForest::FromXgboostJson(
      head + R"("split_conditions": [NaN, -Infinity, Infinity], "split_type": [1, 0, 0])" + tail);
  ASSERT_FALSE(categorical.ok());
  EXPECT_NE(categorical.status().message().find("categorical splits"), std::string::npos)
      << categorical.status().message();
  auto wrong_type = TreeForest::FromXgboostJson(
      head + R"("split_conditions": ["x", 1, 2], "split_type": [0, 0, 0])" + tail);
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.status().message().find("malformed"), std::string::npos)
      << wrong_type.status().message();
  auto fine = TreeForest::FromXgboostJson(
      head + R"("split_conditions": [0.5, -1, 1], "split_type": [0, 0, 0])" + tail);
  ASSERT_TRUE(fine.ok()) << fine.status().message();
  float row = 0.7f, out = 0;
  (*fine)->Predict(&row, 1, &out);
  EXPECT_FLOAT_EQ(out, 1.0f / (1.0f + std::exp(-1.0f)));
}

}  // namespace
}  // namespace cairn::serving
