"""Our NumPy ``lbfgs`` against scipy's L-BFGS-B on the same sphere, from the same ZF start.

What an engineer without our package would write: scipy's ``minimize(method="L-BFGS-B")`` on
the power-sphere parametrisation W = sqrt(p_max) V/||V|| (the glue is :func:`scipy_fun`,
around :func:`angd_np.solvers.sphere.value_and_grad`), from zero forcing. Both minimise -f;
neither gets a stopping tolerance (``ftol = gtol = 0`` for scipy, ``tol=None`` for ours), so
an iteration budget T means T iterations.

For each scenario preset and size (M, K) it draws ``--n`` held-out instances (``--seed``, not
used for any tuning), and

1. runs both solvers once with a long budget, recording f after every iteration (ours: the
   ``history``; scipy: its callback), and the ``reference`` multi-start optimum (given both
   end points as starts, so that no gap is negative);
2. finds, on a grid of iteration counts, the smallest T at which each solver's median gap
   ``(f_ref - f_T)/|f_ref|`` is at most 1e-3 (a run of T iterations ends where the long
   run was after T: both are deterministic);
3. times one instance at a time at that T, ours and scipy's interleaved (instance by
   instance, ``--repeats`` rounds; the median per instance), then ours batched: the same
   ``--n`` instances in one call, and ``--big`` fresh instances in one call.

It prints a Markdown table (and writes it to ``benchmarks/results/lbfgs_scipy.md`` with the
command and the machine): iterations, median gap there, time per instance, and the ratios
that the targets are about (ours/scipy iterations and time one at a time; batched time over
scipy's one at a time). One instance at a time, BLAS runs on one thread for both
(``threadpoolctl``) unless ``--blas-threads`` says otherwise: at these sizes more threads only
add overhead; a batch runs on one BLAS thread per core (``--batch-blas-threads``), as
``lbfgs`` does by default.

Usage::

    python benchmarks/lbfgs_scipy.py                 # the full table (a few minutes)
    python benchmarks/lbfgs_scipy.py --quick         # (16, 2) only, 8 instances, big 100
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import sys
import time
from pathlib import Path

import numpy as np

import angd_np as an
from angd_np import Scenario
from angd_np.solvers import optimality_gap, sphere
from angd_np.solvers.iterative import flatten_problem
from angd_np.solvers.linear import zf_precoder

TARGET = 1e-3
GRID = [*range(5, 100, 5), *range(100, 400, 10), *range(400, 6401, 50)]
SIZES = ((16, 2), (32, 4), (64, 8))
RESULTS = Path(__file__).resolve().parent / "results" / "lbfgs_scipy.md"


def machine() -> list[str]:
    """Cores, CPU, BLAS (threadpoolctl) and versions: the lines of the table's header."""
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((ln.split(":", 1)[1].strip() for ln in fh if ln.startswith("model name")),
                       cpu)
    except OSError:
        pass
    lines = [f"cores: {os.cpu_count()} ({cpu})",
             f"python {platform.python_version()}, numpy {numpy.__version__}, "
             f"angd_np {an.__version__}{commit()}"]
    try:
        import scipy

        lines[-1] += f", scipy {scipy.__version__}"
    except ImportError:
        lines[-1] += ", scipy not installed"
    try:
        from threadpoolctl import threadpool_info

        for info in threadpool_info():
            lines.append(f"BLAS: {info.get('internal_api')} {info.get('version')} "
                         f"({info.get('architecture')}), {info.get('num_threads')} threads, "
                         f"from {info.get('prefix')}")
    except ImportError:
        lines.append("BLAS: unknown (threadpoolctl not installed)")
    return lines


def commit() -> str:
    """" (git <short hash>)" of the checkout this angd_np was imported from, if it is one."""
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, cwd=Path(an.__file__).parent, timeout=10)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True,
                               cwd=Path(an.__file__).parent, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    if out.returncode:
        return ""
    return f" (git {out.stdout.strip()}{', modified' if dirty else ''})"


def zf_start(one):
    """x of the ZF precoder at full power: the start ``lbfgs(init="zf")`` uses."""
    return sphere.to_x(zf_precoder(flatten_problem(one)))[0]


