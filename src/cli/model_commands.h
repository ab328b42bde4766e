// CLI commands for registered models the Azure ML way: `cairn model create |
// list | show | download | archive | compare | promote`. Folders are uploaded
// through the content-addressed blob protocol (as `cairn data create`), then
// registered as a model version; `compare` is the champion/challenger gate
// (exit 0 win, 1 lose, 2 error). Single-threaded, like the whole CLI.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddModelCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
