// pipeline/schedule_json.cc: Trigger <-> JSON (see schedule_json.h).
#include "pipeline/schedule_json.h"

#include <algorithm>

namespace cairn::pipeline {
namespace {

using Json = nlohmann::json;

Status Bad(const std::string& what) { return InvalidParameter("trigger." + what); }

Result<std::vector<int>> Ints(const Json& j, const char* key, int lo, int hi) {
  std::vector<int> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  if (!j[key].is_array()) return Bad(std::string(key) + " must be a list of whole numbers");
  for (const Json& v : j[key]) {
    if (!v.is_number_integer() || v.get<int64_t>() < lo || v.get<int64_t>() > hi) {
      return Bad(std::string(key) + " values must be whole numbers " + std::to_string(lo) + ".." +
                 std::to_string(hi));
    }
    out.push_back(v.get<int>());
  }
  return out;
}

Result<std::string> Str(const Json& j, const char* key, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return Bad(std::string(key) + " is required");
    return std::string();
  }
  if (!j[key].is_string()) return Bad(std::string(key) + " must be a string");
  return j[key].get<std::string>();
}

Result<std::optional<int64_t>> OptMs(const Json& j, const char* key) {
  if (!j.contains(key) || j[key].is_null()) return std::optional<int64_t>();
  if (!j[key].is_number_integer()) return Bad(std::string(key) + " must be UTC milliseconds");
  return std::optional<int64_t>(j[key].get<int64_t>());
}

}  // namespace

const char* TriggerKindName(Trigger::Type type) {
  switch (type) {
    case Trigger::Type::kCron:
      return "cron";
    case Trigger::Type::kRecurrence:
      return "recurrence";
    case Trigger::Type::kDataAsset:
      return "data_asset";
    case Trigger::Type::kEvent:
      return "event";
  }
  return "cron";
}

Json TriggerToJson(const Trigger& t) {
  Json j = {{"type", TriggerKindName(t.type)}};
  switch (t.type) {
    case Trigger::Type::kCron:
      j["expression"] = t.expression;
      break;
    case Trigger::Type::kRecurrence:
      j["frequency"] = t.frequency;
      j["interval"] = t.interval;
      j["hours"] = t.hours;
      j["minutes"] = t.minutes;
      j["week_days"] = t.week_days;
      j["month_days"] = t.month_days;
      break;
    case Trigger::Type::kDataAsset:
      j["name"] = t.data_asset;
      if (!t.bind_input.empty()) j["input"] = t.bind_input;
      break;
    case Trigger::Type::kEvent:
      j["event_type"] = t.event_type;
      j["filter"] = t.filter;
      break;
  }
  if (t.is_time_based()) {
    j["time_zone"] = t.time_zone;
    j["start_time"] = t.start_ms ? Json(*t.start_ms) : Json(nullptr);
    j["end_time"] = t.end_ms ? Json(*t.end_ms) : Json(nullptr);
  }
  return j;
}

Result<Trigger> TriggerFromJson(const Json& j, const std::string& zoneinfo_dir) {
  if (!j.is_object()) return InvalidParameter("trigger must be a JSON object with a type");
  Trigger t;
  CAIRN_ASSIGN_OR_RETURN(std::string type, Str(j, "type", true));
  if (type == "cron") {
    t.type = Trigger::Type::kCron;
    CAIRN_ASSIGN_OR_RETURN(t.expression, Str(j, "expression", true));
    auto cron = ParseCron(t.expression);
    if (!cron.ok()) return Bad("expression: " + cron.status().message());
    t.cron = *cron;
  } else if (type == "recurrence") {
    t.type = Trigger::Type::kRecurrence;
    CAIRN_ASSIGN_OR_RETURN(t.frequency, Str(j, "frequency", true));
    static const std::vector<std::string> kFreq = {"minute", "hour", "day", "week", "month"};
    if (std::find(kFreq.begin(), kFreq.end(), t.frequency) == kFreq.end()) {
      return Bad("frequency must be minute, hour, day, week or month");
    }
    if (!j.contains("interval") || !j["interval"].is_number_integer() ||
        j["interval"].get<int64_t>() < 1 || j["interval"].get<int64_t>() > 100000) {
      return Bad("interval must be a whole number 1..100000");
    }
    t.interval = j["interval"].get<int64_t>();
    CAIRN_ASSIGN_OR_RETURN(t.hours, Ints(j, "hours", 0, 23));
    CAIRN_ASSIGN_OR_RETURN(t.minutes, Ints(j, "minutes", 0, 59));
    CAIRN_ASSIGN_OR_RETURN(t.week_days, Ints(j, "week_days", 0, 6));
    CAIRN_ASSIGN_OR_RETURN(t.month_days, Ints(j, "month_days", 1, 31));
  } else if (type == "data_asset") {
    t.type = Trigger::Type::kDataAsset;
    CAIRN_ASSIGN_OR_RETURN(t.data_asset, Str(j, "name", true));
    if (t.data_asset.empty() || t.data_asset.find_first_of(":@") != std::string::npos) {
      return Bad("name must be a data asset name without a version");
    }
    CAIRN_ASSIGN_OR_RETURN(t.bind_input, Str(j, "input", false));
    return t;
  } else if (type == "event") {
    t.type = Trigger::Type::kEvent;
    CAIRN_ASSIGN_OR_RETURN(t.event_type, Str(j, "event_type", true));
    if (t.event_type.empty()) return Bad("event_type is empty");
    if (j.contains("filter") && !j["filter"].is_null()) {
      if (!j["filter"].is_object()) return Bad("filter must be an object of strings");
      for (auto& [k, v] : j["filter"].items()) {
        if (!v.is_string()) return Bad("filter." + k + " must be a string");
        t.filter[k] = v.get<std::string>();
      }
    }
    return t;
  } else {
    return Bad("type '" + type + "' is not cron, recurrence, data_asset or event");
  }
  CAIRN_ASSIGN_OR_RETURN(std::string zone, Str(j, "time_zone", false));
  t.time_zone = zone.empty() ? "UTC" : zone;
  if (t.time_zone == "UTC") {
    t.zone = TimeZone::Utc();
  } else {
    auto z = TimeZone::Load(t.time_zone, zoneinfo_dir);
    if (!z.ok()) return Bad("time_zone: " + z.status().message());
    t.zone = *z;
  }
  CAIRN_ASSIGN_OR_RETURN(t.start_ms, OptMs(j, "start_time"));
  CAIRN_ASSIGN_OR_RETURN(t.end_ms, OptMs(j, "end_time"));
  return t;
}

}  // namespace cairn::pipeline
