"""The tuned pilot on held-out instances of both scenarios: which starts, how long?

    python studies/angd_pilot/angd_pilot_study.py --scenario balanced --part starts [--trials 60]
    python studies/angd_pilot/angd_pilot_study.py --scenario paper --part length [--first 6000]

Each setting draws trials FIRST.. of seed 0 (default 5000, never used by the quality studies,
as ``angd_pilot_probe.py``) and solves them with the reference and CCPA (their better CSBF
and every variant's is the best known) and with tuned ANGD-FCN whose pilot is run by hand
(``angd_pilot_probe.pilot_run``: P iterations from each start with the instance's network
draw, the chain with the best CSBF continued for T). Parts:

- ``starts``: the package (pilot from ZF and the sensing beam, P = 100, T = 400) against
  ZF / ZF + beam (scaled to p_max) and ZF / beam / ZF + beam, same P and T.
- ``length``: ZF / beam with P = 100, T = 400 (the preset, by hand) against P = 150, T = 300
  and P = 200, T = 200 (the same 600 iterations of work per instance), and P = 200, T = 300.
- ``confirm`` (run with ``--first 6000``, trials no part above saw): the package itself,
  tuned FCN and CNN, with ``pilot=100, iters=400`` against ``pilot=200, iters=200``.

Settings: M = 10 at 20-40 dBm (fig. 4's grid), M = 4, 8, 16 at 30 dBm (fig. 3), M = 32 with
K = 4 at 30 dBm (a third of the trials). Prints per setting and variant the mean and median
gap, the count above 1%, and the paired mean difference of gap against the first variant
with a 95% interval (negative: better). Results: ``angd_pilot_study_results.md``.
"""
import argparse
import math
import time

import numpy as np

# The probe beside this script (Python puts the script's folder first on the import path).
from angd_pilot_probe import pilot_run, scale_to_power, sensing_beam, zf_precoder

import angd_np as an
from angd_np import Scenario, trial_generator

SETTINGS = ([dict(n_tx=10, p_max_dbm=float(p)) for p in (20, 24, 28, 32, 36, 40)]
            + [dict(n_tx=m, p_max_dbm=30.0) for m in (4, 8, 16)]
            + [dict(n_tx=32, n_users=4, p_max_dbm=30.0)])


def _ci(diff):
    """Mean and 95% half-width (1.96, or 2.1 below 30 pairs) of paired differences."""
    n = diff.size
    half = (1.96 if n >= 30 else 2.1) * diff.std(ddof=1) / math.sqrt(n)
    return diff.mean(), half


def _variants(part, prob):
    """name -> (starts, P, T) of a part, or (network, pilot, iters) for ``confirm``."""
    if part == "confirm":
        return {f"{net.upper()} pilot {P}, iters {T}": (net, P, T)
                for net in ("fcn", "cnn") for P, T in ((100, 400), (200, 200))}
    zf, beam = zf_precoder(prob), sensing_beam(prob)
    mix = scale_to_power(zf + beam, prob.p_max)
    if part == "starts":
        return {"ZF / beam (package)": None, "ZF / ZF+beam": ([zf, mix], 100, 400),
                "ZF / beam / ZF+beam": ([zf, beam, mix], 100, 400)}
    return {"P 100, T 400 (preset)": ([zf, beam], 100, 400),
            "P 150, T 300": ([zf, beam], 150, 300), "P 200, T 200": ([zf, beam], 200, 200),
            "P 200, T 300": ([zf, beam], 200, 300)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=["paper", "balanced"], required=True)
    parser.add_argument("--part", choices=["starts", "length", "confirm"],
                        default="starts")
    parser.add_argument("--trials", type=int, default=60)
    parser.add_argument("--first", type=int, default=5000, help="first trial index")
    parser.add_argument("--out", default=None, help="also append the table to this file")
    args = parser.parse_args()
    lines = [f"## {args.part}: {args.scenario} scenario, trials {args.first}.. "
             f"({args.trials} per setting, M = 32: a third)", "",
             "| setting | variant | mean gap | median | > 1% | paired diff vs first [95% CI] |",
             "|---|---|---:|---:|---:|---:|"]
    print("\n".join(lines), flush=True)
    for setting in SETTINGS:
        n = args.trials if setting["n_tx"] < 32 else max(10, args.trials // 3)
        trials = np.arange(args.first, args.first + n)
        prob = Scenario.preset(args.scenario, **setting).draw_trials(0, trials)

        def rngs(trials=trials):
            return [trial_generator(0, int(t), 1) for t in trials]

        t0 = time.time()
        best = np.maximum(an.solve(prob, "reference", rng=rngs()).csbf,
                          an.solve(prob, "ccpa", rng=rngs()).csbf)
        results = {}
        for name, how in _variants(args.part, prob).items():
            if how is None:
                results[name] = an.solve(prob, "angd-fcn", rng=rngs(), variant="tuned",
                                         threads=1, workers=1).csbf
            elif args.part == "confirm":
                net, P, T = how
                results[name] = an.solve(prob, f"angd-{net}", rng=rngs(), variant="tuned",
                                         pilot=P, iters=T, threads=1, workers=1).csbf
            else:
                starts, P, T = how
                results[name] = pilot_run(prob, trials, starts, P=P, T=T)[0]
        best = np.maximum(best, np.max(list(results.values()), axis=0))
        gaps = {k: 100 * (best - f) / np.abs(best) for k, f in results.items()}
        name = ", ".join(f"{k} = {v:g}" for k, v in setting.items())
        firsts = {}  # the first variant of each network (confirm) or of all
        for k, g in gaps.items():
            firsts.setdefault(k.split()[0] if args.part == "confirm" else "", (k, g))
        for k, g in gaps.items():
            first_k, first = firsts[k.split()[0] if args.part == "confirm" else ""]
            paired = "" if k == first_k else "{:+.3f} [±{:.3f}]".format(*_ci(g - first))
            row = (f"| {name} | {k} | {g.mean():.3f}% | {np.median(g):.3f}% | "
                   f"{int((g > 1).sum())}/{n} | {paired} |")
            lines.append(row)
            print(row, flush=True)
        print(f"<!-- {name}: {time.time() - t0:.0f} s -->", flush=True)
    if args.out:
        with open(args.out, "a") as fh:
            fh.write("\n".join(lines) + "\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
