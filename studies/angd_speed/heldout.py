"""The held-out table: tuned ANGD against L-BFGS at equal gap, at every size.

For each scenario preset and size (M, K), trials 0..n-1 of ``--seed`` (no tuning run used
it) are solved by

- tuned ANGD-FCN (and ANGD-CNN where M <= ``--cnn-max-m``) at chain lengths ``--angd-budgets``,
  each a separate run: the preset's chain (from the start its rate headroom picks) cut at B
  iterations, run as ``pilot=1, iters=B - 1`` (the preset's ``pilot=100, iters=400`` is the
  chain of 500, bit for bit; where the headroom calls for both chains, each runs B);
- ``lbfgs`` from ZF, one long run whose history gives f after every iteration (a run of T
  iterations ends where the long one was after T: it is deterministic);
- scipy's L-BFGS-B from ZF on the same power-sphere parametrisation (when scipy is
  installed), likewise from its per-iteration callback;

and the gap of an instance is 1 - f/f_ref, f_ref the best of ``solve(problem, "reference")``
(given every method's end point as a start) and every method's f. For each method the table
gives the smallest budget on its grid at which the median gap is at most ``--target``, the
median gap there, and the time per instance at that budget:

- **one at a time**: a loop of single solves on one core (BLAS on one thread, ANGD with
  ``workers=1``), the median over instances;
- **batch**: all n instances in one call at the solver's defaults on every core, wall time / n
  (scipy has no batch: its column repeats its one-at-a-time time).

Each time is the best of ``--rounds`` rounds (default 3): the loop's median or the batch's
wall time in its fastest round. On this 2-core virtual machine a round can run at half speed
for seconds at a time (the same code measured 2.55 and 5.30 ms one run apart), and a slow
round says something of the machine, not of the solver.

The last columns are ANGD's times over the faster L-BFGS's at equal gap. Public API only.

    python studies/angd_speed/heldout.py                          # the full table
    python studies/angd_speed/heldout.py --sizes 16x2:8 --angd-budgets 50 100   # a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np

import angd_np as an
from angd_np.solvers import sphere

GRID = [*range(5, 100, 5), *range(100, 400, 10), *range(400, 3201, 50)]


def chain(budget):
    """Options of tuned ANGD whose chain (from the start the preset picks) is ``budget``
    iterations long: the first is the pilot's, the rest the main run's."""
    return dict(variant="tuned", pilot=1, iters=budget - 1)


def blas_limit(threads):
    """A context limiting BLAS to ``threads`` (None: no limit), if threadpoolctl is there."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(threads) if threads else contextlib.nullcontext()


def scipy_run(one, iters, record=False):
    """scipy's L-BFGS-B from ZF on the sphere: (W, f per iteration)."""
    from scipy.optimize import minimize

    shape = one.H.shape[-2:]

    def fun(x):
        f, g, _ = sphere.value_and_grad(x[None], one, -1.0)
        return -float(f[0]), g[0]

    seen = []

    def callback(intermediate_result):
        seen.append(-intermediate_result.fun)

    x0 = sphere.to_x(an.solve(one, "zf").W.reshape((1,) + shape))[0]
    res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                   callback=callback if record else None,
                   options={"maxiter": iters, "ftol": 0.0, "gtol": 0.0})
    return sphere.to_W(sphere.to_V(res.x[None], shape), one.p_max)[0], np.array(seen)


def first_reaching(gaps, grid, target):
    """The smallest T of ``grid`` with median(gaps[:, T-1]) <= target, or None."""
    med = np.median(gaps, axis=0)
    return next((T for T in grid if T <= gaps.shape[1] and med[T - 1] <= target), None)


#: Timing rounds (``--rounds``): each time is the best of this many (main() sets it).
ROUNDS = 3


def per_instance_ms(fn, items):
    """Median over ``items`` of fn(item)'s wall time, in ms: the smallest of ``ROUNDS``
    rounds' medians (a slow round is the machine's, not the solver's)."""
    medians = []
    for _ in range(ROUNDS):
        times = []
        for item in items:
            t0 = time.perf_counter()
            fn(item)
            times.append(time.perf_counter() - t0)
        medians.append(statistics.median(times))
    return 1e3 * min(medians)


def batch_ms(fn, n):
    """fn()'s wall time / n, in ms: the smallest of ``ROUNDS`` calls."""
    times = []
    for _ in range(ROUNDS):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return 1e3 * min(times) / n


