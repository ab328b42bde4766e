// HTTP routes of experiment tracking: MLflow's REST API (service.proto) under
// /api/2.0/mlflow and /ajax-api/2.0/mlflow, the mlflow-artifacts proxy, and
// /get-artifact. Translates JSON <-> entities; all logic is in TrackingService.
#pragma once

namespace httplib {
class Server;
}

namespace cairn {
class TrackingService;

void RegisterTrackingRoutes(httplib::Server& server, TrackingService& tracking);

}  // namespace cairn
