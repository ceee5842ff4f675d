"""The ``angd-np`` command (also ``python -m angd_np``): solve, figure, report, bench.

Exit status: 0 done, 1 a missing optional dependency, 2 bad input (one line on stderr, no
traceback), 130 interrupted (the message says how to resume).
"""

from __future__ import annotations

import argparse
import io
import json
import signal
import sys
import warnings
from pathlib import Path

__all__ = ["main", "build_parser"]


def _figure_names() -> tuple:
    """The registered figures (:data:`angd_np.experiments.FIGURES`), in order."""
    from .experiments.configs import FIGURES

    return tuple(FIGURES)


def _solve_methods() -> str:
    """Default of ``solve --methods``: every registered solver (its default preset)."""
    from .solvers import SPECS

    return ",".join(SPECS)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (the default prints the whole usage first)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _int_at_least(minimum, accepted):
    """An argparse type: an integer >= ``minimum``, with ``accepted`` in the message."""

    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or value < minimum:
            raise argparse.ArgumentTypeError(f"expected {accepted}, got {text!r}")
        return value

    return parse


_positive_int = _int_at_least(1, "a positive integer")
_nonnegative_int = _int_at_least(0, "an integer >= 0")


def _finite(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


_EPILOG_SOLVE = """examples:
  angd-np solve                                   # one paper instance, every method
  angd-np solve --preset balanced --methods zf,angd-fcn,angd-fcn-tuned --seed 3
  angd-np solve --n-tx 10 --p-max-dbm 32 --iters 200 --json
"""
_EPILOG_FIGURE = """examples:
  angd-np figure all                              # every figure, 100 trials, into results/
  angd-np figure fig3 fig4 --trials 1000 --workers 2   # the paper's 10^3 trials
  angd-np figure tradeoff --preset balanced --out results-balanced
  angd-np figure fig3 --scheduler tcp://10.0.0.5:8786  # on a dask.distributed cluster

Each figure is written to DIR/NAME/ (results.csv, summary.csv, meta.json, NAME.png, NAME.pdf).
Running the same command again resumes an interrupted run; a larger --trials extends it; a
different configuration in the same DIR is refused unless --fresh.
"""
_EPILOG_REPORT = """examples:
  angd-np report                                  # reads results/*/, writes results/REPORT.md
  angd-np report --out results-1000
"""
_EPILOG_BENCH = """examples:
  angd-np bench --quick
"""
_EPILOG_BANK = """examples:
  angd-np bank --preset balanced --instances 100 --seed 0 --n-tx 10 --out bank.npz --mat bank.mat
  angd-np bank --preset paper --instances 5 --n-tx 8 --methods zf,ccpa --iters 100 --out small.npz

Runs the reference solver, CCPA and every registered solver (or --methods) on each instance,
keeps the best after a local polish and certifies it (stationarity, spread of the optima,
a flag where the best is unconfirmed).
"""
_EPILOG_VERIFY = """examples:
  angd-np verify paper-m10 mine.npz             # a shipped bank (paper-m10, paper-m16,
                                                #   balanced-m10, balanced-m16) or a path
  angd-np verify bank.mat mine.mat --json

CANDIDATE: .npz with an array W, .npy, or .mat (MATLAB/Octave save -v7) with a variable W, of
shape (N, M, K), or (M, K, N) as MATLAB's W(:, :, n) (when N = M = K the shape cannot tell:
give --layout NMK or MKN). Only W is read from the file. Exit status: 0 every W feasible
(||W||_F^2 <= p_max (1 + 1e-9)), 1 some are not (listed), 2 unreadable or mismatched input.
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser; figure and method names come from the registries at the time of the call."""
    from .system import PRESETS

    figure_names, solve_methods, presets = _figure_names(), _solve_methods(), tuple(PRESETS)
    parser = _Parser(prog="angd-np", description=(
        "ANGD for ISAC precoding (pure NumPy): solve instances, reproduce the paper's "
        "figures, write the report, benchmark."))
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    fmt = argparse.RawDescriptionHelpFormatter

    p = sub.add_parser("solve", help="solve one instance with several methods, print a table",
                       description="Draw one instance (trial 0 of --seed) and solve it with "
                       "each method.", epilog=_EPILOG_SOLVE, formatter_class=fmt)
    p.add_argument("--preset", default="paper", choices=presets,
                   help="scenario preset (default: paper)")
    p.add_argument("--n-tx", type=_positive_int, help="antennas M (default: the preset's, 16)")
    p.add_argument("--n-users", type=_positive_int, help="users K (default: 2)")
    p.add_argument("--p-max-dbm", type=_finite, help="power budget in dBm (default: 30)")
    p.add_argument("--omega", type=_finite, help="CSBF sensing weight (default: the preset's)")
    p.add_argument("--methods", default=solve_methods,
                   help=f"comma-separated methods, '-tuned' for tuned ANGD (default: "
                   f"{solve_methods})")
    p.add_argument("--iters", type=_positive_int, help="iterations T of gradient methods")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed (default: 0)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("figure", help="run (or resume) figures and plot them",
                       description="Monte Carlo runs behind the paper's Figs. 2-4 and ours.",
                       epilog=_EPILOG_FIGURE, formatter_class=fmt)
    p.add_argument("names", nargs="+", metavar="NAME", choices=figure_names + ("all",),
                   help=f"one or more of {', '.join(figure_names)}, or all")
    p.add_argument("--trials", type=_positive_int, default=100,
                   help="Monte Carlo trials per point (default: 100; the paper used 1000)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed (default: 0)")
    p.add_argument("--workers", type=_positive_int, default=1,
                   help="processes on this machine (default: 1)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler, e.g. tcp://host:8786 (needs angd_np[dist])")
    p.add_argument("--preset", default="paper", choices=presets,
                   help="scenario preset (default: paper)")
    p.add_argument("--methods", help="comma-separated methods (default: each figure's own)")
    p.add_argument("--out", default="results", metavar="DIR",
                   help="output folder (default: results)")
    p.add_argument("--fresh", action="store_true",
                   help="discard results of a different configuration in DIR")
    p.add_argument("--iters", type=_positive_int,
                   help="iterations T of gradient methods (default: each method's own)")
    p.add_argument("--reference-trials", type=_positive_int, default=None, metavar="N",
                   help="solve only the first N trials with the reference solver as well "
                   "(default: every trial, so every result has its optimality gap)")
    p.add_argument("--chunk-size", type=_positive_int, default=25,
                   help="trials solved as one batch and stored as one file (default: 25)")

    _add_reproduce_parser(sub, fmt)

    p = sub.add_parser("report", help="write REPORT.md from stored results",
                       description="Compare stored results with the paper's claims.",
                       epilog=_EPILOG_REPORT, formatter_class=fmt)
    p.add_argument("--out", default="results", metavar="DIR",
                   help="folder holding the figure runs (default: results)")

    p = sub.add_parser("bench", help="run the benchmarks", epilog=_EPILOG_BENCH,
                       description="Time the kernels, solvers and figure runs.",
                       formatter_class=fmt)
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats")

    p = sub.add_parser("bank", help="make a certified instance bank (.npz, .mat)",
                       description="Draw instances, solve them with every solver, and write "
                       "the instances with their best-known precoders and certificate.",
                       epilog=_EPILOG_BANK, formatter_class=fmt)
    p.add_argument("--preset", default="paper", choices=presets,
                   help="scenario preset (default: paper)")
    p.add_argument("--instances", type=_positive_int, default=100,
                   help="number of instances N: trials 0..N-1 of --seed (default: 100)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed (default: 0)")
    p.add_argument("--n-tx", type=_positive_int, help="antennas M (default: the preset's, 16)")
    p.add_argument("--n-users", type=_positive_int, help="users K (default: 2)")
    p.add_argument("--p-max-dbm", type=_finite, help="power budget in dBm (default: 30)")
    p.add_argument("--noise-dbm", type=_finite, help="noise power in dBm (default: -80)")
    p.add_argument("--omega", type=_finite, help="CSBF sensing weight (default: the preset's)")
    p.add_argument("--methods", help="comma-separated methods (default: every registered "
                   "solver; the reference always runs)")
    p.add_argument("--iters", type=_positive_int, help="iterations T of gradient methods")
    p.add_argument("--out", required=True, metavar="BANK.npz", help="the .npz file to write")
    p.add_argument("--mat", metavar="BANK.mat", help="also write this .mat file (needs scipy)")

    p = sub.add_parser("verify", help="score precoders against a bank",
                       description="Feasibility, CSBF, sum rate, sensing and gap to the "
                       "best-known value, per instance and in summary.",
                       epilog=_EPILOG_VERIFY, formatter_class=fmt)
    p.add_argument("bank", metavar="BANK", help="bank .npz/.mat, or a shipped bank's name")
    p.add_argument("candidate", metavar="CANDIDATE", help="precoders W: .npz, .npy or .mat")
    p.add_argument("--layout", choices=("NMK", "MKN"),
                   help="W's layout, (N, M, K) or (M, K, N); needed only when N = M = K")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return parser


_EPILOG_REPRODUCE = """examples:
  angd-np reproduce --trials 20                   # every figure, both presets, a few minutes
  angd-np reproduce --trials 1000 --out results-1000   # the paper's 10^3 trials
  angd-np reproduce --presets balanced --figures-dir docs/figures

Writes DIR/PRESET/NAME/ for every figure and DIR/PRESET/REPORT.md. Running the same command
again resumes an interrupted run.
"""


def _add_reproduce_parser(sub, fmt):
    """``angd-np reproduce``: the main job (every figure and a report per preset)."""
    p = sub.add_parser("reproduce", help="every figure and a REPORT.md for each preset",
                       description="The main job: run (or resume) every figure for each "
                       "preset and write its REPORT.md.", epilog=_EPILOG_REPRODUCE,
                       formatter_class=fmt)
    p.add_argument("--out", default="results", metavar="DIR",
                   help="results folder; preset P goes to DIR/P (default: results)")
    p.add_argument("--presets", default="paper,balanced",
                   help="comma-separated scenario presets (default: paper,balanced)")
    p.add_argument("--trials", type=_positive_int, default=100,
                   help="Monte Carlo trials per point (default: 100; the paper used 1000)")
    p.add_argument("--seed", type=_nonnegative_int, default=0, help="seed (default: 0)")
    p.add_argument("--workers", type=_positive_int,
                   help="processes on this machine (default: one per core)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="dask.distributed scheduler, e.g. tcp://host:8786 (needs angd_np[dist])")
    p.add_argument("--methods", help="comma-separated methods (default: each figure's own)")
    p.add_argument("--iters", type=_positive_int,
                   help="iterations T of gradient methods (default: each method's own)")
    p.add_argument("--reference-trials", type=_positive_int, metavar="N",
                   help="solve only the first N trials with the reference solver as well "
                   "(default: every trial)")
    p.add_argument("--chunk-size", type=_positive_int, default=25,
                   help="trials solved as one batch and stored as one file (default: 25)")
    p.add_argument("--fresh", action="store_true",
                   help="discard results of a different configuration in DIR")
    p.add_argument("--figures-dir", metavar="DIR",
                   help="also copy each plot as PRESET-NAME.png and each report as "
                   "PRESET-REPORT.md into this folder (as docs/figures)")


def _version():
    from . import __version__

    return f"angd-np {__version__}"


def _writable_dir(path) -> Path:
    """Create ``path`` if needed and check that files can be written in it."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".angd-np-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise ValueError(f"out: cannot write to {str(path)!r} ({exc.strerror or exc})") from None
    return path


_FLAGS = {"n_tx": "--n-tx", "n_users": "--n-users", "p_max_dbm": "--p-max-dbm",
          "noise_dbm": "--noise-dbm", "omega": "--omega"}


def _scenario(preset, changes):
    """The Scenario of the command's flags, refused (naming the flags) before any solving if
    a number in watts leaves float64's range."""
    import numpy as np

    from .system import Scenario

    given = ", ".join(f"{_FLAGS[k]} {v:g}" for k, v in changes.items()) or f"preset {preset}"
    with np.errstate(all="ignore"):  # dBm -> W may overflow: said in the error, not a warning
        try:
            scenario = Scenario.preset(preset, **changes)
        except ValueError as exc:
            raise ValueError(f"{given}: {exc}") from None
        for name in ("p_max", "noise_var"):
            watts = float(getattr(scenario, name))
            if not (np.isfinite(watts) and watts > 0):
                raise ValueError(f"{given}: {name} = {watts:g} W, outside float64's range "
                                 "(must be finite and > 0)")
    return scenario, given


def _check_numbers(problem, given):
    """ValueError naming the flags when the CSBF or its gradient overflows float64 at a
    full-power precoder: every solver would only produce inf and NaN from there."""
    import numpy as np

    from .objective import csbf_and_grad

    M, K = problem.H.shape[-2:]
    W = np.full(problem.H.shape, np.sqrt(problem.p_max / (M * K)), dtype=np.complex128)
    with np.errstate(all="ignore"):
        f, G = csbf_and_grad(W, problem)
        ok = np.isfinite(f).all() and np.isfinite(np.linalg.norm(G, axis=(-2, -1))).all()
    if not ok:
        raise ValueError(f"{given}: the objective overflows float64 (the CSBF or its gradient "
                         "is not finite at a full-power precoder); use values in a physical "
                         "range")


# -- commands ------------------------------------------------------------------------------------
def _cmd_solve(args, stdout):
    import numpy as np

    from .experiments.configs import parse_methods
    from .solvers import method_call, optimality_gap, solve
    from .system import trial_generator

    changes = {k: v for k, v in (("n_tx", args.n_tx), ("n_users", args.n_users),
                                 ("p_max_dbm", args.p_max_dbm), ("omega", args.omega))
               if v is not None}
    scenario, given = _scenario(args.preset, changes)
    if scenario.n_users > scenario.n_tx:
        raise ValueError(f"n-users must be <= n-tx (K <= M), got K = {scenario.n_users} and "
                         f"M = {scenario.n_tx}")
    methods = parse_methods(args.methods)
    problem = scenario.draw_trials(args.seed, [0])
    _check_numbers(problem, given)
    results = []
    for name in methods:
        solver, options = method_call(name, args.iters)
        res = solve(problem, solver, rng=[trial_generator(args.seed, 0, 1)], **options)
        results.append({"method": name, "sum_rate": float(res.sum_rate[0]),
                        "sensing": float(res.sensing[0]), "csbf": float(res.csbf[0]),
                        "nit": int(res.nit[0]), "time_s": float(res.time_s[0]),
                        "success": bool(np.all(res.success)), "message": res.message})
    ref = next((r["csbf"] for r in results if r["method"] == "reference"), None)
    for r in results:
        r["gap"] = None if ref is None else float(optimality_gap(r["csbf"], ref))
    if args.json:
        import dataclasses

        stdout.write(json.dumps({"scenario": dataclasses.asdict(scenario), "seed": args.seed,
                                 "results": results}, indent=2) + "\n")
        return 0
    stdout.write(f"# preset {args.preset}: M = {scenario.n_tx}, K = {scenario.n_users}, "
                 f"p_max = {scenario.p_max_dbm:g} dBm, omega = {scenario.omega:g}, "
                 f"seed {args.seed}\n")
    head = f"{'method':<16}{'sum rate':>10}{'sensing W':>12}{'CSBF':>14}{'gap':>10}" \
           f"{'iters':>7}{'time s':>10}  ok"
    stdout.write(head + "\n" + "-" * len(head) + "\n")
    for r in results:
        gap = "" if r["gap"] is None else f"{100 * r['gap']:.2f}%"
        stdout.write(f"{r['method']:<16}{r['sum_rate']:>10.3f}{r['sensing']:>12.4g}"
                     f"{r['csbf']:>14.6g}{gap:>10}{r['nit']:>7d}{r['time_s']:>10.4f}  "
                     f"{'yes' if r['success'] else 'NO'}\n")
    if ref is not None:
        stdout.write("gap = (f_reference - f) / |f_reference|, f the CSBF\n")
    return 0


def _cmd_figure(args, stdout):
    from .experiments import make_config, run_figures
    from .experiments.runner import check_scheduler

    names = list(dict.fromkeys(_figure_names() if "all" in args.names else args.names))
    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    configs = [make_config(n, preset=args.preset, seed=args.seed, trials=args.trials,
                           methods=args.methods, iters=args.iters, chunk_size=args.chunk_size,
                           reference_trials=args.reference_trials)
               for n in names]
    out = _writable_dir(args.out)
    try:
        folders = run_figures(configs, out, workers=args.workers, scheduler=args.scheduler,
                              fresh=args.fresh)
    except KeyboardInterrupt:
        return _interrupted(out)
    for name, folder in folders.items():
        stdout.write(f"{name}: {folder}/{name}.png\n")
    return 0


def _cmd_reproduce(args, stdout):
    from .experiments import reproduce
    from .experiments.runner import check_scheduler

    if args.scheduler is not None:
        check_scheduler(args.scheduler)
    out = _writable_dir(args.out)
    try:
        reports = reproduce(out, presets=args.presets, trials=args.trials, seed=args.seed,
                            workers=args.workers, scheduler=args.scheduler,
                            methods=args.methods, iters=args.iters,
                            reference_trials=args.reference_trials,
                            chunk_size=args.chunk_size, fresh=args.fresh,
                            figures_dir=args.figures_dir)
    except KeyboardInterrupt:
        return _interrupted(out)
    for preset, path in reports.items():
        stdout.write(f"{preset}: {path}\n")
    return 0


def _interrupted(out) -> int:
    """Say where the finished chunks are and how to resume; the exit status of an interrupt."""
    sys.stderr.write(f"angd-np: interrupted; finished chunks are saved in {out}. Run the same "
                     "command again to resume.\n")
    return 130


def _cmd_report(args, stdout):
    from .experiments.report import write_report

    path = write_report(args.out)
    stdout.write(f"{path}\n")
    return 0


def _cmd_bench(args, stdout):
    from . import bench

    return bench.run(quick=args.quick, stream=stdout)


def _cmd_bank(args, stdout):
    import numpy as np

    from . import bank
    from .system import Problem

    out = Path(args.out)
    if out.suffix.lower() != ".npz":
        raise ValueError(f"out must end in .npz, got {args.out!r}")
    targets = [out]
    if args.mat is not None:
        if Path(args.mat).suffix.lower() != ".mat":
            raise ValueError(f"mat must end in .mat, got {args.mat!r}")
        targets.append(Path(args.mat))
    for target in targets:  # fail before minutes of solving, not after
        _writable_dir(target.parent)
    overrides = {k: v for k, v in (("n_tx", args.n_tx), ("n_users", args.n_users),
                                   ("p_max_dbm", args.p_max_dbm),
                                   ("noise_dbm", args.noise_dbm), ("omega", args.omega))
                 if v is not None}

    _, given = _scenario(args.preset, overrides)
    drawn = bank.draw_instances(args.preset, args.instances, args.seed, **overrides)
    _check_numbers(Problem(H=drawn["H"], A=drawn["A"], noise_var=drawn["noise_var"],
                           p_max=drawn["p_max"], omega=drawn["omega"]), given)

    def progress(line):
        stdout.write(line + "\n")
        stdout.flush()

    made = bank.make(args.preset, args.instances, args.seed, methods=args.methods,
                     iters=args.iters, progress=progress, **overrides)
    for target in targets:
        made.save(target)
        stdout.write(f"wrote {target}\n")
    winners = dict(zip(*np.unique(made.best_method, return_counts=True), strict=True))
    stdout.write(
        f"{made.n_instances} instances, M = {made.n_tx}, K = {made.n_users}; best found by "
        f"{', '.join(f'{m} {int(c)}' for m, c in winners.items())}; stationarity max "
        f"{made.stationarity.max():.1e} (certified < {made.stationarity_threshold:g}: "
        f"{int((made.stationarity < made.stationarity_threshold).sum())} of "
        f"{made.n_instances}); flagged (best unconfirmed) {int(made.flagged.sum())}; "
        f"several local optima (spread > {made.spread_tolerance:g}) on "
        f"{int((made.spread > made.spread_tolerance).sum())}\n"
        f"instance_sha256 {made.instance_sha256}\n")
    return 0


def _cmd_verify(args, stdout):
    from . import bank

    loaded = bank.load(args.bank)
    score = bank.verify(loaded, Path(args.candidate), layout=args.layout)
    if args.json:
        records = [{"instance": n, "feasible": bool(score.feasible[n]),
                    "power": float(score.power[n]), "csbf": float(score.csbf[n]),
                    "sum_rate": float(score.sum_rate[n]), "sensing": float(score.sensing[n]),
                    "f_best": float(loaded.f_best[n]), "gap": float(score.gap[n])}
                   for n in range(loaded.n_instances)]
        report = {"bank": str(args.bank), "candidate": args.candidate, "layout": score.layout,
                  "summary": score.summary(), "instances": records}
        # Strict JSON: a NaN (no feasible instance, an overflowing W) is written as null.
        stdout.write(json.dumps(bank.json_safe(report), indent=2, allow_nan=False) + "\n")
    else:
        stdout.write(bank.format_score(score, loaded, title=(
            f"# bank {args.bank}: {loaded.n_instances} instances, M = {loaded.n_tx}, "
            f"K = {loaded.n_users}, preset {loaded.preset}, seed {loaded.seed}; candidate "
            f"{args.candidate}, layout {score.layout}")))
    bad = score.infeasible
    if bad.size:
        hint = (f" (W is {score.dtype}: cast it to complex128 and rescale it to p_max)"
                if score.single_precision else "")
        sys.stderr.write(f"angd-np verify: {bad.size} of {loaded.n_instances} precoders are "
                         f"infeasible (||W||_F^2 > p_max (1 + 1e-9)): instances "
                         f"{', '.join(map(str, bad))}{hint}\n")
        return 1
    return 0


def _replay_others(caught):
    """Show the warnings caught that are not numerical (deprecations...) as usual."""
    for w in caught:
        if not issubclass(w.category, RuntimeWarning):
            warnings.showwarning(w.message, w.category, w.filename, w.lineno)


def main(argv=None, stdout=None) -> int:
    """Run the command line; returns the exit status (0, 1, 2 or 130)."""
    stdout = sys.stdout if stdout is None else stdout
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help (0) or a usage error (2)
        return int(exc.code or 0)
    command = {"solve": _cmd_solve, "figure": _cmd_figure, "report": _cmd_report,
               "reproduce": _cmd_reproduce, "bench": _cmd_bench, "bank": _cmd_bank,
               "verify": _cmd_verify}[args.command]
    strict = args.command in ("solve", "bank", "verify")
    try:
        # solve, bank and verify print their answer only once it is known to be free of
        # numerical trouble: a table followed by an error (and exit 2) would look valid.
        out = io.StringIO() if strict else stdout
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", RuntimeWarning)
            code = command(args, out)
        _replay_others(caught)
        numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
        if numeric and strict:
            raise ValueError(f"numerical trouble ({numeric[0].message}; {len(numeric)} "
                             "warning(s)): an input is beyond float64's range")
        if strict:
            stdout.write(out.getvalue())
        if numeric:
            sys.stderr.write(f"angd-np {args.command}: warning: {len(numeric)} numerical "
                             f"warning(s), first: {numeric[0].message}\n")
        return code
    except (ValueError, TypeError) as exc:
        sys.stderr.write(f"angd-np {args.command}: error: {exc}\n")
        return 2
    except ImportError as exc:
        sys.stderr.write(f"angd-np {args.command}: error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("angd-np: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    raise SystemExit(main())
