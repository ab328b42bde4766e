// Data-quality rates of a current column against its reference, after Azure ML's model
// monitoring signals: null value rate, data type error rate, out-of-bounds rate. Pure
// functions over caller-owned data; safe from any thread. Definitions: docs/drift.md.
#pragma once

#include <cstdint>
#include <span>

#include "core/status.h"
#include "data/drift.h"

namespace cairn {

// The type a cell holds once read; the reference's column type is the expected one.
enum class CellType { kNull, kBoolean, kInteger, kDouble, kString };

// nulls / rows, over all rows. Numeric columns mark a null as NaN.
Result<double> NullValueRate(int64_t null_count, int64_t row_count);
Result<double> NullValueRate(std::span<const double> values);

// Cells whose type differs from the reference's type, over all rows. Nulls are not type
// errors (the null value rate counts them), and an integer where the reference holds doubles
// is not one either (it widens without loss of meaning).
Result<double> DataTypeErrorRate(std::span<const CellType> cells, CellType expected);

// Numeric: non-null values outside the reference's [min, max], over the non-null values.
Result<double> OutOfBoundsRate(std::span<const double> values, double reference_min,
                               double reference_max);

// Categorical: current rows whose category never occurs in the reference, over all current
// rows counted in `current`.
Result<double> OutOfBoundsRate(const CategoryCounts& reference, const CategoryCounts& current);

}  // namespace cairn
