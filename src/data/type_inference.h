// Per-column type inference over the text cells of RowChunks: each column gets
// the narrowest type that accepts all its non-null cells (see docs/data.md,
// "Type inference"), with counts of nulls, NaNs and invalid UTF-8 cells.
// A ColumnTypeInferrer is single-threaded; infer chunks on several threads
// with one inferrer each and Merge() them.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/table_reader.h"

namespace cairn::data {

enum class ColumnType { kEmpty, kBool, kInt, kFloat, kTimestamp, kString };
const char* ColumnTypeName(ColumnType type);

// What a single non-null cell looks like on its own.
enum class CellKind { kBool, kInt, kFloat, kTimestamp, kString };
CellKind ClassifyCell(std::string_view text);

// Cell predicates, exposed for the statistics and schema steps.
bool ParseBool(std::string_view text, bool* value);  // true/false/True/False/TRUE/FALSE
bool ParseInt(std::string_view text, int64_t* value);
bool ParseFloat(std::string_view text, double* value);
// ISO 8601 date or date-time: 2024-01-31, 2024-01-31T12:34[:56[.123]], 'T' or
// ' ', then optionally Z, +hh:mm, +hhmm or +hh. Fields are range-checked.
bool IsTimestamp(std::string_view text);
// "NaN" spelled any case: a float NaN in numeric columns, a null elsewhere.
bool IsNanToken(std::string_view text);

struct ColumnInference {
  ColumnType type = ColumnType::kEmpty;
  // An integer column holding only 0 and 1: the schema step may call it boolean.
  bool looks_boolean = false;
  int64_t values = 0;        // non-null cells, NaNs of float columns included
  int64_t nulls = 0;         // null cells (NaN tokens count here unless the column is float)
  int64_t nans = 0;          // NaN cells of a float column
  int64_t invalid_utf8 = 0;  // non-null cells that are not valid UTF-8
};

class ColumnTypeInferrer {
 public:
  void Add(std::string_view text, bool is_null) {
    // A string column so far: only the UTF-8 check is left, and an ASCII cell
    // of up to 16 bytes needs none (inline, from two fixed-size loads).
    if (!is_null && strings_ > 0 && text.size() <= 16) {
      uint64_t bits = 0;
      const char* p = text.data();
      const size_t n = text.size();
      if (n >= 8) {
        uint64_t a, b;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        bits = a | b;
      } else if (n >= 4) {
        uint32_t a, b;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        bits = a | b;
      } else {
        for (size_t i = 0; i < n; ++i) bits |= static_cast<unsigned char>(p[i]);
      }
      if ((bits & 0x8080808080808080ULL) == 0) {
        ++values_;
        return;
      }
    }
    AddSlow(text, is_null);
  }
  void AddNulls(int64_t count) { nulls_ += count; }
  // Add() for a non-null cell that ParseFloat already read as `value`: the
  // same counts without parsing the cell again (the statistics parse it anyway).
  // Inline for a column that is a float column so far, the common case.
  void AddParsedNumber(std::string_view text, double value) {
    if (strings_ == 0 && floats_ > 0 && bools_ + timestamps_ == 0 && value == value) {
      ++values_;
      ++floats_;
      return;
    }
    AddParsedNumberSlow(text, value);
  }
  // Add() for a non-null cell that ParseInt already read as `value`.
  void AddParsedInt(std::string_view text, int64_t /*value*/) {
    ++values_;
    if (strings_ > 0) return;
    if (floats_ > 0 &&
        bools_ + timestamps_ == 0) {  // as AddParsedNumber: an integer is a float here
      ++floats_;
      return;
    }
    ++ints_;
    if (ints_binary_ && !(text.size() == 1 && (text[0] == '0' || text[0] == '1'))) {
      ints_binary_ = false;
    }
  }
  void AddColumn(const RowChunk& chunk, size_t column);
  void Merge(const ColumnTypeInferrer& other);
  ColumnInference Finish() const;

 private:
  int64_t values_ = 0;
  int64_t nulls_ = 0;      // nulls other than NaN tokens
  int64_t nan_cells_ = 0;  // NaN tokens and non-null cells that parse to NaN
  int64_t invalid_utf8_ = 0;
  int64_t bools_ = 0, ints_ = 0, floats_ = 0, timestamps_ = 0, strings_ = 0;
  bool ints_binary_ = true;  // every integer seen is 0 or 1

  void AddSlow(std::string_view text, bool is_null);
  void AddParsedNumberSlow(std::string_view text, double value);
};

// Reads the rest of `reader` and infers every column. Memory is one chunk.
Result<std::vector<ColumnInference>> InferColumnTypes(TableReader& reader);

}  // namespace cairn::data
