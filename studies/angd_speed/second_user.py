"""Why tuned ANGD's sum rate stays below CCPA's in the paper scenario (fig. 3, M = 10).

In the paper scenario the rate headroom is below 1%, so tuned ANGD runs the sensing beam's
chain alone: all the power in one user's column, the others zero, and a zero column has a
zero gradient, so that chain never serves a second user (section 3). Its CSBF gap is tiny,
but the sum rate is 0.03% of the CSBF: an instance where the optimum does serve a second user
costs a few bit/s/Hz of sum rate for a CSBF gap of ~1e-4. This script measures it on trials
0..n-1 of fig. 3's instances at M = 10 (the figure's own draws, ``--seed``):

1. per instance, the users each method serves (a column with more than 1% of the power's
   amplitude), the CSBF gap to the best of reference, CCPA and ANGD, and the sum rate;
2. the share of tuned ANGD's mean sum-rate deficit to CCPA that the instances where CCPA
   serves more users than ANGD account for;
3. on those instances, the beam's chain started with a fraction ``eps`` of the power moved to
   the other users' columns (each along its channel, so that its gradient is not zero), run
   for the preset's 500 iterations (``pilot=0``, ``init=`` that start): does it reach the
   second user's optimum?

    PYTHONPATH=. python studies/angd_speed/second_user.py --n 200
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import angd_np as an
from angd_np.solvers.linear import sensing_beam


def served(W, p_max):
    """Users served per instance: columns with amplitude above 1% of sqrt(p_max)."""
    return (np.linalg.norm(W, axis=-2) > 1e-2 * np.sqrt(p_max)).sum(-1)


def beam_with_eps(problem, eps):
    """The sensing beam with a fraction eps of the power spread over the unserved users'
    columns, each along its own channel (matched filter)."""
    beam = sensing_beam(problem)
    K = problem.n_users
    unserved = ~(np.abs(beam).sum(-2) > 0)  # (n, K)
    mf = problem.H / np.linalg.norm(problem.H, axis=-2, keepdims=True)
    return beam * np.sqrt(1 - eps) + np.sqrt(eps * problem.p_max / max(K - 1, 1)) * (
        mf * unserved[:, None, :])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="trials 0..n-1 (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="the figures' seed (default 0)")
    ap.add_argument("--eps", type=float, nargs="+", default=[1e-4, 1e-3, 1e-2])
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores; angd_np {an.__version__}; paper preset, M = 10, "
          f"30 dBm, trials 0..{args.n - 1} of seed {args.seed}")
    scenario = an.Scenario.preset("paper", n_tx=10)
    problem = scenario.draw_trials(args.seed, range(args.n))
    rngs = [an.trial_generator(args.seed, t, 1) for t in range(args.n)]
    res = {name: an.solve(problem, name, rng=rngs, **opts) for name, opts in (
        ("reference", {}), ("ccpa", {}), ("angd-fcn", {"variant": "tuned"}))}
    best = np.maximum.reduce([r.csbf for r in res.values()])
    p = scenario.p_max
    print("\n| method | mean gap | median gap | mean sum rate | instances serving 2+ users |")
    print("|---|---|---|---|---|")
    for name, r in res.items():
        gap = 1 - r.csbf / best
        print(f"| {name} | {gap.mean():.3g} | {np.median(gap):.3g} | {r.sum_rate.mean():.4f} "
              f"| {(served(r.W, p) >= 2).sum()} |")
    angd, ccpa = res["angd-fcn"], res["ccpa"]
    more = served(ccpa.W, p) > served(angd.W, p)
    deficit = angd.sum_rate - ccpa.sum_rate
    print(f"\nCCPA serves more users than tuned ANGD on {more.sum()} of {args.n} instances; "
          f"tuned ANGD's mean sum rate is {deficit.mean():+.4f} bit/s/Hz from CCPA's "
          f"({deficit.mean() / ccpa.sum_rate.mean():+.2%}).")
    if not more.any():
        return 0
    print(f"Those instances account for {deficit[more].sum() / args.n:+.4f} of it "
          f"({deficit[more].sum() / deficit.sum():.0%}); there ANGD's CSBF gap is "
          f"{np.median(1 - angd.csbf[more] / best[more]):.3g} and its sum rate "
          f"{np.median(deficit[more]):+.2f} bit/s/Hz from CCPA's (medians).")
    sub = problem[np.flatnonzero(more)]
    sub_rngs = [rngs[i] for i in np.flatnonzero(more)]
    print("\nThe beam's chain from a start with a share eps of the power on the other users, "
          "on those instances (500 iterations):\n")
    print("| start | median gap | mean sum rate | serving 2+ users |")
    print("|---|---|---|---|")
    print(f"| the beam (the preset) | {np.median(1 - angd.csbf[more] / best[more]):.3g} | "
          f"{angd.sum_rate[more].mean():.3f} | {(served(angd.W[more], p) >= 2).sum()} |")
    for eps in args.eps:
        r = an.solve(sub, "angd-fcn", variant="tuned", rng=sub_rngs, pilot=0, headroom=None,
                     init=beam_with_eps(sub, eps), iters=500)
        print(f"| eps = {eps:g} | {np.median(1 - r.csbf / best[more]):.3g} | "
              f"{r.sum_rate.mean():.3f} | {(served(r.W, p) >= 2).sum()} |")
    print(f"| CCPA | {np.median(1 - ccpa.csbf[more] / best[more]):.3g} | "
          f"{ccpa.sum_rate[more].mean():.3f} | {(served(ccpa.W[more], p) >= 2).sum()} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
