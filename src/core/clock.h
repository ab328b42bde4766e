// Wall-clock time behind an interface so tests can use a fake clock.
// Implementations must be thread-safe.
#pragma once

#include <cstdint>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};

// The process-wide real clock (system_clock, milliseconds since the Unix epoch).
const Clock& SystemClock();

}  // namespace cairn
