#include "data/quality.h"

#include <cmath>
#include <string>

namespace cairn {

Result<double> NullValueRate(int64_t null_count, int64_t row_count) {
  if (row_count <= 0) {
    return InvalidParameter("null value rate: the column has no rows; a rate needs at least one");
  }
  if (null_count < 0 || null_count > row_count) {
    return InvalidParameter("null value rate: null count " + std::to_string(null_count) +
                            " must be between 0 and the row count " + std::to_string(row_count));
  }
  return static_cast<double>(null_count) / static_cast<double>(row_count);
}

Result<double> NullValueRate(std::span<const double> values) {
  int64_t nulls = 0;
  for (double v : values) nulls += std::isnan(v) ? 1 : 0;
  return NullValueRate(nulls, static_cast<int64_t>(values.size()));
}

Result<double> DataTypeErrorRate(std::span<const CellType> cells, CellType expected) {
  if (cells.empty()) {
    return InvalidParameter("data type error rate: the column has no rows");
  }
  if (expected == CellType::kNull) {
    return InvalidParameter(
        "data type error rate: the expected type cannot be null; pass the reference column's "
        "type");
  }
  int64_t errors = 0;
  for (CellType t : cells) {
    if (t == CellType::kNull || t == expected) continue;
    if (t == CellType::kInteger && expected == CellType::kDouble) continue;
    ++errors;
  }
  return static_cast<double>(errors) / static_cast<double>(cells.size());
}

Result<double> OutOfBoundsRate(std::span<const double> values, double reference_min,
                               double reference_max) {
  if (std::isnan(reference_min) || std::isnan(reference_max) || reference_min > reference_max) {
    return InvalidParameter("out-of-bounds rate: the reference range [" +
                            std::to_string(reference_min) + ", " + std::to_string(reference_max) +
                            "] is not a range");
  }
  int64_t present = 0, outside = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    ++present;
    outside += (v < reference_min || v > reference_max) ? 1 : 0;
  }
  if (present == 0) {
    return InvalidParameter("out-of-bounds rate: the column has no non-null values");
  }
  return static_cast<double>(outside) / static_cast<double>(present);
}

Result<double> OutOfBoundsRate(const CategoryCounts& reference, const CategoryCounts& current) {
  int64_t total = 0, outside = 0;
  for (const auto& [category, count] : current) {
    if (count < 0) {
      return InvalidParameter("out-of-bounds rate: category '" + category +
                              "' has a negative count");
    }
    total += count;
    auto it = reference.find(category);
    if (it == reference.end() || it->second == 0) outside += count;
  }
  if (total == 0) return InvalidParameter("out-of-bounds rate: the current column has no rows");
  return static_cast<double>(outside) / static_cast<double>(total);
}

}  // namespace cairn
