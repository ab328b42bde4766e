#include "assets/asset_names.h"

namespace cairn {
namespace {
bool IsAsciiAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}
}  // namespace

bool IsValidAssetName(std::string_view name) {
  if (name.empty() || name.size() > 255 || !IsAsciiAlnum(name[0])) return false;
  for (char c : name) {
    if (!IsAsciiAlnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace cairn
