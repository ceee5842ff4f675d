"""Benchmark of the baselines: every registered solver that is not iterative (ZF, MMSE, CCPA
(SDR + SCA) and the multi-start reference).

For M = 10 and 16 (K = 2, N = 4) in both presets it reports, per method, the median
wall-clock time per instance (a batch solved at once shares its time evenly), the median
iteration count (SCA steps summed over CCPA's starts; L-BFGS iterations summed over the
reference's starts) and the mean CSBF. For CCPA it also reports how often it is within 1%
of the reference and how often it beats the reference (by more than 1e-9 relatively), and it
is run twice: with its default direct Clarabel path and through cvxpy (``direct=False``, row
"ccpa/cvxpy"), with the largest relative CSBF difference between the two (they should agree to
1e-9; at the time of writing they agree bit for bit).
"""

from __future__ import annotations

import numpy as np

from ..system import Scenario

__all__ = ["run", "format_rows"]


def run(quick: bool = False) -> list[dict]:
    """Measure every baseline; ``quick`` uses 4 instances per setting instead of 30."""
    from ..solvers import SPECS, optimality_gap, solve

    methods = [name for name, s in SPECS.items() if not s.iterative]  # closed form and SDR/SCA
    n = 4 if quick else 30
    rows = []
    for preset in ("paper", "balanced"):
        for n_tx in (10, 16):
            problem = Scenario.preset(preset, n_tx=n_tx).draw(n, 2026)
            results = {m: solve(problem, m, rng=7) for m in methods}
            if "ccpa" in results:
                results["ccpa/cvxpy"] = solve(problem, "ccpa", rng=7, direct=False)
            ref = results["reference"].csbf
            for method, r in results.items():
                row = {
                    "preset": preset, "M": n_tx, "method": method, "instances": n,
                    "median_time_s": float(np.median(r.time_s)),
                    "max_time_s": float(np.max(r.time_s)),
                    "median_nit": float(np.median(r.nit)),
                    "mean_csbf": float(np.mean(r.csbf)),
                    "median_gap": float(np.median(optimality_gap(r.csbf, ref))),
                }
                if method.startswith("ccpa"):
                    gap = optimality_gap(r.csbf, ref)
                    row["within_1pct"] = int(np.count_nonzero(np.abs(gap) <= 0.01))
                    row["beats_ref"] = int(np.count_nonzero(gap < -1e-9))
                    row["failed"] = int(np.count_nonzero(~r.success))
                    other = results["ccpa/cvxpy" if method == "ccpa" else "ccpa"].csbf
                    row["paths_rel_diff"] = float(np.max(np.abs(r.csbf - other)
                                                         / np.abs(other)))
                rows.append(row)
    return rows


def format_rows(rows) -> str:
    """A markdown table of the rows from :func:`run`."""
    head = ("| preset | M | method | median s/inst | max s/inst | median iters | mean CSBF "
            "| median gap to ref | CCPA within 1% | CCPA beats ref | failed "
            "| CCPA direct vs cvxpy (max rel) |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        extra = (f"{r['within_1pct']}/{r['instances']} | {r['beats_ref']} | {r['failed']} "
                 f"| {r['paths_rel_diff']:.1e}" if "within_1pct" in r else " | | | ")
        lines.append(
            f"| {r['preset']} | {r['M']} | {r['method']} | {r['median_time_s']:.4f} "
            f"| {r['max_time_s']:.4f} | {r['median_nit']:.0f} | {r['mean_csbf']:.4f} "
            f"| {r['median_gap']:.2e} | {extra} |")
    return "\n".join(lines)
