r"""Is the ``tuned`` ANGD-FCN preset a local optimum of its options? One change at a time.

    python studies/angd_tuning/angd_neighbourhood.py --trials 200 --seed 1   # tuning set

On ``--trials`` instances of the ``balanced`` preset (seed ``--seed``, the same instances and
solver streams as ``angd_study.py``), runs the tuned preset and variants that change one
option each, and prints the median, 90th-percentile and mean gap (%) to f* = the best of
the ``reference`` solver and every run. T = 500 throughout.
"""

import argparse
import sys
import time

import numpy as np

import angd_np as an


def trial_rngs(seed, n):
    """One solver stream per trial (stream 1 of ``trial_generator``), as ``angd_study.py``."""
    return [an.trial_generator(seed, i, 1) for i in range(n)]

VARIANTS = {
    "tuned": {},
    "init=zf": dict(init="zf"),
    "eta_w=0.15": dict(eta_w=0.15),
    "eta_phi=2e-3": dict(eta_phi=2e-3),
    "eta_phi=5e-4": dict(eta_phi=5e-4),
    "betas=(0.5, 0.999)": dict(betas=(0.5, 0.999)),
    "betas=(0.9, 0.99)": dict(betas=(0.9, 0.99)),
    "hidden=256": dict(hidden=256),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    problem = an.Scenario.preset("balanced").draw_trials(args.seed, range(args.trials))
    best = an.solve(problem, "reference", rng=args.seed).csbf
    found = {}
    for name, options in VARIANTS.items():
        t0 = time.perf_counter()
        res = an.solve(problem, "angd-fcn", rng=trial_rngs(args.seed, args.trials),
                       variant="tuned", threads=args.threads, **options)
        found[name] = res.csbf
        best = np.maximum(best, res.csbf)
        print(f"{name}: {time.perf_counter() - t0:.0f} s", file=sys.stderr, flush=True)
    print("| variant of `tuned` | median gap % | p90 gap % | mean gap % |")
    print("|---|---:|---:|---:|")
    for name, f in found.items():
        gap = 100 * (best - f) / np.abs(best)
        print(f"| {name} | {np.median(gap):.2f} | {np.percentile(gap, 90):.2f} | "
              f"{gap.mean():.2f} |")


if __name__ == "__main__":
    main()
