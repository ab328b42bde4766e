// Built-in components (train / evaluate / register) and `cairn batch score`.
// Training and scoring run locally through ml/; only MLflow logging, model
// registration and model download talk to a server.
#include "cli/component_commands.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <iostream>
#include <optional>
#include <thread>

#include "cli/api_client.h"
#include "cli/cli_context.h"
#include "cli/data_ref.h"
#include "cli/model_commands.h"
#include "core/fs.h"
#include "ml/evaluate.h"
#include "ml/model_dir.h"
#include "ml/train.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

int64_t NowMillis() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// MLflow keys allow alphanumerics, _ - . space and /.
std::string MetricKey(const std::string& raw) {
  std::string out;
  for (char c : raw) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
              c == ' ' || c == '/';
    out += ok ? c : '_';
  }
  return out;
}

// Logs params and metrics to `run_id` at MLFLOW_TRACKING_URI in batches the
// REST API accepts. Returns
// false (error printed) on failure; true when there was nothing to log to.
bool LogBatch(CliContext& ctx, const std::string& run_id, const Json& params, const Json& metrics) {
  std::string uri = Env("MLFLOW_TRACKING_URI");
  if (run_id.empty() || uri.empty()) return true;
  if (uri.rfind("http://", 0) != 0 && uri.rfind("https://", 0) != 0) {
    std::cerr << "warning: MLFLOW_TRACKING_URI=" << uri
              << " is not an http(s) server; not logging to the run\n";
    return true;
  }
  CliContext remote = ctx;
  remote.server = uri;
  remote.json = false;  // errors as text on stderr; our own output stays clean
  // Params and metrics in separate requests: at most 100 params, 1000
  // metrics and 1000 entities in all per runs/log-batch.
  auto send = [&](const Json& p, const Json& m) {
    auto r = remote.Send("POST", "/api/2.0/mlflow/runs/log-batch",
                         {{"run_id", run_id}, {"params", p}, {"metrics", m}});
    if (!r) ctx.exit = remote.exit;
    return r.has_value();
  };
  for (size_t i = 0; i < params.size(); i += 100) {
    Json p = Json::array();
    for (size_t k = i; k < std::min(params.size(), i + 100); ++k) p.push_back(params[k]);
    if (!send(p, Json::array())) return false;
  }
  for (size_t i = 0; i < metrics.size(); i += 1000) {
    Json m = Json::array();
    for (size_t k = i; k < std::min(metrics.size(), i + 1000); ++k) m.push_back(metrics[k]);
    if (!send(Json::array(), m)) return false;
  }
  return true;
}

Json MetricJson(const std::string& key, double value, int64_t step, int64_t ts) {
  return {{"key", MetricKey(key)}, {"value", value}, {"timestamp", ts}, {"step", step}};
}

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) comma = s.size();
    std::string item = s.substr(start, comma - start);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

