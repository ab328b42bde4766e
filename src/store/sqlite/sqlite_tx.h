// How work inside a SqliteStore transaction reports an expected failure: throw
// StatusError (via Fail) and the store rolls back that request's savepoint only
// and returns the Status to its caller. Shared by every store of the sqlite
// backend (tracking, assets, registry).
#pragma once

#include <utility>

#include "core/status.h"

namespace cairn::sqlite {

struct StatusError {
  Status status;
};
[[noreturn]] inline void Fail(Status s) { throw StatusError{std::move(s)}; }

}  // namespace cairn::sqlite
