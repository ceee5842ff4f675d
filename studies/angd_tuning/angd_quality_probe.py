"""A first probe for the quality issue: tuned ANGD-FCN from ZF with more iterations.

Held-out trials 1000.. of seed 0 (the tuning study used others), balanced preset; gap to the
best of the reference and every run; also counts instances below ZF's CSBF. Not a study: one
idea (the starting point and the budget), measured at three sizes.

    python studies/angd_tuning/angd_quality_probe.py --n-tx 16 --n-users 2 --trials 200
"""

import argparse
import time

import numpy as np

import angd_np as an


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-tx", type=int, default=16)
    parser.add_argument("--n-users", type=int, default=2)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--iters", default="500,1000,1500")
    args = parser.parse_args(argv)
    scenario = an.Scenario.preset("balanced", n_tx=args.n_tx, n_users=args.n_users)
    trials = np.arange(1000, 1000 + args.trials)
    problem = scenario.draw_trials(0, trials)

    def rngs():
        return [an.trial_generator(0, int(t), 1) for t in trials]

    t0 = time.perf_counter()
    ref = an.solve(problem, "reference", rng=rngs())
    t_ref = time.perf_counter() - t0
    runs = {}
    for init in ("random", "zf"):
        for iters in (int(i) for i in args.iters.split(",")):
            t0 = time.perf_counter()
            res = an.solve(problem, "angd-fcn", variant="tuned", iters=iters, init=init,
                           rng=rngs(), return_state=False)
            runs[(init, iters)] = (res.csbf, time.perf_counter() - t0)
    f_zf = an.solve(problem, "zf").csbf
    best = np.maximum.reduce([ref.csbf] + [f for f, _ in runs.values()])
    print(f"M = {args.n_tx}, K = {args.n_users}, {args.trials} held-out instances; reference "
          f"{1000 * t_ref / args.trials:.0f} ms per instance")
    print("| init | T | median gap | p90 gap | below ZF | ms per instance (batch) |")
    print("|---|---:|---:|---:|---:|---:|")
    for (init, iters), (f, t) in runs.items():
        gap = (best - f) / np.abs(best)
        print(f"| {init} | {iters} | {100 * np.median(gap):.2f}% | "
              f"{100 * np.percentile(gap, 90):.2f}% | {int(np.sum(f < f_zf))} | "
              f"{1000 * t / args.trials:.1f} |")


if __name__ == "__main__":
    main()
