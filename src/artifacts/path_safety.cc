#include "artifacts/path_safety.h"

#include <cctype>

namespace cairn {
namespace {
Status Bad(std::string_view raw, const std::string& why) {
  return InvalidParameter("Invalid path '" + std::string(raw.substr(0, 200)) + "': " + why);
}
bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
}  // namespace

Result<std::string> NormalizeRelativePath(std::string_view raw) {
  if (raw.size() > 4096) return Bad(raw, "longer than 4096 characters");
  for (size_t i = 0; i < raw.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(raw[i]);
    if (c < 0x20 || c == 0x7f) return Bad(raw, "contains a control or NUL character");
    if (c == '\\') return Bad(raw, "contains a backslash; use '/' to separate directories");
    if (c == '%' && i + 2 < raw.size() && IsHex(raw[i + 1]) && IsHex(raw[i + 2])) {
      return Bad(raw, "contains a percent-encoded sequence; send the path decoded once");
    }
  }
  if (!raw.empty() && raw.front() == '/') return Bad(raw, "must be relative, not absolute");
  // A scheme such as file:, s3: or mlflow-artifacts: in the first segment.
  size_t first_slash = raw.find('/');
  std::string_view first = raw.substr(0, first_slash);
  if (first.find(':') != std::string_view::npos) {
    return Bad(raw, "must be a plain relative path, not a URI ('" + std::string(first) + "')");
  }
  std::string out;
  size_t pos = 0;
  while (pos <= raw.size()) {
    size_t next = raw.find('/', pos);
    if (next == std::string_view::npos) next = raw.size();
    std::string_view seg = raw.substr(pos, next - pos);
    if (seg == "..") return Bad(raw, "'..' segments are not allowed");
    if (seg == ".") return Bad(raw, "'.' segments are not allowed");
    if (!seg.empty()) {
      if (!out.empty()) out += '/';
      out += seg;
    }
    pos = next + 1;
  }
  return out;
}

}  // namespace cairn
