// CLI for Cairn's built-in pipeline components and batch scoring:
// `cairn component train | evaluate | register` (XGBoost through ml/, MLflow
// logging to the run in MLFLOW_RUN_ID when MLFLOW_TRACKING_URI is set) and
// `cairn batch score`. Single-threaded except batch scoring's worker threads.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddComponentCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
