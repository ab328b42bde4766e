// Model directory: schema encoding, MLflow layout writing and loading.
#include "ml/model_dir.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/ids.h"

namespace cairn::ml {

using Json = nlohmann::json;

bool ParseNumber(std::string_view text, double* out) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return false;
  if (text.front() == '+') text.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && ptr == text.data() + text.size();
}

std::string FormatNumber(double value) {
  if (std::isnan(value)) return "NaN";
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

namespace {

// Shortest text that reads back as the same float ("0.13291171", not 17 digits).
std::string FormatFloat(float value) {
  if (std::isnan(value)) return "NaN";
  char buf[32];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, ptr);
}

}  // namespace

Result<float> ModelSchema::Encode(size_t index, std::string_view text, bool is_null) const {
  if (is_null) return std::nanf("");
  const FeatureSpec& f = features[index];
  if (f.kind == FeatureSpec::Kind::kCategorical) {
    auto it = std::find(f.categories.begin(), f.categories.end(), text);
    if (it == f.categories.end()) return std::nanf("");
    return static_cast<float>(it - f.categories.begin());
  }
  double v = 0;
  if (!ParseNumber(text, &v)) {
    if (text == "true" || text == "false") return text == "true" ? 1.0f : 0.0f;
    std::string shown(text.substr(0, 40));
    return InvalidParameter("column '" + f.name + "' is numeric but the value '" + shown +
                            "' is not a number");
  }
  return static_cast<float>(v);
}

std::vector<std::string> ModelSchema::OutputColumns() const {
  std::vector<std::string> cols = {"prediction"};
  if (classes.size() == 2) {
    cols.push_back("probability");
  } else if (classes.size() > 2) {
    for (const auto& c : classes) cols.push_back("probability_" + c);
  }
  return cols;
}

std::vector<std::string> ModelSchema::FormatOutput(const float* scores, size_t out_cols) const {
  std::vector<std::string> cells;
  if (classes.size() == 2 && out_cols == 1) {
    cells.push_back(classes[scores[0] >= 0.5f ? 1 : 0]);
    cells.push_back(FormatFloat(scores[0]));
  } else if (classes.size() > 2 && out_cols == classes.size()) {
    size_t best = std::max_element(scores, scores + out_cols) - scores;
    cells.push_back(classes[best]);
    for (size_t k = 0; k < out_cols; ++k) cells.push_back(FormatFloat(scores[k]));
  } else {
    cells.push_back(FormatFloat(scores[0]));
  }
  return cells;
}

int ModelSchema::ClassIndex(std::string_view label) const {
  for (size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] == label) return static_cast<int>(i);
  }
  // "1.0" against class "1": compare numerically when both are numbers.
  double v = 0, c = 0;
  if (ParseNumber(label, &v)) {
    for (size_t i = 0; i < classes.size(); ++i) {
      if (ParseNumber(classes[i], &c) && c == v) return static_cast<int>(i);
    }
  }
  return -1;
}

std::string ModelSchema::ToJson() const {
  Json j;
  j["format"] = "cairn.xgboost.schema/1";
  j["label"] = label;
  j["objective"] = objective;
  j["classes"] = classes;
  Json fs = Json::array();
  for (const auto& f : features) {
    Json o = {{"name", f.name},
              {"kind", f.kind == FeatureSpec::Kind::kNumeric ? "numeric" : "categorical"}};
    if (f.kind == FeatureSpec::Kind::kCategorical) o["categories"] = f.categories;
    fs.push_back(o);
  }
  j["features"] = fs;
  return j.dump(2) + "\n";
}

