// `cairn data compare A B [--html report.html] [--json]`: both sides' statistics and the
// drift metrics of each feature (data/compare.h), computed in the CLI process. A and B are
// table files or data versions (cli/data_ref.h); A is the reference, B the current data.
#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "cli/cli_context.h"
#include "cli/data_commands.h"
#include "cli/data_ref.h"
#include "core/fs.h"
#include "data/compare.h"

namespace cairn {
namespace {

struct CompareArgs {
  std::string a, b;
  std::string html;
  bool json = false;
  int threads = 2;
  int64_t max_sample = 10000;
  int top = 10;
  int max_categories = 100000;
};

void RunCompare(CliContext& ctx, const CompareArgs& args) {
  const bool json = args.json || ctx.json;
  ctx.json = json;  // errors print as JSON too
  std::optional<TempDir> temp_a, temp_b;
  auto a = ResolveTable(ctx, args.a, &temp_a, "compare");
  if (!a) return;
  auto b = ResolveTable(ctx, args.b, &temp_b, "compare");
  if (!b) return;
  auto reader_a = data::TableReader::Open(a->file);
  if (!reader_a.ok()) return ctx.FailLocal(reader_a.status());
  auto reader_b = data::TableReader::Open(b->file);
  if (!reader_b.ok()) return ctx.FailLocal(reader_b.status());
  data::CompareOptions options;
  options.stats.threads = args.threads;
  options.max_sample = args.max_sample;
  options.shown_values = args.top;
  options.max_categories = args.max_categories;
  auto report = data::CompareTables(**reader_a, **reader_b, options);
  if (!report.ok()) return ctx.FailLocal(report.status());
  report->a_name = a->source;
  report->b_name = b->source;
  if (!args.html.empty()) {
    Status st = AtomicWriteFile(args.html, data::CompareHtml(*report));
    if (!st.ok()) {
      return ctx.FailLocal(
          Status(st.code(), "cannot write the HTML report " + args.html + ": " + st.message()));
    }
  }
  if (json) return ctx.Emit(data::CompareToJson(*report));
  std::cout << data::CompareText(*report);
  if (!args.html.empty()) std::cout << "\nwrote " << args.html << "\n";
}

}  // namespace

void AddDataCompareCommand(CLI::App* data, CliContext& ctx) {
  static CompareArgs args;  // CLI11 keeps pointers into it while the app parses
  auto* cmd = data->add_subcommand(
      "compare",
      "side-by-side statistics and drift metrics of two tables (A reference, B current)");
  cmd->add_option("a", args.a, "reference: table file, or data version name:version / name@latest")
      ->required();
  cmd->add_option("b", args.b, "current: table file, or data version name:version / name@latest")
      ->required();
  cmd->add_option("--html", args.html,
                  "also write a self-contained HTML report (histograms per feature) to this file");
  cmd->add_flag("--json", args.json, "print the comparison as JSON (format cairn.compare/1)");
  cmd->add_option("--threads", args.threads, "statistics worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  cmd->add_option("--max-sample", args.max_sample,
                  "values per numeric column kept for KS and Wasserstein (a systematic sample "
                  "beyond)")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000}));
  cmd->add_option("--top", args.top, "most frequent values shown per categorical feature")
      ->capture_default_str()
      ->check(CLI::Range(0, 1000));
  cmd->add_option("--max-categories", args.max_categories,
                  "categories counted per categorical feature and side; the rest pooled")
      ->capture_default_str()
      ->check(CLI::Range(1, 10'000'000));
  cmd->callback([&ctx] { RunCompare(ctx, args); });
}

}  // namespace cairn
