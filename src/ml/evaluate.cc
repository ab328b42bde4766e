// Evaluation metrics and EvaluateModel (see evaluate.h).
#include "ml/evaluate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

namespace cairn::ml {

using Json = nlohmann::json;

double RocAuc(const std::vector<double>& scores, const std::vector<int>& positive) {
  const size_t n = scores.size();
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Average ranks over tied groups: a tie between a positive and a negative counts half.
  double rank_sum_pos = 0;
  size_t n_pos = 0;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && scores[order[j]] == scores[order[i]]) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    for (size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        rank_sum_pos += avg_rank;
        ++n_pos;
      }
    }
    i = j;
  }
  size_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  double u = rank_sum_pos - static_cast<double>(n_pos) * (n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

Result<ClassificationMetrics> ClassificationReport(const std::vector<int>& y_true,
                                                   const std::vector<double>& probs,
                                                   size_t num_classes) {
  const size_t n = y_true.size();
  if (num_classes < 2) return InvalidParameter("classification needs at least 2 classes");
  if (n == 0) return InvalidParameter("no rows to evaluate");
  const bool one_column = probs.size() == n && num_classes == 2;
  const size_t width = one_column ? 1 : num_classes;
  if (probs.size() != n * width) {
    return InvalidParameter("probabilities do not match rows x classes");
  }
  auto prob = [&](size_t row, size_t k) -> double {
    if (one_column) return k == 1 ? probs[row] : 1.0 - probs[row];
    return probs[row * width + k];
  };
  ClassificationMetrics m;
  m.num_classes = num_classes;
  m.confusion.assign(num_classes, std::vector<size_t>(num_classes, 0));
  size_t correct = 0;
  double loss = 0;
  constexpr double kEps = 1e-15;
  for (size_t i = 0; i < n; ++i) {
    int t = y_true[i];
    if (t < 0 || static_cast<size_t>(t) >= num_classes) {
      return InvalidParameter("class index " + std::to_string(t) + " out of range");
    }
    size_t pred = 0;
    // Clipped then renormalized, as scikit-learn does (a single positive
    // column is clipped before its complement is taken).
    auto clipped = [&](size_t k) {
      if (one_column) {
        double p = std::clamp(probs[i], kEps, 1 - kEps);
        return k == 1 ? p : 1.0 - p;
      }
      return std::clamp(prob(i, k), kEps, 1 - kEps);
    };
    double row_sum = 0;
    for (size_t k = 0; k < num_classes; ++k) {
      if (prob(i, k) > prob(i, pred)) pred = k;
      row_sum += clipped(k);
    }
    // A binary tie at 0.5 predicts the positive class (XGBoost's threshold).
    if (num_classes == 2) pred = prob(i, 1) >= 0.5 ? 1 : 0;
    m.confusion[t][pred]++;
    correct += pred == static_cast<size_t>(t);
    loss -= std::log(clipped(t) / row_sum);
  }
  m.accuracy = static_cast<double>(correct) / n;
  m.log_loss = loss / n;
  m.per_class.resize(num_classes);
  for (size_t k = 0; k < num_classes; ++k) {
    size_t tp = m.confusion[k][k], fp = 0, fn = 0;
    for (size_t j = 0; j < num_classes; ++j) {
      if (j == k) continue;
      fp += m.confusion[j][k];
      fn += m.confusion[k][j];
    }
    ClassMetrics& c = m.per_class[k];
    c.support = tp + fn;
    c.precision = tp + fp == 0 ? 0 : static_cast<double>(tp) / (tp + fp);
    c.recall = tp + fn == 0 ? 0 : static_cast<double>(tp) / (tp + fn);
    c.f1 = c.precision + c.recall == 0 ? 0 : 2 * c.precision * c.recall / (c.precision + c.recall);
    m.macro_precision += c.precision / num_classes;
    m.macro_recall += c.recall / num_classes;
    m.macro_f1 += c.f1 / num_classes;
    double w = static_cast<double>(c.support) / n;
    m.weighted_precision += c.precision * w;
    m.weighted_recall += c.recall * w;
    m.weighted_f1 += c.f1 * w;
  }
  if (num_classes == 2) {
    m.precision = m.per_class[1].precision;
    m.recall = m.per_class[1].recall;
    m.f1 = m.per_class[1].f1;
    std::vector<double> scores(n);
    std::vector<int> pos(n);
    for (size_t i = 0; i < n; ++i) {
      scores[i] = prob(i, 1);
      pos[i] = y_true[i] == 1;
    }
    m.roc_auc = RocAuc(scores, pos);
  } else {
    m.precision = m.macro_precision;
    m.recall = m.macro_recall;
    m.f1 = m.macro_f1;
    double sum = 0;
    size_t counted = 0;
    std::vector<double> scores(n);
    std::vector<int> pos(n);
    for (size_t k = 0; k < num_classes; ++k) {
      for (size_t i = 0; i < n; ++i) {
        scores[i] = prob(i, k);
        pos[i] = y_true[i] == static_cast<int>(k);
      }
      double auc = RocAuc(scores, pos);
      if (!std::isnan(auc)) {
        sum += auc;
        ++counted;
      }
    }
    m.roc_auc = counted == 0 ? std::numeric_limits<double>::quiet_NaN() : sum / counted;
  }
  return m;
}

Result<RegressionMetrics> RegressionReport(const std::vector<double>& y_true,
                                           const std::vector<double>& y_pred) {
  const size_t n = y_true.size();
  if (n == 0) return InvalidParameter("no rows to evaluate");
  if (y_pred.size() != n) return InvalidParameter("predictions do not match rows");
  double mean = std::accumulate(y_true.begin(), y_true.end(), 0.0) / n;
  double sse = 0, sae = 0, sst = 0;
  for (size_t i = 0; i < n; ++i) {
    double e = y_true[i] - y_pred[i];
    sse += e * e;
    sae += std::fabs(e);
    sst += (y_true[i] - mean) * (y_true[i] - mean);
  }
  RegressionMetrics m;
  m.rmse = std::sqrt(sse / n);
  m.mae = sae / n;
  // A constant truth: R² is 1 for a perfect fit and 0 otherwise (as sklearn).
  m.r2 = sst == 0 ? (sse == 0 ? 1.0 : 0.0) : 1.0 - sse / sst;
  return m;
}

namespace {

Json Number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }

}  // namespace

