"""Benchmark of the Monte Carlo runner: wall time of figure runs, and scaling with workers.

Each row is one ``run_figures`` call into a fresh temporary folder (nothing is resumed), so
the time includes process start-up, solving, writing chunks, merging and plotting. From the
time at a small trial count we extrapolate linearly to 100 and 1000 trials (``est_*``); the
fixed costs (start-up, plotting) make that an overestimate. Every figure runs its default
methods, the reference solver included: it runs on every trial, so it scales like the rest.
"""

from __future__ import annotations

import os
import tempfile
import time

__all__ = ["run", "format_rows"]


def _time_run(figures, trials, workers):
    from ..experiments import make_config, run_figures

    configs = [make_config(f, trials=trials) for f in figures]
    with tempfile.TemporaryDirectory(prefix="angd-np-bench-") as out:
        t0 = time.perf_counter()
        run_figures(configs, out, workers=workers, progress=False)
        return time.perf_counter() - t0


def run(quick: bool = False) -> list[dict]:
    """Rows ``{figures, trials, workers, wall_s, est_100_s, est_1000_s}``.

    Parameters
    ----------
    quick : bool
        fig4 at 4 trials (a smoke test of the numbers) instead of every figure at 10.
    """
    from ..experiments import FIGURES

    cores = os.cpu_count() or 1
    if quick:
        cases = [(("fig4",), 4)]
    else:
        cases = [(tuple(FIGURES), 10)]
    worker_counts = sorted({1, min(2, cores), cores})
    rows = []
    for figures, trials in cases:
        for workers in worker_counts:
            wall = _time_run(figures, trials, workers)
            rows.append({"figures": " ".join(figures), "trials": trials, "workers": workers,
                         "wall_s": wall, "est_100_s": wall * 100 / trials,
                         "est_1000_s": wall * 1000 / trials})
    return rows


def format_rows(rows) -> str:
    """A markdown table of :func:`run` rows, with the speed-up over one worker."""
    lines = ["| figures | trials | workers | wall (s) | speed-up | est. 100 trials | "
             "est. 1000 trials |", "|---|---|---|---|---|---|---|"]
    base = {}
    for r in rows:
        base.setdefault((r["figures"], r["trials"]), r["wall_s"] if r["workers"] == 1 else None)
        b = base[(r["figures"], r["trials"])]
        speed = f"{b / r['wall_s']:.2f}x" if b else "—"
        lines.append(f"| {r['figures']} | {r['trials']} | {r['workers']} | {r['wall_s']:.1f} | "
                     f"{speed} | {r['est_100_s'] / 60:.1f} min | {r['est_1000_s'] / 60:.1f} min |")
    return "\n".join(lines)
