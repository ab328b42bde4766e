// Tests of the native XGBoost runtime on a real model trained here: MLmodel's
// xgboost flavor, signature column order, predictions equal to the booster's
// own, the bare-file layout, and refusals of unusable model directories.
#include "serving/xgb_runtime.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ml/model_dir.h"
#include "ml/train.h"
#include "ml/xgb_booster.h"
#include "serving/scoring_formats.h"
#include "serving/synthetic_model.h"

namespace cairn::serving {
namespace {

namespace fs = std::filesystem;

class XgbRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() / ("cairn-xgbrt-" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    SyntheticModelOptions o;
    o.trees = 20;
    ASSERT_TRUE(WriteSyntheticXgbModel(*dir_ / "model", o).ok());
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static DeploymentConfig Config(const fs::path& model) {
    DeploymentConfig c;
    c.name = "blue";
    c.model_dir = model.string();
    return c;
  }
  static inline fs::path* dir_ = nullptr;
};

TEST_F(XgbRuntimeTest, ScoresLikeTheBoosterInSignatureOrder) {
  std::string log;
  auto rt = LoadXgbRuntime(Config(*dir_ / "model"), [&](const std::string& l) { log += l + "\n"; });
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  // The compiled walker serves this model (and must answer what libxgboost does).
  EXPECT_NE(log.find("scored by compiled trees (20 trees)"), std::string::npos) << log;
  ASSERT_EQ((*rt)->columns().size(), 10u);
  EXPECT_EQ((*rt)->columns()[3].name, "f3");
  EXPECT_EQ((*rt)->platform(), "xgboost");
  auto booster = ml::XgbBooster::LoadFile((*dir_ / "model" / "model.json").string());
  ASSERT_TRUE(booster.ok());
  std::vector<float> rows = SyntheticRows(50, 10, 99);
  std::vector<float> want;
  size_t want_cols = 0;
  ASSERT_TRUE((*booster)->Predict(rows.data(), 50, 10, want, want_cols).ok());
  ScoreBatch b;
  b.features = rows;
  b.rows = 50;
  ScoreResult out;
  ASSERT_TRUE((*rt)->Predict(b, SteadyClock::now() + std::chrono::seconds(5), out).ok());
  EXPECT_EQ(out.rows, 50u);
  EXPECT_EQ(out.cols, 1u);
  EXPECT_EQ(out.values, want);
  int positives = 0;
  for (float p : out.values) positives += p > 0.5f;
  EXPECT_GT(positives, 5);  // a real classifier, not a constant
  EXPECT_LT(positives, 45);
}

TEST_F(XgbRuntimeTest, ColumnOrderFollowsTheSignature) {
  // The same model with a signature listing the features in reverse: inputs
  // are read by name, so requests must be reordered to score the same.
  fs::path rev = *dir_ / "reversed";
  fs::create_directories(rev);
  fs::copy_file(*dir_ / "model" / "model.json", rev / "model.json",
                fs::copy_options::overwrite_existing);
  DeploymentConfig c = Config(rev);
  std::string sig = "[";
  for (int i = 9; i >= 0; --i) {
    sig += std::string(i == 9 ? "" : ",") + R"({"name": "f)" + std::to_string(i) +
           R"(", "type": "double"})";
  }
  c.signature_inputs_json = sig + "]";
  auto rt = LoadXgbRuntime(c, [](const std::string&) {});
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_EQ((*rt)->columns()[0].name, "f9");
  // Note: the booster itself knows no names, so the reversed signature means
  // "model feature 0 is column f9". A record scored through it must match the
  // booster fed the reversed row.
  std::vector<float> row = SyntheticRows(1, 10, 5);
  std::string record = "{\"dataframe_records\": [{";
  for (int i = 0; i < 10; ++i) {
    record +=
        std::string(i ? "," : "") + "\"f" + std::to_string(i) + "\": " + std::to_string(row[i]);
  }
  record += "}]}";
  ScoreBatch b;
  std::string id;
  ASSERT_TRUE(
      ParseScoringRequest(Protocol::kMlflow, "application/json", record, (*rt)->columns(), b, id)
          .ok());
  std::vector<float> reversed(row.rbegin(), row.rend());
  for (int i = 0; i < 10; ++i) EXPECT_NEAR(b.features[i], reversed[i], 1e-5);
  auto booster = ml::XgbBooster::LoadFile((rev / "model.json").string());
  std::vector<float> want;
  size_t cols = 0;
  ASSERT_TRUE((*booster)->Predict(b.features.data(), 1, 10, want, cols).ok());
  ScoreResult out;
  ASSERT_TRUE((*rt)->Predict(b, SteadyClock::now() + std::chrono::seconds(5), out).ok());
  EXPECT_EQ(out.values, want);
}

TEST_F(XgbRuntimeTest, RefusesUnusableModels) {
  auto log = [](const std::string&) {};
  EXPECT_EQ(LoadXgbRuntime(Config(*dir_ / "nope"), log).status().code(),
            ErrorCode::kResourceDoesNotExist);
  fs::path sk = *dir_ / "sklearn";
  fs::create_directories(sk);
  std::ofstream(sk / "MLmodel") << "flavors:\n  sklearn:\n    pickled_model: model.pkl\n";
  auto r = LoadXgbRuntime(Config(sk), log);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no xgboost flavor"), std::string::npos);
  fs::path bad = *dir_ / "escape";
  fs::create_directories(bad);
  std::ofstream(bad / "MLmodel") << "flavors:\n  xgboost:\n    data: ../model/model.json\n";
  EXPECT_FALSE(LoadXgbRuntime(Config(bad), log).ok());
  DeploymentConfig wrong = Config(*dir_ / "model");
  wrong.signature_inputs_json = R"([{"name": "a", "type": "double"}])";
  r = LoadXgbRuntime(wrong, log);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("expects 10 features"), std::string::npos);
}

