"""The start of tuned ANGD chosen by the rate headroom, against the pilot's pick, over the
figures' sweeps (fig. 3's M, fig. 4's power, the trade-off's omega) in both scenarios.

For each point: the rate headroom q of every instance (``linear.beam_headroom``: no precoder's
CSBF exceeds the sensing beam's by more than the fraction q), and tuned ANGD-FCN's gap
(1 - f / f_ref, f_ref the reference solver's CSBF or the best of the runs where higher) and
time with the pilot's pick (``headroom=None``: 100 iterations from ZF and from the beam, the
better goes on) and with ``headroom=(LO, HI)``; "worse" / "better" count the instances whose
CSBF moved down / up. One core (``workers=1``), trials 0..n-1 of the seed.

    PYTHONPATH=. python studies/angd_speed/headroom.py --seed 5   # where (0.01, 0.1) was set
    PYTHONPATH=. python studies/angd_speed/headroom.py --seed 8   # held out
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
from angd_np.solvers.linear import beam_headroom

#: The figures' sweeps: fig. 3 (M at 30 dBm), fig. 4 (power at M = 10), the trade-off (omega
#: at M = 16).
POINTS = ([dict(n_tx=m) for m in (4, 6, 8, 10, 12, 14, 16)]
          + [dict(n_tx=10, p_max_dbm=float(d)) for d in (20, 24, 28, 32, 36, 40)]
          + [dict(n_tx=16, omega=w) for w in (0.3, 3.0, 30.0, 300.0, 3e3, 1e4, 1e5)])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--headroom", type=float, nargs=2, default=(0.01, 0.1))
    ap.add_argument("--scenarios", nargs="+", default=["balanced", "paper"])
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "angd_speed_refs"),
                    help="folder of the reference values (solved once, then read)")
    args = ap.parse_args()
    Path(args.cache).mkdir(exist_ok=True)
    lo, hi = args.headroom
    print(f"seed {args.seed}, trials 0..{args.n - 1}, headroom ({lo:g}, {hi:g}); "
          f"{os.cpu_count()} cores; load {os.getloadavg()[0]:.1f}\n")
    print("| scenario | point | q min-max | chains | pick after the pilot: mean / median / "
          "max gap | headroom: mean / median / max gap | worse / better | time ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario in args.scenarios:
        for point in POINTS:
            problem = an.Scenario.preset(scenario, **point).draw_trials(args.seed,
                                                                        range(args.n))
            key = "_".join(f"{k}{v}" for k, v in sorted(point.items()))
            f_ref = reference(problem, Path(args.cache)
                              / f"ref_rule_{scenario}_{key}_{args.seed}_{args.n}.npy")
            runs = {}
            for name, headroom in (("pick", None), ("headroom", (lo, hi))):
                rng = [an.trial_generator(args.seed, t, 2) for t in range(args.n)]
                t0 = time.perf_counter()
                res = an.solve(problem, "angd-fcn", variant="tuned", rng=rng, workers=1,
                               headroom=headroom)
                runs[name] = (res.csbf, time.perf_counter() - t0)
            q = beam_headroom(problem)
            chains = ("beam" if (q <= lo).all() else "ZF" if (q > hi).all()
                      else "both" if ((q > lo) & (q <= hi)).all() else "mixed")
            best = np.maximum(f_ref, np.maximum(runs["pick"][0], runs["headroom"][0]))
            gaps = {name: 1 - f / best for name, (f, _) in runs.items()}
            worse = (runs["headroom"][0] < runs["pick"][0] * (1 - 1e-9)).sum()
            better = (runs["headroom"][0] > runs["pick"][0] * (1 + 1e-9)).sum()
            label = ", ".join(f"{k} {v:g}" for k, v in point.items())
            cells = [" / ".join(f"{v:.2e}" for v in (g.mean(), np.median(g), g.max()))
                     for g in gaps.values()]
            print(f"| {scenario} | {label} | {q.min():.3g}-{q.max():.3g} | {chains} | "
                  f"{cells[0]} | {cells[1]} | {worse} / {better} | "
                  f"{runs['headroom'][1] / runs['pick'][1]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
