#include "store/paging.h"

#include <cctype>

#include "core/ids.h"

namespace cairn {

Result<int64_t> DecodePageToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  auto bad = [&] {
    return InvalidParameter("Invalid page token '" + token.substr(0, 100) +
                            "'; pass the next_page_token of the previous response unchanged");
  };
  auto decoded = Base64Decode(token);
  if (!decoded) return bad();
  // The token is MLflow's: base64 of {"offset": N}.
  size_t key = decoded->find("\"offset\"");
  if (key == std::string::npos) return bad();
  size_t i = decoded->find(':', key);
  if (i == std::string::npos) return bad();
  ++i;
  while (i < decoded->size() && std::isspace(static_cast<unsigned char>((*decoded)[i]))) ++i;
  int64_t offset = 0;
  size_t digits = 0;
  while (i < decoded->size() && std::isdigit(static_cast<unsigned char>((*decoded)[i]))) {
    if (++digits > 15) return bad();
    offset = offset * 10 + ((*decoded)[i++] - '0');
  }
  if (digits == 0) return bad();
  return offset;
}

std::string NextPageToken(int64_t offset, size_t got, int64_t page_size) {
  if (static_cast<int64_t>(got) <= page_size) return "";
  return Base64Encode("{\"offset\": " + std::to_string(offset + page_size) + "}");
}

}  // namespace cairn
