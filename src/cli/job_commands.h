// CLI commands for pipelines: `cairn job` (create from Azure ML job YAML,
// list, show, stream, cancel, download), `cairn compute` and
// `cairn schedule validate`. Included by src/cli/cli.cc only.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddJobCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
