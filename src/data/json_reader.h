// The JSON side of TableReader: JSON Lines (one object per line) and a JSON
// array of objects, both streamed. Internal to the data module; see
// table_reader.h for the public interface. One thread per reader.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "data/byte_source.h"
#include "data/table_reader.h"

namespace cairn::data {

// `format` kJsonLines or kJsonArray; nullopt sniffs: an array when the first
// non-blank byte is '[', JSON Lines otherwise.
Result<std::unique_ptr<TableReader>> OpenJsonReader(const std::filesystem::path& path,
                                                    std::optional<Format> format,
                                                    const ReaderOptions& options,
                                                    std::unique_ptr<ByteSource> source);

}  // namespace cairn::data
