// `cairn data stats` and `cairn data compare`: per-feature statistics of a local table file or
// of a data version (downloaded to a temporary folder), and the comparison of two, computed in
// the CLI process. Included by src/cli/*.cc only.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

// Adds `stats` (and, through AddDataCompareCommand, `compare`) under the `data` command.
void AddDataStatsCommand(CLI::App* data, CliContext& ctx);

// Adds `compare` under the `data` command (data_compare_command.cc).
void AddDataCompareCommand(CLI::App* data, CliContext& ctx);

}  // namespace cairn
