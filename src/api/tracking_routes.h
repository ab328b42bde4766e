// HTTP routes of experiment tracking: MLflow's REST API (service.proto) under
// /api/2.0/mlflow and /ajax-api/2.0/mlflow, the mlflow-artifacts proxy, and
// /get-artifact. Translates JSON <-> entities; all logic is in TrackingService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
namespace api {
class MlflowRouter;
}
class TrackingService;

// Adds the REST endpoints to `router` (installed by the caller, once, after
// every module added its endpoints) and the artifact routes to `server`.
void RegisterTrackingRoutes(http::Server& server, api::MlflowRouter& router,
                            TrackingService& tracking);

}  // namespace cairn
