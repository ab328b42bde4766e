// `cairn data stats`: per-feature statistics of a local table file or of a
// data version (downloaded to a temporary folder), computed in the CLI
// process. Included by src/cli/*.cc only.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

// Adds `stats` under the `data` command.
void AddDataStatsCommand(CLI::App* data, CliContext& ctx);

}  // namespace cairn
