"""The high-power trap (balanced, M = 10): which pilot chain tuned ANGD-FCN keeps, whether it
serves every user, and the gap of each choice. "Tuned" here is the preset with the pilot's
pick (``headroom=None``), the rule this probe studies; ``headroom.py`` measures the rule that
replaced it.

For each instance: the pilot's two chains (ZF and the sensing beam, ``pilot`` iterations
each, the instance's network draw) and, at their end, each user's rate; then the gap
1 - f / f_ref of the tuned preset as it is, and of the main run forced onto the ZF chain
(``init="zf", pilot=0`` with ``iters`` = pilot + iters, the same budget).

    PYTHONPATH=. python studies/angd_speed/trap_probe.py --dbm 32 36 --seed 5 --n 24
    PYTHONPATH=. python studies/angd_speed/trap_probe.py --dbm 32 36 --seed 6 --n 24 \
        --extend 3 --no-cross
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from levers import reference  # the cached reference values (this folder)

import angd_np as an
from angd_np.objective import rates
from angd_np.solvers.linear import sensing_beam, zf_precoder


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dbm", type=float, nargs="+", default=[32.0, 36.0])
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--scenario", default="balanced")
    ap.add_argument("--extend", type=int, default=0,
                    help="also solve with pilot_extend=EXTEND and print its gaps")
    ap.add_argument("--no-cross", action="store_true",
                    help="skip the 600-iteration runs of both chains")
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "angd_speed_refs"),
                    help="folder of the reference values (solved once, then read)")
    args = ap.parse_args()
    Path(args.cache).mkdir(exist_ok=True)
    print(f"{args.scenario}, M = 10, seed {args.seed}, trials 0..{args.n - 1}; "
          f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}")
    for dbm in args.dbm:
        problem = an.Scenario.preset(args.scenario, n_tx=10, p_max_dbm=dbm).draw_trials(
            args.seed, range(args.n))
        f_ref = reference(problem, Path(args.cache)
                          / f"ref_trap_{args.scenario}_{dbm:g}_{args.seed}_{args.n}.npy")

        def rng():
            return [an.trial_generator(args.seed, t, 2) for t in range(args.n)]

        tuned = an.solve(problem, "angd-fcn", variant="tuned", rng=rng(), workers=1,
                         headroom=None)
        chains = [an.solve(problem, "angd-fcn", variant="tuned", rng=rng(), init=W0, pilot=0,
                           iters=100, tol=None, workers=1)
                  for W0 in (zf_precoder(problem), sensing_beam(problem))]
        zf_all = an.solve(problem, "angd-fcn", variant="tuned", rng=rng(), init="zf", pilot=0,
                          iters=600, workers=1)
        beam_kept = chains[1].csbf > chains[0].csbf
        if args.extend:
            t0 = time.perf_counter()
            plain = an.solve(problem, "angd-fcn", variant="tuned", rng=rng(), workers=1,
                             headroom=None)
            t1 = time.perf_counter()
            ext = an.solve(problem, "angd-fcn", variant="tuned", rng=rng(), workers=1,
                           headroom=None, pilot_extend=args.extend)
            t2 = time.perf_counter()
            g0, g1 = 1 - plain.csbf / f_ref, 1 - ext.csbf / f_ref
            served = (rates(ext.W, problem).min(axis=1) > 0).sum()
            print(f"\n{dbm:g} dBm: tuned mean / median gap {g0.mean():.3g} / "
                  f"{np.median(g0):.3g}; with pilot_extend={args.extend} {g1.mean():.3g} / "
                  f"{np.median(g1):.3g} (every user served on {served} of {args.n}); "
                  f"time ratio {(t2 - t1) / (t1 - t0):.2f}", flush=True)
        if args.no_cross:
            continue
        # When does the ZF chain's best overtake the beam chain's? Both run 600 iterations.
        long = [np.fmax.accumulate(an.solve(problem, "angd-fcn", variant="tuned", rng=rng(),
                                            init=W0, pilot=0, iters=600, tol=None,
                                            workers=1).history, axis=1)
                for W0 in (zf_precoder(problem), sensing_beam(problem))]
        ahead = long[0] > long[1]
        cross = np.where(ahead[:, -1], np.argmax(ahead, axis=1) + 1, -1)
        print(f"\n{dbm:g} dBm: iteration at which the ZF chain's best passes the beam "
              f"chain's (-1: never in 600): {sorted(cross.tolist())}")
        r_beam = rates(chains[1].W, problem)  # (n, K) at the pilot's end
        r_zf = rates(chains[0].W, problem)
        gap = 1 - tuned.csbf / f_ref
        gap_zf = 1 - zf_all.csbf / f_ref
        print(f"{dbm:g} dBm: beam chain kept on {beam_kept.sum()} of {args.n}; "
              f"mean gap tuned {gap.mean():.3g} (median {np.median(gap):.3g}), ZF chain "
              f"only {gap_zf.mean():.3g} (median {np.median(gap_zf):.3g})")
        for i in range(args.n):
            print(f"  {i:2d} kept {'beam' if beam_kept[i] else 'zf  '} gap {gap[i]:.3g} "
                  f"zf-only {gap_zf[i]:.3g}; min user rate at pilot end: beam "
                  f"{r_beam[i].min():.3g} zf {r_zf[i].min():.3g}; final min rate "
                  f"{rates(tuned.W, problem)[i].min():.3g}")


if __name__ == "__main__":
    main()
