// CLI commands for registered models the Azure ML way: `cairn model create |
// list | show | download | archive | compare | promote`. Folders are uploaded
// through the content-addressed blob protocol (as `cairn data create`), then
// registered as a model version; `compare` is the champion/challenger gate
// (exit 0 win, 1 lose, 2 error). Single-threaded, like the whole CLI.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "core/status.h"
#include "registry/model_gate.h"

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddModelCommands(CLI::App& app, CliContext& ctx);

// A model version to register (the fields of `cairn model create`).
struct ModelSpec {
  std::string name, version, path, type, description, run, artifact_path, parent;
  std::map<std::string, std::string> tags;
};

// What `cairn model create` does: uploads `path` (when set) and registers it
// as a new version; `run` alone points at the run's artifacts, and with `path`
// it is recorded as the version's source run. Errors are printed through ctx
// (exit code set); returns the server's {"model_version": ...} on success.
std::optional<nlohmann::json> CreateModelVersion(CliContext& ctx, const ModelSpec& spec,
                                                 bool converted, bool quantized);

// What `cairn model download` does: a version (NAME:VERSION or NAME@ALIAS)
// into `out_dir` (default ./<name>-<version>). Errors printed through ctx.
struct DownloadedModel {
  std::string name, version, run_id, path;
  int64_t files = 0;
};
std::optional<DownloadedModel> DownloadModelVersion(CliContext& ctx, const std::string& ref,
                                                    const std::string& out_dir);

// What `cairn model promote` does: points `alias` at name:version, recording
// `reason`. Errors printed through ctx; returns the previous version ("" if unset).
std::optional<std::string> SetModelAlias(CliContext& ctx, const std::string& name,
                                         const std::string& version, const std::string& alias,
                                         const std::string& reason);

// What `cairn model compare` decides, without printing.
struct ModelGateOutcome {
  GateRequest request;
  GateDecision decision;
  std::string candidate_run, champion_run;
};
Result<ModelGateOutcome> RunModelGate(CliContext& ctx, const std::string& candidate,
                                      const std::string& against, const std::string& metric,
                                      bool lower_is_better, double min_delta,
                                      bool allow_no_champion);

}  // namespace cairn
