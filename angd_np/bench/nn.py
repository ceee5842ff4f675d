"""Benchmark of ``angd_np.nn``: one ANGD network step (forward + backward + Adam).

The case of the issue: the paper's FCN with d_in = 64 (the real and imaginary parts of a
16×2 gradient), hidden = 128 (33,088 parameters), one input row per network, at B = 1 and at
B = 4 ... 1024 networks stepping together. Reported per network-step: the time of one batched
step divided by B, median over timed repeats, with forward, backward and Adam timed
separately. The CNN for the same problem (length 32) is timed at two batch sizes for scale.

``run(quick=True)`` times fewer batch sizes with fewer repeats.
"""

from __future__ import annotations

import gc
import os
import time

import numpy as np

from angd_np.nn import Adam, cnn, fcn

__all__ = ["run", "format_rows"]

FCN_SIZES = (1, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
FCN_SIZES_QUICK = (1, 4, 16, 64)
CNN_SIZES = (1, 16)


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
    b = net.n_nets
    phases = {k: _median_us(f, repeats) / b
              for k, f in (("forward_us", forward), ("backward_us", backward), ("adam_us", adam))}
    wall, cpu = (t / b for t in _times_us(step, repeats))
    return {"section": "nn", "network": name, "n_params": net.n_params, "n_nets": b,
            "us_per_net_step": float(np.median(wall)), **phases,
            "best_us_per_net_step": float(wall.min()),
            "cpu_us_per_net_step": float(np.median(cpu)), "repeats": repeats,
            "cores": os.cpu_count(), "load_avg_1min": os.getloadavg()[0]}


def _repeats(n_params_total, quick):
    """About 0.2 s (quick: 0.05 s) per timed phase, between 5 and 2000 repeats."""
    budget = 5e4 if quick else 2e5  # µs
    return int(np.clip(budget / (n_params_total * 5e-3), 5, 2000))


def run(quick: bool = False) -> list[dict]:
    """Rows of timings (µs per network-step) for the FCN and the CNN at several B."""
    rows = []
    rng = np.random.default_rng(0)
    for b in FCN_SIZES_QUICK if quick else FCN_SIZES:
        net = fcn(64, 128, n_nets=b, rng=rng)
        x = rng.standard_normal((1, 64) if b == 1 else (b, 1, 64))
        rows.append(time_step(net, x, _repeats(b * net.n_params, quick), name="fcn(64, 128)"))
        del net
    for b in CNN_SIZES:
        net = cnn(32, n_nets=b, rng=rng)
        x = rng.standard_normal((1, 2, 32) if b == 1 else (b, 1, 2, 32))
        rows.append(time_step(net, x, _repeats(b * net.n_params, quick), name="cnn(32)"))
    return rows


def format_rows(rows) -> str:
    """A markdown table of the rows, then the best FCN batch size."""
    cores = rows[0]["cores"] if rows else os.cpu_count()
    loads = ", ".join(f"{r['load_avg_1min']:.1f}" for r in rows[:1] + rows[-1:])
    lines = ["One forward + backward + Adam step, µs per network-step: median wall time of "
             "the repeats (forward, backward and Adam timed separately), the fastest repeat, "
             f"and the median CPU time of this thread. {cores} cores; 1-minute load average "
             f"{loads} (first, last row).", "",
             "| network | params | B | step | forward | backward | Adam | fastest | CPU "
             "| repeats |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['network']} | {r['n_params']:,} | {r['n_nets']} | "
                     f"{r['us_per_net_step']:.1f} | {r['forward_us']:.1f} | "
                     f"{r['backward_us']:.1f} | {r['adam_us']:.1f} | "
                     f"{r['best_us_per_net_step']:.1f} | {r['cpu_us_per_net_step']:.1f} | "
                     f"{r['repeats']} |")
    fcn_rows = [r for r in rows if r["network"].startswith("fcn")]
    if fcn_rows:
        best = min(fcn_rows, key=lambda r: r["us_per_net_step"])
        single = [r for r in fcn_rows if r["n_nets"] == 1]
        lines.append("")
        if single:
            lines.append(f"FCN at B = 1: {single[0]['us_per_net_step']:.1f} µs per step.")
        lines.append(f"FCN best: B = {best['n_nets']}, {best['us_per_net_step']:.1f} µs per "
                     "network-step.")
    return "\n".join(lines)