def measure(preset, M, K, n, args):
    scenario = an.Scenario.preset(preset, n_tx=M, n_users=K)
    trials = list(range(n))
    problem = scenario.draw_trials(args.seed, trials)
    ones = [problem[i:i + 1] for i in trials]

    def rngs(idx):
        return [an.trial_generator(args.seed, t, 2) for t in idx]

    rows, ends, curves = [], [], {}
    # L-BFGS: one long run each; W at the end feeds the reference's starts
    long_run = an.solve(problem, "lbfgs", init="zf", iters=args.max_iters)
    curves["lbfgs"] = long_run.history
    ends.append(long_run.W)
    have_scipy = True
    try:
        runs = [scipy_run(one, args.max_iters, record=True) for one in ones]
        hist = np.array([np.pad(h, (0, args.max_iters - len(h)), mode="edge") for _, h in runs])
        curves["scipy L-BFGS-B"] = hist
        ends.append(np.array([W for W, _ in runs]))
    except ImportError:
        have_scipy = False
    angd = {}
    for method in ("angd-fcn", "angd-cnn"):
        if method == "angd-cnn" and M > args.cnn_max_m:
            continue
        for budget in args.angd_budgets:
            res = an.solve(problem, method, **chain(budget), rng=rngs(trials), workers=1,
                           return_state=False)
            angd[method, budget] = res.csbf
            ends.append(res.W)
    ref = an.solve(problem, "reference", rng=args.seed, init=ends).csbf
    f_ref = np.max([ref, *(c.max(axis=1) for c in curves.values()), *angd.values()], axis=0)

    def gap(f):
        return 1.0 - f / (f_ref[:, None] if np.ndim(f) == 2 else f_ref)

    best_lbfgs = {}
    for name, hist in curves.items():
        gaps = gap(hist)
        T = first_reaching(gaps, GRID, args.target)
        row = {"preset": preset, "size": (M, K), "n": n, "method": name, "budget": T}
        if T is not None:
            row["gap"] = float(np.median(gaps[:, T - 1]))
            with blas_limit(1):
                if name == "lbfgs":
                    row["ms_one"] = per_instance_ms(
                        lambda one, T=T: an.solve(one, "lbfgs", init="zf", iters=T), ones)
                else:
                    row["ms_one"] = per_instance_ms(lambda one, T=T: scipy_run(one, T), ones)
            if name == "lbfgs":
                row["ms_batch"] = batch_ms(
                    lambda T=T: an.solve(problem, "lbfgs", init="zf", iters=T), n)
            else:
                row["ms_batch"] = row["ms_one"]
            best_lbfgs[name] = row
        rows.append(row)
    fast_one = min((r["ms_one"] for r in best_lbfgs.values()), default=None)
    fast_batch = min((r["ms_batch"] for r in best_lbfgs.values()), default=None)
    for method in ("angd-fcn", "angd-cnn"):
        budgets = [it for (m, it) in angd if m == method]
        if not budgets:
            continue
        row = {"preset": preset, "size": (M, K), "n": n, "method": f"{method} (tuned)",
               "budget": None}
        for iters in budgets:  # the smallest budget whose median gap reaches the target
            g = gap(angd[method, iters])
            if np.median(g) <= args.target:
                row["budget"], row["gap"] = iters, float(np.median(g))
                break
        if row["budget"] is None:  # not reached: time the largest budget, say so
            iters = budgets[-1]
            row["unreached"], row["gap"] = iters, float(np.median(gap(angd[method, iters])))
        iters = row["budget"] or row["unreached"]
        with blas_limit(1):
            row["ms_one"] = per_instance_ms(
                lambda i, iters=iters, method=method: an.solve(
                    ones[i], method, **chain(iters), rng=rngs([i]), workers=1,
                    return_state=False), trials)
        row["ms_batch"] = batch_ms(
            lambda iters=iters, method=method: an.solve(
                problem, method, **chain(iters), rng=rngs(trials), return_state=False), n)
        if fast_one:
            row["x_one"], row["x_batch"] = row["ms_one"] / fast_one, row["ms_batch"] / fast_batch
        rows.append(row)
    if not have_scipy:
        print("scipy is not installed: its rows are left out")
    return rows


def format_rows(rows, target):
    out = [f"| preset | (M, K) | instances | method | budget to median gap ≤ {target:g} | "
           "median gap there | ms per instance, one at a time (1 core) | ms per instance, "
           "one batch (defaults, all cores) | ANGD / faster L-BFGS: one at a time, batch |",
           "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        budget = (r["budget"] if r["budget"] is not None
                  else f"not reached (at {r['unreached']})" if "unreached" in r else "not reached")
        cells = [r["preset"], f"({r['size'][0]}, {r['size'][1]})", str(r["n"]), r["method"],
                 str(budget), f"{r['gap']:.3g}" if "gap" in r else "",
                 f"{r['ms_one']:.2f}" if "ms_one" in r else "",
                 f"{r['ms_batch']:.2f}" if "ms_batch" in r else "",
                 f"{r['x_one']:.1f}×, {r['x_batch']:.1f}×" if "x_one" in r else ""]
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7, help="held-out draw (default 7)")
    ap.add_argument("--presets", default="paper,balanced")
    ap.add_argument("--sizes", default="16x2:100,32x4:40,64x8:10",
                    help="MxK:instances, comma-separated (default %(default)s)")
    ap.add_argument("--angd-budgets", type=int, nargs="+",
                    default=[2, 10, 25, 50, 100, 200, 300, 500],
                    help="chain lengths of tuned ANGD, iterations, each >= 2 "
                         "(default %(default)s)")
    ap.add_argument("--cnn-max-m", type=int, default=16,
                    help="ANGD-CNN only up to this M (its output layer grows as M^2 K^2)")
    ap.add_argument("--max-iters", type=int, default=800, help="the L-BFGS long runs")
    ap.add_argument("--target", type=float, default=1e-3)
    ap.add_argument("--rounds", type=int, default=3,
                    help="timing rounds; each time is the best of them (default 3)")
    args = ap.parse_args(argv)
    global ROUNDS
    ROUNDS = max(1, args.rounds)
    if min(args.angd_budgets) < 2:
        ap.error("--angd-budgets: each budget must be >= 2 (one pilot iteration, one main)")
    print(f"{os.cpu_count()} cores, {platform.machine()}; python {platform.python_version()}, "
          f"numpy {np.__version__}, angd_np {an.__version__}; seed {args.seed}; load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for preset in args.presets.split(","):
        for item in args.sizes.split(","):
            size, n = item.split(":")
            M, K = (int(v) for v in size.lower().split("x"))
            new = measure(preset, M, K, int(n), args)
            print(format_rows(new, args.target), flush=True)
            rows += new
    print("\n" + format_rows(rows, args.target))
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
