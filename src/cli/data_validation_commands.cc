// `cairn data schema infer|show` and `cairn data validate`: schemas inferred from a local
// table or a data version (the server's stored statistics), shown as a table, and data
// validated against them with TFDV-named anomalies. Local files are read in the CLI
// process; data versions are validated by the server where their files live.
#include <CLI/CLI.hpp>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli_context.h"
#include "cli/data_commands.h"
#include "data/schema.h"
#include "data/stats_io.h"
#include "data/validate.h"

namespace cairn {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

struct InferArgs {
  std::string target;
  std::string output;
  int threads = 2;
};

struct ShowArgs {
  std::string file;
  bool json = false;
};

struct ValidateArgs {
  std::string target;
  std::string schema;
  std::string reference;
  bool skew = false;
  bool json = false;
  int threads = 2;
};

std::string Num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

void RunInfer(CliContext& ctx, const InferArgs& args) {
  std::optional<data::Schema> schema;
  if (IsDataRef(args.target)) {
    auto r = SendDataRequest(ctx, "data/schema/infer", Json{{"ref", args.target}});
    if (!r) return;
    auto parsed = data::ParseSchema(r->value("schema", Json::object()).dump(), "server schema");
    if (!parsed.ok())
      return ctx.Fail(kRefused, ErrorCodeName(parsed.status().code()), parsed.status().message());
    schema = std::move(*parsed);
  } else {
    data::StatsOptions options = data::SchemaStatsOptions();
    options.threads = args.threads;
    auto stats = ComputeLocalStats(ctx, args.target, options);
    if (!stats) return;
    schema = data::InferSchema(*stats);
  }
  if (args.output.empty()) {
    if (ctx.json) return ctx.Emit(data::SchemaToJson(*schema));
    std::cout << data::SchemaToYaml(*schema);
    return;
  }
  if (Status st = data::SaveSchemaFile(*schema, args.output); !st.ok()) return ctx.FailLocal(st);
  if (ctx.json) {
    return ctx.Emit(Json{{"path", args.output}, {"features", schema->features.size()}});
  }
  std::cout << "wrote the schema of " << schema->features.size() << " features to " << args.output
            << "\n";
}

std::string Bounds(const data::FeatureSchema& f) {
  std::string out;
  if (f.min) out += ">= " + Num(*f.min);
  if (f.max) out += std::string(out.empty() ? "" : ", ") + "<= " + Num(*f.max);
  if (f.type == data::FeatureType::kFloat) {
    if (!f.allow_nan) out += std::string(out.empty() ? "" : ", ") + "no NaN";
    if (!f.allow_inf) out += std::string(out.empty() ? "" : ", ") + "no inf";
  }
  return out.empty() ? "-" : out;
}

std::string Domain(const data::FeatureSchema& f) {
  if (f.bool_domain) return f.bool_domain->true_value + "/" + f.bool_domain->false_value;
  if (!f.domain) return "-";
  std::string out;
  for (size_t i = 0; i < f.domain->size() && i < 5; ++i) out += (i ? ", " : "") + (*f.domain)[i];
  if (f.domain->size() > 5) out += ", ... (" + std::to_string(f.domain->size()) + " values)";
  return out;
}

std::string Comparators(const data::FeatureSchema& f) {
  std::string out;
  auto add = [&out](const char* role, const data::Comparator& c) {
    if (c.l_infinity)
      out += std::string(out.empty() ? "" : ", ") + role + " linf " + Num(*c.l_infinity);
    if (c.jensen_shannon) {
      out += std::string(out.empty() ? "" : ", ") + role + " js " + Num(*c.jensen_shannon);
    }
  };
  add("drift", f.drift_comparator);
  add("skew", f.skew_comparator);
  return out.empty() ? "-" : out;
}

void RunShow(CliContext& ctx, const ShowArgs& args) {
  ctx.json = ctx.json || args.json;
  auto schema = data::LoadSchemaFile(args.file);
  if (!schema.ok()) return ctx.FailLocal(schema.status());
  if (ctx.json) return ctx.Emit(data::SchemaToJson(*schema));
  std::cout << args.file << ": " << schema->features.size() << " features";
  if (schema->min_examples) std::cout << ", at least " << *schema->min_examples << " examples";
  if (schema->max_examples) std::cout << ", at most " << *schema->max_examples << " examples";
  std::cout << "\n";
  std::vector<std::vector<std::string>> rows;
  for (const auto& f : schema->features) {
    std::string presence = f.min_fraction >= 1  ? "required"
                           : f.min_fraction > 0 ? ">= " + Num(f.min_fraction * 100) + "%"
                                                : "optional";
    std::string unique;
    if (f.unique_min) unique += ">= " + std::to_string(*f.unique_min);
    if (f.unique_max)
      unique += (unique.empty() ? "" : ", ") + ("<= " + std::to_string(*f.unique_max));
    rows.push_back({f.name, data::FeatureTypeName(f.type), presence, Domain(f), Bounds(f),
                    unique.empty() ? "-" : unique, Comparators(f)});
  }
  PrintTable({"FEATURE", "TYPE", "PRESENCE", "DOMAIN", "BOUNDS", "UNIQUE", "COMPARATORS"}, rows);
}

// The report as a table: severity, feature and type aligned, the description in full.
void PrintReport(const std::string& what, const Json& report) {
  const Json& anomalies = report["anomalies"];
  std::cout << what << ": ";
  if (anomalies.empty()) {
    std::cout << "no anomalies\n";
    return;
  }
  std::cout << anomalies.size() << " anomalies (" << report.value("errors", 0) << " errors, "
            << report.value("warnings", 0) << " warnings)\n";
  std::vector<std::vector<std::string>> rows = {{"SEVERITY", "FEATURE", "ANOMALY", "DESCRIPTION"}};
  for (const Json& a : anomalies) {
    std::string feature = a.value("feature", "");
    rows.push_back({a.value("severity", ""), feature.empty() ? "(dataset)" : feature,
                    a.value("type", ""), a.value("description", "")});
  }
  size_t w[3] = {0, 0, 0};
  for (const auto& r : rows) {
    for (int i = 0; i < 3; ++i) w[i] = std::max(w[i], r[i].size());
  }
  for (const auto& r : rows) {
    for (int i = 0; i < 3; ++i) std::cout << r[i] << std::string(w[i] - r[i].size() + 2, ' ');
    std::cout << r[3] << "\n";
  }
}

// A reference given as a file: statistics JSON (cairn.stats/1) when it parses as such,
// otherwise a table whose statistics are computed here.
std::optional<data::DatasetStats> LocalReference(CliContext& ctx, const std::string& path,
                                                 int threads) {
  std::error_code ec;
  if (fs::is_regular_file(path, ec) && fs::path(path).extension() == ".json") {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream buf;
    buf << in.rdbuf();
    Json j = Json::parse(buf.str(), nullptr, false);
    if (j.is_object() && j.contains("format")) {
      auto stats = data::StatsFromJson(j);
      if (!stats.ok()) {
        ctx.FailLocal(InvalidParameter(path + ": " + stats.status().message()));
        return std::nullopt;
      }
      return std::move(*stats);
    }
  }
  data::StatsOptions options = data::SchemaStatsOptions();
  options.threads = threads;
  return ComputeLocalStats(ctx, path, options);
}

void RunValidate(CliContext& ctx, const ValidateArgs& args) {
  ctx.json = ctx.json || args.json;
  auto schema = data::LoadSchemaFile(args.schema);
  if (!schema.ok()) return ctx.FailLocal(schema.status());
  data::ValidateOptions options;
  options.role = args.skew ? data::ReferenceRole::kSkew : data::ReferenceRole::kDrift;
  const bool remote_reference = !args.reference.empty() && IsDataRef(args.reference);
  std::optional<data::DatasetStats> reference;
  Json report;
  if (IsDataRef(args.target)) {
    Json body = {{"ref", args.target},
                 {"schema", data::SchemaToJson(*schema)},
                 {"role", args.skew ? "skew" : "drift"}};
    if (remote_reference) {
      body["reference"] = {{"ref", args.reference}};
    } else if (!args.reference.empty()) {
      reference = LocalReference(ctx, args.reference, args.threads);
      if (!reference) return;
      body["reference_stats"] = data::StatsToJson(*reference);
    }
    auto r = SendDataRequest(ctx, "data/validate", body);
    if (!r) return;
    report = std::move(*r);
  } else {
    if (remote_reference) {
      reference = FetchDataStats(ctx, args.reference);
      if (!reference) return;
    } else if (!args.reference.empty()) {
      reference = LocalReference(ctx, args.reference, args.threads);
      if (!reference) return;
    }
    data::StatsOptions stats_options = data::SchemaStatsOptions();
    stats_options.threads = args.threads;
    auto stats = ComputeLocalStats(ctx, args.target, stats_options);
    if (!stats) return;
    auto validated = data::ValidateTable(*stats, args.target, {}, *schema,
                                         reference ? &*reference : nullptr, options);
    if (!validated.ok()) return ctx.FailLocal(validated.status());
    report = data::ValidationToJson(*validated);
  }
  // Error-severity anomalies refuse the data, so a pipeline step can gate on the exit code.
  if (report.value("errors", 0) > 0) ctx.exit = kRefused;
  if (ctx.json) return ctx.Emit(report);
  PrintReport(args.target + " against " + args.schema, report);
}

}  // namespace

