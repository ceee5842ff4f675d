"""The lever "what the network sees": tuned ANGD-FCN with its previous output as input too.

``step_input=κ`` feeds the FCN [scaled gradient, κ c y_{t-1}] (its own previous output as
the projection scaled it: the last step in the output scale's units) instead of the gradient
alone, as learned optimisers feed a network the last update. This script measures the median
gap of the tuned preset's chain (from the start its rate headroom picks, cut at B
iterations: ``pilot=1, iters=B - 1``, as the held-out table does) with and without it, at
each size and scenario, and the time per instance of one batch solved in this process
(``workers=1``: the engine runs one instance after another, so this is a loop's time up to
the per-call overhead). Gaps are against the best of the reference (given every run's end
point as a start) and every run. Trials 0..n-1 of ``--seed``.

    PYTHONPATH=. python studies/angd_speed/step_input.py --seed 1     # tuning
    PYTHONPATH=. python studies/angd_speed/step_input.py --seed 7     # held out

(The ``tuned`` FCN preset has ``step_input=0.5`` since this study; the script sets the option
explicitly on both sides: 0 and ``--kappa``.)
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np

import angd_np as an

BUDGETS = (50, 100, 150, 200, 300, 500)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--sizes", default="16x2:48,32x4:24,64x8:8",
                    help="MxK:instances, comma-separated (default %(default)s)")
    ap.add_argument("--presets", default="balanced,paper")
    ap.add_argument("--target", type=float, default=1e-3)
    ap.add_argument("--kappa", type=float, default=0.5)
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores; numpy {np.__version__}, angd_np {an.__version__}; seed "
          f"{args.seed}, kappa {args.kappa:g}; load {os.getloadavg()[0]:.1f}", flush=True)
    head = " | ".join(f"B = {B}" for B in BUDGETS)
    print(f"| preset | (M, K) | n | network input | {head} | first B with median <= "
          f"{args.target:g} |")
    print("|---|---|---:|---|" + "---|" * len(BUDGETS) + "---|")
    for preset in args.presets.split(","):
        for item in args.sizes.split(","):
            size, n = item.split(":")
            M, K = (int(v) for v in size.lower().split("x"))
            n = int(n)
            problem = an.Scenario.preset(preset, n_tx=M, n_users=K).draw_trials(
                args.seed, range(n))
            runs, ends = {}, []
            for step in (False, True):
                for B in BUDGETS:
                    rngs = [an.trial_generator(args.seed, t, 2) for t in range(n)]
                    t0 = time.perf_counter()
                    res = an.solve(problem, "angd-fcn", variant="tuned", pilot=1,
                                   iters=B - 1, rng=rngs, workers=1, return_state=False,
                                   step_input=args.kappa if step else 0.0)
                    runs[step, B] = (res.csbf, 1e3 * (time.perf_counter() - t0) / n)
                    ends.append(res.W)
            ref = an.solve(problem, "reference", rng=args.seed, init=ends).csbf
            f_best = np.max([ref, *(f for f, _ in runs.values())], axis=0)
            for step in (False, True):
                cells, first = [], "not within 500"
                for B in BUDGETS:
                    f, ms = runs[step, B]
                    gap = float(np.median(1.0 - f / f_best))
                    cells.append(f"{gap:.2g} ({ms:.0f} ms)")
                    if gap <= args.target and first == "not within 500":
                        first = f"{B} ({ms:.0f} ms)"
                label = "gradient, previous output" if step else "gradient"
                print(f"| {preset} | ({M}, {K}) | {n} | {label} | " + " | ".join(cells)
                      + f" | {first} |", flush=True)


if __name__ == "__main__":
    main()
