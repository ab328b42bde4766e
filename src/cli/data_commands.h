// `cairn data stats` and the helpers the data commands share: telling a data
// version reference from a local file, statistics of a local file (computed in
// the CLI process) and of a data version (computed once by the server and stored
// with the version). Included by src/cli/*.cc only.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "data/stats.h"

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

// Adds `stats` under the `data` command (and the validation and compare commands with it).
void AddDataStatsCommand(CLI::App* data, CliContext& ctx);
// Adds `schema infer`, `schema show` and `validate` (data_validation_commands.cc).
void AddDataValidationCommands(CLI::App* data, CliContext& ctx);

// True when `target` is not an existing path and looks like name:version or name@latest.
bool IsDataRef(const std::string& target);
// POSTs `body` to /api/2.0/cairn/<route>. On failure prints the error and sets the exit code:
// 2 for INVALID_PARAMETER_VALUE (bad input), 3 unreachable, 1 otherwise.
std::optional<nlohmann::json> SendDataRequest(CliContext& ctx, const std::string& route,
                                              const nlohmann::json& body);
// The stored statistics of data version `ref` (the server computes them on first use).
std::optional<data::DatasetStats> FetchDataStats(CliContext& ctx, const std::string& ref);
// Statistics of a local table file; a missing file or bad input fails with exit 2.
std::optional<data::DatasetStats> ComputeLocalStats(CliContext& ctx, const std::string& file,
                                                    const data::StatsOptions& options);

// Adds `compare` under the `data` command (data_compare_command.cc).
void AddDataCompareCommand(CLI::App* data, CliContext& ctx);

}  // namespace cairn
