// Tests for Train() and the model directory: objectives, feature typing,
// determinism (same inputs -> same bytes), the saved MLflow layout, loading it
// back, and clear errors for bad input.
#include "ml/train.h"

#include <gtest/gtest.h>

#include <random>

#include "core/fs.h"
#include "data/test_util.h"
#include "registry/mlmodel.h"

namespace cairn::ml {
namespace {

using data::testing::ScratchDir;

// y depends on x1 and the city; x2 is noise; some cells are missing.
std::string MakeCsv(int rows, const std::string& kind) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0, 1);
  const char* cities[] = {"oslo", "rome", "lima", "pune"};
  std::string csv = "x1,x2,city,y\n";
  for (int i = 0; i < rows; ++i) {
    double x1 = u(rng), x2 = u(rng);
    int c = static_cast<int>(u(rng) * 4);
    double s = x1 + (c == 1 ? 0.6 : 0.0);
    std::string y;
    if (kind == "binary") y = s > 0.7 ? "1" : "0";
    if (kind == "multi") y = s < 0.4 ? "low" : (s < 0.9 ? "mid" : "high");
    if (kind == "reg") y = std::to_string(2 * s + 0.1 * x2);
    csv += (i % 17 == 0 ? std::string() : std::to_string(x1)) + "," + std::to_string(x2) + "," +
           cities[c] + "," + y + "\n";
  }
  return csv;
}

// src/registry/testdata/<name>; __FILE__ may be relative to the build directory.
std::string RegistryFixture(const std::string& name) {
  std::filesystem::path here =
      std::filesystem::path(__FILE__).parent_path().parent_path() / "registry" / "testdata" / name;
  if (here.is_relative()) {
    std::error_code ec;
    here = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / here;
  }
  auto text = ReadFile(here);
  EXPECT_TRUE(text.ok()) << here;
  return text.ok() ? *text : std::string();
}

TrainOptions Options(const std::filesystem::path& data) {
  TrainOptions o;
  o.data = data;
  o.label = "y";
  o.params = {{"num_round", "15"}, {"max_depth", "3"}};
  return o;
}

TEST(TrainTest, BinaryWithCategoricalFeature) {
  ScratchDir dir;
  auto path = dir.Write("d.csv", MakeCsv(400, "binary"));
  auto r = Train(Options(path));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->schema.objective, "binary:logistic");
  EXPECT_EQ(r->schema.classes, (std::vector<std::string>{"0", "1"}));
  ASSERT_EQ(r->schema.features.size(), 3u);
  EXPECT_EQ(r->schema.features[0].kind, FeatureSpec::Kind::kNumeric);
  EXPECT_EQ(r->schema.features[2].kind, FeatureSpec::Kind::kCategorical);
  EXPECT_EQ(r->schema.features[2].categories,
            (std::vector<std::string>{"lima", "oslo", "pune", "rome"}));
  EXPECT_EQ(r->train_rows + r->validation_rows, 400u);
  EXPECT_GT(r->validation_rows, 40u);
  EXPECT_LT(r->validation_rows, 130u);
  ASSERT_EQ(r->history.size(), 15u);
  bool has_validation_auc = false;
  for (const auto& [k, v] : r->history.back().values) {
    if (k == "validation-auc") {
      has_validation_auc = true;
      EXPECT_GT(v, 0.9);
    }
  }
  EXPECT_TRUE(has_validation_auc);
  ASSERT_FALSE(r->importance.empty());
  EXPECT_TRUE(r->importance[0].first == "x1" || r->importance[0].first == "city");
  EXPECT_EQ(r->params.at("tree_method"), "hist");
}

TEST(TrainTest, SameInputsGiveSameModelBytes) {
  ScratchDir dir;
  auto path = dir.Write("d.csv", MakeCsv(300, "binary"));
  auto options = Options(path);
  options.params["subsample"] = "0.7";
  options.params["colsample_bytree"] = "0.8";
  options.params["seed"] = "42";
  auto a = Train(options);
  auto b = Train(options);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a->booster->SaveJson(), *b->booster->SaveJson());
  options.params["seed"] = "43";  // a different seed: different split and samples
  auto c = Train(options);
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a->booster->SaveJson(), *c->booster->SaveJson());
  // Two threads: still reproducible run to run.
  options.params["nthread"] = "2";
  auto d = Train(options);
  auto e = Train(options);
  ASSERT_TRUE(d.ok() && e.ok());
  EXPECT_EQ(*d->booster->SaveJson(), *e->booster->SaveJson());
}

TEST(TrainTest, MulticlassAndRegression) {
  ScratchDir dir;
  auto multi = Train(Options(dir.Write("m.csv", MakeCsv(300, "multi"))));
  ASSERT_TRUE(multi.ok()) << multi.status().ToString();
  EXPECT_EQ(multi->schema.objective, "multi:softprob");
  EXPECT_EQ(multi->schema.classes, (std::vector<std::string>{"high", "low", "mid"}));
  EXPECT_EQ(multi->booster->num_class(), 3);
  auto reg = Train(Options(dir.Write("r.csv", MakeCsv(300, "reg"))));
  ASSERT_TRUE(reg.ok()) << reg.status().ToString();
  EXPECT_EQ(reg->schema.objective, "reg:squarederror");
  EXPECT_TRUE(reg->schema.classes.empty());
  EXPECT_EQ(reg->history.back().values.front().first, "train-rmse");
}

