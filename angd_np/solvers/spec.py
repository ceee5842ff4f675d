"""``SolverSpec``: everything the package knows about one solver, in one place.

Each solver module defines its spec(s) beside the solver function (``SPECS = (...)``), and
the registry (:mod:`angd_np.solvers`) collects them. Everything else derives from the specs:
``SOLVERS`` and the method names the CLI accepts, the runner's plan (which solvers take
``iters``, how costly an instance is, which parallelise themselves), the plot styles and the
benchmarks. Adding a solver is one module with a spec, or a call to
:func:`angd_np.solvers.register` at run time::

    from angd_np.solvers import SolverSpec, register

    def my_solver(problem, *, rng=None, **options):
        ...                                   # returns a Result
    register(SolverSpec("mine", my_solver, label="My method"))
"""

from __future__ import annotations

import dataclasses
import re
import warnings
from collections.abc import Callable

import numpy as np

__all__ = ["SolverSpec", "linear_work", "add_start"]

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(?:-[a-z0-9_]+)*$")


def linear_work(weights: dict, resolved: dict) -> float:
    """An instance's work as a weighted sum of option values, e.g. ``{"iters": 1, "pilot": 2}``
    for ``iters`` iterations after a pilot of two starts of ``pilot`` iterations each.

    Use it as ``work=functools.partial(linear_work, weights)``: unlike a lambda it pickles,
    so the spec travels to worker processes.
    """
    return float(sum(w * resolved[name] for name, w in weights.items()))


def add_start(key: str, default, W, options: dict) -> dict:
    """A ``warm`` for solvers whose option ``key`` lists starting points: the previous
    frame's precoders W (n, M, K) become one more start after those in ``options`` (or the
    solver's ``default`` starts).

    Use it as ``warm=functools.partial(add_start, "init", default_starts)`` (it pickles).
    """
    starts = options.get(key, default)
    starts = (starts,) if isinstance(starts, (str, np.ndarray)) else tuple(starts)
    return {**options, key: starts + (W,)}