Result<ModelSchema> ModelSchema::FromJson(std::string_view text) {
  Json j = Json::parse(text, nullptr, false);
  auto bad = [](const std::string& what) {
    return InvalidParameter(std::string(kSchemaFile) + ": " + what);
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  ModelSchema s;
  try {
    s.label = j.value("label", "");
    s.objective = j.value("objective", "");
    s.classes = j.value("classes", std::vector<std::string>{});
    if (!j.contains("features") || !j["features"].is_array()) return bad("needs a features list");
    for (const auto& f : j["features"]) {
      FeatureSpec spec;
      spec.name = f.at("name").get<std::string>();
      std::string kind = f.value("kind", "numeric");
      if (kind == "categorical") {
        spec.kind = FeatureSpec::Kind::kCategorical;
        spec.categories = f.value("categories", std::vector<std::string>{});
      } else if (kind != "numeric") {
        return bad("feature '" + spec.name + "' has unknown kind '" + kind + "'");
      }
      s.features.push_back(std::move(spec));
    }
  } catch (const Json::exception& e) {
    return bad(std::string("malformed: ") + e.what());
  }
  return s;
}

Result<std::vector<size_t>> BindFeatures(const ModelSchema& schema,
                                         const std::vector<std::string>& columns) {
  std::vector<size_t> binding;
  for (const auto& f : schema.features) {
    auto it = std::find(columns.begin(), columns.end(), f.name);
    if (it == columns.end()) {
      return InvalidParameter("the model needs column '" + f.name + "', which the data lacks");
    }
    binding.push_back(static_cast<size_t>(it - columns.begin()));
  }
  return binding;
}

void EncodeChunk(const ModelSchema& schema, const std::vector<size_t>& binding,
                 const data::RowChunk& chunk, std::vector<float>* x,
                 std::vector<std::string>* errors) {
  const size_t cols = binding.size();
  x->assign(chunk.num_rows * cols, std::nanf(""));
  errors->assign(chunk.num_rows, std::string());
  for (size_t r = 0; r < chunk.num_rows; ++r) {
    for (size_t f = 0; f < cols; ++f) {
      size_t c = binding[f];
      bool is_null = c >= chunk.num_columns || chunk.is_null(r, c);
      auto v = schema.Encode(f, is_null ? std::string_view() : chunk.cell(r, c), is_null);
      if (!v.ok()) {
        (*errors)[r] = "line " + std::to_string(chunk.lines[r]) + ": " + v.status().message();
        std::fill(x->begin() + r * cols, x->begin() + (r + 1) * cols, std::nanf(""));
        break;
      }
      (*x)[r * cols + f] = *v;
    }
  }
}

namespace {

std::string UtcNow() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06lld", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

}  // namespace

Status SaveModelDir(const std::filesystem::path& dir, const XgbBooster& booster,
                    const ModelSchema& schema, const std::string& run_id) {
  CAIRN_RETURN_IF_ERROR(EnsureDirectory(dir));
  CAIRN_ASSIGN_OR_RETURN(std::string model_json, booster.SaveJson());
  CAIRN_RETURN_IF_ERROR(AtomicWriteFile(dir / kModelFile, model_json));
  CAIRN_RETURN_IF_ERROR(AtomicWriteFile(dir / kSchemaFile, schema.ToJson()));
  const std::string xgb_version = XgbVersion();
  CAIRN_RETURN_IF_ERROR(
      AtomicWriteFile(dir / "requirements.txt", "mlflow\nxgboost==" + xgb_version + "\n"));

  MLmodelInfo info;
  info.flavors["python_function"] = {{"loader_module", "mlflow.xgboost"},
                                     {"data", kModelFile},
                                     {"env", {{"virtualenv", "python_env.yaml"}}}};
  info.flavors["xgboost"] = {{"code", nullptr},
                             {"data", kModelFile},
                             {"model_class", "xgboost.core.Booster"},
                             {"model_format", "json"},
                             {"xgb_version", xgb_version}};
  Json inputs = Json::array();
  for (const auto& f : schema.features) {
    inputs.push_back({{"name", f.name},
                      {"type", f.kind == FeatureSpec::Kind::kNumeric ? "double" : "string"},
                      {"required", true}});
  }
  info.signature_inputs = inputs;
  Json outputs = Json::array();
  if (schema.classes.size() > 2) {
    outputs.push_back(
        {{"type", "tensor"},
         {"tensor-spec",
          {{"dtype", "float32"}, {"shape", {-1, static_cast<int>(schema.classes.size())}}}}});
  } else {
    outputs.push_back(
        {{"type", "tensor"}, {"tensor-spec", {{"dtype", "float32"}, {"shape", {-1}}}}});
  }
  info.signature_outputs = outputs;
  info.run_id = run_id;
  info.model_uuid = NewRunId();
  info.utc_time_created = UtcNow();
  CAIRN_RETURN_IF_ERROR(AtomicWriteFile(dir / "MLmodel", WriteMLmodel(info)));
  CAIRN_RETURN_IF_ERROR(AtomicWriteFile(
      dir / "python_env.yaml",
      "python: 3.11\nbuild_dependencies:\n- pip\ndependencies:\n- -r requirements.txt\n"));
  return Status::Ok();
}

Result<LoadedModel> LoadModelDir(const std::filesystem::path& dir, const XgbLoadOptions& options) {
  LoadedModel model;
  model.dir = dir;
  auto text = ReadFile(dir / "MLmodel");
  if (!text.ok()) {
    return InvalidParameter("'" + dir.string() +
                            "' is not a model directory: no readable MLmodel file");
  }
  CAIRN_ASSIGN_OR_RETURN(model.mlmodel, ParseMLmodel(*text, (dir / "MLmodel").string()));
  const Json& flavors = model.mlmodel.flavors;
  if (!flavors.contains("xgboost")) {
    return InvalidParameter((dir / "MLmodel").string() +
                            ": no xgboost flavor (Cairn scores XGBoost models natively)");
  }
  std::string data = flavors["xgboost"].value("data", "model.xgb");
  if (data.empty() || data.find("..") != std::string::npos || data.front() == '/') {
    return InvalidParameter((dir / "MLmodel").string() + ": unsafe xgboost data path '" + data +
                            "'");
  }
  CAIRN_ASSIGN_OR_RETURN(model.booster, XgbBooster::LoadFile((dir / data).string(), options));

  auto schema_text = ReadFile(dir / kSchemaFile);
  if (schema_text.ok()) {
    CAIRN_ASSIGN_OR_RETURN(model.schema, ModelSchema::FromJson(*schema_text));
  } else {
    // MLflow's own xgboost directory: numeric features by signature or booster.
    ModelSchema& s = model.schema;
    s.objective = model.booster->objective();
    const Json& in = model.mlmodel.signature_inputs;
    if (in.is_array() && !in.empty() && in[0].value("type", "") != "tensor") {
      for (const auto& col : in) {
        std::string type = col.value("type", "");
        if (type == "string") {
          // Cairn's signature extension (docs/serving.md): a string column
          // listing its `categories`, a value scored as its index there.
          const Json& cats = col.contains("categories") ? col["categories"] : Json();
          bool listed = cats.is_array() && !cats.empty();
          for (const auto& c : cats) listed = listed && c.is_string();
          if (!listed) {
            return InvalidParameter("input column '" + col.value("name", "") +
                                    "' is a string: without " + kSchemaFile +
                                    " or `categories` in the signature its categorical "
                                    "encoding is unknown");
          }
          s.features.push_back({col.value("name", ""), FeatureSpec::Kind::kCategorical,
                                cats.get<std::vector<std::string>>()});
          continue;
        }
        s.features.push_back({col.value("name", ""), FeatureSpec::Kind::kNumeric, {}});
      }
    } else {
      std::vector<std::string> names = model.booster->feature_names();
      for (size_t i = 0; i < model.booster->num_features(); ++i) {
        s.features.push_back({i < names.size() ? names[i] : "f" + std::to_string(i),
                              FeatureSpec::Kind::kNumeric,
                              {}});
      }
    }
    if (s.objective.rfind("binary:", 0) == 0) {
      s.classes = {"0", "1"};
    } else if (s.objective == "multi:softprob" || s.objective == "multi:softmax") {
      for (int k = 0; k < model.booster->num_class(); ++k) s.classes.push_back(std::to_string(k));
    }
  }
  if (model.schema.features.size() != model.booster->num_features()) {
    return InvalidParameter(
        dir.string() + ": the schema lists " + std::to_string(model.schema.features.size()) +
        " features but the booster takes " + std::to_string(model.booster->num_features()));
  }
  return model;
}

}  // namespace cairn::ml
