// IsTableFileName: the extensions TableReader::Open maps to a format.
#include "data/table_files.h"

#include <string>

namespace cairn::data {

bool IsTableFileName(std::string_view name) {
  std::string_view n = name;
  if (n.size() > 3 && n.substr(n.size() - 3) == ".gz") n.remove_suffix(3);
  for (std::string_view ext : {".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"}) {
    if (n.size() > ext.size() && n.substr(n.size() - ext.size()) == ext) return true;
  }
  return false;
}

}  // namespace cairn::data
