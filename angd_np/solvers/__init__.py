"""Solvers of (P1): every one takes a batch Problem and returns a :class:`Result`.

The registry holds one :class:`SolverSpec` per solver, collected from the ``SPECS`` of the
solver modules (each defined beside its solver) and from :func:`register` at run time.
``SOLVERS`` maps a method name to its solver function ``solver(problem, *, rng=None,
**options) -> Result``; :func:`method_names` lists the methods, ``-tuned`` variants included;
:func:`method_call` says which solver and options a method name means. The CLI, the runner,
the plots and the benchmarks read everything they need from the specs.

Importing the solver modules needs NumPy only: ``ccpa`` imports cvxpy and ``reference``
imports scipy inside the solver functions.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping

from . import angd, ascent, ccpa, lbfgs, linear, reference
from .result import Result, optimality_gap
from .spec import SolverSpec

__all__ = ["SOLVERS", "SPECS", "solve", "register", "unregister", "solver_spec", "method_names",
           "method_call", "parse_methods", "resolved_options", "Result", "SolverSpec",
           "optimality_gap"]

_SPECS: dict[str, SolverSpec] = {}


def register(new: SolverSpec, *, replace: bool = False) -> SolverSpec:
    """Add a solver to the registry: it becomes a method of ``solve``, the CLI and figures.

    Parameters
    ----------
    new : SolverSpec
    replace : bool
        Allow replacing a registered solver of the same name (default: refuse).
    """
    if not isinstance(new, SolverSpec):
        raise TypeError(f"spec must be a SolverSpec, got {type(new).__name__}")
    if new.name in _SPECS and not replace:
        raise ValueError(f"a solver named {new.name!r} is registered already; pass "
                         "replace=True to replace it")
    taken = {v for name, s in _SPECS.items() if name != new.name for v in s.methods()}
    clash = sorted(set(new.methods()) & taken)
    if clash:
        raise ValueError(f"spec {new.name!r} would add method names {clash} that exist already")
    _SPECS[new.name] = new
    return new


def unregister(name: str) -> SolverSpec:
    """Remove a solver added by :func:`register`; returns its spec."""
    if name not in _SPECS:
        raise ValueError(f"name must be a registered solver {list(_SPECS)}, got {name!r}")
    return _SPECS.pop(name)


for _module in (linear, ccpa, ascent, angd, lbfgs, reference):
    for _spec in _module.SPECS:
        register(_spec)


class _Specs(Mapping):
    """Read-only live view name -> SolverSpec of the registry."""

    def __init__(self, value):
        self._value = value

    def __getitem__(self, name):
        return self._value(_SPECS[name])

    def __iter__(self):
        return iter(list(_SPECS))

    def __len__(self):
        return len(_SPECS)

    def __repr__(self):
        return f"{{{', '.join(_SPECS)}}}"


#: name -> solver function, for every registered solver (a live view of the registry).
SOLVERS = _Specs(lambda s: s.solve)
#: name -> SolverSpec (a live view of the registry).
SPECS = _Specs(lambda s: s)


def solver_spec(name: str) -> SolverSpec:
    """The spec of a registered solver; ValueError naming the registered ones otherwise."""
    if not isinstance(name, str) or name not in _SPECS:
        raise ValueError(f"method must be one of {list(_SPECS)}, got {name!r}")
    return _SPECS[name]


def spec(name: str) -> SolverSpec:
    """Deprecated: :func:`solver_spec` (this name hides the :mod:`.spec` module)."""
    warnings.warn("angd_np.solvers.spec() is deprecated and will be removed in the next "
                  "version: use angd_np.solvers.solver_spec()", DeprecationWarning, stacklevel=2)
    return solver_spec(name)


def method_names() -> tuple:
    """Every method name: each solver and its variants (``angd-fcn-tuned``)."""
    return tuple(v for s in _SPECS.values() for v in s.methods())


def method_call(name: str, iters: int | None = None) -> tuple[str, dict]:
    """The registered solver and options behind a method name.

    >>> method_call("angd-fcn-tuned", iters=50)
    ('angd-fcn', {'variant': 'tuned', 'iters': 50})

    ``iters`` is passed only to iterative solvers.
    """
    for s in _SPECS.values():
        methods = s.methods()
        if name in methods:
            options = dict(methods[name])
            if iters is not None and s.iterative:
                options["iters"] = int(iters)
            return s.name, options
    raise ValueError(f"method must be one of {list(method_names())}, got {name!r}")


def parse_methods(methods, *, check=None) -> tuple[str, ...]:
    """``"zf,mmse"`` or a sequence of method names -> a tuple in order, without duplicates.

    Blank pieces of a string are dropped (``"zf,"``). Each name is passed to ``check``
    (default :func:`method_call`), which raises ValueError naming the accepted ones.
    """
    if isinstance(methods, str):
        names = [n.strip() for n in methods.split(",") if n.strip()]
    elif isinstance(methods, (list, tuple)) and all(isinstance(n, str) for n in methods):
        names = [n.strip() for n in methods]
    else:
        raise TypeError(f"methods must be a comma-separated str or a list of str, got "
                        f"{methods!r}")
    if not names or not all(names):
        raise ValueError(f"methods must name at least one method, e.g. 'zf,ccpa', got "
                         f"{methods!r}")
    for name in names:
        (check or method_call)(name)
    return tuple(dict.fromkeys(names))


#: Options that decide where and how fast a call runs, never its numbers.
_RUNTIME_OPTIONS = ("workers", "threads", "chunk", "return_state")


def resolved_options(name: str, options: dict) -> dict | None:
    """Every option value a call of solver ``name`` with ``options`` uses, its variant applied
    (without the runtime options workers, threads, chunk, return_state); None for a solver
    without an options class. Run folders record it: a variant whose values change between
    versions is then seen as a changed method, not resumed.

    >>> resolved_options("angd-fcn", {"variant": "tuned"})["init"]
    'zf'
    """
    s = solver_spec(name)
    if s.resolve is not None:
        opts = s.resolve(options)
    elif s.options is not None:
        opts = s.options.resolve(name, None, options)
    else:
        return None
    return {f.name: getattr(opts, f.name) for f in dataclasses.fields(opts)
            if f.name not in _RUNTIME_OPTIONS}


def solve(problem, method: str, *, rng=None, **options) -> Result:
    """Solve every instance of ``problem`` with ``method`` (a registered solver).

    Parameters
    ----------
    problem : Problem
        A batch of instances (H of shape (..., M, K)).
    method : str
        A key of ``SOLVERS``: ``"zf", "mmse", "ccpa", "pgd", "adam", "angd-fcn", "angd-cnn",
        "reference"`` and any solver added with :func:`register`.
    rng : Generator, int, None, or a sequence of one Generator per instance
        Randomness of iterative solvers (initialisation, networks, randomisation).
    **options
        Passed to the solver; unknown options raise TypeError naming them. Iterative
        solvers accept ``state=`` (a ``Result.state``) to continue a run: on the instances
        it was written on, exactly; on another problem of the same size, its best W is
        re-evaluated on this problem (the best returned is the best on this problem) and
        its stopping counters restart, as :func:`angd_np.track` does frame to frame.
    """
    return solver_spec(method).solve(problem, rng=rng, **options)
