#!/usr/bin/python3
"""Writes drift_fixtures.json: generated inputs and scipy's answers for src/data/drift_test.cc.

Run with Debian's python3 (python3-numpy, python3-scipy):
    /usr/bin/python3 src/data/testdata/make_drift_fixtures.py
The inputs are stored in the JSON (repr of each double round-trips exactly), so the C++ test
needs no generator of its own. Re-run only when the cases change, and commit both files.
"""
import json
import math
import os

import numpy as np
import scipy
from scipy import special, stats
from scipy.spatial import distance

rng = np.random.default_rng(20240611)


def floats(a):
    return [float(x) for x in a]


def psi(expected, actual, eps=1e-4):
    # The empty-bin rule of docs/drift.md: a zero proportion becomes eps, no renormalisation.
    e = np.asarray(expected, float) / np.sum(expected)
    a = np.asarray(actual, float) / np.sum(actual)
    e = np.where(e == 0, eps, e)
    a = np.where(a == 0, eps, a)
    return float(np.sum((a - e) * np.log(a / e)))


def sturges(n):
    return 1 if n <= 1 else int(math.ceil(math.log2(n))) + 1


# Pairs of numeric samples: sizes, shapes, shifts and ties.
samples = [
    ("normal_shift", rng.normal(0, 1, 300), rng.normal(0.3, 1.2, 450)),
    ("uniform_same", rng.uniform(-2, 5, 500), rng.uniform(-2, 5, 500)),
    ("ties", np.round(rng.normal(10, 3, 400)), np.round(rng.normal(11, 3, 250))),
    ("small", rng.normal(0, 1, 30), rng.normal(0.5, 1, 40)),
    ("lognormal_tail", rng.lognormal(0, 1, 1000), rng.lognormal(0.8, 1, 1500)),
    ("far_apart", rng.normal(0, 1, 200), rng.normal(3, 1, 317)),
    ("equal_sizes_shift", rng.normal(0, 1, 800), rng.normal(0.15, 1, 800)),
    ("constant_reference", np.full(50, 2.5), rng.normal(2.5, 0.01, 60)),
]

sample_cases = []
for name, a, b in samples:
    ks_exact = stats.ks_2samp(a, b, method="exact")
    ks_auto = stats.ks_2samp(a, b)
    n1, n2 = len(a), len(b)
    en = n1 * n2 / (n1 + n2)
    lo = float(min(a.min(), b.min()))
    hi = float(max(a.max(), b.max()))
    bins = sturges(n1 + n2)
    edges = np.linspace(lo, hi, bins + 1) if lo < hi else np.linspace(lo - 0.5, hi + 0.5, bins + 1)
    ha, _ = np.histogram(a, bins=edges)
    hb, _ = np.histogram(b, bins=edges)
    sample_cases.append({
        "name": name,
        "a": floats(a),
        "b": floats(b),
        "wasserstein": float(stats.wasserstein_distance(a, b)),
        "std_a": float(np.std(a)),
        "normalized_wasserstein": float(stats.wasserstein_distance(a, b) / max(np.std(a), 0.001)),
        "ks_statistic": float(ks_exact.statistic),
        "ks_exact_p": float(ks_exact.pvalue),
        "ks_auto_p": float(ks_auto.pvalue),
        # The limiting distribution at sqrt(en) * D, which the asymptotic method computes.
        "ks_limit_p": float(stats.kstwobign.sf(math.sqrt(en) * ks_exact.statistic)),
        "bins": bins,
        "edges": floats(edges),
        "hist_a": floats(ha),
        "hist_b": floats(hb),
        "js_hist": float(distance.jensenshannon(ha, hb, base=2)),
        "psi_hist": psi(ha, hb),
    })

# Large samples: scipy's 'auto' switches to its finite-n asymptotic p-value (kstwo).
big_a = rng.normal(0, 1, 12000)
big_b = rng.normal(0.02, 1, 15000)
big = stats.ks_2samp(big_a, big_b)
en = 12000 * 15000 / 27000
big_case = {
    "a": floats(big_a),
    "b": floats(big_b),
    "ks_statistic": float(big.statistic),
    "scipy_asymp_p": float(big.pvalue),
    "ks_limit_p": float(stats.kstwobign.sf(math.sqrt(en) * big.statistic)),
}

# Count vectors for the binned and categorical metrics.
count_cases = []
count_pairs = [
    ([10, 20, 30, 40], [40, 30, 20, 10]),
    ([1, 0, 3, 7, 0], [2, 5, 0, 7, 0]),
    ([5, 5, 0, 0], [0, 0, 3, 9]),
    ([100, 250, 1, 649], [90, 260, 5, 645]),
    (list(rng.integers(0, 50, 30)), list(rng.integers(0, 50, 30))),
    ([1000, 1], [1000, 1]),
]
for p, q in count_pairs:
    table = np.array([p, q], float)
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] > 1:
        chi2, chi_p, dof, _ = stats.chi2_contingency(table, correction=False)
    else:
        chi2, chi_p, dof = 0.0, 1.0, 0
    pn = np.asarray(p, float) / np.sum(p)
    qn = np.asarray(q, float) / np.sum(q)
    count_cases.append({
        "p": floats(p),
        "q": floats(q),
        "js": float(distance.jensenshannon(p, q, base=2)),
        "psi": psi(p, q),
        "linf": float(np.max(np.abs(pn - qn))),
        "chi2": float(chi2),
        "chi2_p": float(chi_p),
        "chi2_dof": int(dof),
    })

# Special functions, including far tails (compared relatively).
chi2_sf = []
for dof in [1, 2, 3, 5, 10, 29, 100, 1000]:
    for x in [0.01, 0.5, 1.0, 2.5, 7.0, 20.0, 60.0, 150.0, 400.0, 1200.0]:
        chi2_sf.append({"x": x, "dof": dof, "sf": float(stats.chi2.sf(x, dof))})
kolmogorov = [{"y": y, "sf": float(special.kolmogorov(y))}
              for y in [0.05, 0.2, 0.35, 0.5, 0.7, 0.9, 0.99, 1.0, 1.01, 1.2, 1.5, 2.0, 3.0, 5.0,
                        8.0]]

out = {
    "generator": "src/data/testdata/make_drift_fixtures.py",
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "samples": sample_cases,
    "big": big_case,
    "counts": count_cases,
    "chi2_sf": chi2_sf,
    "kolmogorov_sf": kolmogorov,
}
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "drift_fixtures.json")
with open(path, "w") as f:
    json.dump(out, f)
    f.write("\n")
print("wrote", path)
