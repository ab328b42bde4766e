// UTF-8 validation for the data readers and statistics: a strict validator
// (no overlong forms, no surrogates, nothing above U+10FFFF) with an ASCII
// fast path. Pure functions; safe from any thread.
#pragma once

#include <string_view>

namespace cairn::data {

// True when `text` is well-formed UTF-8 (RFC 3629).
bool IsValidUtf8(std::string_view text);

}  // namespace cairn::data
