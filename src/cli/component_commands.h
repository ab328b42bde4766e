// CLI for Cairn's built-in pipeline components and batch scoring:
// `cairn component train | evaluate | register` (XGBoost through ml/, MLflow
// logging to the run in MLFLOW_RUN_ID when MLFLOW_TRACKING_URI is set) and
// `cairn batch score`. Single-threaded except batch scoring's worker threads.
// Registered components (`cairn component create | list | show`) are in
// job_commands.cc.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddComponentCommands(CLI::App& app, CliContext& ctx);

// The `cairn component` group, created by whichever command file registers
// first (the built-ins here; create/list/show of registered components in
// job_commands.cc).
CLI::App* ComponentGroup(CLI::App& app);

}  // namespace cairn
