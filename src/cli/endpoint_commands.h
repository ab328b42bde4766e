// CLI commands of the serving control plane, Azure ML style: `cairn endpoint
// create|update|show|list|delete|invoke|get-logs|get-credentials|
// regenerate-keys|rollback` and `cairn deployment create|update|show|list|
// delete|get-logs`. Endpoint and deployment YAML files (Azure ML's
// managed-online schema) are parsed here with yaml-cpp, with file:line:column
// errors, and sent as JSON; local model folders are registered as model
// versions and local code folders snapshotted as code assets first.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddEndpointCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
