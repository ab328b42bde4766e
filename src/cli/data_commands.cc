#include "cli/data_commands.h"

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "cli/cli_context.h"
#include "cli/data_ref.h"
#include "data/stats.h"

namespace cairn {
namespace {

struct StatsArgs {
  std::string target;
  bool json = false;
  int threads = 2;
  int top_k = 20;
  int64_t budget = 10'000'000;
};

void RunStats(CliContext& ctx, const StatsArgs& args) {
  const bool json = args.json || ctx.json;
  ctx.json = json;  // errors print as JSON too
  std::optional<TempDir> temp;
  auto table = ResolveTable(ctx, args.target, &temp, "stats");
  if (!table) return;
  auto reader = data::TableReader::Open(table->file);
  if (!reader.ok()) return ctx.FailLocal(reader.status());
  data::StatsOptions options;
  options.threads = args.threads;
  options.top_k = args.top_k;
  options.exact_budget_values = args.budget;
  auto stats = data::ComputeStats(**reader, options);
  if (!stats.ok()) return ctx.FailLocal(stats.status());
  stats->source = table->source;
  if (json) return ctx.Emit(data::StatsToJson(*stats));
  std::cout << data::StatsTable(*stats);
}

}  // namespace

void AddDataStatsCommand(CLI::App* data, CliContext& ctx) {
  static StatsArgs args;  // CLI11 keeps pointers into it while the app parses
  auto* stats = data->add_subcommand(
      "stats", "per-feature statistics of a table file or a data version (computed locally)");
  stats
      ->add_option("target", args.target,
                   "CSV / JSON Lines / JSON file, or a data version name:version or name@latest")
      ->required();
  stats->add_flag("--json", args.json, "print the statistics as JSON (format cairn.stats/1)");
  stats->add_option("--threads", args.threads, "worker threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 256));
  stats->add_option("--top-k", args.top_k, "most frequent values shown per string feature")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  stats
      ->add_option("--exact-budget", args.budget,
                   "values per column kept for exact statistics; sketches beyond")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40));
  stats->callback([&ctx] { RunStats(ctx, args); });
  AddDataCompareCommand(data, ctx);  // data_compare_command.cc
}

}  // namespace cairn