std::vector<std::pair<std::string, double>> EvaluationReport::FlatMetrics() const {
  if (!classification) {
    return {{"rmse", regression_metrics.rmse},
            {"mae", regression_metrics.mae},
            {"r2", regression_metrics.r2}};
  }
  const auto& m = classification_metrics;
  std::vector<std::pair<std::string, double>> out = {{"accuracy", m.accuracy},
                                                     {"precision", m.precision},
                                                     {"recall", m.recall},
                                                     {"f1", m.f1},
                                                     {"log_loss", m.log_loss}};
  if (!std::isnan(m.roc_auc)) out.emplace_back("roc_auc", m.roc_auc);
  if (m.num_classes > 2) {
    out.insert(out.end(), {{"precision_weighted", m.weighted_precision},
                           {"recall_weighted", m.weighted_recall},
                           {"f1_weighted", m.weighted_f1}});
  }
  return out;
}

std::string EvaluationReport::ToJson() const {
  Json j;
  j["objective"] = objective;
  j["rows"] = rows;
  j["skipped_rows"] = skipped_rows;
  Json metrics = Json::object();
  for (const auto& [k, v] : FlatMetrics()) metrics[k] = Number(v);
  if (classification) {
    const auto& m = classification_metrics;
    metrics["roc_auc"] = Number(m.roc_auc);
    metrics["precision_macro"] = m.macro_precision;
    metrics["recall_macro"] = m.macro_recall;
    metrics["f1_macro"] = m.macro_f1;
    metrics["precision_weighted"] = m.weighted_precision;
    metrics["recall_weighted"] = m.weighted_recall;
    metrics["f1_weighted"] = m.weighted_f1;
    j["classes"] = classes;
    j["confusion_matrix"] = m.confusion;
    Json per_class = Json::object();
    for (size_t k = 0; k < m.per_class.size(); ++k) {
      const auto& c = m.per_class[k];
      per_class[k < classes.size() ? classes[k] : std::to_string(k)] = {
          {"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1}, {"support", c.support}};
    }
    j["per_class"] = per_class;
  }
  j["metrics"] = metrics;
  return j.dump(2) + "\n";
}

Result<EvaluationReport> EvaluateModel(const LoadedModel& model, const std::filesystem::path& data,
                                       const data::ReaderOptions& reader_options,
                                       const std::string& label_override) {
  const ModelSchema& schema = model.schema;
  const std::string label = label_override.empty() ? schema.label : label_override;
  if (label.empty()) return InvalidParameter("the model does not name its label: pass --label");
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<data::TableReader> reader,
                         data::TableReader::Open(data, reader_options));
  EvaluationReport report;
  report.objective = schema.objective;
  report.classification = schema.is_classifier();
  report.classes = schema.classes;
  std::vector<int> y_class;
  std::vector<double> y_value, scores;
  std::vector<float> x, out;
  std::vector<std::string> errors;
  data::RowChunk chunk;
  while (true) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
    if (!more) break;
    const auto& columns = reader->columns();
    auto label_it = std::find(columns.begin(), columns.end(), label);
    if (label_it == columns.end()) {
      return InvalidParameter("label column '" + label + "' is not in " + data.string());
    }
    size_t label_col = label_it - columns.begin();
    CAIRN_ASSIGN_OR_RETURN(std::vector<size_t> binding, BindFeatures(schema, columns));
    EncodeChunk(schema, binding, chunk, &x, &errors);
    size_t out_cols = 0;
    CAIRN_RETURN_IF_ERROR(
        model.booster->Predict(x.data(), chunk.num_rows, binding.size(), out, out_cols));
    for (size_t r = 0; r < chunk.num_rows; ++r) {
      if (!errors[r].empty()) {
        return InvalidParameter(data.string() + ": " + errors[r]);
      }
      if (label_col >= chunk.num_columns || chunk.is_null(r, label_col)) {
        ++report.skipped_rows;
        continue;
      }
      std::string_view text = chunk.cell(r, label_col);
      if (report.classification) {
        int k = schema.ClassIndex(text);
        if (k < 0) {
          ++report.skipped_rows;  // a class the model never saw
          continue;
        }
        y_class.push_back(k);
      } else {
        double v = 0;
        if (!ParseNumber(text, &v)) {
          return InvalidParameter(data.string() + ": line " + std::to_string(chunk.lines[r]) +
                                  ": label '" + std::string(text.substr(0, 40)) +
                                  "' is not a number");
        }
        y_value.push_back(v);
      }
      for (size_t k = 0; k < out_cols; ++k) scores.push_back(out[r * out_cols + k]);
    }
  }
  if (report.classification) {
    report.rows = y_class.size();
    CAIRN_ASSIGN_OR_RETURN(report.classification_metrics,
                           ClassificationReport(y_class, scores, schema.classes.size()));
  } else {
    report.rows = y_value.size();
    CAIRN_ASSIGN_OR_RETURN(report.regression_metrics, RegressionReport(y_value, scores));
  }
  return report;
}

}  // namespace cairn::ml