TEST(TrainTest, SavedDirectoryIsMlflowLayoutAndLoadsBack) {
  ScratchDir dir;
  auto path = dir.Write("d.csv", MakeCsv(200, "multi"));
  auto r = Train(Options(path));
  ASSERT_TRUE(r.ok());
  auto out = dir.path("model");
  ASSERT_TRUE(SaveModelDir(out, *r->booster, r->schema, "run123").ok());
  for (const char* f : {"MLmodel", "model.json", "requirements.txt", "cairn_schema.json"}) {
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  }
  auto info = ParseMLmodel(*ReadFile(out / "MLmodel"), "MLmodel");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->flavors["xgboost"]["model_format"], "json");
  EXPECT_EQ(info->flavors["xgboost"]["data"], "model.json");
  EXPECT_EQ(info->flavors["python_function"]["loader_module"], "mlflow.xgboost");
  EXPECT_EQ(info->run_id, "run123");
  ASSERT_TRUE(info->signature_inputs.is_array());
  EXPECT_EQ(info->signature_inputs[2]["name"], "city");
  EXPECT_EQ(info->signature_inputs[2]["type"], "string");

  auto loaded = LoadModelDir(out);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_EQ(loaded->schema.classes, r->schema.classes);
  std::vector<float> row = {0.2f, 0.5f, 3.0f}, a, b;
  size_t ca = 0, cb = 0;
  ASSERT_TRUE(r->booster->Predict(row.data(), 1, 3, a, ca).ok());
  ASSERT_TRUE(loaded->booster->Predict(row.data(), 1, 3, b, cb).ok());
  EXPECT_EQ(a, b);
  EXPECT_EQ(loaded->schema.OutputColumns(),
            (std::vector<std::string>{"prediction", "probability_high", "probability_low",
                                      "probability_mid"}));

  // Without cairn_schema.json a string input has no known encoding: refused.
  std::filesystem::remove(out / "cairn_schema.json");
  auto plain = LoadModelDir(out);
  ASSERT_FALSE(plain.ok());
  EXPECT_NE(plain.status().message().find("'city' is a string"), std::string::npos);
  // MLflow's own xgboost directory (tensor signature, model.xgb): numeric
  // features from the booster, classes 0..K-1.
  std::filesystem::copy_file(out / "model.json", out / "model.xgb");
  ASSERT_TRUE(AtomicWriteFile(out / "MLmodel", RegistryFixture("xgboost.MLmodel")).ok());
  auto mlflow = LoadModelDir(out);
  ASSERT_TRUE(mlflow.ok()) << mlflow.status().ToString();
  EXPECT_EQ(mlflow->schema.classes, (std::vector<std::string>{"0", "1", "2"}));
  EXPECT_EQ(mlflow->schema.features[2].name, "city");
  EXPECT_EQ(mlflow->mlmodel.flavors["xgboost"]["model_class"], "xgboost.sklearn.XGBClassifier");
  EXPECT_FALSE(LoadModelDir(dir.path("nowhere")).ok());
}

TEST(TrainTest, ClearErrors) {
  ScratchDir dir;
  auto path = dir.Write("d.csv", MakeCsv(50, "multi"));
  auto o = Options(path);
  o.label = "nope";
  auto r = Train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("column 'nope' is not in"), std::string::npos);
  o = Options(path);
  o.params["max_dept"] = "3";
  r = Train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown training param 'max_dept'"), std::string::npos);
  o = Options(path);
  o.params["eta"] = "7";
  EXPECT_FALSE(Train(o).ok());
  o = Options(path);
  o.objective = "binary:logistic";  // three classes
  r = Train(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exactly 2"), std::string::npos);
  o.objective = "reg:squarederror";
  EXPECT_FALSE(Train(o).ok());
  o.objective = "rank:pairwise";
  EXPECT_FALSE(Train(o).ok());
  o = Options(path);
  o.features = {"y"};
  EXPECT_FALSE(Train(o).ok());
}

TEST(TrainTest, ValidationSplitIsSeededAndProportional) {
  size_t in = 0;
  for (uint64_t i = 0; i < 10000; ++i) in += InValidationSplit(5, i, 0.25);
  EXPECT_GT(in, 2300u);
  EXPECT_LT(in, 2700u);
  size_t same = 0;
  for (uint64_t i = 0; i < 1000; ++i)
    same += InValidationSplit(5, i, 0.5) == InValidationSplit(6, i, 0.5);
  EXPECT_LT(same, 600u);  // another seed, another split
  EXPECT_FALSE(InValidationSplit(5, 1, 0.0));
}

}  // namespace
}  // namespace cairn::ml
