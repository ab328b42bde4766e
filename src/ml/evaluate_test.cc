// Tests for the evaluation metrics against hand-computed values (worked out in
// the comments) and for EvaluateModel on a trained model.
#include "ml/evaluate.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "data/test_util.h"
#include "ml/train.h"

namespace cairn::ml {
namespace {

TEST(EvaluateTest, RocAucCountsTiesHalf) {
  // pos {0.35, 0.8} vs neg {0.1, 0.4}: 3 of 4 pairs ordered -> 0.75
  EXPECT_DOUBLE_EQ(RocAuc({0.1, 0.4, 0.35, 0.8}, {0, 0, 1, 1}), 0.75);
  // pos {0.5, 0.9} vs neg {0.2, 0.5}: 1 + 0.5 (tie) + 1 + 1 = 3.5 of 4
  EXPECT_DOUBLE_EQ(RocAuc({0.2, 0.5, 0.5, 0.9}, {0, 0, 1, 1}), 0.875);
  EXPECT_DOUBLE_EQ(RocAuc({0.5, 0.5, 0.5, 0.5}, {0, 1, 0, 1}), 0.5);
  EXPECT_TRUE(std::isnan(RocAuc({0.1, 0.2}, {1, 1})));
}

TEST(EvaluateTest, BinaryReport) {
  // predictions at 0.5: [1, 0, 0, 1, 1]; confusion [[1, 1], [1, 2]]
  auto m = ClassificationReport({1, 0, 1, 1, 0}, {0.9, 0.2, 0.4, 0.7, 0.6}, 2);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->confusion, (std::vector<std::vector<size_t>>{{1, 1}, {1, 2}}));
  EXPECT_DOUBLE_EQ(m->accuracy, 0.6);
  EXPECT_NEAR(m->precision, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m->recall, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m->f1, 2.0 / 3, 1e-12);
  // negative class: tp 1, fp 1, fn 1
  EXPECT_NEAR(m->per_class[0].precision, 0.5, 1e-12);
  EXPECT_EQ(m->per_class[0].support, 2u);
  // pos {0.9, 0.4, 0.7} vs neg {0.2, 0.6}: 5 of 6 pairs ordered
  EXPECT_NEAR(m->roc_auc, 5.0 / 6, 1e-12);
  double ll = -(std::log(0.9) + std::log(0.8) + std::log(0.4) + std::log(0.7) + std::log(0.4)) / 5;
  EXPECT_NEAR(m->log_loss, ll, 1e-9);
  // Two-column probabilities give the same answer.
  auto two =
      ClassificationReport({1, 0, 1, 1, 0}, {0.1, 0.9, 0.8, 0.2, 0.6, 0.4, 0.3, 0.7, 0.4, 0.6}, 2);
  ASSERT_TRUE(two.ok());
  EXPECT_NEAR(two->roc_auc, 5.0 / 6, 1e-12);
  EXPECT_NEAR(two->log_loss, ll, 1e-9);
}

TEST(EvaluateTest, MulticlassMacroAndWeighted) {
  // argmax: [0, 1, 2, 0]; confusion [[1,0,0],[0,1,0],[1,0,1]]
  // class 0: p 1/2 r 1 f1 2/3; class 1: 1 1 1; class 2: p 1 r 1/2 f1 2/3
  auto m = ClassificationReport({0, 1, 2, 2},
                                {0.7, 0.2, 0.1, 0.1, 0.6, 0.3, 0.2, 0.2, 0.6, 0.5, 0.3, 0.2}, 3);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->confusion, (std::vector<std::vector<size_t>>{{1, 0, 0}, {0, 1, 0}, {1, 0, 1}}));
  EXPECT_DOUBLE_EQ(m->accuracy, 0.75);
  EXPECT_NEAR(m->macro_precision, (0.5 + 1 + 1) / 3, 1e-12);
  EXPECT_NEAR(m->macro_recall, (1 + 1 + 0.5) / 3, 1e-12);
  EXPECT_NEAR(m->macro_f1, (2.0 / 3 + 1 + 2.0 / 3) / 3, 1e-12);
  // supports 1, 1, 2
  EXPECT_NEAR(m->weighted_f1, (2.0 / 3 * 1 + 1 * 1 + 2.0 / 3 * 2) / 4, 1e-12);
  EXPECT_NEAR(m->weighted_precision, (0.5 + 1 + 2) / 4, 1e-12);
  EXPECT_NEAR(m->log_loss, -(std::log(0.7) + std::log(0.6) + std::log(0.6) + std::log(0.2)) / 4,
              1e-9);
  // one-vs-rest: class 0 scores {.7,.1,.2,.5} pos {.7} -> 1; class 1 {.2,.6,.2,.3} pos {.6} -> 1;
  // class 2 {.1,.3,.6,.2} pos {.6,.2} vs neg {.1,.3}: (1 + 1 + 1 + 0) / 4 = .75
  EXPECT_NEAR(m->roc_auc, (1 + 1 + 0.75) / 3, 1e-12);
}

TEST(EvaluateTest, RegressionReport) {
  // sklearn's docstring example: MSE 0.375, MAE 0.5, R² 0.9486081370449679
  auto m = RegressionReport({3, -0.5, 2, 7}, {2.5, 0.0, 2, 8});
  ASSERT_TRUE(m.ok());
  EXPECT_NEAR(m->rmse, std::sqrt(0.375), 1e-12);
  EXPECT_NEAR(m->mae, 0.5, 1e-12);
  EXPECT_NEAR(m->r2, 0.9486081370449679, 1e-12);
  EXPECT_DOUBLE_EQ(RegressionReport({2, 2}, {2, 2})->r2, 1.0);
  EXPECT_DOUBLE_EQ(RegressionReport({2, 2}, {1, 2})->r2, 0.0);
}

