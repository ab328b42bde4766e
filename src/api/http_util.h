// Shared glue between the HTTP server and the API handlers: the one ErrorCode ->
// HTTP status table, MLflow-shaped error bodies, and route registration for
// both the /api and /ajax-api prefixes. Included by api/*.cc only (pulls JSON).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "api/http.h"
#include "api/json_args.h"
#include "core/status.h"

namespace cairn {
class ArtifactStore;
}

namespace cairn::api {

int HttpStatusFor(ErrorCode code);
void WriteError(http::Response& res, const Status& status);
void WriteJson(http::Response& res, const Json& body);
// Streams the artifact at `store_path` (verified first, bounded memory) as a
// download named after the last segment of `display_path`.
void SendArtifact(http::Response& res, ArtifactStore& store, const std::string& store_path,
                  const std::string& display_path);

// Deepest nesting of arrays/objects in a JSON text (strings skipped); requests
// nesting deeper than kMaxJsonDepth are refused before parsing.
inline constexpr size_t kMaxJsonDepth = 64;
size_t MaxJsonDepth(std::string_view text);

// Arguments of a request: the JSON body (POST/PATCH/DELETE with a body) or the
// query string (GET). Malformed JSON yields a BAD_REQUEST status in `args`.
Args ParseArgs(const http::Request& req);

using JsonHandler = std::function<Result<Json>(Args&)>;

// JSON routes under path prefixes: by default MLflow's, served at
// "/api/2.0/mlflow/<path>" and "/ajax-api/2.0/mlflow/<path>"; Cairn's own API
// uses {"/api/2.0/cairn/"}. Exact routes registered on the server win over it.
class MlflowRouter {
 public:
  MlflowRouter() = default;
  explicit MlflowRouter(std::vector<std::string> prefixes) : prefixes_(std::move(prefixes)) {}
  void Add(const char* method, const std::string& path, JsonHandler handler);
  // Registers the dispatchers; the route table is shared with them, so routes
  // may be added until the server starts.
  void Install(http::Server& server);

 private:
  std::vector<std::string> prefixes_ = {"/api/2.0/mlflow/", "/ajax-api/2.0/mlflow/"};
  std::shared_ptr<std::unordered_map<std::string, JsonHandler>> table_ =
      std::make_shared<std::unordered_map<std::string, JsonHandler>>();
};

}  // namespace cairn::api
