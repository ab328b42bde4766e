// Tests for core/clock.h: the RFC 3339 formatting of millisecond times.
#include "core/clock.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ClockTest, Rfc3339MillisIsUtcWithThreeFractionDigits) {
  EXPECT_EQ(Rfc3339Millis(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(Rfc3339Millis(1795777149439), "2026-11-27T10:59:09.439Z");
  EXPECT_EQ(Rfc3339Millis(951782400005), "2000-02-29T00:00:00.005Z");  // leap day
  EXPECT_EQ(Rfc3339Millis(-1), "1969-12-31T23:59:59.999Z");            // floor, not truncation
}

TEST(ClockTest, SystemClockIsMillisecondsSinceTheEpoch) {
  const int64_t now = SystemClock().NowMillis();
  EXPECT_GT(now, 1700000000000);  // after 2023
  EXPECT_LT(now, 4102444800000);  // before 2100
}

}  // namespace
}  // namespace cairn
