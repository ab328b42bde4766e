// The CSV side of TableReader (RFC 4180 with a configurable delimiter), and
// the delimiter detection it uses. Internal to the data module; see
// table_reader.h for the public interface. One thread per reader.
#pragma once

#include <filesystem>
#include <memory>
#include <string_view>

#include "data/byte_source.h"
#include "data/table_reader.h"

namespace cairn::data {

// Picks the delimiter among , ; \t | that splits the first records of `sample`
// (quote-aware) into the same number of fields, preferring more fields; falls
// back to the most frequent one in the first record, then ','. `complete`
// says the sample is the whole file, so its last record counts even unterminated.
char DetectDelimiter(std::string_view sample, bool complete);

Result<std::unique_ptr<TableReader>> OpenCsvReader(const std::filesystem::path& path,
                                                   const ReaderOptions& options,
                                                   std::unique_ptr<ByteSource> source);

}  // namespace cairn::data
