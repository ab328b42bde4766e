#include "data/quality.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace cairn {
namespace {

TEST(DataQuality, NullValueRateCountsNullsOverAllRows) {
  std::vector<double> values = {1, std::nan(""), 3, std::nan("")};
  EXPECT_DOUBLE_EQ(*NullValueRate(values), 0.5);
  EXPECT_DOUBLE_EQ(*NullValueRate(1, 4), 0.25);
  EXPECT_FALSE(NullValueRate(std::vector<double>{}).ok());
  EXPECT_FALSE(NullValueRate(5, 4).ok());
}

TEST(DataQuality, DataTypeErrorRateSkipsNullsAndWidening) {
  using T = CellType;
  std::vector<T> cells = {T::kDouble, T::kInteger, T::kNull, T::kString, T::kBoolean};
  // The string and the boolean are errors; the integer widens; the null is not counted.
  EXPECT_DOUBLE_EQ(*DataTypeErrorRate(cells, T::kDouble), 0.4);
  // Against an integer reference, a double is an error too.
  EXPECT_DOUBLE_EQ(*DataTypeErrorRate(cells, T::kInteger), 0.6);
  EXPECT_FALSE(DataTypeErrorRate(cells, T::kNull).ok());
  EXPECT_FALSE(DataTypeErrorRate({}, T::kString).ok());
}

TEST(DataQuality, OutOfBoundsRateUsesTheReferenceRange) {
  std::vector<double> values = {0, 1, 5, 10, 11, std::nan("")};
  // 0 and 11 lie outside [1, 10]; the bounds themselves are inside; the null is not counted.
  EXPECT_DOUBLE_EQ(*OutOfBoundsRate(values, 1, 10), 0.4);
  EXPECT_FALSE(OutOfBoundsRate(values, 10, 1).ok());
  EXPECT_FALSE(OutOfBoundsRate(std::vector<double>{std::nan("")}, 0, 1).ok());
}

TEST(DataQuality, CategoricalOutOfBoundsRateCountsUnseenCategories) {
  CategoryCounts ref = {{"a", 3}, {"b", 0}};
  CategoryCounts cur = {{"a", 6}, {"b", 2}, {"c", 2}};
  EXPECT_DOUBLE_EQ(*OutOfBoundsRate(ref, cur), 0.4);
  EXPECT_FALSE(OutOfBoundsRate(ref, CategoryCounts{}).ok());
  EXPECT_FALSE(OutOfBoundsRate(ref, CategoryCounts{{"a", -1}}).ok());
}

}  // namespace
}  // namespace cairn
