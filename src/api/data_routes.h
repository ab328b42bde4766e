// HTTP routes for data statistics, schema inference and validation of stored data
// versions under /api/2.0/cairn/data/ (docs/api.md, "Data validation").
#pragma once

namespace cairn {
namespace http {
class Server;
}
class DataStatsService;

void RegisterDataRoutes(http::Server& server, DataStatsService& service);

}  // namespace cairn
