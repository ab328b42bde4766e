// Which files of a data version are tables the readers understand, by name:
// shared by the CLI and the server so both pick the same file of a version.
#pragma once

#include <string_view>

namespace cairn::data {

// .csv .tsv .txt .jsonl .ndjson .json, optionally followed by .gz.
bool IsTableFileName(std::string_view name);
inline constexpr const char* kTableFileKinds =
    ".csv .tsv .txt .jsonl .ndjson .json, optionally .gz";

}  // namespace cairn::data
