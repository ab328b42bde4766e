// Identifier generation: random 128-bit hex ids (MLflow run ids), human-friendly
// run names ("bright-owl-42"), and base64 for pagination tokens. Thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// 32 lowercase hex chars from a CSPRNG (UUID4-shaped without dashes, as MLflow's run ids).
std::string NewRunId();
// "<adjective>-<noun>-<0..999>", as MLflow's generated run names.
std::string NewRunName();

std::string Base64Encode(std::string_view data);
std::optional<std::string> Base64Decode(std::string_view data);

}  // namespace cairn
