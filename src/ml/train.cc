// Train(): table -> encoded matrix -> XGBoost boosting loop, deterministic.
#include "ml/train.h"

#include <xgboost/c_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <sstream>

namespace cairn::ml {
namespace {

// XGBoost params a caller may set, with their valid range (inclusive).
struct ParamRange {
  const char* name;
  double lo, hi;
};
constexpr ParamRange kXgbParams[] = {
    {"max_depth", 0, 64},
    {"eta", 0, 1},
    {"learning_rate", 0, 1},
    {"subsample", 1e-9, 1},
    {"colsample_bytree", 1e-9, 1},
    {"colsample_bylevel", 1e-9, 1},
    {"colsample_bynode", 1e-9, 1},
    {"min_child_weight", 0, 1e12},
    {"lambda", 0, 1e12},
    {"reg_lambda", 0, 1e12},
    {"alpha", 0, 1e12},
    {"reg_alpha", 0, 1e12},
    {"gamma", 0, 1e12},
    {"min_split_loss", 0, 1e12},
    {"max_bin", 2, 65536},
    {"max_leaves", 0, 1e9},
    {"scale_pos_weight", 0, 1e12},
    {"max_delta_step", 0, 1e12},
    {"max_cat_to_onehot", 1, 1e9},
    {"max_cat_threshold", 1, 1e9},
};

uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// All rows of a table, kept as the reader's chunks (cells point into them).
struct Table {
  std::vector<std::string> columns;
  std::vector<data::RowChunk> chunks;
};

Result<Table> ReadAll(const TrainOptions& options) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<data::TableReader> reader,
                         data::TableReader::Open(options.data, options.reader));
  Table t;
  while (true) {
    data::RowChunk chunk;
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
    if (!more) break;
    t.chunks.push_back(std::move(chunk));
  }
  t.columns = reader->columns();
  return t;
}

// Visits (text, is_null) of column `col` for every row, in file order.
template <typename F>
void ForEachCell(const Table& t, size_t col, F&& f) {
  for (const auto& chunk : t.chunks) {
    for (size_t r = 0; r < chunk.num_rows; ++r) {
      if (col >= chunk.num_columns) {
        f(std::string_view(), true);
      } else {
        f(chunk.cell(r, col), chunk.is_null(r, col));
      }
    }
  }
}

bool IsNumericText(std::string_view s) {
  double v;
  return ParseNumber(s, &v) || s == "true" || s == "false";
}

// Sorted distinct values: numerically when all are numbers, else as text.
std::vector<std::string> SortedDistinct(std::set<std::string> values) {
  std::vector<std::string> out(values.begin(), values.end());
  bool numeric = std::all_of(out.begin(), out.end(), [](const std::string& s) {
    double v;
    return ParseNumber(s, &v);
  });
  if (numeric) {
    std::stable_sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) {
      double x = 0, y = 0;
      ParseNumber(a, &x);
      ParseNumber(b, &y);
      return x < y;
    });
  }
  return out;
}

Result<double> ParamNumber(const std::map<std::string, std::string>& params, const std::string& key,
                           double fallback, double lo, double hi) {
  auto it = params.find(key);
  if (it == params.end()) return fallback;
  double v = 0;
  if (!ParseNumber(it->second, &v) || !(v >= lo && v <= hi)) {
    return InvalidParameter("param " + key + "=" + it->second + " must be a number in [" +
                            FormatNumber(lo) + ", " + FormatNumber(hi) + "]");
  }
  return v;
}

// "[3]\ttrain-logloss:0.51\tvalidation-logloss:0.55" -> pairs.
std::vector<std::pair<std::string, double>> ParseEval(const std::string& s) {
  std::vector<std::pair<std::string, double>> out;
  std::istringstream in(s);
  std::string token;
  while (std::getline(in, token, '\t')) {
    size_t colon = token.rfind(':');
    if (token.empty() || token[0] == '[' || colon == std::string::npos) continue;
    double v = 0;
    if (ParseNumber(std::string_view(token).substr(colon + 1), &v)) {
      out.emplace_back(token.substr(0, colon), v);
    }
  }
  return out;
}

// Frees XGBoost handles on every exit path.
struct DMatrixOwner {
  DMatrixHandle h = nullptr;
  ~DMatrixOwner() {
    if (h) XGDMatrixFree(h);
  }
};

