// Validation of every artifact path that arrives from a client. A path must be
// relative and stay inside its root after any decoding a client could smuggle
// in (MLflow's artifact path-traversal CVE family). Pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace cairn {

// Returns the canonical relative form ("a/b/c", "" for the root) or
// INVALID_PARAMETER_VALUE naming what is wrong. Rejects: "..", ".", absolute
// paths, backslashes, NUL and control characters, URI schemes ("file:", ...),
// and leftover %-escapes (a double-encoded "%2e%2e" arrives here as "%2e%2e").
Result<std::string> NormalizeRelativePath(std::string_view raw);

}  // namespace cairn