def scipy_fun(one):
    """fun(x) -> (-f, gradient): scipy's calling convention for one instance."""
    def fun(x):
        f, g, _ = sphere.value_and_grad(x[None], one, -1.0)
        return -float(f[0]), g[0]
    return fun


def run_scipy(one, iters, record=False):
    """scipy's L-BFGS-B from ZF for ``iters`` iterations: f at the end (and f per iteration)."""
    from scipy.optimize import minimize

    seen = []

    def callback(intermediate_result):
        seen.append(-intermediate_result.fun)

    res = minimize(scipy_fun(one), zf_start(one), jac=True, method="L-BFGS-B",
                   callback=callback if record else None,
                   options={"maxiter": iters, "ftol": 0.0, "gtol": 0.0})
    f = an.csbf(sphere.to_W(sphere.to_V(res.x[None], one.H.shape[-2:]), one.p_max), one)[0]
    return f, res.x, np.array(seen)


def run_ours(problem, iters):
    return an.solve(problem, "lbfgs", iters=iters, init="zf")


def first_reaching(gaps, grid):
    """The smallest T of the grid whose median gap is at most TARGET (None if none)."""
    return next((T for T in grid if np.median(gaps[:, T - 1]) <= TARGET), None)


def measure(preset, M, K, args):
    problem = Scenario.preset(preset, n_tx=M, n_users=K).draw(args.n, rng=args.seed)
    n = args.n
    ones = [problem[i:i + 1] for i in range(n)]
    budget = args.max_iters
    ours = run_ours(problem, budget)  # batch == one at a time, bit for bit (tested)
    hist_s = np.empty((n, budget))
    x_s = []
    for i, one in enumerate(ones):
        _, x, seen = run_scipy(one, budget, record=True)
        seen = seen[:budget]
        hist_s[i, :len(seen)] = seen
        hist_s[i, len(seen):] = seen[-1] if len(seen) else np.nan  # stopped at round-off
        x_s.append(x)
    W_s = sphere.to_W(sphere.to_V(np.array(x_s), (M, K)), problem.p_max)
    ref = an.solve(problem, "reference", rng=args.seed, init=[ours.W, W_s]).csbf
    gap_o = optimality_gap(ours.history, ref[:, None])
    gap_s = optimality_gap(hist_s, ref[:, None])
    grid = [T for T in GRID if T <= budget]
    T_o, T_s = first_reaching(gap_o, grid), first_reaching(gap_s, grid)
    row = {"preset": preset, "size": f"({M}, {K})", "T_ours": T_o, "T_scipy": T_s}
    if T_o is None or T_s is None:
        return row
    row["gap_ours"] = float(np.median(gap_o[:, T_o - 1]))
    row["gap_scipy"] = float(np.median(gap_s[:, T_s - 1]))
    t_o, t_s = [], []
    for _ in range(args.repeats):  # interleaved, instance by instance
        for one in ones:
            t = time.perf_counter()
            run_ours(one, T_o)
            t_o.append(time.perf_counter() - t)
            t = time.perf_counter()
            run_scipy(one, T_s)
            t_s.append(time.perf_counter() - t)
    row["ms_ours"], row["ms_scipy"] = 1e3 * np.median(t_o), 1e3 * np.median(t_s)
    # the ratio of each interleaved pair: a load that changes during the run moves both
    row["ratio"] = float(np.median(np.array(t_o) / np.array(t_s)))
    t_b = []
    with batch_threads(args):
        for _ in range(args.repeats):
            t = time.perf_counter()
            run_ours(problem, T_o)
            t_b.append((time.perf_counter() - t) / n)
        row["ms_batch"] = 1e3 * np.median(t_b)
        big = Scenario.preset(preset, n_tx=M, n_users=K).draw(args.big, rng=args.seed + 1)
        t = time.perf_counter()
        run_ours(big, T_o)
        row["ms_big"] = 1e3 * (time.perf_counter() - t) / args.big
    return row


