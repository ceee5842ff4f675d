"""What stepping B instances' networks together (lock-step) would cost per instance-iteration.

ANGD's engine solves one instance at a time (``_angd_engine``): an iteration is ~43 NumPy
calls, and at the paper's size their overhead, not the arithmetic, sets its time. A batch
engine that stepped B networks together would pay each call once for B instances, but would
stream B networks' weights and moments through memory instead of one network's from cache.
This script times the network's part of an iteration (the update network is where the
instances differ in size; the objective is ~1/5 of an iteration) for B instances at once:
an FCN with two hidden ReLU layers of width h (input and output 2MK = 64, the size M = 16,
K = 2), float32 as both presets, forward pass, backward pass with the weight gradients as
outer products, and Adam over every parameter, by batched ``matmul`` (one BLAS call per
instance inside one NumPy call) and element-wise passes over (B, ...) arrays. Plain Adam (no
scaled moments, no rank-one BLAS updates: ``_angd_adam``), so for one instance it is slower
than the engine's; the column that matters is how the time per instance falls with B.
Beside it, the engine's own time per iteration, one instance at a time, from two solves of
tuned ANGD-FCN that differ only in their iterations (the set-up cancels).

    PYTHONPATH=. python studies/angd_speed/lockstep.py
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time

import numpy as np

import angd_np as an


def lockstep_us(B, d, h, reps, rng):
    """Median µs per iteration of B float32 FCNs (d -> h -> h -> d) stepped together."""
    f32 = np.float32
    shapes = [(d, h), (1, h), (h, h), (1, h), (h, d), (1, d)]
    params = [rng.standard_normal((B, *s)).astype(f32) * f32(0.1) for s in shapes]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    g = [np.empty_like(p) for p in params]
    work = [np.empty_like(p) for p in params]
    x = rng.standard_normal((B, 1, d)).astype(f32)
    h1, h2, y = (np.empty((B, 1, n), f32) for n in (h, h, d))
    W1, b1, W2, b2, W3, b3 = params
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        np.matmul(x, W1, out=h1)
        h1 += b1
        np.maximum(h1, 0, out=h1)
        np.matmul(h1, W2, out=h2)
        h2 += b2
        np.maximum(h2, 0, out=h2)
        np.matmul(h2, W3, out=y)
        y += b3
        dy = y  # ∂f/∂y stands in: its values do not change the time
        np.multiply(h2.transpose(0, 2, 1), dy, out=g[4])
        g[5][...] = dy
        dh2 = np.matmul(dy, W3.transpose(0, 2, 1))
        dh2 *= h2 > 0
        np.multiply(h1.transpose(0, 2, 1), dh2, out=g[2])
        g[3][...] = dh2
        dh1 = np.matmul(dh2, W2.transpose(0, 2, 1))
        dh1 *= h1 > 0
        np.multiply(x.transpose(0, 2, 1), dh1, out=g[0])
        g[1][...] = dh1
        for p, gi, mi, vi, wi in zip(params, g, m, v, work, strict=True):
            mi *= f32(0.9)
            np.multiply(gi, f32(0.1), out=wi)
            mi += wi
            gi *= gi
            vi *= f32(0.999)
            gi *= f32(0.001)
            vi += gi
            np.sqrt(vi, out=wi)
            wi += f32(1e-8)
            np.divide(mi, wi, out=wi)
            wi *= f32(1e-4)
            p += wi
        times.append(time.perf_counter() - t0)
    return 1e6 * statistics.median(times)


def engine_us(hidden, reps=5):
    """The engine's µs per iteration, one instance (tuned ANGD-FCN, M = 16, K = 2, paper)."""
    problem = an.Scenario.preset("paper", n_tx=16, n_users=2).draw_trials(7, [0])
    opts = dict(variant="tuned", pilot=0, init="zf", hidden=hidden, workers=1,
                return_state=False)
    runs = {}
    for iters in (20, 220):
        ts = []
        for _ in range(reps):
            t0 = time.perf_counter()
            an.solve(problem, "angd-fcn", rng=0, iters=iters, **opts)
            ts.append(time.perf_counter() - t0)
        runs[iters] = statistics.median(ts)
    return 1e6 * (runs[220] - runs[20]) / 200


@contextlib.contextmanager
def blas_one_thread():
    """BLAS held to one thread while the block runs, if threadpoolctl is installed (yields
    whether it is)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield False
        return
    with threadpool_limits(1):
        yield True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", type=int, nargs="+", default=[16, 32, 64, 128])
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8, 24, 100])
    ap.add_argument("--reps", type=int, default=200)
    args = ap.parse_args()
    with blas_one_thread() as held:
        print(f"# {os.cpu_count()} cores, BLAS held to one thread: {held}; numpy "
              f"{np.__version__}, angd_np {an.__version__}; load {os.getloadavg()[0]:.1f}")
        rng = np.random.default_rng(0)
        head = " | ".join(f"B = {B}" for B in args.batches)
        print(f"| width h | parameters | engine, one instance | {head} |")
        print("|---|---:|---:|" + "---:|" * len(args.batches))
        for h in args.widths:
            d = 64
            P = d * h + h + h * h + h + h * d + d
            cells = [f"{lockstep_us(B, d, h, args.reps, rng) / B:.1f}" for B in args.batches]
            print(f"| {h} | {P} | {engine_us(h):.1f} | " + " | ".join(cells) + " |",
                  flush=True)
    print("(µs per instance-iteration; lock-step columns: the network's forward, backward and "
          "Adam only)")


if __name__ == "__main__":
    main()
