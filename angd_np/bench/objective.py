"""Benchmark: one CSBF value + analytic gradient (the inner step of every iterative solver)."""

from __future__ import annotations

import time

import numpy as np

from ..objective import csbf_and_grad
from ..system import Scenario


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(quick: bool = False) -> list[dict]:
    """Time ``csbf_and_grad`` at M = 16, K = 2, N = 4 for growing batches."""
    rng = np.random.default_rng(0)
    rows = []
    for batch in (1, 64, 1024) if quick else (1, 16, 64, 256, 1024, 4096):
        problem = Scenario().draw(batch, rng)
        W = rng.standard_normal((batch, 16, 2)) + 1j * rng.standard_normal((batch, 16, 2))
        inner = max(1, 2000 // batch)

        def step(W=W, problem=problem, inner=inner):
            for _ in range(inner):
                csbf_and_grad(W, problem)

        t = _median_time(step, 3 if quick else 7) / inner
        rows.append({"batch": batch, "us_per_call": 1e6 * t, "us_per_instance": 1e6 * t / batch})
    return rows


def format_rows(rows) -> str:
    lines = ["| batch | µs per call | µs per instance |", "|---:|---:|---:|"]
    lines += [f"| {r['batch']} | {r['us_per_call']:.1f} | {r['us_per_instance']:.2f} |"
              for r in rows]
    return "\n".join(lines)
