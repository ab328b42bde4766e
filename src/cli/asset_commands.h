// CLI commands for versioned assets: `cairn data`, `cairn code`, `cairn
// environment`, `cairn datastore` and `cairn lineage`. Local files are hashed
// here (with a hash cache), only blobs the server lacks are uploaded, then the
// version is registered by its manifest.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddAssetCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
