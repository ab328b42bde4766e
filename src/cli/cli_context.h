// What every CLI command shares: the server URL, --json, the exit code, one way
// to send a request and print its error, and the table/time formatting of the
// human-readable output. Included by src/cli/*.cc only (pulls nlohmann/json).
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace cairn {

enum Exit { kOk = 0, kRefused = 1, kUsage = 2, kUnreachable = 3 };

// Where Cairn's own routes live (MLflow's are under /api/2.0/mlflow/).
inline constexpr const char* kCairnApi = "/api/2.0/cairn/";

struct CliContext {
  using Json = nlohmann::json;
  std::string server;
  bool json = false;
  int exit = kOk;

  // Sends a request to `path` ("/api/2.0/..."): GET args go in the query
  // string, anything else as a JSON body. On failure prints the error (as JSON
  // with --json), sets the exit code and returns nullopt.
  std::optional<Json> Send(const std::string& method, const std::string& path, const Json& args);
  // Prints a failure that happened on this side (usage, local files).
  void Fail(int code, const std::string& error_code, const std::string& message);
  // A local failure as a Status: unreachable server -> 3, bad input or a
  // missing local file -> 2 (usage), anything else -> 1.
  void FailLocal(const Status& st);
  void Emit(const Json& j) const;
};

// Rows as an aligned table with a header; "(none)" when empty.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows);
std::string FormatTime(const nlohmann::json& ms);
std::string FormatValue(const nlohmann::json& v);
std::string FormatBytes(int64_t bytes);

}  // namespace cairn
