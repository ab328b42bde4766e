// Wall-clock time behind an interface so tests can use a fake clock.
// Implementations must be thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace cairn {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;
};

// The process-wide real clock (system_clock, milliseconds since the Unix epoch).
const Clock& SystemClock();

// RFC 3339 UTC time with milliseconds, e.g. "2026-11-27T10:05:03.042Z", of
// `ms` milliseconds since the Unix epoch (CloudEvents' `time`, log lines).
std::string Rfc3339Millis(int64_t ms);

}  // namespace cairn
