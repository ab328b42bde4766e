// cli/event_commands.cc: see event_commands.h. Routes: GET events/list,
// POST events/publish (docs/api.md, "Events").
#include "cli/event_commands.h"

#include <CLI/CLI.hpp>

#include <chrono>
#include <iostream>
#include <thread>

#include "cli/cli_context.h"

namespace cairn {
namespace {

using Json = nlohmann::json;

std::string Str(const Json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

struct EventArgs {
  std::string type;
  int64_t after = 0;
  int64_t max_results = 100;
  bool follow = false;
  std::string subject;
  std::string data = "{}";
};

// One line per event: id, time, type, subject and the data on one line.
void PrintEvents(const Json& events, bool header) {
  std::vector<std::vector<std::string>> rows;
  for (const auto& e : events) {
    rows.push_back({Str(e, "id"), Str(e, "time"), Str(e, "type"), Str(e, "subject"),
                    e.value("data", Json::object()).dump()});
  }
  if (header || !rows.empty()) PrintTable({"ID", "TIME", "TYPE", "SUBJECT", "DATA"}, rows);
}

void List(CliContext& ctx, const EventArgs& args) {
  int64_t after = args.after;
  bool first = true;
  for (;;) {
    Json query = {{"after_id", after}, {"max_results", args.max_results}};
    if (!args.type.empty()) query["type"] = args.type;
    auto r = ctx.Send("GET", std::string(kCairnApi) + "events/list", query);
    if (!r) return;
    const Json events = r->value("events", Json::array());
    after = r->value("next_after_id", after);
    if (!args.follow) {
      if (ctx.json) return ctx.Emit(*r);
      PrintEvents(events, true);
      if (static_cast<int64_t>(events.size()) == args.max_results) {
        std::cout << "more: cairn event list --after " << after << "\n";
      }
      return;
    }
    // --follow: JSON Lines (one CloudEvent per line) or table rows, as they come.
    if (ctx.json) {
      for (const auto& e : events) std::cout << e.dump() << "\n";
    } else {
      PrintEvents(events, first);
    }
    std::cout.flush();
    first = false;
    if (static_cast<int64_t>(events.size()) < args.max_results) {
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  }
}

void Publish(CliContext& ctx, const EventArgs& args) {
  Json data = Json::parse(args.data, nullptr, false);
  if (data.is_discarded() || !data.is_object()) {
    return ctx.Fail(kUsage, "INVALID_PARAMETER_VALUE",
                    "--data must be a JSON object, e.g. '{\"feature\": \"delay\"}'");
  }
  auto r = ctx.Send("POST", std::string(kCairnApi) + "events/publish",
                    {{"type", args.type}, {"subject", args.subject}, {"data", data}});
  if (!r) return;
  if (ctx.json) return ctx.Emit(*r);
  const Json& e = (*r)["event"];
  std::cout << "published event " << Str(e, "event_id") << " (" << Str(e, "type") << ")\n";
}

}  // namespace

void AddEventCommands(CLI::App& app, CliContext& ctx) {
  static EventArgs args;
  auto* event = app.add_subcommand("event", "the workspace's event outbox (CloudEvents 1.0)")
                    ->require_subcommand(1);
  auto* list = event->add_subcommand(
      "list", "events after an id, oldest first (Model*, Run*, Job*, Deployment*, published)");
  list->add_option("--type", args.type, "only events of this type, e.g. ModelRegistered");
  list->add_option("--after", args.after,
                   "only events with a larger id (default 0: from the start)")
      ->check(CLI::NonNegativeNumber);
  list->add_option("--max-results", args.max_results, "events per page (1..1000)")
      ->check(CLI::Range(1, 1000));
  list->add_flag("--follow,-f", args.follow,
                 "keep printing new events as they are written (JSON Lines with --json)");
  list->callback([&] { List(ctx, args); });
  auto* publish = event->add_subcommand(
      "publish", "publish an external event (schedules with an event trigger react to it)");
  publish->add_option("--type", args.type, "PascalCase type, e.g. DatasetDriftDetected")
      ->required();
  publish->add_option("--subject", args.subject, "what it is about, e.g. data/flights:3");
  publish->add_option("--data", args.data, "a JSON object (default {})");
  publish->callback([&] { Publish(ctx, args); });
}

}  // namespace cairn
