"""Making a bank: draw the instances, run every solver, certify the best, hash.

Instance n of a bank made with ``(preset, seed)`` is Monte Carlo trial n of that seed, drawn
exactly as the figure runner draws it (channel stream ``trial_generator(seed, n, 0)``), and
every solver gets the runner's solver stream ``trial_generator(seed, n, 1)``. So the shipped
``paper-m10`` bank holds the same channels as trials 0-99 of ``angd-np figure fig4`` at
30 dBm with seed 0.
"""

from __future__ import annotations

import dataclasses
import json
import time

import numpy as np

from .._validate import check_int
from ..objective import project_power
from ..system import Problem, Scenario, trial_generator
from .certificate import certify
from .format import Bank, bank_sha256, instance_sha256

__all__ = ["make", "draw_instances", "command_for", "SCENARIO_FLAGS"]

#: Scenario fields the ``angd-np bank`` command can override, and their flags.
SCENARIO_FLAGS = {"n_tx": "--n-tx", "n_users": "--n-users", "p_max_dbm": "--p-max-dbm",
                  "noise_dbm": "--noise-dbm", "omega": "--omega"}


def draw_instances(preset="paper", instances=100, seed=0, **overrides) -> dict:
    """The instance fields of a bank (milliseconds: no solver runs).

    Parameters
    ----------
    preset : str
        ``"paper"`` or ``"balanced"`` (:meth:`Scenario.preset`).
    instances : int
        N >= 1: trials 0 .. N-1 of ``seed``.
    seed : int
    **overrides
        Scenario fields (``n_tx``, ``n_users``, ``p_max_dbm``, ``noise_dbm``, ``omega``, ...).

    Returns
    -------
    dict with ``H`` (N, M, K), ``A`` (N, M, T), ``noise_var``, ``p_max``, ``omega`` (watts,
    linear), ``scenario`` (JSON), ``trials`` (N,) and the ``Scenario`` itself under
    ``"scenario_obj"``.
    """
    instances = check_int(instances, "instances", minimum=1)
    seed = check_int(seed, "seed", minimum=0)
    scenario = Scenario.preset(preset, **overrides)
    if scenario.n_users > scenario.n_tx:
        raise ValueError(f"n_users must be <= n_tx (K <= M), got K = {scenario.n_users} and "
                         f"M = {scenario.n_tx}")
    trials = np.arange(instances, dtype=np.int64)
    drawn = scenario.draw_trials(seed, trials)
    A = np.ascontiguousarray(np.broadcast_to(drawn.A, (instances,) + drawn.A.shape[-2:]))
    return {
        "H": drawn.H, "A": A, "noise_var": drawn.noise_var, "p_max": drawn.p_max,
        "omega": drawn.omega,
        "scenario": json.dumps(dataclasses.asdict(scenario), sort_keys=True,
                               separators=(",", ":")),
        "trials": trials, "scenario_obj": scenario,
    }


def command_for(preset, instances, seed, overrides=None, methods=None, iters=None) -> str:
    """The ``angd-np bank`` command (without ``--out``) that makes this bank.

    Overrides without a flag (e.g. ``target_angles_deg``) are written as the Python call
    ``angd_np.bank.make(...)`` instead.
    """
    overrides = dict(overrides or {})
    if set(overrides) - set(SCENARIO_FLAGS):
        args = [f"{preset!r}", str(instances), str(seed)]
        args += [f"{k}={v!r}" for k, v in sorted(overrides.items())]
        if methods is not None:
            args.append(f"methods={tuple(methods)!r}")
        if iters is not None:
            args.append(f"iters={iters!r}")
        return f"angd_np.bank.make({', '.join(args)})"
    parts = ["angd-np", "bank", "--preset", str(preset), "--instances", str(instances),
             "--seed", str(seed)]
    for field, flag in SCENARIO_FLAGS.items():
        if field in overrides:
            parts += [flag, repr(overrides[field])]
    if methods is not None:
        parts += ["--methods", ",".join(methods)]
    if iters is not None:
        parts += ["--iters", str(iters)]
    return " ".join(parts)


def _parse_methods(methods):
    from ..solvers import SOLVERS, parse_methods

    names = list(SOLVERS) if methods is None else list(parse_methods(methods))
    if "reference" not in names:
        names.insert(0, "reference")  # reference_gap needs it; the bank promises it
    return names


def make(preset="paper", instances=100, seed=0, *, methods=None, iters=None, progress=None,
         **overrides) -> Bank:
    """Make a certified bank: every solver on every instance, the best certified.

    Parameters
    ----------
    preset, instances, seed, **overrides
        The instances, as in :func:`draw_instances`.
    methods : str, sequence of str or None
        Method names (``angd-fcn-tuned`` included); default every registered solver
        (``angd_np.SOLVERS``). The reference solver is always run.
    iters : int or None
        Iterations T of the iterative solvers (default: each solver's own, 500).
    progress : callable or None
        Called with one line of text after each solver and after certification.

    Returns
    -------
    Bank
        Not yet written: ``bank.save("bank.npz")``.
    """
    from .. import __version__
    from ..solvers import method_call, solve

    if iters is not None:
        iters = check_int(iters, "iters", minimum=1)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress must be callable or None, got {type(progress).__name__}")
    names = _parse_methods(methods)
    inst = draw_instances(preset, instances, seed, **overrides)
    problem = Problem(H=inst["H"], A=inst["A"], noise_var=inst["noise_var"],
                      p_max=inst["p_max"], omega=inst["omega"])
    starts, options = {}, {}
    for name in names:
        solver, opts = method_call(name, iters)
        t0 = time.perf_counter()
        res = solve(problem, solver, rng=[trial_generator(seed, int(t), 1)
                                          for t in inst["trials"]], **opts)
        # A solver's W is feasible by contract; project anyway so that nothing infeasible
        # can become W_best (identity for a feasible W).
        starts[name] = project_power(res.W, problem.p_max)
        options[name] = opts
        if progress is not None:
            progress(f"{name}: {instances} instances in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    cert = certify(problem, starts)
    if progress is not None:
        progress(f"certificate (polish every solver's result): "
                 f"{time.perf_counter() - t0:.1f} s")
    fields = {k: v for k, v in inst.items() if k != "scenario_obj"}
    fields.update(cert)
    fields.update(
        preset=preset, seed=seed,
        command=command_for(preset, instances, seed, overrides, methods=(
            None if methods is None else names), iters=iters),
        options=json.dumps(options, sort_keys=True),
        methods=np.asarray(names),
        version=__version__, instance_sha256="", bank_sha256="",
    )
    bank = Bank(**fields)
    bank = dataclasses.replace(bank, instance_sha256=instance_sha256(bank))
    return dataclasses.replace(bank, bank_sha256=bank_sha256(bank))
