// HTTP routes of versioned assets under /api/2.0/cairn/: content-addressed
// blob upload, data versions, code snapshots, environments, datastores and
// lineage. Translates JSON <-> entities; all logic is in AssetService.
#pragma once

namespace cairn {
namespace http {
class Server;
}
class AssetService;

void RegisterAssetRoutes(http::Server& server, AssetService& assets);

}  // namespace cairn
