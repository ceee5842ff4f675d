r"""Does ``net_dtype="float32"`` change ANGD's results? Paired gaps on held-out instances.

    python studies/float32_networks/angd_dtype_study.py \
        [--trials 200] [--seed 4242] [--out studies/float32_networks/angd_dtype_results.md]

For each scenario preset (``paper``, ``balanced``) ``--trials`` instances are drawn (trial i
from ``trial_generator(seed, i)``, a seed the tuning study did not use) and solved by the
``reference`` solver, whose f is the best known f* here. Each ANGD preset (``paper``,
``tuned``) and network (FCN, CNN) then solves them twice with the same random streams, so
the same W_0 and the same initial networks: with float64 and with float32 update networks.
Per instance the optimality gaps g = (f* - f) / |f*| of the two runs are paired, and the
table gives the mean paired difference g32 - g64 with its 95% confidence interval (normal
approximation, n = ``--trials``), its median, how often float32 ends higher, and the
relative difference |f32 - f64| / |f64| (median and worst). Negative differences favour
float32. The control: the same float64 run with every entry of W_0 multiplied by 1 + 1e-12 z
(z complex normal, one per entry), which measures
how far ANGD's own trajectories spread apart from a perturbation at rounding level (the
columns "control"). The per-instance values go to a CSV beside ``--out``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

import angd_np as an
from angd_np.solvers import optimality_gap


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def random_start(problem, rngs):
    """ANGD's ``init="random"`` W_0, shape (n, M, K): CN(0, 1) entries scaled to full power,
    drawn from the first of the two streams the solver spawns from each instance's generator."""
    n, M, K = problem.H.shape
    W = np.empty((n, M, K), dtype=np.complex128)
    for i, g in enumerate(rngs):
        z = g.spawn(2)[0].standard_normal((M, K, 2))
        W[i] = z[..., 0] + 1j * z[..., 1]
    return W * np.sqrt(problem.p_max / an.power(W))[:, None, None]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=4242)
    parser.add_argument("--out", default="studies/float32_networks/angd_dtype_results.md")
    args = parser.parse_args()
    t_start = time.perf_counter()
    rows, table = [], []
    for scenario in ("paper", "balanced"):
        problem = an.Scenario.preset(scenario).draw_trials(args.seed, range(args.trials))
        # Fresh generators for every solve: spawning child streams advances a Generator, so
        # reusing the objects would give each run other W_0 and networks.
        def rngs():
            return [an.trial_generator(args.seed, i, 1) for i in range(args.trials)]

        # The W_0 every run draws from these streams, for the control's perturbed copy.
        W0 = random_start(problem, rngs())
        # Not a pure scaling, which the projection of the initial point would undo.
        z = np.random.default_rng(args.seed).standard_normal(W0.shape + (2,))
        W0_control = W0 * (1 + 1e-12 * (z[..., 0] + 1j * z[..., 1]))
        t0 = time.perf_counter()
        f_ref = an.solve(problem, "reference", rng=args.seed).csbf
        log(f"[{scenario}] reference in {time.perf_counter() - t0:.0f} s")
        for preset in ("paper", "tuned"):
            for method in ("angd-fcn", "angd-cnn"):
                res, times = {}, {}
                for dtype in ("float64", "float32", "control"):
                    t0 = time.perf_counter()
                    extra = dict(init=W0_control) if dtype == "control" else {}
                    res[dtype] = an.solve(problem, method, rng=rngs(), preset=preset,
                                          net_dtype="float32" if dtype == "float32" else
                                          "float64", return_state=False, **extra)
                    times[dtype] = time.perf_counter() - t0
                g64 = optimality_gap(res["float64"].csbf, f_ref)
                g32 = optimality_gap(res["float32"].csbf, f_ref)
                d = g32 - g64
                half = 1.96 * d.std(ddof=1) / np.sqrt(d.size)
                rel = np.abs(res["float32"].csbf - res["float64"].csbf) / np.abs(
                    res["float64"].csbf)
                dc = optimality_gap(res["control"].csbf, f_ref) - g64
                half_c = 1.96 * dc.std(ddof=1) / np.sqrt(dc.size)
                rel_c = np.abs(res["control"].csbf - res["float64"].csbf) / np.abs(
                    res["float64"].csbf)
                table.append((scenario, preset, method, np.median(g64), np.median(g32),
                              d.mean(), half, np.median(d),
                              np.mean(res["float32"].csbf > res["float64"].csbf),
                              np.median(rel), rel.max(), dc.mean(), half_c, np.median(rel_c),
                              rel_c.max(), times["float64"] / times["float32"]))
                log(f"[{scenario}] {method} {preset}: mean g32 - g64 = {d.mean():.2e} "
                    f"± {half:.1e}")
                for i in range(args.trials):
                    rows.append(dict(scenario=scenario, preset=preset, method=method,
                                     trial=i, f_ref=f_ref[i], f64=res["float64"].csbf[i],
                                     f32=res["float32"].csbf[i], gap64=g64[i], gap32=g32[i],
                                     f64_control=res["control"].csbf[i]))
    lines = [
        f"# float32 against float64 update networks ({args.trials} held-out instances per "
        f"scenario, seed {args.seed})", "",
        "Command: `python studies/float32_networks/angd_dtype_study.py --trials "
        f"{args.trials} --seed {args.seed}` ({(time.perf_counter() - t_start) / 60:.1f} min). "
        "Gap g = (f* - f) / |f*| with f* the `reference` solver's f; differences g32 - g64 "
        "paired per instance (same W_0 and initial networks); negative favours float32.", "",
        "| scenario | ANGD preset | network | median g64 | median g32 | mean g32 - g64 "
        "[95% CI] | median g32 - g64 | float32 higher | median rel. f diff | worst | "
        "control: mean gap diff [95% CI] | control: median rel. f diff | worst | "
        "time f64 / f32 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for (scenario, preset, method, m64, m32, mean, half, med, higher, rel_med, rel_max,
         c_mean, c_half, c_med, c_max, speed) in table:
        lines.append(f"| {scenario} | {preset} | {method} | {100 * m64:.4f}% | "
                     f"{100 * m32:.4f}% | {100 * mean:+.4f}% [{100 * (mean - half):+.4f}, "
                     f"{100 * (mean + half):+.4f}] | {100 * med:+.5f}% | {100 * higher:.0f}% | "
                     f"{rel_med:.1e} | {rel_max:.1e} | {100 * c_mean:+.4f}% "
                     f"[{100 * (c_mean - c_half):+.4f}, {100 * (c_mean + c_half):+.4f}] | "
                     f"{c_med:.1e} | {c_max:.1e} | {speed:.2f}x |")
    text = "\n".join(lines) + "\n"
    print(text)
    out = Path(args.out)
    out.write_text(text)
    with open(out.with_suffix(".csv"), "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