def batch_threads(args):
    """The BLAS threads of the batched runs: ``--batch-blas-threads`` (default one per core,
    a batch's default), where one instance at a time runs on ``--blas-threads``."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(args.batch_blas_threads or os.cpu_count())


def format_rows(rows, args) -> str:
    head = ("| preset | (M, K) | iterations to median gap ≤ 1e-3: ours / scipy (ratio) "
            "| median gap there: ours / scipy | ms per instance, one at a time: ours / scipy "
            f"(median ratio of the pairs) | ours batched, ms per instance: {args.n} / {args.big} "
            "(over scipy's one at a time) |\n|---|---|---|---|---|---|\n")
    out = []
    for r in rows:
        if "ms_ours" not in r:
            out.append(f"| {r['preset']} | {r['size']} | {r['T_ours']} / {r['T_scipy']} "
                       f"(not reached within {args.max_iters}) | | | |")
            continue
        out.append(
            f"| {r['preset']} | {r['size']} | {r['T_ours']} / {r['T_scipy']} "
            f"({r['T_ours'] / r['T_scipy']:.2f}) | {r['gap_ours']:.1e} / {r['gap_scipy']:.1e} "
            f"| {r['ms_ours']:.2f} / {r['ms_scipy']:.2f} ({r['ratio']:.2f}) "
            f"| {r['ms_batch']:.3f} / {r['ms_big']:.3f} ({r['ms_batch'] / r['ms_scipy']:.2f} / "
            f"{r['ms_big'] / r['ms_scipy']:.2f}) |")
    note = ("\nTimes are medians over instances and rounds, ours and scipy's interleaved "
            "instance by instance in one run; the ratio is the median over those pairs of ours "
            "over scipy's. On a shared machine compare the ratios, not the milliseconds. "
            "Batched: ``lbfgs`` on all instances in one call, the time shared "
            "evenly.\n")
    return head + "\n".join(out) + "\n" + note


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="paper,balanced")
    p.add_argument("--sizes", default=",".join(f"{M}x{K}" for M, K in SIZES),
                   help="comma-separated MxK (default %(default)s)")
    p.add_argument("--n", type=int, default=24, help="held-out instances (default 24)")
    p.add_argument("--big", type=int, default=1000, help="instances of the big batch")
    p.add_argument("--seed", type=int, default=4817, help="draw of the held-out instances")
    p.add_argument("--repeats", type=int, default=3, help="timing rounds")
    p.add_argument("--max-iters", type=int, default=1600, help="the long run's budget")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads one instance at a time (default 1, both solvers)")
    p.add_argument("--batch-blas-threads", type=int, default=None,
                   help="BLAS threads of ours batched (default: one per core)")
    p.add_argument("--quick", action="store_true", help="(16, 2), 8 instances, big 100")
    p.add_argument("--out", default=str(RESULTS), help="Markdown file (default %(default)s)")
    p.add_argument("--note", default="", help="a line added under the table (e.g. that the "
                   "machine was shared with other jobs)")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.n, args.big, args.repeats = "16x2", 8, 100, 2
    try:
        import scipy.optimize  # noqa: F401  (loads scipy's BLAS before the limit below)
    except ImportError:
        print("scipy is not installed: nothing to compare with (pip install scipy)")
        return 1
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(args.blas_threads)
    except ImportError:
        pass
    command = "python benchmarks/lbfgs_scipy.py " + " ".join(shlex.quote(a) for a in
                                                              (argv or sys.argv[1:]))
    header = [f"command: `{command.strip()}`", *machine(),
              f"held-out instances: seed {args.seed}, {args.n} per setting "
              f"(batched: the same {args.n}, and {args.big} more, seed {args.seed + 1})",
              f"BLAS threads: {args.blas_threads} one instance at a time (both solvers), "
              f"{args.batch_blas_threads or os.cpu_count()} batched"]
    for line in header:
        print(line)
    rows = []
    for preset in args.presets.split(","):
        for size in args.sizes.split(","):
            M, K = (int(v) for v in size.lower().split("x"))
            row = measure(preset, M, K, args)
            rows.append(row)
            print(row, flush=True)
    table = format_rows(rows, args)
    print(table)
    if args.out:
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("# lbfgs against scipy's L-BFGS-B\n\n" + "\n".join(
            f"- {line}" for line in header) + "\n\n" + table
            + (f"\n{args.note}\n" if args.note else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
