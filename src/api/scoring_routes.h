// api/scoring_routes.h: the HTTP face of the serving data plane, on the
// server's own port: the Open Inference Protocol (KServe V2) under /v2/,
// MLflow's /endpoints/{e}/invocations, Azure ML's /endpoints/{e}/score, and
// Prometheus' GET /metrics. Handlers only read headers and hand the body to
// serving::Router (see docs/api.md "Scoring").
#pragma once

#include "api/http.h"

namespace cairn::serving {
class Router;
}

namespace cairn {

void RegisterScoringRoutes(http::Server& server, serving::Router& router);

}  // namespace cairn