// A model from `cairn component train` on data with a string column: served
// through ml::LoadModelDir with cairn_schema.json's category codes, scoring
// exactly what batch scoring's encoder feeds the booster; an unseen category
// is refused naming the column.
TEST_F(XgbRuntimeTest, ServesAComponentTrainedModelWithCategories) {
  fs::path csv = *dir_ / "cat.csv";
  {
    std::ofstream out(csv);
    out << "dist,carrier,late\n";
    const char* carriers[] = {"AA", "DL", "UA"};
    for (int i = 0; i < 300; ++i) {
      double dist = (i * 37 % 100) / 10.0;
      int c = i * 7 % 3;
      bool late = dist + (c == 2 ? 4 : 0) > 6;
      out << dist << "," << carriers[c] << "," << (late ? "yes" : "no") << "\n";
    }
  }
  ml::TrainOptions o;
  o.data = csv;
  o.label = "late";
  o.params = {{"num_round", "10"}, {"max_depth", "3"}};
  auto trained = ml::Train(o);
  ASSERT_TRUE(trained.ok()) << trained.status().message();
  fs::path model = *dir_ / "trained";
  ASSERT_TRUE(ml::SaveModelDir(model, *trained->booster, trained->schema, "").ok());

  std::string log;
  auto rt = LoadXgbRuntime(Config(model), [&](const std::string& l) { log += l + "\n"; });
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  const auto& cols = (*rt)->columns();
  ASSERT_EQ(cols.size(), 2u);
  EXPECT_EQ(cols[0].name, "dist");
  EXPECT_EQ(cols[1].name, "carrier");
  EXPECT_EQ(cols[1].type, ColumnType::kString);
  EXPECT_EQ(cols[1].categories, trained->schema.features[1].categories);
  // Categorical splits are libxgboost's (tree_forest.h covers numerical ones).
  EXPECT_NE(log.find("scored by libxgboost (categorical splits use libxgboost)"), std::string::npos)
      << log;

  ScoreBatch b;
  std::string id;
  ASSERT_TRUE(ParseScoringRequest(Protocol::kMlflow, "application/json",
                                  R"({"dataframe_split": {"columns": ["carrier", "dist"],
                                      "data": [["UA", 3.0], ["AA", 3.0], ["DL", 9.5]]}})",
                                  cols, b, id)
                  .ok());
  ScoreResult out;
  ASSERT_TRUE((*rt)->Predict(b, SteadyClock::now() + std::chrono::seconds(5), out).ok());
  // The same rows through the batch encoder (ml::ModelSchema::Encode).
  std::vector<float> x;
  for (auto [carrier, dist] : {std::pair{"UA", "3.0"}, {"AA", "3.0"}, {"DL", "9.5"}}) {
    x.push_back(*trained->schema.Encode(0, dist, false));
    x.push_back(*trained->schema.Encode(1, carrier, false));
  }
  std::vector<float> want;
  size_t want_cols = 0;
  ASSERT_TRUE(trained->booster->Predict(x.data(), 3, 2, want, want_cols).ok());
  EXPECT_EQ(out.values, want);
  EXPECT_GT(out.values[0], 0.5f);  // UA is late at 3.0, AA is not
  EXPECT_LT(out.values[1], 0.5f);

  Status unseen = ParseScoringRequest(Protocol::kMlflow, "application/json",
                                      R"({"dataframe_records": [{"dist": 1.0, "carrier": "ZZ"}]})",
                                      cols, b, id);
  EXPECT_EQ(unseen.code(), ErrorCode::kInvalidParameterValue);
  EXPECT_NE(unseen.message().find("column 'carrier': unseen category 'ZZ'"), std::string::npos)
      << unseen.message();
}

// An MLflow directory whose signature lists `categories` loads through the
// same loader (no cairn_schema.json needed); without them it is refused.
TEST_F(XgbRuntimeTest, SignatureCategoriesWithoutSchemaFile) {
  fs::path d = *dir_ / "sigcats";
  fs::create_directories(d);
  fs::copy_file(*dir_ / "model" / "model.json", d / "model.json",
                fs::copy_options::overwrite_existing);
  std::string inputs;
  for (int i = 0; i < 10; ++i) {
    inputs += std::string(i ? ", " : "") + "{\"name\": \"f" + std::to_string(i) + "\", " +
              (i == 3 ? "\"type\": \"string\", \"categories\": [\"a\", \"b\"]}"
                      : "\"type\": \"double\"}");
  }
  std::ofstream(d / "MLmodel") << "flavors:\n  xgboost:\n    data: model.json\n"
                               << "signature:\n  inputs: '[" << inputs << "]'\n";
  auto log = [](const std::string&) {};
  auto rt = LoadXgbRuntime(Config(d), log);
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_EQ((*rt)->columns()[3].categories, (std::vector<std::string>{"a", "b"}));
  auto ml_model = ml::LoadModelDir(d);
  ASSERT_TRUE(ml_model.ok()) << ml_model.status().message();
  EXPECT_EQ(ml_model->schema.features[3].kind, ml::FeatureSpec::Kind::kCategorical);

  std::ofstream(d / "MLmodel", std::ios::trunc)
      << "flavors:\n  xgboost:\n    data: model.json\n"
      << "signature:\n  inputs: '[{\"name\": \"c\", \"type\": \"string\"}]'\n";
  auto refused = LoadXgbRuntime(Config(d), log);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("categorical encoding is unknown"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace cairn::serving