Result<DMatrixHandle> MakeDMatrix(const std::vector<float>& x, const std::vector<float>& y,
                                  size_t cols, const ModelSchema& schema, int nthread,
                                  DMatrixOwner& owner) {
  size_t rows = y.size();
  if (XGDMatrixCreateFromMat_omp(x.data(), rows, cols, std::nanf(""), &owner.h, nthread) != 0) {
    return XgbError("XGDMatrixCreateFromMat");
  }
  if (XGDMatrixSetFloatInfo(owner.h, "label", y.data(), rows) != 0) {
    return XgbError("XGDMatrixSetFloatInfo(label)");
  }
  std::vector<const char*> names, types;
  for (const auto& f : schema.features) {
    names.push_back(f.name.c_str());
    types.push_back(f.kind == FeatureSpec::Kind::kCategorical ? "c" : "q");
  }
  if (XGDMatrixSetStrFeatureInfo(owner.h, "feature_name", names.data(), cols) != 0 ||
      XGDMatrixSetStrFeatureInfo(owner.h, "feature_type", types.data(), cols) != 0) {
    return XgbError("XGDMatrixSetStrFeatureInfo");
  }
  return owner.h;
}

}  // namespace

bool InValidationSplit(uint64_t seed, uint64_t index, double fraction) {
  if (fraction <= 0) return false;
  uint64_t h = SplitMix64(SplitMix64(seed) ^ index);
  return static_cast<double>(h >> 11) * 0x1.0p-53 < fraction;
}

