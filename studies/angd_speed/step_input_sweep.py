"""Before a preset takes ``step_input``: every point of the figures' sweeps, with and without.

The lever of ``step_input.py`` was measured at M = 16, 32, 64 and 30 dBm; the ``tuned``
preset must hold at every point the figures sweep (Fig. 3: M = 4..16 at 30 dBm; Fig. 4:
20..40 dBm at M = 10; the trade-off: omega from 0.3 to 1e5 at M = 16; K = 2, N = 4), in
both scenario presets. For each point this script solves ``--n`` instances (trials 0..n-1
of ``--seed``) with tuned ANGD-FCN without the previous output (``step_input=0``, the preset
before this study) and with ``step_input=--kappa`` (the preset since), at the preset's full
budget, and prints the mean and max gap of each against the best of the reference (given
both end points as starts) and both, and the mean sum rate of each. Then the tracking figure's
setting (M = 16, ``--sequences`` sequences of 40 frames, rho = 0.99, targets drifting 0.2°
per frame, 50 iterations per frame, the network carried): the median over sequences of the
median per-frame gap after frame 20, against the reference tracked frame by frame.

    PYTHONPATH=. python studies/angd_speed/step_input_sweep.py --seed 11 --n 48
"""

from __future__ import annotations

import argparse
import os

import numpy as np

import angd_np as an

SWEEPS = (
    [("fig3", dict(n_tx=m)) for m in (4, 6, 8, 10, 12, 14, 16)]
    + [("fig4", dict(n_tx=10, p_max_dbm=float(p))) for p in range(20, 41, 4)]
    + [("tradeoff", dict(n_tx=16, omega=w)) for w in (0.3, 3.0, 30.0, 300.0, 3e3, 1e4, 1e5)])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--n", type=int, default=48)
    ap.add_argument("--kappa", type=float, default=0.5)
    ap.add_argument("--presets", default="balanced,paper")
    ap.add_argument("--sequences", type=int, default=8)
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores; numpy {np.__version__}, angd_np {an.__version__}; seed "
          f"{args.seed}, {args.n} instances per point, kappa {args.kappa:g}; load "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    print("| preset | figure | point | mean gap: without | with step_input | max gap: without | "
          "with step_input | mean sum rate: without | with step_input |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    worst = {False: 0.0, True: 0.0}
    for preset in args.presets.split(","):
        for figure, point in SWEEPS:
            if preset == "paper" and "omega" in point:
                continue  # the trade-off sweeps omega itself: once, from the balanced preset
            problem = an.Scenario.preset(preset, **point).draw_trials(args.seed, range(args.n))
            rngs = [an.trial_generator(args.seed, t, 2) for t in range(args.n)]
            runs = {}
            for step in (False, True):
                runs[step] = an.solve(problem, "angd-fcn", variant="tuned", rng=list(rngs),
                                      return_state=False,
                                      step_input=args.kappa if step else 0.0)
            ref = an.solve(problem, "reference", rng=args.seed,
                           init=[r.W for r in runs.values()]).csbf
            f_best = np.max([ref, *(r.csbf for r in runs.values())], axis=0)
            gaps = {k: 1.0 - r.csbf / f_best for k, r in runs.items()}
            for k in gaps:
                worst[k] = max(worst[k], float(gaps[k].mean()))
            label = ", ".join(f"{k} = {v:g}" for k, v in point.items())
            print(f"| {preset} | {figure} | {label} | {gaps[False].mean():.3g} | "
                  f"{gaps[True].mean():.3g} | {gaps[False].max():.3g} | {gaps[True].max():.3g} | "
                  f"{runs[False].sum_rate.mean():.4g} | {runs[True].sum_rate.mean():.4g} |",
                  flush=True)
    print(f"# largest mean gap over the points: without {worst[False]:.3g}, with step_input "
          f"{worst[True]:.3g}")
    print("| preset | tracking: median per-frame gap after frame 20, without | with step_input |"
          " ms per frame, without | with |")
    print("|---|---:|---:|---:|---:|")
    for preset in args.presets.split(","):
        scenario = an.Scenario.preset(preset, n_tx=16, n_users=2)
        seq = scenario.sequence(args.sequences, 40, rho=0.99, target_drift_deg=0.2,
                                rng=np.random.default_rng(args.seed))
        tracked = {step: an.track(seq, "angd-fcn-tuned", iters_per_frame=50, rng=args.seed,
                                  step_input=args.kappa if step else 0.0)
                   for step in (False, True)}
        ref = an.track(seq, "reference", rng=args.seed)
        f_best = np.maximum(ref.csbf, np.max([t.csbf for t in tracked.values()], axis=0))
        med = {k: float(np.median(np.median(1.0 - t.csbf[:, 20:] / f_best[:, 20:], axis=1)))
               for k, t in tracked.items()}
        ms = {k: 1e3 * float(np.median(t.time_s[:, 1:])) for k, t in tracked.items()}
        print(f"| {preset} | {med[False]:.3g} | {med[True]:.3g} | {ms[False]:.2f} | "
              f"{ms[True]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
