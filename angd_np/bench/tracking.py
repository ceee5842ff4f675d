"""Benchmark: time per frame when one sequence is tracked (balanced preset, M = 16, K = 2,
N = 4, ρ = 0.99, targets drifting 0.2° per frame, 50 iterations per frame), per method.

One sequence at a time is the real-time case: a base station re-solves its precoder every
frame. Each method tracks the same 40-frame sequence (frame 0 included, cold); the row gives
the median wall time per frame over frames 1..39 (warm) and, for context, the median gap
after frame 20 against the warm-started reference on the same frames.
"""

from __future__ import annotations

import numpy as np

from ..system import Scenario, trial_generator

__all__ = ["run", "format_rows"]

METHODS = (("angd-fcn-tuned", "all"), ("angd-fcn-tuned", "none"), ("pgd", "all"),
           ("adam", "all"), ("lbfgs", "all"), ("zf", "all"), ("ccpa", "all"),
           ("reference", "all"))


def run(quick: bool = False) -> list[dict]:
    from .. import track

    frames = 12 if quick else 40
    burn_in = 4 if quick else 20
    seq = Scenario.preset("balanced").sequence(1, frames, rho=0.99, target_drift_deg=0.2,
                                                rng=[trial_generator(0, 0, 0)])
    results = {}
    for method, carry in METHODS:
        options = {"threads": 1} if method.startswith("angd") else {}
        res = track(seq, method, iters_per_frame=50, carry=carry,
                    rng=[trial_generator(0, 0, 1)], **options)
        results[(method, carry)] = res
    best = np.maximum.reduce([r.csbf for r in results.values()])
    rows = []
    for (method, carry), res in results.items():
        gap = (best - res.csbf) / np.abs(best)
        rows.append({"method": method, "carry": carry, "frames": frames,
                     "ms_per_frame": 1e3 * float(np.median(res.time_s[0, 1:])),
                     "median_gap": float(np.median(gap[0, burn_in:]))})
    return rows


def format_rows(rows) -> str:
    lines = ["| method | carry | ms per frame (median, warm) | median gap after burn-in |",
             "|---|---|---:|---:|"]
    lines += [f"| {r['method']} | {r['carry']} | {r['ms_per_frame']:.2f} | "
              f"{100 * r['median_gap']:.2f}% |" for r in rows]
    return "\n".join(lines)
