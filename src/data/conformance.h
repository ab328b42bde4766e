// The extra pass validation needs when statistics cannot answer: per column, the
// non-null cells that do not parse as the schema's type (INT_TYPE_NOT_INT_STRING,
// FLOAT_TYPE_STRING_NOT_FLOAT, BOOL_TYPE_UNEXPECTED_STRING) and the values outside a
// string domain, each with a few example values and their exact counts. One thread,
// memory bounded by one chunk and the examples kept.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "data/schema.h"
#include "data/table_reader.h"

namespace cairn::data {

// Distinct example values kept per column and per kind of failure.
inline constexpr size_t kMaxExamples = 10;

struct ValueExamples {
  int64_t total = 0;                        // cells that failed
  std::map<std::string, int64_t> examples;  // the first kMaxExamples distinct values, exact counts
  void Add(std::string_view value);
  // Highest count first, ties by value.
  std::vector<TopValue> Sorted() const;
};

struct ColumnConformance {
  int64_t values = 0;      // non-null cells seen
  ValueExamples not_type;  // cells that do not parse as the schema's type
  ValueExamples out_of_domain;
};

// True when `text` is a valid value of `feature` type-wise: INT parses as an integer, FLOAT as
// a number, BOOL matches the bool domain (true/false in any case by default), TIMESTAMP is an
// ISO 8601 date or date-time; STRING accepts everything.
bool ConformsToType(const FeatureSchema& feature, std::string_view text);

// Reads the rest of `reader` and checks the named columns against their features in `schema`
// (columns absent from the table are left out of the answer).
Result<std::map<std::string, ColumnConformance>> CheckConformance(
    TableReader& reader, const Schema& schema, const std::vector<std::string>& columns);

}  // namespace cairn::data