Result<TrainResult> Train(const TrainOptions& options) {
  if (options.label.empty()) return InvalidParameter("a label column is required (--label)");
  TrainResult result;
  // Cairn-level params first; everything else must be a known XGBoost param.
  static const std::set<std::string> kOwn = {"num_round", "validation_fraction", "seed", "nthread"};
  for (const auto& [k, v] : options.params) {
    if (kOwn.count(k)) continue;
    const ParamRange* range = nullptr;
    for (const auto& p : kXgbParams) {
      if (k == p.name) range = &p;
    }
    if (range == nullptr) {
      std::string allowed = "num_round, validation_fraction, seed, nthread";
      for (const auto& p : kXgbParams) allowed += std::string(", ") + p.name;
      return InvalidParameter("unknown training param '" + k + "'; allowed: " + allowed);
    }
    CAIRN_RETURN_IF_ERROR(ParamNumber(options.params, k, 0, range->lo, range->hi).status());
  }
  CAIRN_ASSIGN_OR_RETURN(double num_round,
                         ParamNumber(options.params, "num_round", 100, 1, 100000));
  CAIRN_ASSIGN_OR_RETURN(double fraction,
                         ParamNumber(options.params, "validation_fraction", 0.2, 0, 0.9));
  CAIRN_ASSIGN_OR_RETURN(double seed, ParamNumber(options.params, "seed", 0, 0, 2147483647));
  CAIRN_ASSIGN_OR_RETURN(double nthread, ParamNumber(options.params, "nthread", 1, 1, 256));

  CAIRN_ASSIGN_OR_RETURN(Table table, ReadAll(options));
  auto column_index = [&](const std::string& name) -> Result<size_t> {
    auto it = std::find(table.columns.begin(), table.columns.end(), name);
    if (it == table.columns.end()) {
      std::string have;
      for (const auto& c : table.columns) have += (have.empty() ? "" : ", ") + c;
      return InvalidParameter("column '" + name + "' is not in " + options.data.string() +
                              " (columns: " + have + ")");
    }
    return static_cast<size_t>(it - table.columns.begin());
  };
  CAIRN_ASSIGN_OR_RETURN(size_t label_col, column_index(options.label));
  std::vector<std::string> feature_names = options.features;
  if (feature_names.empty()) {
    for (const auto& c : table.columns) {
      if (c != options.label) feature_names.push_back(c);
    }
  }
  if (feature_names.empty()) return InvalidParameter("no feature columns besides the label");
  std::vector<size_t> feature_cols;
  for (const auto& name : feature_names) {
    if (name == options.label) {
      return InvalidParameter("the label column '" + name + "' cannot also be a feature");
    }
    CAIRN_ASSIGN_OR_RETURN(size_t col, column_index(name));
    feature_cols.push_back(col);
  }

  // Label: which rows count, its classes and the objective.
  std::vector<uint8_t> keep;
  std::set<std::string> label_values;
  bool label_numeric = true;
  ForEachCell(table, label_col, [&](std::string_view text, bool is_null) {
    keep.push_back(!is_null);
    if (is_null) return;
    double v;
    if (!ParseNumber(text, &v)) label_numeric = false;
    if (label_values.size() <= 1000) label_values.emplace(text);
  });
  ModelSchema& schema = result.schema;
  schema.label = options.label;
  schema.objective = options.objective;
  if (schema.objective.empty()) {
    schema.objective = label_values.size() == 2 ? "binary:logistic"
                       : !label_numeric         ? "multi:softprob"
                                                : "reg:squarederror";
  }
  if (label_values.empty()) {
    return InvalidParameter("label column '" + options.label + "' has no non-null values");
  }
  if (schema.objective == "binary:logistic" || schema.objective == "multi:softprob") {
    if (label_values.size() > 1000) {
      return InvalidParameter("label column '" + options.label +
                              "' has more than 1000 distinct values: not a classification label");
    }
    schema.classes = SortedDistinct(label_values);
    if (schema.objective == "binary:logistic" && schema.classes.size() != 2) {
      return InvalidParameter("binary:logistic needs exactly 2 label values; '" + options.label +
                              "' has " + std::to_string(schema.classes.size()));
    }
    if (schema.objective == "multi:softprob" && schema.classes.size() < 2) {
      return InvalidParameter("multi:softprob needs at least 2 label values");
    }
  } else if (schema.objective == "reg:squarederror") {
    if (!label_numeric) {
      return InvalidParameter("reg:squarederror needs a numeric label; '" + options.label +
                              "' has text values");
    }
  } else {
    return InvalidParameter("objective '" + schema.objective +
                            "' is not supported: use binary:logistic, multi:softprob or "
                            "reg:squarederror");
  }

  // Feature kinds: numeric when every non-null value of the kept rows is a number.
  for (size_t f = 0; f < feature_cols.size(); ++f) {
    FeatureSpec spec;
    spec.name = feature_names[f];
    bool numeric = true;
    std::set<std::string> categories;
    size_t row = 0;
    ForEachCell(table, feature_cols[f], [&](std::string_view text, bool is_null) {
      if (keep[row++] && !is_null) {
        if (numeric && !IsNumericText(text)) numeric = false;
        categories.emplace(text);
      }
    });
    if (!numeric) {
      spec.kind = FeatureSpec::Kind::kCategorical;
      spec.categories.assign(categories.begin(), categories.end());
    }
    schema.features.push_back(std::move(spec));
  }

  // Encode, then split deterministically by row position among kept rows.
  const size_t cols = feature_cols.size();
  std::vector<float> train_x, valid_x, train_y, valid_y;
  size_t kept_index = 0, row = 0;
  std::vector<float> encoded(cols);
  for (const auto& chunk : table.chunks) {
    for (size_t r = 0; r < chunk.num_rows; ++r, ++row) {
      if (!keep[row]) {
        ++result.skipped_rows;
        continue;
      }
      for (size_t f = 0; f < cols; ++f) {
        size_t c = feature_cols[f];
        bool is_null = c >= chunk.num_columns || chunk.is_null(r, c);
        auto v = schema.Encode(f, is_null ? std::string_view() : chunk.cell(r, c), is_null);
        if (!v.ok()) {
          return InvalidParameter(options.data.string() + ":" + std::to_string(chunk.lines[r]) +
                                  ": " + v.status().message());
        }
        encoded[f] = *v;
      }
      std::string_view label_text = chunk.cell(r, label_col);
      float y = 0;
      if (schema.is_classifier()) {
        y = static_cast<float>(schema.ClassIndex(label_text));
      } else {
        double v = 0;
        ParseNumber(label_text, &v);
        y = static_cast<float>(v);
      }
      bool valid = InValidationSplit(static_cast<uint64_t>(seed), kept_index++, fraction);
      auto& x_out = valid ? valid_x : train_x;
      x_out.insert(x_out.end(), encoded.begin(), encoded.end());
      (valid ? valid_y : train_y).push_back(y);
    }
  }
  table.chunks.clear();
  result.train_rows = train_y.size();
  result.validation_rows = valid_y.size();
  if (train_y.empty()) return InvalidParameter("no training rows left after the validation split");

  DMatrixOwner dtrain_owner, dvalid_owner;
  CAIRN_ASSIGN_OR_RETURN(DMatrixHandle dtrain,
                         MakeDMatrix(train_x, train_y, cols, schema, nthread, dtrain_owner));
  std::vector<DMatrixHandle> dmats = {dtrain};
  std::vector<const char*> names = {"train"};
  if (!valid_y.empty()) {
    CAIRN_ASSIGN_OR_RETURN(DMatrixHandle dvalid,
                           MakeDMatrix(valid_x, valid_y, cols, schema, nthread, dvalid_owner));
    dmats.push_back(dvalid);
    names.push_back("validation");
  }
  train_x.clear();
  valid_x.clear();

  BoosterHandle handle = nullptr;
  if (XGBoosterCreate(dmats.data(), dmats.size(), &handle) != 0) return XgbError("XGBoosterCreate");
  struct BoosterGuard {
    BoosterHandle h;
    ~BoosterGuard() {
      if (h) XGBoosterFree(h);
    }
  } guard{handle};

  // The booster does not take these from its DMatrix (XGBoost's Python
  // package sets them the same way); they travel in model.json.
  {
    std::vector<const char*> fnames, ftypes;
    for (const auto& f : schema.features) {
      fnames.push_back(f.name.c_str());
      ftypes.push_back(f.kind == FeatureSpec::Kind::kCategorical ? "c" : "q");
    }
    if (XGBoosterSetStrFeatureInfo(handle, "feature_name", fnames.data(), cols) != 0 ||
        XGBoosterSetStrFeatureInfo(handle, "feature_type", ftypes.data(), cols) != 0) {
      return XgbError("XGBoosterSetStrFeatureInfo");
    }
  }
  // Effective params: ours, defaults, then the caller's XGBoost params.
  auto& p = result.params;
  p["objective"] = schema.objective;
  p["tree_method"] = "hist";  // needed for categorical splits; deterministic at fixed nthread
  p["seed"] = FormatNumber(seed);
  p["nthread"] = FormatNumber(nthread);
  p["num_round"] = FormatNumber(num_round);
  p["validation_fraction"] = FormatNumber(fraction);
  p["max_depth"] = "6";
  p["eta"] = "0.3";
  if (schema.objective == "multi:softprob") p["num_class"] = std::to_string(schema.classes.size());
  for (const auto& [k, v] : options.params) p[k] = v;
  if (p.count("learning_rate")) p.erase("eta");
  for (const auto& [k, v] : p) {
    if (k == "num_round" || k == "validation_fraction") continue;
    if (XGBoosterSetParam(handle, k.c_str(), v.c_str()) != 0) return XgbError("param " + k);
  }
  std::vector<std::string> metrics;
  if (schema.objective == "binary:logistic") metrics = {"logloss", "auc", "error"};
  if (schema.objective == "multi:softprob") metrics = {"mlogloss", "merror"};
  if (schema.objective == "reg:squarederror") metrics = {"rmse", "mae"};
  for (const auto& m : metrics) {
    if (XGBoosterSetParam(handle, "eval_metric", m.c_str()) != 0) return XgbError("eval_metric");
  }

  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < static_cast<int>(num_round); ++i) {
    if (XGBoosterUpdateOneIter(handle, i, dtrain) != 0) return XgbError("boosting round");
    const char* eval = nullptr;
    if (XGBoosterEvalOneIter(handle, i, dmats.data(), names.data(), dmats.size(), &eval) != 0) {
      return XgbError("evaluation");
    }
    result.history.push_back({i, ParseEval(eval)});
  }
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  bst_ulong n_features = 0, out_dim = 0;
  const char** fnames = nullptr;
  const bst_ulong* shape = nullptr;
  const float* scores = nullptr;
  if (XGBoosterFeatureScore(handle, "{\"importance_type\":\"gain\"}", &n_features, &fnames,
                            &out_dim, &shape, &scores) != 0) {
    return XgbError("feature importance");
  }
  for (bst_ulong i = 0; i < n_features; ++i) result.importance.emplace_back(fnames[i], scores[i]);
  std::stable_sort(result.importance.begin(), result.importance.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });

  guard.h = nullptr;  // the XgbBooster owns it from here
  CAIRN_ASSIGN_OR_RETURN(result.booster, XgbBooster::Adopt(handle));
  return result;
}

}  // namespace cairn::ml
