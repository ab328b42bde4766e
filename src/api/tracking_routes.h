// HTTP routes of experiment tracking: MLflow's REST API (service.proto) under
// /api/2.0/mlflow and /ajax-api/2.0/mlflow, the mlflow-artifacts proxy, and
// /get-artifact. Translates JSON <-> entities; all logic is in TrackingService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
class TrackingService;

void RegisterTrackingRoutes(http::Server& server, TrackingService& tracking);

}  // namespace cairn
