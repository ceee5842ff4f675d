"""REPORT.md sections for our figures beyond the paper: quality against time, and tracking.

Like :mod:`.report`, every number is computed from the stored results.csv files. The gaps
are per trial: for ``quality-time`` against the best value any method reached on that
instance at any budget; for ``tracking`` and ``budget`` the median, over the frames after
the burn-in, of each frame's gap against the best value any method reached on that frame.
"""

from __future__ import annotations

import numpy as np

from .configs import FIGURES
from .plotstyle import label

__all__ = ["quality_time_section", "tracking_section", "budget_section", "gap_text"]


def gap_text(v) -> str:
    """A CSBF gap as a fraction with three significant digits: a gap of 1.5e-6 must not read
    as "0.00%" (in the paper scenario the CSBF is ~99.9% sensing, so what separates methods
    there is far below a hundredth of a percent)."""
    return "n/a" if not np.isfinite(v) else f"{v:.3g}"


def _methods(run):
    return [m for m in run["meta"]["methods"]
            if any(key[1] == m for key in run["rows"])]


def _median(run, x, method, column):
    d = run["rows"].get((float(x), method))
    if d is None:
        return np.nan
    v = d[column][np.isfinite(d[column])]
    return float(np.median(v)) if v.size else np.nan


def _first_under(run, method, xs, limit=0.01):
    for x in xs:
        if _median(run, x, method, "gap") < limit:
            return x
    return None


def quality_time_section(runs) -> list:
    lines = []
    for name, run in runs.items():
        spec = FIGURES.get(name)
        if spec is None or spec.x_options is None:  # not a sweep over solver budgets
            continue
        levels = run["meta"]["x_values"]
        budgets = run["meta"]["identity"]["budgets"]
        scen = run["meta"]["identity"]["scenarios"][0]
        lines += [f"## Quality against time ({name}: M = {scen['n_tx']}, K = {scen['n_users']}, "
                  f"{run['meta']['trials']} trials)", "",
                  "Median gap to the best known (a fraction: 1e-3 is 0.1%) / median time per "
                  "instance, at each budget level (the options of each level are in "
                  "meta.json):", "",
                  "| method | " + " | ".join(f"level {lv}" for lv in levels) + " |",
                  "|---|" + "---|" * len(levels)]
        for m in _methods(run):
            cells = []
            for lv in levels:
                gap, t = _median(run, lv, m, "gap"), _median(run, lv, m, "time_s")
                cells.append("—" if np.isnan(gap) else f"{gap_text(gap)} / {1000 * t:.3g} ms")
            lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
        lines += ["", "Budgets: " + "; ".join(
            f"{label(m)}: " + ", ".join(str(b[m]) for b in budgets)
            for m in _methods(run) if any(b[m] != budgets[0][m] for b in budgets)), ""]
    return lines


def tracking_section(runs) -> list:
    run = runs.get("tracking")
    if run is None:
        return []
    frames = run["meta"]["identity"]["frames"][0]
    lines = ["## Tracking time-varying channels", "",
             f"{run['meta']['trials']} sequences of {frames['n_frames']} frames per ρ, targets "
             f"drifting {frames['target_drift_deg']:g}° per frame, "
             f"{frames['iters_per_frame']} iterations per frame for iterative methods. "
             f"Median over sequences of the median per-frame gap after frame "
             f"{frames['burn_in']}, a fraction (1e-3 is 0.1%), and the median time per "
             f"frame:", "",
             "| method | " + " | ".join(f"ρ = {x:g}" for x in run["meta"]["x_values"]) + " |",
             "|---|" + "---|" * len(run["meta"]["x_values"])]
    for m in _methods(run):
        cells = [f"{gap_text(_median(run, x, m, 'gap'))} "
                 f"({1000 * _median(run, x, m, 'time_s'):.3g} ms)" for x in run["meta"]["x_values"]]
        lines.append(f"| {label(m)} | " + " | ".join(cells) + " |")
    return lines + [""]


def budget_section(runs) -> list:
    run = runs.get("budget")
    if run is None:
        return []
    xs = run["meta"]["x_values"]
    lines = ["## Tracking: what a frame's iteration budget buys", "",
             "Median per-frame gap after the burn-in (a fraction: 1e-3 is 0.1%) at each number "
             "of iterations per frame (ρ = 0.99); the last columns are the smallest budgets "
             "with a median under 1e-2 and under 1e-3.", "",
             "| method | " + " | ".join(f"{x:g}" for x in xs) + " | < 1e-2 from | < 1e-3 from |",
             "|---|" + "---|" * (len(xs) + 2)]
    for m in _methods(run):
        cells = [gap_text(_median(run, x, m, 'gap')) for x in xs]
        firsts = [_first_under(run, m, xs, limit) for limit in (1e-2, 1e-3)]
        lines.append(f"| {label(m)} | " + " | ".join(cells) + " | " + " | ".join(
            "never" if f is None else f"{f:g}" for f in firsts) + " |")
    return lines + [""]
