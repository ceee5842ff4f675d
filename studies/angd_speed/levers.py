"""Equal time against L-BFGS: what each lever of tuned ANGD-FCN buys in time and gap.

At M = 16, K = 2, in both scenario presets, on a tuning seed and a held-out seed (trials
0..n-1 of each), every configuration below solves the instances as one batch in this process
(``workers=1``: one core, the same time as a loop); the gap of an instance is 1 - f/f_ref,
f_ref the CSBF of ``solve(problem, "reference")`` (cached in ``--cache``). Configurations run
interleaved, ``--reps`` times; time is the median over the reps of wall time / instances,
and its ratio to the first configuration's (the tuned preset) the median over the reps of
the ratio within a rep (what a shared machine's load does not move as much).

    python studies/angd_speed/levers.py --seed 1 --n 16 --reps 2     # tuning seed
    python studies/angd_speed/levers.py --seed 2 --n 16 --reps 2     # held-out seed
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import angd_np as an

#: The tuned preset as it was before this study chose its stopping rule (and before the
#: start was chosen by the rate headroom: ``headroom=None`` is the pilot's pick).
TUNED = dict(variant="tuned", tol=None, headroom=None)
#: label -> (method, options). The levers: a stopping rule on the best CSBF's progress
#: (tol, patience), the budget (iters, pilot), the network's width (hidden), and L-BFGS
#: from ZF at a few budgets for the comparison.
CONFIGS = {
    "tuned (400, 100), h 128": ("angd-fcn", TUNED),  # the first row: the time unit
    "tol 1e-6 / 50": ("angd-fcn", {**TUNED, "tol": 1e-6, "patience": 50}),
    "tol 1e-7 / 50": ("angd-fcn", {**TUNED, "tol": 1e-7, "patience": 50}),
    "tol 1e-7 / 100": ("angd-fcn", {**TUNED, "tol": 1e-7, "patience": 100}),
    "tol 1e-6 / 100": ("angd-fcn", {**TUNED, "tol": 1e-6, "patience": 100}),
    "tol 1e-7 / 150": ("angd-fcn", {**TUNED, "tol": 1e-7, "patience": 150}),
    "(200, 50)": ("angd-fcn", {**TUNED, "iters": 200, "pilot": 50}),
    "(100, 25)": ("angd-fcn", {**TUNED, "iters": 100, "pilot": 25}),
    "(400, 50)": ("angd-fcn", {**TUNED, "pilot": 50}),
    "(400, 50), tol 1e-7 / 100": ("angd-fcn", {**TUNED, "pilot": 50, "tol": 1e-7,
                                               "patience": 100}),
    "h 32": ("angd-fcn", {**TUNED, "hidden": 32}),
    "h 64": ("angd-fcn", {**TUNED, "hidden": 64}),
    "h 64, tol 1e-7 / 100": ("angd-fcn", {**TUNED, "hidden": 64, "tol": 1e-7,
                                          "patience": 100}),
    "tuned preset now": ("angd-fcn", dict(variant="tuned")),
    "lbfgs zf 40": ("lbfgs", dict(init="zf", iters=40)),
    "lbfgs zf 160": ("lbfgs", dict(init="zf", iters=160)),
    "lbfgs zf 500": ("lbfgs", dict(init="zf", iters=500)),
}


def reference(problem, path):
    """f_ref per instance, from the cache file or solved (and cached)."""
    if path.exists():
        return np.load(path)
    f = an.solve(problem, "reference").csbf
    np.save(path, f)
    return f


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--n", type=int, default=16)
    ap.add_argument("--reps", type=int, default=2)
    ap.add_argument("--scenarios", nargs="+", default=["paper", "balanced"])
    ap.add_argument("--only", nargs="*", default=None, help="labels of CONFIGS to run")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "angd_speed_refs"),
                    help="folder of the reference values (solved once, then read)")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(exist_ok=True)
    configs = {k: v for k, v in CONFIGS.items() if args.only is None or k in args.only}
    print(f"M = 16, K = 2, seed {args.seed}, trials 0..{args.n - 1}; {os.cpu_count()} cores; "
          f"numpy {np.__version__}; load {os.getloadavg()[0]:.1f}", flush=True)
    for name in args.scenarios:
        problem = an.Scenario.preset(name).draw_trials(args.seed, range(args.n))
        f_ref = reference(problem, cache / f"ref_{name}_{args.seed}_{args.n}.npy")
        times = {k: [] for k in configs}
        gaps = {}
        for method, options in configs.values():  # warm-up: imports, BLAS kernels, caches
            an.solve(problem[:1], method, rng=[an.trial_generator(args.seed, 0, 2)],
                     **{**options, "iters": 2, **({"pilot": 1} if "preset" in options else {})})
        for _ in range(args.reps):
            for label, (method, options) in configs.items():
                extra = dict(workers=1, return_state=False) if method.startswith("angd") else {}
                rng = [an.trial_generator(args.seed, t, 2) for t in range(args.n)]
                t0 = time.perf_counter()
                res = an.solve(problem, method, rng=rng, **options, **extra)
                times[label].append((time.perf_counter() - t0) / args.n)
                gaps[label] = 1.0 - res.csbf / f_ref
        base = times[next(iter(configs))]
        print(f"\n{name}, seed {args.seed}:\n| config | median gap | mean gap | max gap | "
              f"ms per instance | time / first row's |\n|---|---|---|---|---|---|")
        for label in configs:
            g = gaps[label]
            ratio = statistics.median(t / b for t, b in zip(times[label], base, strict=True))
            print(f"| {label} | {np.median(g):.3g} | {np.mean(g):.3g} | {np.max(g):.3g} | "
                  f"{1000 * statistics.median(times[label]):.1f} | {ratio:.2f} |", flush=True)
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
