// `cairn event list|publish`: reading the workspace's event outbox (as
// CloudEvents 1.0, paged by event id, optionally following new ones) and
// publishing an external system's event that event triggers react to.
#pragma once

namespace CLI {
class App;
}

namespace cairn {

struct CliContext;

void AddEventCommands(CLI::App& app, CliContext& ctx);

}  // namespace cairn
