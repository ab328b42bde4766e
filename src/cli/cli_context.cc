#include "cli/cli_context.h"

#include <ctime>
#include <iomanip>
#include <iostream>
#include <map>
#include <sstream>

#include "cli/api_client.h"
#include "core/status.h"

namespace cairn {

using Json = nlohmann::json;

// Prints rows as an aligned table with a header.
void PrintTable(const std::vector<std::string>& header,
                const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width(header.size());
  for (size_t i = 0; i < header.size(); ++i) width[i] = header[i].size();
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size() && i < width.size(); ++i) {
      width[i] = std::max(width[i], std::min<size_t>(r[i].size(), 48));
    }
  }
  auto line = [&](const std::vector<std::string>& cells) {
    std::string out;
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string c = cells[i].size() > 48 ? cells[i].substr(0, 45) + "..." : cells[i];
      out += c;
      if (i + 1 < cells.size()) out += std::string(width[i] - c.size() + 2, ' ');
    }
    std::cout << out << "\n";
  };
  line(header);
  for (const auto& r : rows) line(r);
  if (rows.empty()) std::cout << "(none)\n";
}

std::string FormatTime(const Json& ms) {
  if (!ms.is_number()) return "-";
  std::time_t secs = static_cast<std::time_t>(ms.get<int64_t>() / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  std::ostringstream ss;
  ss << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return ss.str();
}

std::string FormatValue(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    std::ostringstream ss;
    ss << std::setprecision(6) << v.get<double>();
    return ss.str();
  }
  return v.dump();
}

std::string FormatBytes(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  std::ostringstream ss;
  ss << std::fixed << std::setprecision(u == 0 ? 0 : 1) << v << " " << units[u];
  return ss.str();
}

std::optional<Json> CliContext::Send(const std::string& method, const std::string& path,
                                     const Json& args) {
  ApiClient client(server);
  Result<std::string> body = Status();
  if (method == "GET") {
    std::multimap<std::string, std::string> q;
    for (auto& [k, v] : args.items()) {
      if (v.is_array()) {
        for (auto& e : v) q.emplace(k, e.is_string() ? e.get<std::string>() : e.dump());
      } else {
        q.emplace(k, v.is_string() ? v.get<std::string>() : v.dump());
      }
    }
    body = client.Get(path, q);
  } else if (method == "DELETE") {
    body = client.Delete(path, args.dump());
  } else {
    body = client.Post(path, args.dump());
  }
  if (!body.ok()) {
    Fail(client.unreachable() ? kUnreachable : kRefused, ErrorCodeName(body.status().code()),
         body.status().message());
    return std::nullopt;
  }
  return Json::parse(*body, nullptr, false);
}

void CliContext::Fail(int code, const std::string& error_code, const std::string& message) {
  exit = code;
  if (json) {
    std::cout << Json{{"error_code", error_code}, {"message", message}}.dump() << "\n";
  } else {
    std::cerr << "error: " << message << " (" << error_code << ")\n";
  }
}

void CliContext::FailLocal(const Status& st) {
  int code = st.code() == ErrorCode::kTemporarilyUnavailable ? kUnreachable
             : st.code() == ErrorCode::kInvalidParameterValue ||
                     st.code() == ErrorCode::kResourceDoesNotExist
                 ? kUsage
                 : kRefused;
  Fail(code, ErrorCodeName(st.code()), st.message());
}

void CliContext::Emit(const Json& j) const { std::cout << j.dump(2) << "\n"; }

}  // namespace cairn
