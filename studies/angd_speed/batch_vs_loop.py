"""Time per instance of ANGD solved as one batch against a loop of single solves.

For each batch size n, the instances are trials 0..n-1 of one scenario preset; each is solved
(public API only) by ``solve(problem, METHOD)``:

- ``loop``: one ``solve`` per instance, at the defaults;
- ``batch``: one ``solve`` of the n instances at the defaults (``workers=None``);
- ``batch w=1``: the same with ``workers=1`` (this process);
- ``batch w=2``: the same with ``workers=2``, a call after the first one of the run (the
  first call that starts worker processes is timed once, apart: ``first w=2``).

The modes run interleaved (loop, batch, w=1, w=2, loop, ...) ``--reps`` times; the table
gives medians in ms per instance and the ratios to the loop of the same round. Every batch's
W is checked equal, bit for bit, to the loop's.

    python studies/angd_speed/batch_vs_loop.py --sizes 1 2 8 24 200 --reps 3
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import angd_np as an


def blas_name():
    try:
        from threadpoolctl import threadpool_info
        return ", ".join(sorted({f"{i['internal_api']} {i.get('version')}"
                                 for i in threadpool_info() if i["user_api"] == "blas"}))
    except ImportError:
        return "unknown (threadpoolctl not installed)"


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def modes(scenario, seed, n, method, preset_opts):
    """name -> a function solving trials 0..n-1 that returns their W."""
    trials = list(range(n))
    batch = scenario.draw_trials(seed, trials)
    singles = [scenario.draw_trials(seed, [t]) for t in trials]

    def loop():
        return np.concatenate([an.solve(p, method, rng=[an.trial_generator(seed, t, 2)],
                                        return_state=False, **preset_opts).W
                               for p, t in zip(singles, trials, strict=True)])

    def run_batch(**kw):
        return lambda: an.solve(batch, method, return_state=False, **preset_opts, **kw,
                                rng=[an.trial_generator(seed, t, 2) for t in trials]).W

    return {"loop": loop, "batch": run_batch(), "batch w=1": run_batch(workers=1),
            "batch w=2": run_batch(workers=2)}


def measure_first(scenario, seed, n, method, preset_opts):
    """Seconds of the run's first call with workers=2 (it starts the worker processes)."""
    return timed(modes(scenario, seed, n, method, preset_opts)["batch w=2"])[0]


def measure(scenario, seed, n, method, preset_opts, reps):
    """Median ms per instance of each mode, and median ratio to the loop of the same round;
    every mode's W checked equal to the loop's."""
    fns = modes(scenario, seed, n, method, preset_opts)
    times = {k: [] for k in fns}
    ref = None
    for _ in range(reps):
        for name, fn in fns.items():
            t, W = timed(fn)
            times[name].append(t / n)
            if ref is None:
                ref = W
            elif not np.array_equal(W, ref):
                raise AssertionError(f"{name} at n = {n}: W differs from the loop's")
    med = {k: 1000 * statistics.median(v) for k, v in times.items()}
    ratio = {k: statistics.median(t / base for t, base in zip(v, times["loop"], strict=True))
             for k, v in times.items()}
    return med, ratio


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 8, 24, 200])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--scenario", default="balanced")
    ap.add_argument("--method", default="angd-fcn-tuned",
                    help="a method name of method_names(), e.g. angd-fcn-tuned")
    args = ap.parse_args()
    scenario = an.Scenario.preset(args.scenario)
    method, preset_opts = an.solvers.method_call(args.method)
    seed = 0
    print(f"{args.method}, scenario {args.scenario}, M = {scenario.n_tx}, "
          f"K = {scenario.n_users}; {os.cpu_count()} cores; BLAS {blas_name()}; "
          f"numpy {np.__version__}; load {os.getloadavg()[0]:.1f}", flush=True)
    rows, first = [], None
    for n in args.sizes:
        if first is None and n >= 2:  # (one instance never starts a pool)
            first = measure_first(scenario, seed, n, method, preset_opts)
            print(f"first w=2 call of the run (starts the workers), n = {n}: "
                  f"{1000 * first / n:.1f} ms per instance", flush=True)
        med, ratio = measure(scenario, seed, n, method, preset_opts, args.reps)
        rows.append((n, med, ratio))
        print(f"n = {n:4d}: " + "  ".join(f"{k} {med[k]:.1f} ms ({ratio[k]:.2f})" for k in med),
              flush=True)
    print("\n| n | " + " | ".join(f"{k} ms (/loop)" for k in rows[0][1]) + " |")
    print("|---|" + "---|" * len(rows[0][1]))
    for n, med, ratio in rows:
        print(f"| {n} | " + " | ".join(f"{med[k]:.1f} ({ratio[k]:.2f})" for k in med) + " |")
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