@dataclasses.dataclass(frozen=True)
class SolverSpec:
    """One solver, described once.

    Attributes
    ----------
    name : str
        The method name (lower case, digits, ``-`` and ``_``), e.g. ``"angd-fcn"``.
    solve : callable
        ``solve(problem, *, rng=None, **options) -> Result`` solving a whole batch; iterative
        solvers also take ``iters`` and ``state``.
    label : str
        Legend text in figures and tables.
    iterative : bool
        Takes ``iters`` (T), returns ``history`` (f per iteration) and ``state`` (continuable).
    variants : tuple of str
        Named option sets (the solver's ``variant`` option); the first is the default, each
        other one is also a method of its own, ``NAME-VARIANT`` (e.g. ``angd-fcn-tuned``).
        ``presets=`` is its old name (DeprecationWarning; removed in the next version).
    cost : float
        Rough time of one instance relative to pgd at T = 500 (orders the runner's chunks,
        longest first, and weights its ETA).
    threads : bool
        Parallelises a batch itself (option ``threads``); the runner sets ``threads=1`` when
        it already runs one process per core, so that nothing is oversubscribed.
    extra : str or None
        The optional dependency group it needs (``pip install 'angd_np[EXTRA]'``).
    style : dict
        Matplotlib keywords of its curves: ``color``, ``marker``; ``linewidth`` and
        ``linestyle`` optional (thin and dotted for controls and references).
    options : type or None
        Its options dataclass (:class:`~angd_np.solvers.options.SolverOptions`), if any.
    warm : callable or None
        Non-iterative solvers that can use a starting point: ``warm(W, options) -> options``
        adds the previous frame's precoders W (n, M, K) to its starts when
        :func:`angd_np.track` solves frame after frame (iterative solvers continue their
        ``state`` instead).
    track_options : dict
        Options :func:`angd_np.track` uses by default for this solver (explicit options
        override them), as the tracking study picked.
    resolve : callable or None
        ``resolve(options) -> options dataclass``: the options a call uses, its variant
        applied (for solvers with ``variants``; the others resolve through ``options``). A run
        folder records them, so that a variant whose values change is not resumed as if it
        had not (:func:`angd_np.solvers.resolved_options`).
    work : callable or None
        ``work(resolved) -> float``: an instance's work in iterations under the resolved
        options (the dict :func:`angd_np.solvers.resolved_options` gives). Default: ``iters``
        for iterative solvers; 500 for the others (``cost`` is a whole instance). The runner
        predicts a chunk's time from ``cost * work / 500`` (a solver with a pilot counts it:
        ANGD's is ``iters + 2 * pilot``).
    carry_options : dict
        Options :func:`angd_np.track` sets on every frame that continues a carried state or
        W (``carry="all"`` or ``"w"``) unless the caller passes the option, e.g. ANGD's
        ``{"pilot": 0, "check_starts": True}``: a pilot would replace the carried start, and
        the frame's ZF and sensing beam are scored against the carried chain's best
        (``studies/angd_tracking``).
    budgets : tuple of dict
        Options at each budget level of the ``quality-time`` figures, cheapest first (six
        levels); empty: iterative solvers take ``iters`` from
        ``angd_np.experiments.configs.ITERS_LEVELS``, the others have one cost only.
    """

    name: str
    solve: Callable
    label: str = ""
    iterative: bool = False
    variants: tuple = ()
    cost: float = 1.0
    threads: bool = False
    extra: str | None = None
    style: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    options: type | None = None
    warm: Callable | None = None
    track_options: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    budgets: tuple = ()
    resolve: Callable | None = dataclasses.field(default=None, compare=False)
    work: Callable | None = dataclasses.field(default=None, compare=False)
    carry_options: dict = dataclasses.field(default_factory=dict, hash=False, compare=False)
    presets: dataclasses.InitVar[tuple | None] = None

    def __post_init__(self, presets):
        if presets is not None:
            if self.variants:
                raise TypeError("SolverSpec got both 'presets' and its new name 'variants'")
            warnings.warn("SolverSpec(presets=...) is renamed variants=...; the old name will "
                          "be removed in the next version", DeprecationWarning, stacklevel=3)
            object.__setattr__(self, "variants", presets)
        if not isinstance(self.name, str) or not _NAME_RE.match(self.name):
            raise ValueError(f"name must be lower-case letters, digits, '-' and '_', starting "
                             f"with a letter, got {self.name!r}")
        if not callable(self.solve):
            raise TypeError(f"solve must be callable, got {type(self.solve).__name__}")
        if not isinstance(self.variants, tuple) or not all(
                isinstance(p, str) and _NAME_RE.match(p) for p in self.variants):
            raise ValueError(f"variants must be a tuple of names, got {self.variants!r}")
        if not (isinstance(self.cost, (int, float)) and self.cost > 0):
            raise ValueError(f"cost must be a number > 0, got {self.cost!r}")
        if not isinstance(self.style, dict):
            raise TypeError(f"style must be a dict of matplotlib keywords, got "
                            f"{type(self.style).__name__}")
        if self.work is not None and not callable(self.work):
            raise TypeError(f"work must be callable, got {type(self.work).__name__}")
        if not isinstance(self.carry_options, dict):
            raise TypeError(f"carry_options must be a dict of options, got "
                            f"{type(self.carry_options).__name__}")
        if not self.label:
            object.__setattr__(self, "label", self.name)

    def work_of(self, resolved: dict | None) -> float:
        """An instance's work in iterations under ``resolved`` options (see ``work``)."""
        if self.work is not None:
            value = float(self.work(resolved or {}))
        elif self.iterative:
            value = float((resolved or {}).get("iters", 500))
        else:
            return 500.0  # ``cost`` already is the time of one instance
        if not value > 0 or value != value:
            raise ValueError(f"{self.name}: work must be > 0 iterations, got {value!r}")
        return value

    def methods(self) -> dict:
        """Method name -> options: the solver itself, and ``NAME-VARIANT`` per other variant."""
        out = {self.name: {}}
        for variant in self.variants[1:]:
            out[f"{self.name}-{variant}"] = {"variant": variant}
        return out
