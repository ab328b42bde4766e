// The champion/challenger gate: decides whether a candidate model's metric
// beats the champion's by a required margin. A pure function of the two
// values, so the CLI, a CI job or a future server-side policy decide alike.
// Thread-safe (no state).
#pragma once

#include <optional>
#include <string>

#include "core/status.h"

namespace cairn {

struct GateSide {
  std::string ref;              // what the user named: "churn:3", "churn@champion", "run:<id>"
  bool exists = true;           // false: the champion alias is not set
  std::optional<double> value;  // the metric's latest value in the source run
};

struct GateRequest {
  GateSide candidate;
  GateSide champion;
  std::string metric;
  bool higher_is_better = true;
  double min_delta = 0;
  bool allow_no_champion = false;  // no champion yet: the candidate wins by default
};

struct GateDecision {
  bool win = false;
  std::optional<double> delta;  // candidate - champion (absent without a champion)
  std::string reason;           // one sentence for people
};

// The candidate wins iff its improvement over the champion — (candidate -
// champion) when higher is better, (champion - candidate) when lower is — is
// strictly positive and at least `min_delta`. Both comparisons absorb binary
// rounding of decimal inputs (1e-9 relative), so 0.805 vs 0.800 with
// min_delta 0.005 is a win and an exact tie never is.
// Errors: INVALID_PARAMETER_VALUE for a negative or non-finite min_delta or a
// non-finite value; RESOURCE_DOES_NOT_EXIST when either side lacks the metric,
// or the champion does not exist and `allow_no_champion` is false.
Result<GateDecision> DecideChampionChallenger(const GateRequest& request);

}  // namespace cairn
