"""Benchmark of ``angd_np.nn``: one network step (forward + backward + Adam), as ANGD takes it.

The paper's FCN with d_in = 64 (the real and imaginary parts of a 16×2 gradient), hidden =
128 (33,088 parameters), and the CNN for the same problem (length 32), each fed one input
row. Reported: the median over timed repeats of one step, with forward, backward and Adam
timed separately.

``run(quick=True)`` times fewer repeats.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np

from angd_np.nn import Adam, cnn, fcn

__all__ = ["run", "format_rows"]

#: The networks timed: name, builder, one input row.
NETWORKS = (("fcn(64, 128)", lambda rng: fcn(64, 128, rng=rng), (1, 64)),
            ("cnn(32)", lambda rng: cnn(32, rng=rng), (1, 2, 32)))


def _median_us(fn, repeats):
    """Median wall time of ``fn()`` in microseconds over ``repeats`` calls."""
    return float(np.median(_times_us(fn, repeats)[0]))


def _times_us(fn, repeats):
    """Wall and CPU times of ``repeats`` calls of ``fn()``, in microseconds (GC paused).

    The CPU time of this thread excludes time spent waiting for a core, so on a busy
    machine it is closer to the cost of the step itself than the wall time.
    """
    wall, cpu = np.empty(repeats), np.empty(repeats)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        for i in range(repeats):
            start, start_cpu = time.perf_counter(), time.thread_time()
            fn()
            wall[i] = time.perf_counter() - start
            cpu[i] = time.thread_time() - start_cpu
    finally:
        if gc_was_enabled:
            gc.enable()
    return wall * 1e6, cpu * 1e6


def time_step(net, x, repeats, *, name):
    """Time forward, backward, Adam and the full step of ``net``, configured as ANGD runs it.

    ANGD needs no gradient with respect to the network input (``input_grad=False``), its
    gradients come from checked inputs (``check_finite=False``, which saves a ~10 µs pass per
    33k parameters), and its loop feeds its own float64 buffers (``check=False``).
    """
    opt = Adam(net.flat_params, lr=1e-4, maximize=True, check_finite=False)
    dy = np.random.default_rng(1).standard_normal(net.forward(x).shape) * 1e-3

    def forward():
        net.forward(x, check=False)

    def backward():
        net.backward(dy, input_grad=False, check=False)

    def adam():
        opt.step(net.flat_grads)

    def step():
        net.forward(x, check=False)
        net.backward(dy, input_grad=False, check=False)
        opt.step(net.flat_grads)

    for _ in range(3):  # warm up caches, the allocator and the grad-view cache of Adam
        step()
    phases = {k: _median_us(f, repeats)
              for k, f in (("forward_us", forward), ("backward_us", backward), ("adam_us", adam))}
    wall, cpu = _times_us(step, repeats)
    return {"section": "nn", "network": name, "n_params": net.n_params,
            "us_per_step": float(np.median(wall)), **phases,
            "best_us_per_step": float(wall.min()),
            "cpu_us_per_step": float(np.median(cpu)), "repeats": repeats,
            "cores": os.cpu_count(), "load_avg_1min": os.getloadavg()[0]}


def _repeats(n_params, quick):
    """About 0.2 s (quick: 0.05 s) per timed phase, between 5 and 2000 repeats."""
    wall_us = 5e4 if quick else 2e5
    return int(np.clip(wall_us / (n_params * 5e-3), 5, 2000))


def run(quick: bool = False) -> list[dict]:
    """Rows of timings (µs per step) for the FCN and the CNN."""
    rows = []
    rng = np.random.default_rng(0)
    for name, build, x_shape in NETWORKS:
        net = build(rng)
        x = rng.standard_normal(x_shape)
        rows.append(time_step(net, x, _repeats(net.n_params, quick), name=name))
    return rows


def format_rows(rows) -> str:
    """A markdown table of the rows."""
    cores = rows[0]["cores"] if rows else os.cpu_count()
    loads = ", ".join(f"{r['load_avg_1min']:.1f}" for r in rows[:1] + rows[-1:])
    lines = ["One forward + backward + Adam step, µs: median wall time of "
             "the repeats (forward, backward and Adam timed separately), the fastest repeat, "
             f"and the median CPU time of this thread. {cores} cores; 1-minute load average "
             f"{loads} (first, last row).", "",
             "| network | params | step | forward | backward | Adam | fastest | CPU | repeats |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['network']} | {r['n_params']:,} | {r['us_per_step']:.1f} | "
                     f"{r['forward_us']:.1f} | {r['backward_us']:.1f} | {r['adam_us']:.1f} | "
                     f"{r['best_us_per_step']:.1f} | {r['cpu_us_per_step']:.1f} | "
                     f"{r['repeats']} |")
    return "\n".join(lines)
