// Helpers for the data module's tests: a scratch directory per test and
// reading a whole table into plain values. Test-only; not thread-safe.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/fs.h"
#include "data/table_reader.h"

namespace cairn::data::testing {

class ScratchDir {
 public:
  ScratchDir() {
    static int counter = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("cairn-data-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    std::filesystem::create_directories(dir_);
  }
  ~ScratchDir() { std::filesystem::remove_all(dir_); }
  std::filesystem::path Write(const std::string& name, const std::string& content) const {
    std::filesystem::path p = dir_ / name;
    (void)AtomicWriteFile(p, content);
    return p;
  }
  std::filesystem::path path(const std::string& name) const { return dir_ / name; }

 private:
  std::filesystem::path dir_;
};

// A table as values: std::nullopt for null cells; line of each row.
struct Table {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<int64_t> lines;
  size_t chunks = 0;
};

// Appends a chunk's rows (cells as strings, nulls as nullopt) and line numbers.
inline void AppendChunk(const RowChunk& chunk, Table& table) {
  for (size_t r = 0; r < chunk.num_rows; ++r) {
    std::vector<std::optional<std::string>> row;
    for (size_t c = 0; c < chunk.num_columns; ++c) {
      if (chunk.is_null(r, c)) {
        row.push_back(std::nullopt);
      } else {
        row.push_back(std::string(chunk.cell(r, c)));
      }
    }
    table.rows.push_back(std::move(row));
    table.lines.push_back(chunk.lines[r]);
  }
}

inline Result<Table> ReadAll(const std::filesystem::path& path, const ReaderOptions& options = {}) {
  CAIRN_ASSIGN_OR_RETURN(std::unique_ptr<TableReader> reader, TableReader::Open(path, options));
  Table table;
  RowChunk chunk;
  for (;;) {
    CAIRN_ASSIGN_OR_RETURN(bool more, reader->Next(&chunk));
    if (!more) break;
    ++table.chunks;
    AppendChunk(chunk, table);
  }
  table.columns = reader->columns();
  for (auto& row : table.rows) row.resize(table.columns.size());  // late JSON columns
  return table;
}

// The whole file, failing the test (with the reader's message) if it cannot be read.
inline Table MustRead(const std::filesystem::path& path, const ReaderOptions& options = {}) {
  auto table = ReadAll(path, options);
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  return table.ok() ? *table : Table{};
}

// The reader's INVALID_PARAMETER_VALUE message for a malformed file ("(no error)" if it read).
inline std::string ErrorOf(const std::filesystem::path& path, const ReaderOptions& options = {}) {
  auto table = ReadAll(path, options);
  if (table.ok()) return "(no error)";
  EXPECT_EQ(table.status().code(), ErrorCode::kInvalidParameterValue);
  return table.status().message();
}

}  // namespace cairn::data::testing
