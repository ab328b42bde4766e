// HTTP routes of the serving control plane under /api/2.0/cairn/:
// endpoints/{create,update,get,list,delete,regenerate-keys,get-credentials,
// rollback,history} and deployments/{create,update,get,list,delete,get-logs}.
// JSON bodies mirror Azure ML's endpoint and deployment YAML fields.
// Translates JSON <-> values; all logic is in serving::EndpointService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
namespace serving {
class EndpointService;
}

void RegisterEndpointRoutes(http::Server& server, serving::EndpointService& endpoints);

}  // namespace cairn
