// HTTP routes of the model registry: MLflow's model_registry.proto REST API
// (registered-models/*, model-versions/*) under /api/2.0/mlflow and
// /ajax-api/2.0/mlflow, and the UI's /model-versions/get-artifact download.
// Translates JSON <-> entities; all logic is in RegistryService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
namespace api {
class MlflowRouter;
}
class RegistryService;

// Adds the REST endpoints to `router` (installed by the caller) and the
// artifact download route to `server`.
void RegisterRegistryRoutes(http::Server& server, api::MlflowRouter& router,
                            RegistryService& registry);

}  // namespace cairn
