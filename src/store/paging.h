// Pagination tokens as MLflow writes them: base64 of {"offset": N}. Every
// search of every store (runs, experiments, registry, assets) pages with them,
// so a client treats them alike. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "core/status.h"

namespace cairn {

// The offset a token stands for (0 for ""); INVALID_PARAMETER_VALUE otherwise.
Result<int64_t> DecodePageToken(const std::string& token);
// The token for the page after [offset, offset + page_size), or "" when the
// query found no more than `page_size` rows (it fetched page_size + 1).
std::string NextPageToken(int64_t offset, size_t got, int64_t page_size);

}  // namespace cairn
