// Model evaluation metrics: classification (accuracy, precision, recall, F1
// per class with macro and weighted averages, ROC AUC with ties counted half,
// log loss, confusion matrix) and regression (RMSE, MAE, R²), plus
// EvaluateModel which scores a table file with a model directory. Pure
// functions over vectors; thread-safe.
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"
#include "ml/model_dir.h"

namespace cairn::ml {

struct ClassMetrics {
  double precision = 0, recall = 0, f1 = 0;
  size_t support = 0;
};

struct ClassificationMetrics {
  size_t num_classes = 0;
  double accuracy = 0;
  std::vector<ClassMetrics> per_class;
  // Binary: the positive class (index 1). Multiclass: absent (see macro_/weighted_).
  double precision = 0, recall = 0, f1 = 0;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_precision = 0, weighted_recall = 0, weighted_f1 = 0;
  // Binary: AUC of the positive-class score. Multiclass: one-vs-rest AUC,
  // macro-averaged over classes present in y_true (as sklearn's ovr/macro).
  // NaN when only one class is present.
  double roc_auc = 0;
  double log_loss = 0;  // probabilities clipped to [1e-15, 1 - 1e-15]
  // confusion[true][predicted]
  std::vector<std::vector<size_t>> confusion;
};

struct RegressionMetrics {
  double rmse = 0, mae = 0, r2 = 0;
};

// ROC AUC of `scores` for the binary truth `positive` (Mann-Whitney U with
// tied scores counted half). NaN when either class is absent.
double RocAuc(const std::vector<double>& scores, const std::vector<int>& positive);

// y_true: class indices in [0, K). probs: rows x K row-major (binary may pass
// K = 2 or one positive-class column with num_classes = 2).
Result<ClassificationMetrics> ClassificationReport(const std::vector<int>& y_true,
                                                   const std::vector<double>& probs,
                                                   size_t num_classes);
Result<RegressionMetrics> RegressionReport(const std::vector<double>& y_true,
                                           const std::vector<double>& y_pred);

struct EvaluationReport {
  std::string objective;
  size_t rows = 0;
  size_t skipped_rows = 0;  // null or unknown labels
  bool classification = false;
  ClassificationMetrics classification_metrics;
  RegressionMetrics regression_metrics;
  std::vector<std::string> classes;

  // {"objective", "rows", "metrics": {...}, "confusion_matrix", "per_class", ...}
  std::string ToJson() const;
  // Flat metric name -> value for logging (accuracy, f1, roc_auc, rmse, ...).
  std::vector<std::pair<std::string, double>> FlatMetrics() const;
};

// Scores `data` with `model` and compares against its label column
// (`label` overrides the model's label name when non-empty).
Result<EvaluationReport> EvaluateModel(const LoadedModel& model, const std::filesystem::path& data,
                                       const data::ReaderOptions& reader, const std::string& label);

}  // namespace cairn::ml