TEST(EvaluateTest, BadShapesAreErrors) {
  EXPECT_FALSE(ClassificationReport({}, {}, 2).ok());
  EXPECT_FALSE(ClassificationReport({0, 1}, {0.5}, 2).ok());
  EXPECT_FALSE(ClassificationReport({0, 3}, {0.5, 0.5}, 2).ok());
  EXPECT_FALSE(RegressionReport({1}, {}).ok());
}

// testdata/metric_fixtures.json: scikit-learn's values for random inputs
// (testdata/make_metric_fixtures.py). __FILE__ may be relative to the build dir.
nlohmann::json Fixtures() {
  std::filesystem::path here =
      std::filesystem::path(__FILE__).parent_path() / "testdata" / "metric_fixtures.json";
  if (here.is_relative()) {
    std::error_code ec;
    here = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / here;
  }
  auto text = ReadFile(here);
  EXPECT_TRUE(text.ok()) << here;
  return nlohmann::json::parse(text.ok() ? *text : "{}");
}

TEST(EvaluateTest, MatchesScikitLearnReferenceValues) {
  const auto f = Fixtures();
  ASSERT_TRUE(f.contains("binary"));
  {
    const auto& b = f["binary"];
    auto m =
        ClassificationReport(b["y"].get<std::vector<int>>(), b["p"].get<std::vector<double>>(), 2);
    ASSERT_TRUE(m.ok());
    EXPECT_NEAR(m->accuracy, b["accuracy"].get<double>(), 1e-12);
    EXPECT_NEAR(m->precision, b["precision"].get<double>(), 1e-12);
    EXPECT_NEAR(m->recall, b["recall"].get<double>(), 1e-12);
    EXPECT_NEAR(m->f1, b["f1"].get<double>(), 1e-12);
    EXPECT_NEAR(m->roc_auc, b["roc_auc"].get<double>(), 1e-12);
    EXPECT_NEAR(m->log_loss, b["log_loss"].get<double>(), 1e-9);
    EXPECT_EQ(m->confusion, b["confusion"].get<std::vector<std::vector<size_t>>>());
  }
  {
    const auto& c = f["multiclass"];
    std::vector<double> probs;
    for (const auto& row : c["p"]) {
      for (double v : row) probs.push_back(v);
    }
    auto m = ClassificationReport(c["y"].get<std::vector<int>>(), probs, 4);
    ASSERT_TRUE(m.ok());
    EXPECT_NEAR(m->accuracy, c["accuracy"].get<double>(), 1e-12);
    EXPECT_NEAR(m->macro_precision, c["precision_macro"].get<double>(), 1e-12);
    EXPECT_NEAR(m->macro_recall, c["recall_macro"].get<double>(), 1e-12);
    EXPECT_NEAR(m->macro_f1, c["f1_macro"].get<double>(), 1e-12);
    EXPECT_NEAR(m->weighted_precision, c["precision_weighted"].get<double>(), 1e-12);
    EXPECT_NEAR(m->weighted_recall, c["recall_weighted"].get<double>(), 1e-12);
    EXPECT_NEAR(m->weighted_f1, c["f1_weighted"].get<double>(), 1e-12);
    EXPECT_NEAR(m->roc_auc, c["roc_auc_ovr_macro"].get<double>(), 1e-12);
    EXPECT_NEAR(m->log_loss, c["log_loss"].get<double>(), 1e-9);
    EXPECT_EQ(m->confusion, c["confusion"].get<std::vector<std::vector<size_t>>>());
  }
  {
    const auto& r = f["regression"];
    auto m = RegressionReport(r["y"].get<std::vector<double>>(), r["p"].get<std::vector<double>>());
    ASSERT_TRUE(m.ok());
    EXPECT_NEAR(m->rmse, r["rmse"].get<double>(), 1e-12);
    EXPECT_NEAR(m->mae, r["mae"].get<double>(), 1e-12);
    EXPECT_NEAR(m->r2, r["r2"].get<double>(), 1e-12);
  }
}

TEST(EvaluateTest, EvaluateModelOnItsTrainingData) {
  data::testing::ScratchDir dir;
  std::string csv = "x,color,label\n";
  for (int i = 0; i < 300; ++i) {
    int x = i % 10;
    const char* color = i % 3 == 0 ? "red" : (i % 3 == 1 ? "green" : "blue");
    bool yes = x >= 5 || i % 3 == 0;
    csv += std::to_string(x) + "," + color + "," + (yes ? "yes" : "no") + "\n";
  }
  csv += "4,red,\n";  // null label: skipped
  auto path = dir.Write("train.csv", csv);
  TrainOptions options;
  options.data = path;
  options.label = "label";
  options.params = {{"num_round", "20"}};
  auto trained = Train(options);
  ASSERT_TRUE(trained.ok()) << trained.status().ToString();
  ASSERT_TRUE(SaveModelDir(dir.path("model"), *trained->booster, trained->schema, "").ok());
  auto model = LoadModelDir(dir.path("model"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  auto report = EvaluateModel(*model, path, {}, "");
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  EXPECT_TRUE(report->classification);
  EXPECT_EQ(report->rows, 300u);
  EXPECT_EQ(report->skipped_rows, 1u);
  EXPECT_DOUBLE_EQ(report->classification_metrics.accuracy, 1.0);  // a learnable rule
  EXPECT_NE(report->ToJson().find("\"confusion_matrix\""), std::string::npos);
  auto missing = EvaluateModel(*model, path, {}, "nope");
  EXPECT_FALSE(missing.ok());
}

}  // namespace
}  // namespace cairn::ml
