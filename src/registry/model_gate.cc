#include "registry/model_gate.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace cairn {
namespace {

std::string Num(double v) {
  std::ostringstream ss;
  ss.precision(6);
  ss << v;
  return ss.str();
}

}  // namespace

Result<GateDecision> DecideChampionChallenger(const GateRequest& r) {
  if (!std::isfinite(r.min_delta) || r.min_delta < 0) {
    return InvalidParameter("--min-delta must be a finite number >= 0, got " + Num(r.min_delta));
  }
  if (r.metric.empty()) return InvalidParameter("name the metric to compare with --metric");
  if (!r.candidate.value) {
    return NotFound("candidate " + r.candidate.ref + " has no metric '" + r.metric +
                    "' in its source run; log it there or pick another --metric");
  }
  if (!r.champion.exists) {
    if (!r.allow_no_champion) {
      return NotFound("there is no champion " + r.champion.ref +
                      " yet; promote a version first (cairn model promote NAME:VERSION "
                      "--alias ALIAS) or pass --allow-no-champion to let the candidate win");
    }
    return GateDecision{true, std::nullopt, "no champion yet: the candidate wins by default"};
  }
  if (!r.champion.value) {
    return NotFound("champion " + r.champion.ref + " has no metric '" + r.metric +
                    "' in its source run; the two cannot be compared on it");
  }
  double cand = *r.candidate.value, champ = *r.champion.value;
  if (!std::isfinite(cand) || !std::isfinite(champ)) {
    return InvalidParameter("metric '" + r.metric + "' is not a finite number (candidate " +
                            Num(cand) + ", champion " + Num(champ) + ")");
  }
  double delta = cand - champ;
  double improvement = r.higher_is_better ? delta : -delta;
  double eps = 1e-9 * std::max({1.0, std::fabs(cand), std::fabs(champ)});
  GateDecision d;
  d.delta = delta;
  d.win = improvement > eps && improvement >= r.min_delta - eps;
  std::string direction = r.higher_is_better ? "higher is better" : "lower is better";
  if (d.win) {
    d.reason = "candidate improves " + r.metric + " by " + Num(improvement) + " (" + direction +
               ", needed >= " + Num(r.min_delta) + ")";
  } else if (std::fabs(improvement) <= eps) {
    d.reason = "tie on " + r.metric + ": a tie is never a win";
  } else {
    d.reason = "candidate " + std::string(improvement < 0 ? "is worse on " : "improves ") +
               r.metric + " by " + Num(improvement) + " (" + direction +
               ", needed >= " + Num(r.min_delta) + " and > 0)";
  }
  return d;
}

}  // namespace cairn
