"""When does a process pool that is already running beat solving a batch in this process?

``workers=None`` solves a batch in this process unless its work (instances × (iterations +
``SETUP_WORK``), pilot chains included) reaches ``POOL_MIN_WORK`` (a pool is started and
kept) or, when a kept pool of every core is running, ``POOL_WARM_WORK``. This script measures
the second threshold: with the pool started once, it solves batches of n instances of tuned
ANGD-FCN cut at B iterations (``pilot=1, iters=B - 1``, as the held-out table's budgets; paper
preset, M = 16, K = 2, trials 0..n-1 of seed 7) in this process (``workers=1``), in the warm
pool (``workers=2``) and at the defaults (``workers=None``), interleaved for ``--rounds``
rounds; ms per instance (wall time / n), the median over rounds, and the pool's and the
defaults' ratios to this process.

    PYTHONPATH=. python studies/angd_speed/warm_pool.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import numpy as np

import angd_np as an
from angd_np.solvers import angd as angd_module


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[4, 8, 16, 32, 64, 128, 256])
    ap.add_argument("--budgets", type=int, nargs="+", default=[2, 10, 50])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores; numpy {np.__version__}, angd_np {an.__version__}; "
          f"SETUP_WORK {angd_module.SETUP_WORK}, POOL_WARM_WORK {angd_module.POOL_WARM_WORK}; "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    scenario = an.Scenario.preset("paper", n_tx=16, n_users=2)
    problem = scenario.draw_trials(7, range(max(args.sizes)))
    an.solve(problem[:16], "angd-fcn", variant="tuned", iters=50, rng=0, workers=2)  # the pool
    print("| n | budget | work (instance-iterations) | this process | warm pool (ratio) | "
          "defaults (ratio) |")
    print("|---|---|---:|---:|---:|---:|")
    for n in args.sizes:
        for budget in args.budgets:
            opts = dict(variant="tuned", pilot=1, iters=budget - 1, return_state=False)
            times = {1: [], 2: [], None: []}
            for _ in range(args.rounds):
                for workers in times:
                    t0 = time.perf_counter()
                    an.solve(problem[:n], "angd-fcn", rng=0, workers=workers, **opts)
                    times[workers].append(1e3 * (time.perf_counter() - t0) / n)
            here, pool, auto = (statistics.median(times[w]) for w in (1, 2, None))
            work = n * (budget - 1 + 2 + angd_module.SETUP_WORK)
            print(f"| {n} | {budget} | {work} | {here:.3f} | {pool:.3f} ({pool / here:.2f}) | "
                  f"{auto:.3f} ({auto / here:.2f}) |", flush=True)
    print(f"# load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