std::string CsvCell(std::string_view text) {
  bool quote = text.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

class ComponentCommands {
 public:
  explicit ComponentCommands(CliContext& ctx) : ctx_(ctx) {}

  void Train(ml::TrainOptions options, const std::vector<std::string>& param_args,
             const std::string& output) {
    for (const auto& kv : param_args) {
      size_t eq = kv.find('=');
      if (eq == std::string::npos || eq == 0) {
        return ctx_.Fail(kUsage, "BAD_REQUEST", "--param expects KEY=VALUE, got '" + kv + "'");
      }
      options.params[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    auto start = std::chrono::steady_clock::now();
    auto result = ml::Train(options);
    if (!result.ok()) return ctx_.FailLocal(result.status());
    const std::string run_id = Env("MLFLOW_RUN_ID");
    if (Status st = ml::SaveModelDir(output, *result->booster, result->schema, run_id); !st.ok()) {
      return ctx_.FailLocal(st);
    }
    double total = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    // Params, per-iteration metrics, importance, sizes: to the run when there is one.
    Json params = Json::array();
    auto param = [&](const std::string& k, const std::string& v) {
      params.push_back({{"key", MetricKey(k)}, {"value", v.substr(0, 6000)}});
    };
    for (const auto& [k, v] : result->params) param(k, v);
    param("label", options.label);
    std::string features;
    for (const auto& f : result->schema.features)
      features += (features.empty() ? "" : ",") + f.name;
    param("features", features);
    param("data", options.data.string());
    int64_t ts = NowMillis();
    Json metrics = Json::array();
    for (const auto& it : result->history) {
      for (const auto& [k, v] : it.values) metrics.push_back(MetricJson(k, v, it.iteration, ts));
    }
    for (const auto& [f, gain] : result->importance) {
      metrics.push_back(MetricJson("feature_importance_gain." + f, gain, 0, ts));
    }
    metrics.push_back(MetricJson("train_rows", result->train_rows, 0, ts));
    metrics.push_back(MetricJson("validation_rows", result->validation_rows, 0, ts));
    metrics.push_back(MetricJson("training_seconds", result->seconds, 0, ts));
    bool logged = LogBatch(ctx_, run_id, params, metrics);

    Json last = Json::object();
    if (!result->history.empty()) {
      for (const auto& [k, v] : result->history.back().values) last[k] = v;
    }
    if (ctx_.json) {
      Json importance = Json::array();
      for (const auto& [f, g] : result->importance)
        importance.push_back({{"feature", f}, {"gain", g}});
      Json history = Json::array();
      for (const auto& it : result->history) {
        Json row = {{"iteration", it.iteration}};
        for (const auto& [k, v] : it.values) row[k] = v;
        history.push_back(row);
      }
      return ctx_.Emit({{"model", output},
                        {"objective", result->schema.objective},
                        {"classes", result->schema.classes},
                        {"params", result->params},
                        {"train_rows", result->train_rows},
                        {"validation_rows", result->validation_rows},
                        {"skipped_rows", result->skipped_rows},
                        {"training_seconds", result->seconds},
                        {"total_seconds", total},
                        {"final_metrics", last},
                        {"history", history},
                        {"feature_importance_gain", importance},
                        {"run_id", run_id.empty() ? Json() : Json(run_id)},
                        {"logged", logged && !run_id.empty()}});
    }
    std::cout << "trained " << result->schema.objective << " on " << result->train_rows << " rows ("
              << result->validation_rows << " validation, " << result->skipped_rows
              << " skipped with no label) in " << FormatValue(result->seconds) << "s\n";
    std::cout << "final metrics:";
    for (auto& [k, v] : last.items()) std::cout << " " << k << "=" << FormatValue(v);
    std::cout << "\nfeature importance (gain):\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& [f, g] : result->importance) rows.push_back({f, FormatValue(g)});
    PrintTable({"FEATURE", "GAIN"}, rows);
    std::cout << "model saved to " << output << " (MLflow xgboost flavor)\n";
    if (!run_id.empty() && logged && !Env("MLFLOW_TRACKING_URI").empty()) {
      std::cout << "logged params and metrics to run " << run_id << "\n";
    }
  }

  void Evaluate(const std::string& model_dir, const std::string& data, const std::string& label,
                const std::string& output) {
    auto model = ml::LoadModelDir(model_dir);
    if (!model.ok()) return ctx_.FailLocal(model.status());
    auto report = ml::EvaluateModel(*model, data, {}, label);
    if (!report.ok()) return ctx_.FailLocal(report.status());
    if (!output.empty()) {
      if (fs::path(output).has_parent_path()) {
        if (Status st = EnsureDirectory(fs::path(output).parent_path()); !st.ok()) {
          return ctx_.FailLocal(st);
        }
      }
      if (Status st = AtomicWriteFile(output, report->ToJson()); !st.ok()) {
        return ctx_.FailLocal(st);
      }
    }
    // To this step's run and to the model's source run, so that the
    // champion/challenger gate (which reads a version's source run) sees them.
    int64_t ts = NowMillis();
    Json metrics = Json::array();
    for (const auto& [k, v] : report->FlatMetrics()) {
      if (std::isfinite(v)) metrics.push_back(MetricJson(k, v, 0, ts));
    }
    std::vector<std::string> runs;
    for (const std::string& r : {Env("MLFLOW_RUN_ID"), model->mlmodel.run_id}) {
      if (!r.empty() && std::find(runs.begin(), runs.end(), r) == runs.end()) runs.push_back(r);
    }
    for (const auto& r : runs) {
      if (!LogBatch(ctx_, r, Json::array(), metrics)) return;
    }
    if (ctx_.json) return ctx_.Emit(Json::parse(report->ToJson()));
    std::cout << "evaluated " << report->objective << " on " << report->rows << " rows ("
              << report->skipped_rows << " skipped)\n";
    std::vector<std::vector<std::string>> rows;
    for (const auto& [k, v] : report->FlatMetrics()) rows.push_back({k, FormatValue(v)});
    PrintTable({"METRIC", "VALUE"}, rows);
    if (report->classification) {
      std::cout << "confusion matrix (rows: true, columns: predicted):\n";
      std::vector<std::string> header = {""};
      for (const auto& c : report->classes) header.push_back(c);
      std::vector<std::vector<std::string>> cm;
      const auto& m = report->classification_metrics.confusion;
      for (size_t i = 0; i < m.size(); ++i) {
        std::vector<std::string> row = {report->classes[i]};
        for (size_t n : m[i]) row.push_back(std::to_string(n));
        cm.push_back(row);
      }
      PrintTable(header, cm);
    }
    if (!output.empty()) std::cout << "report written to " << output << "\n";
  }

  void Register(const std::string& model_dir, const std::string& name, std::string run,
                const std::string& against, const std::string& metric, bool lower,
                const std::string& alias) {
    auto model = ml::LoadModelDir(model_dir);
    if (!model.ok()) return ctx_.FailLocal(model.status());
    if (run.empty()) run = model->mlmodel.run_id;
    if (run.empty()) run = Env("MLFLOW_RUN_ID");
    if (!against.empty() && metric.empty()) {
      return ctx_.Fail(kUsage, "BAD_REQUEST", "--if-better-than needs --metric");
    }
    Json gate = nullptr;
    if (!against.empty()) {
      if (run.empty()) {
        return ctx_.Fail(kUsage, "BAD_REQUEST",
                         "--if-better-than compares the model's run metrics, but the model has no "
                         "run id (MLmodel run_id, --run or MLFLOW_RUN_ID)");
      }
      // No champion yet (no such model, or the alias unset): the first candidate wins.
      std::string against_model = against.rfind("azureml:", 0) == 0 ? against.substr(8) : against;
      against_model = against_model.substr(0, against_model.find_first_of("@:"));
      ApiClient client(ctx_.server);
      auto exists = client.Get("/api/2.0/mlflow/registered-models/get", {{"name", against_model}});
      bool no_model = !exists.ok() && exists.status().code() == ErrorCode::kResourceDoesNotExist;
      auto outcome = no_model ? Result<ModelGateOutcome>(ModelGateOutcome{})
                              : RunModelGate(ctx_, "run:" + run, against, metric, lower, 0, true);
      if (no_model) {
        outcome->decision.win = true;
        outcome->decision.reason =
            "no registered model '" + against_model + "' yet: nothing to beat";
      }
      if (!outcome.ok()) {
        return ctx_.Fail(
            outcome.status().code() == ErrorCode::kTemporarilyUnavailable ? kUnreachable : kUsage,
            ErrorCodeName(outcome.status().code()), outcome.status().message());
      }
      const auto& o = *outcome;
      auto value = [](const std::optional<double>& v) { return v ? Json(*v) : Json(); };
      gate = {{"metric", metric},
              {"candidate", value(o.request.candidate.value)},
              {"champion", value(o.request.champion.value)},
              {"decision", o.decision.win ? "win" : "lose"},
              {"reason", o.decision.reason}};
      if (!o.decision.win) {
        ctx_.exit = kRefused;
        if (ctx_.json) return ctx_.Emit({{"registered", false}, {"gate", gate}});
        std::cout << "not registered: " << o.decision.reason << "\n";
        return;
      }
    }
    ModelSpec spec;
    spec.name = name;
    spec.path = model_dir;
    spec.run = run;
    spec.type = "mlflow_model";
    auto created = CreateModelVersion(ctx_, spec, false, false);
    if (!created) return;
    const Json& v = (*created)["model_version"];
    std::string version = v["version"];
    std::string previous;
    if (!alias.empty()) {
      auto set =
          SetModelAlias(ctx_, name, version, alias,
                        gate.is_null() ? "registered by cairn component register"
                                       : "won the gate: " + gate["reason"].get<std::string>());
      if (!set) return;
      previous = *set;
    }
    if (ctx_.json) {
      return ctx_.Emit({{"registered", true},
                        {"name", name},
                        {"version", version},
                        {"run_id", run.empty() ? Json() : Json(run)},
                        {"alias", alias.empty() ? Json() : Json(alias)},
                        {"gate", gate}});
    }
    if (!gate.is_null()) std::cout << "gate: " << gate["reason"].get<std::string>() << "\n";
    std::cout << "registered model " << name << ":" << version
              << (run.empty() ? "" : " (source run " + run + ")") << "\n";
    if (!alias.empty()) {
      std::cout << "@" << alias << " -> " << version
                << (previous.empty() ? "" : " (was " + previous + ")") << "\n";
    }
  }

  struct BatchOptions {
    std::string model, input, output;
    int64_t mini_batch_size = 1000;
    int max_concurrency = 0;  // 0: hardware threads
    int64_t error_threshold = -1;
    int retries = 2;
  };

  void BatchScore(const BatchOptions& o) {
    auto start = std::chrono::steady_clock::now();
    fs::path out_dir = o.output;
    if (Status st = EnsureDirectory(out_dir); !st.ok()) return ctx_.FailLocal(st);
    // A local model directory, or a registered version downloaded first.
    fs::path model_dir = o.model;
    std::string model_ref;
    if (!fs::is_directory(model_dir)) {
      model_ref = o.model;
      fs::path tmp = out_dir / ".model";
      std::error_code ec;
      fs::remove_all(tmp, ec);
      auto d = DownloadModelVersion(ctx_, o.model, tmp.string());
      if (!d) return;
      model_dir = tmp;
      model_ref = d->name + ":" + d->version;
    }
    auto model = ml::LoadModelDir(model_dir);
    if (!model.ok()) return ctx_.FailLocal(model.status());
    if (!model_ref.empty()) {
      std::error_code ec;
      fs::remove_all(model_dir, ec);
    }
    data::ReaderOptions reader_options;
    reader_options.chunk_rows = static_cast<size_t>(o.mini_batch_size);
    reader_options.chunk_bytes = 1u << 30;
    // A local table file, or a data asset version (NAME:VERSION, NAME@latest)
    // downloaded for the run (issue 7 part 6).
    std::optional<TempDir> input_temp;
    auto input = ResolveTable(ctx_, o.input, &input_temp, "batch score");
    if (!input) return;
    auto reader = data::TableReader::Open(input->file, reader_options);
    if (!reader.ok()) return ctx_.FailLocal(reader.status());
    const int workers = o.max_concurrency > 0 ? o.max_concurrency
                                              : std::max(1u, std::thread::hardware_concurrency());

    struct Batch {
      std::string csv;                  // output rows, CSV
      std::vector<std::string> errors;  // "line N: message" of failed rows
      int64_t rows = 0;
      int attempts = 0;
      bool failed = false;  // every attempt failed: all rows count as failed
    };
    const ml::LoadedModel& m = *model;
    std::vector<std::string> header;  // input columns, fixed by the first mini-batch
    auto score = [&m, &o, &header](data::RowChunk chunk, std::vector<std::string> columns) {
      Batch b;
      b.rows = static_cast<int64_t>(chunk.num_rows);
      auto binding = ml::BindFeatures(m.schema, columns);
      std::vector<float> x, out;
      std::vector<std::string> errors;
      size_t out_cols = 0;
      Status st = binding.status();
      if (binding.ok()) {
        ml::EncodeChunk(m.schema, *binding, chunk, &x, &errors);
        for (b.attempts = 1; b.attempts <= 1 + o.retries; ++b.attempts) {
          st = m.booster->Predict(x.data(), chunk.num_rows, binding->size(), out, out_cols);
          if (st.ok()) break;
        }
      }
      if (!st.ok()) {
        b.failed = true;
        b.errors.push_back("mini-batch from line " +
                           std::to_string(chunk.num_rows ? chunk.lines[0] : 0) + ": " +
                           st.message());
        return b;
      }
      for (size_t r = 0; r < chunk.num_rows; ++r) {
        if (!errors[r].empty()) {
          b.errors.push_back(errors[r]);
          continue;
        }
        for (size_t c = 0; c < header.size(); ++c) {
          if (c) b.csv += ',';
          if (c < chunk.num_columns && !chunk.is_null(r, c)) b.csv += CsvCell(chunk.cell(r, c));
        }
        for (const auto& cell : m.schema.FormatOutput(&out[r * out_cols], out_cols)) {
          b.csv += (header.empty() ? "" : ",") + CsvCell(cell);
        }
        b.csv += '\n';
      }
      return b;
    };

    fs::path pred_path = out_dir / "predictions.csv", tmp_path = out_dir / ".predictions.csv.tmp";
    std::ofstream pred(tmp_path, std::ios::binary | std::ios::trunc);
    std::ofstream err_log(out_dir / "errors.txt", std::ios::binary | std::ios::trunc);
    if (!pred || !err_log) {
      return ctx_.FailLocal(Status(ErrorCode::kIoError, "cannot write in " + out_dir.string()));
    }
    int64_t rows = 0, failed_rows = 0, batches = 0, failed_batches = 0, retried = 0;
    bool over_threshold = false;
    std::deque<std::future<Batch>> in_flight;
    auto collect = [&]() {
      Batch b = in_flight.front().get();
      in_flight.pop_front();
      ++batches;
      rows += b.rows;
      retried += b.attempts > 1 ? 1 : 0;
      if (b.failed) {
        ++failed_batches;
        failed_rows += b.rows;
      } else {
        failed_rows += static_cast<int64_t>(b.errors.size());
      }
      pred << b.csv;
      for (const auto& e : b.errors) err_log << e << "\n";
      if (o.error_threshold >= 0 && failed_rows > o.error_threshold) over_threshold = true;
    };
    Status read_error;
    while (!over_threshold) {
      data::RowChunk chunk;
      auto more = (*reader)->Next(&chunk);
      if (!more.ok()) {
        read_error = more.status();
        break;
      }
      if (!*more) break;
      if (header.empty() && batches == 0 && in_flight.empty()) {
        header = (*reader)->columns();
        std::string line;
        for (const auto& c : header) line += (line.empty() ? "" : ",") + CsvCell(c);
        for (const auto& c : m.schema.OutputColumns()) {
          line += (line.empty() ? "" : ",") + CsvCell(c);
        }
        pred << line << "\n";
      }
      in_flight.push_back(
          std::async(std::launch::async, score, std::move(chunk), (*reader)->columns()));
      if (static_cast<int>(in_flight.size()) >= workers) collect();
    }
    while (!in_flight.empty()) collect();
    pred.close();
    err_log.close();
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    bool ok = read_error.ok() && !over_threshold && pred.good();
    std::error_code ec;
    if (ok) {
      fs::rename(tmp_path, pred_path, ec);
      if (ec) {
        return ctx_.FailLocal(
            Status(ErrorCode::kIoError, "cannot rename to " + pred_path.string()));
      }
    } else {
      fs::remove(tmp_path, ec);
    }
    Json summary = {{"model", model_ref.empty() ? o.model : model_ref},
                    {"input", input->source},
                    {"output", ok ? Json(pred_path.string()) : Json()},
                    {"rows", rows},
                    {"scored_rows", rows - failed_rows},
                    {"failed_rows", failed_rows},
                    {"batches", batches},
                    {"failed_batches", failed_batches},
                    {"retried_batches", retried},
                    {"mini_batch_size", o.mini_batch_size},
                    {"max_concurrency", workers},
                    {"error_threshold", o.error_threshold},
                    {"seconds", seconds},
                    {"status", ok ? "succeeded" : "failed"}};
    if (!read_error.ok()) summary["error"] = read_error.message();
    if (over_threshold) {
      summary["error"] = std::to_string(failed_rows) + " failed rows exceed --error-threshold " +
                         std::to_string(o.error_threshold) + " (see errors.txt)";
    }
    (void)AtomicWriteFile(out_dir / "summary.json", summary.dump(2) + "\n");
    if (!read_error.ok()) {
      ctx_.exit = kUsage;
    } else if (!ok) {
      ctx_.exit = kRefused;
    }
    if (ctx_.json) return ctx_.Emit(summary);
    std::cout << "scored " << rows - failed_rows << " of " << rows << " rows in " << batches
              << " mini-batches (" << failed_rows << " failed rows, " << failed_batches
              << " failed batches) in " << FormatValue(seconds) << "s with " << workers
              << " workers\n";
    if (ok) {
      std::cout << "predictions written to " << pred_path.string() << "\n";
    } else {
      std::cerr << "batch scoring failed: " << summary["error"].get<std::string>() << "\n";
    }
  }

 private:
  CliContext& ctx_;
};

}  // namespace

CLI::App* ComponentGroup(CLI::App& app) {
  try {
    return app.get_subcommand("component");
  } catch (const CLI::OptionNotFound&) {
    return app
        .add_subcommand("component",
                        "pipeline components: built-in (train, evaluate, register) and registered "
                        "(create, list, show)")
        ->require_subcommand(1);
  }
}

void AddComponentCommands(CLI::App& app, CliContext& ctx) {
  // CLI11 keeps pointers to these; they live as long as the app parses.
  static ComponentCommands cmd(ctx);
  static ml::TrainOptions train;
  static std::string features, output, model, data, label, name, run, against, metric, alias;
  static std::vector<std::string> params;
  static bool higher = false, lower = false;
  static ComponentCommands::BatchOptions batch;

  CLI::App* c = ComponentGroup(app);
  auto* t = c->add_subcommand("train", "train an XGBoost model from a CSV/JSONL table");
  t->add_option("--data", data, "training table (CSV, JSON Lines, JSON array; .gz ok)")->required();
  t->add_option("--label", train.label, "label column")->required();
  t->add_option("--features", features, "feature columns a,b,c (default: all but the label)");
  t->add_option("--objective", train.objective,
                "binary:logistic, multi:softprob or reg:squarederror (default: from the label)")
      ->check(CLI::IsMember({"binary:logistic", "multi:softprob", "reg:squarederror"}));
  t->add_option("--param", params,
                "KEY=VALUE, repeatable: num_round, max_depth, eta, subsample, colsample_bytree, "
                "seed, nthread, validation_fraction, ...");
  t->add_option("--output,-o", output, "model directory to write")->required();
  t->callback([&] {
    ml::TrainOptions o = train;
    o.data = data;
    o.features = SplitCommas(features);
    cmd.Train(o, params, output);
  });

  auto* e = c->add_subcommand("evaluate", "score a labelled table with a model: metrics + report");
  e->add_option("--model", model, "model directory")->required();
  e->add_option("--data", data, "labelled table")->required();
  e->add_option("--label", label, "label column (default: the model's)");
  e->add_option("--output,-o", output, "JSON report to write");
  e->callback([&] { cmd.Evaluate(model, data, label, output); });

  auto* r = c->add_subcommand(
      "register", "register a model directory; with --if-better-than only when it wins (exit 1)");
  r->add_option("--model", model, "model directory")->required();
  r->add_option("--name,-n", name, "registered model name")->required();
  r->add_option("--run", run, "source run (default: the MLmodel's run_id, then MLFLOW_RUN_ID)");
  r->add_option("--if-better-than", against, "champion to beat, e.g. flights@champion");
  r->add_option("--metric", metric, "metric logged in both source runs");
  auto* hi = r->add_flag("--higher-is-better", higher, "(default)");
  r->add_flag("--lower-is-better", lower, "for losses and errors")->excludes(hi);
  r->add_option("--alias", alias, "alias to point at the new version, e.g. champion");
  r->callback([&] { cmd.Register(model, name, run, against, metric, lower, alias); });

  auto* b = app.add_subcommand("batch", "batch scoring")->require_subcommand(1);
  auto* s = b->add_subcommand("score", "score a table file with a model into predictions.csv");
  s->add_option("--model", batch.model, "model directory or registered NAME:VERSION / NAME@ALIAS")
      ->required();
  s->add_option("--input", batch.input,
                "table to score (CSV, JSON Lines, JSON array) or data asset NAME:VERSION")
      ->required();
  s->add_option("--output,-o", batch.output, "output directory")->required();
  s->add_option("--mini-batch-size", batch.mini_batch_size, "rows per mini-batch")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10000000}));
  s->add_option("--max-concurrency", batch.max_concurrency,
                "mini-batches scored in parallel (default: CPU threads)")
      ->check(CLI::Range(1, 256));
  s->add_option("--error-threshold", batch.error_threshold,
                "failed rows tolerated before the job fails (-1: unlimited)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{-1}, int64_t{1} << 62));
  s->add_option("--retries", batch.retries, "extra attempts for a failing mini-batch")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  s->callback([&] { cmd.BatchScore(batch); });
}

}  // namespace cairn