void AddDataValidationCommands(CLI::App* data, CliContext& ctx) {
  static InferArgs infer_args;
  static ShowArgs show_args;
  static ValidateArgs validate_args;

  auto* schema = data->add_subcommand("schema", "data schemas (docs/data-validation.md)");
  schema->require_subcommand(1);
  auto* infer = schema->add_subcommand(
      "infer", "infer a schema from a table file or a data version, the way TFDV does");
  infer
      ->add_option("target", infer_args.target,
                   "CSV / JSON Lines / JSON file, or a data version name:version or name@latest")
      ->required();
  infer->add_option("-o,--output", infer_args.output,
                    "write the schema here (.yml/.yaml: YAML, .json: JSON); stdout without it");
  infer->add_option("--threads", infer_args.threads, "worker threads (local files)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  infer->callback([&ctx] { RunInfer(ctx, infer_args); });

  auto* show = schema->add_subcommand("show", "print a schema file as a table");
  show->add_option("file", show_args.file, "schema file (.yml, .yaml or .json)")->required();
  show->add_flag("--json", show_args.json, "print the schema as JSON");
  show->callback([&ctx] { RunShow(ctx, show_args); });

  auto* validate = data->add_subcommand(
      "validate",
      "check a table file or a data version against a schema (exit 0 clean or warnings only, "
      "1 error anomalies, 2 usage or input error)");
  validate
      ->add_option("target", validate_args.target,
                   "CSV / JSON Lines / JSON file, or a data version name:version or name@latest")
      ->required();
  validate->add_option("--schema", validate_args.schema, "schema file (.yml, .yaml or .json)")
      ->required();
  validate->add_option("--reference", validate_args.reference,
                       "reference for the comparators: a table file, statistics JSON from "
                       "`cairn data stats --json`, or a data version");
  validate->add_flag("--skew", validate_args.skew,
                     "apply the skew comparators (training vs serving) instead of the drift ones");
  validate->add_flag("--json", validate_args.json, "print the anomalies as JSON");
  validate->add_option("--threads", validate_args.threads, "worker threads (local files)")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  validate->callback([&ctx] { RunValidate(ctx, validate_args); });
}

}  // namespace cairn
