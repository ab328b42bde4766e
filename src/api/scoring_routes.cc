// api/scoring_routes.cc: scoring and metrics routes (see scoring_routes.h).
#include "api/scoring_routes.h"

#include <string>
#include <string_view>

#include "core/version.h"
#include "serving/router.h"

namespace cairn {
namespace {

using serving::Protocol;

void Write(http::Response& res, serving::ScoreResponse&& r) {
  res.status = r.status;
  res.set_content(std::move(r.body), std::move(r.content_type));
  if (!r.deployment.empty()) res.set_header("azureml-model-deployment", r.deployment);
  if (!r.request_id.empty()) res.set_header("x-request-id", r.request_id);
}

void WriteV2Error(http::Response& res, int status, const std::string& message) {
  serving::ScoreResponse r;
  r.status = status;
  r.body = serving::FormatScoringError(Protocol::kV2, ErrorCode::kEndpointNotFound, message);
  Write(res, std::move(r));
}

// "a/b/c" -> segments; false when any is empty.
bool Split(std::string_view path, std::vector<std::string_view>& out) {
  out.clear();
  while (true) {
    size_t slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (seg.empty()) return false;
    out.push_back(seg);
    if (slash == std::string_view::npos) return true;
    path.remove_prefix(slash + 1);
  }
}

std::string_view RequestId(const http::Request& req) {
  const std::string& id = req.get_header("x-request-id");
  return id.empty() ? std::string_view(req.get_header("x-ms-client-request-id")) : id;
}

std::string_view DeploymentHeader(const http::Request& req) {
  const std::string& d = req.get_header("cairn-model-deployment");
  return d.empty() ? std::string_view(req.get_header("azureml-model-deployment")) : d;
}

void Score(serving::Router& router, const http::Request& req, http::Response& res,
           Protocol protocol, std::string_view endpoint, std::string_view pinned) {
  serving::ScoreCall call;
  call.protocol = protocol;
  call.endpoint = endpoint;
  call.deployment = pinned.empty() ? DeploymentHeader(req) : pinned;
  call.authorization = req.get_header("authorization");
  call.content_type = req.get_header("content-type");
  call.body = req.body;
  call.request_id = RequestId(req);
  Write(res, router.Score(call));
}

}  // namespace

void RegisterScoringRoutes(http::Server& server, serving::Router& router) {
  server.Route("GET", "/v2", [](const http::Request&, http::Response& res) {
    res.set_content(
        std::string(R"({"name":"cairn","version":")") + kVersion + R"(","extensions":[]})",
        "application/json");
  });
  server.Route("GET", "/v2/health/live", [](const http::Request&, http::Response& res) {
    res.set_content(R"({"live":true})", "application/json");
  });
  server.Route("GET", "/v2/health/ready", [&router](const http::Request&, http::Response& res) {
    bool ready = router.Ready();
    res.status = ready ? 200 : 503;
    res.set_content(ready ? R"({"ready":true})" : R"({"ready":false})", "application/json");
  });
  // GET /v2/models/{e}[/versions/{d}][/ready]
  server.PrefixRoute("GET", "/v2/models/",
                     [&router](const http::Request& req, http::Response& res) {
                       std::vector<std::string_view> s;
                       if (!Split(req.match, s))
                         return WriteV2Error(res, 404, "no such V2 route: " + req.path);
                       bool ready = s.back() == "ready";
                       if (ready) s.pop_back();
                       std::string_view deployment;
                       if (s.size() == 3 && s[1] == "versions") {
                         deployment = s[2];
                       } else if (s.size() != 1) {
                         return WriteV2Error(res, 404, "no such V2 route: " + req.path);
                       }
                       auto auth = req.get_header("authorization");
                       Write(res, ready ? router.ModelReady(s[0], deployment, auth)
                                        : router.ModelMetadata(s[0], deployment, auth));
                     });
  // POST /v2/models/{e}[/versions/{d}]/infer
  server.PrefixRoute(
      "POST", "/v2/models/", [&router](const http::Request& req, http::Response& res) {
        std::vector<std::string_view> s;
        if (!Split(req.match, s) || s.back() != "infer" || (s.size() != 2 && s.size() != 4) ||
            (s.size() == 4 && s[1] != "versions")) {
          return WriteV2Error(res, 404,
                              "no such V2 route: " + req.path +
                                  " (POST /v2/models/{endpoint}[/versions/{deployment}]/infer)");
        }
        Score(router, req, res, Protocol::kV2, s[0], s.size() == 4 ? s[2] : std::string_view());
      });
  // POST /endpoints/{e}/invocations (MLflow) and /endpoints/{e}/score (Azure ML)
  server.PrefixRoute(
      "POST", "/endpoints/", [&router](const http::Request& req, http::Response& res) {
        std::vector<std::string_view> s;
        if (Split(req.match, s) && s.size() == 2) {
          if (s[1] == "invocations") return Score(router, req, res, Protocol::kMlflow, s[0], {});
          if (s[1] == "score") return Score(router, req, res, Protocol::kAzure, s[0], {});
        }
        serving::ScoreResponse r;
        r.status = 404;
        r.body = serving::FormatScoringError(
            Protocol::kMlflow, ErrorCode::kEndpointNotFound,
            "no scoring route " + req.path +
                " (POST /endpoints/{endpoint}/invocations or /endpoints/{endpoint}/score)");
        Write(res, std::move(r));
      });
  server.Route("GET", "/metrics", [&router](const http::Request&, http::Response& res) {
    res.set_content(router.MetricsText(), "text/plain; version=0.0.4");
  });
}

}  // namespace cairn
