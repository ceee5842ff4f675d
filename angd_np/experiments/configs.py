"""What each figure runs: its sweep (x-values), its methods and how many trials.

A figure is a :class:`FigureSpec`. The runner turns a spec plus the user's choices (preset,
seed, trials, methods, iterations) into a :class:`RunConfig`, whose :meth:`RunConfig.identity`
is everything that changes a trial's numbers. Two runs with equal identities produce
identical rows, which is what lets a folder be resumed and lets a changed configuration be
refused.

Sweeps (the paper's figures first, then ours)
---------------------------------------------
=========== ============ ============================== ====================================
figure      x            values                         other settings
=========== ============ ============================== ====================================
fig2        M (n_tx)     16, 8                          beampattern on a 1-degree grid
fig3        M (n_tx)     4, 6, ..., 16                  p_max = 30 dBm
fig4        p_max (dBm)  20, 24, ..., 40                M = 10
tradeoff    omega        0.3 ... 1e5 (log, 7 points)    M = 16; sum rate against sensing
convergence M (n_tx)     16                             CSBF after each iteration
runtime     M (n_tx)     4, 8, 16, 32                   time per instance
=========== ============ ============================== ====================================

Trials: the paper's figures run ``--trials``; to keep ``figure all`` within its time budget
``tradeoff`` and ``convergence`` run a quarter of it (their confidence bands show what that
costs in precision) and ``runtime`` at most 10 (it measures time, not a mean outcome).
``meta.json`` records the number each figure ran.

Method names are the solver registry's (``angd_np.solvers.method_names()``): every
registered solver and its variants (``angd-fcn-tuned`` calls ``angd-fcn`` with
``variant="tuned"``).

Adding a figure is one :class:`FigureSpec` passed to :func:`register_figure`: its sweep,
the curves it stores (:mod:`.curves`) and its plot function (:mod:`.figures`). The CLI's
figure names, ``figure all``, the report's list and the benchmarks read :data:`FIGURES`.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable
from dataclasses import dataclass

from .._validate import check_int
from ..solvers import method_call, resolved_options, solver_spec
from ..solvers import parse_methods as _parse_methods
from ..system import PRESETS, Scenario
from . import figures
from .curves import CURVES
from .framed import FRAME_KEYS, frame_call

__all__ = [
    "FIGURES",
    "FigureSpec",
    "RunConfig",
    "PAPER_METHODS",
    "ALL_METHODS",
    "method_call",
    "parse_methods",
    "make_config",
    "register_figure",
    "unregister_figure",
]

#: The methods the paper compares, and our tuned ANGD (the paper's figures' defaults).
PAPER_METHODS = ("zf", "mmse", "ccpa", "angd-fcn", "angd-cnn", "angd-fcn-tuned", "angd-cnn-tuned")
#: The paper's methods, our controls and the reference (the tradeoff and runtime defaults).
ALL_METHODS = PAPER_METHODS + ("pgd", "adam", "reference")
#: Frames figures (:mod:`.framed`): tuned ANGD carrying everything, only W, nothing (cold,
#: as the paper), the controls warm (L-BFGS too), the baselines; and the sequences they track.
TRACKING_METHODS = ("angd-fcn-tuned", "angd-fcn-tuned:w", "angd-fcn-tuned:none", "pgd",
                    "adam", "lbfgs", "ccpa", "zf", "reference")
BUDGET_METHODS = ("angd-fcn-tuned", "angd-fcn-tuned:none", "pgd", "adam", "lbfgs", "zf",
                  "reference")
TRACKING = dict(n_frames=40, target_drift_deg=0.2, iters_per_frame=50, burn_in=20)
#: quality-time figures: the methods, and the iterations of iterative ones at each level.
QUALITY_METHODS = ("angd-fcn-tuned", "angd-cnn-tuned", "angd-fcn", "pgd", "adam", "lbfgs",
                   "ccpa", "zf", "reference")
ITERS_LEVELS = (50, 100, 200, 500, 1000, 2000)


def budget_options(solver: str, level: int) -> dict:
    """A solver's options at a budget level (0 cheapest) of the quality-time figures."""
    spec, level = solver_spec(solver), int(level)
    if spec.budgets:
        return dict(spec.budgets[level])
    return {"iters": ITERS_LEVELS[level]} if spec.iterative else {}


def parse_methods(text, *, frames=False) -> tuple[str, ...]:
    """``"zf,mmse"`` or a sequence of names -> a validated tuple without duplicates.

    ``frames``: names of a frames figure, which may end in ``:w`` or ``:none``.
    """
    return _parse_methods(text, check=frame_call if frames else method_call)


@dataclass(frozen=True)
class FigureSpec:
    """One figure's sweep.

    Attributes
    ----------
    name : str
    x_field : str
        The :class:`~angd_np.Scenario` field the sweep changes (``"n_tx"``, ``"p_max_dbm"``,
        ``"omega"``).
    x_values : tuple
        The sweep, in the field's unit.
    x_label : str
        Axis label of the plot.
    methods : tuple of str
        Default methods.
    base : dict
        Scenario fields fixed for this figure on top of the preset (e.g. M = 10 for fig4).
    curves : str or None
        A kind of ``curves.CURVES``: ``"pattern"`` (beampattern per angle, fig2),
        ``"history"`` (CSBF per iteration), or None.
    trial_fraction : float
        Share of ``--trials`` this figure runs (our additions need fewer than the paper's).
    trial_cap : int or None
        At most this many trials whatever ``--trials`` says (runtime: a few suffice).
    reference_cap : int or None
        At most this many trials for the (slow) reference solver in this figure.
    title : str
        Title of the plot.
    plot : callable
        ``plot(fig, folder, meta, summary, spec)`` draws the figure from the stored CSVs on a
        matplotlib Figure (see :mod:`.figures`).
    figsize : (float, float)
        Size of the Figure in inches.
    frames : dict or None
        Set for figures over frame sequences (:mod:`.framed`): ``n_frames``, ``rho``,
        ``target_drift_deg``, ``iters_per_frame``, ``burn_in``; ``x_field`` may be one of them.
    x_options : callable or None
        ``x_options(solver, x) -> dict``: the options each registered solver runs with at
        x-value ``x``, on top of its method's (the quality-time figures: its budget at level
        ``x``, ``budget_options``). Such a sweep changes no instance: trial i is the same
        instance at every x, its best-known value is pooled over x, and ``meta.json`` records
        each method's options at every x (``identity["budgets"]``).
    """

    name: str
    x_field: str
    x_values: tuple
    x_label: str
    methods: tuple
    base: dict = dataclasses.field(default_factory=dict)
    curves: str | None = None
    trial_fraction: float = 1.0
    trial_cap: int | None = None
    reference_cap: int | None = None
    title: str = ""
    plot: Callable = figures.draw_sweep
    figsize: tuple = (6.4, 3.6)
    frames: dict | None = None
    x_options: Callable | None = None

    def __post_init__(self):
        if self.frames is not None and set(self.frames) != set(FRAME_KEYS):
            raise ValueError(f"frames must hold exactly the keys {list(FRAME_KEYS)}, got "
                             f"{sorted(self.frames)}")
        if self.curves is not None and self.curves not in CURVES:
            raise ValueError(f"curves must be one of {list(CURVES)} or None, got "
                             f"{self.curves!r}")

    @property
    def same_instances(self) -> bool:
        """Whether trial i is the same instance at every x (x sets solver options only)."""
        return self.x_options is not None

    def scenario_fields(self, x) -> dict:
        """The Scenario fields set on top of the preset at x-value ``x``."""
        if self.same_instances or (self.frames is not None and self.x_field in FRAME_KEYS):
            return dict(self.base)
        return {**self.base, self.x_field: x}

    def trials(self, requested: int) -> int:
        """Trials this figure runs when the user asks for ``requested``."""
        n = max(1, math.ceil(requested * self.trial_fraction))
        return n if self.trial_cap is None else min(n, self.trial_cap)


FIGURES: dict[str, FigureSpec] = {}


def register_figure(spec: FigureSpec, *, replace: bool = False) -> FigureSpec:
    """Add a figure: it becomes a name of ``angd-np figure`` and part of ``figure all``."""
    if not isinstance(spec, FigureSpec):
        raise TypeError(f"spec must be a FigureSpec, got {type(spec).__name__}")
    if spec.name == "all" or (spec.name in FIGURES and not replace):
        raise ValueError(f"a figure named {spec.name!r} exists already (or is reserved)")
    FIGURES[spec.name] = spec
    return spec


def unregister_figure(name: str) -> FigureSpec:
    """Remove a figure added by :func:`register_figure`; returns its spec."""
    if name not in FIGURES:
        raise ValueError(f"name must be a figure of {list(FIGURES)}, got {name!r}")
    return FIGURES.pop(name)


for _spec in (
    FigureSpec("fig2", "n_tx", (16, 8), "angle (deg)", PAPER_METHODS, curves="pattern",
               title="Beampattern (paper Fig. 2)", plot=figures.draw_patterns,
               figsize=(8.4, 4.0)),
    FigureSpec("fig3", "n_tx", (4, 6, 8, 10, 12, 14, 16), "number of antennas M",
               PAPER_METHODS + ("reference",), title="Sum rate vs M (paper Fig. 3)"),
    FigureSpec("fig4", "p_max_dbm", tuple(float(p) for p in range(20, 41, 4)),
               "transmit power p_max (dBm)", PAPER_METHODS + ("reference",),
               base={"n_tx": 10}, title="Sum rate vs power, M = 10 (paper Fig. 4)"),
    FigureSpec("tradeoff", "omega", (0.3, 3.0, 30.0, 300.0, 3e3, 1e4, 1e5),
               "sensing gain (W)", ALL_METHODS, trial_fraction=0.25,
               title="Sum rate against sensing gain as omega sweeps",
               plot=figures.draw_tradeoff),
    FigureSpec("convergence", "n_tx", (16,), "iteration",
               ("angd-fcn", "angd-cnn", "angd-fcn-tuned", "angd-cnn-tuned", "pgd", "adam",
                "ccpa", "reference"), curves="history", trial_fraction=0.25,
               title="CSBF against iteration", plot=figures.draw_convergence),
    FigureSpec("runtime", "n_tx", (4, 8, 16, 32), "number of antennas M", ALL_METHODS,
               trial_cap=10, reference_cap=2, title="Time per instance",
               plot=figures.draw_runtime),
    FigureSpec("tracking", "rho", (0.0, 0.9, 0.99, 0.999), "frame", TRACKING_METHODS,
               frames=dict(TRACKING, rho=0.99), trial_fraction=0.25, trial_cap=16,
               title="Per-frame gap while tracking (median solid, p90 dotted)",
               plot=figures.draw_tracking, figsize=(9.6, 3.8)),
    # The CNN's output layer has 16 MK x 2MK weights (8 M at M = 64, K = 8): too slow for
    # 2000 iterations there, so the larger sizes leave it out.
    *[FigureSpec(name, "level", tuple(range(len(ITERS_LEVELS))), "budget level",
                 methods, base={"n_tx": M, "n_users": K}, trial_fraction=cap / 1000,
                 trial_cap=cap, plot=figures.draw_quality_time, figsize=(6.8, 3.8),
                 x_options=budget_options,
                 title=f"Median gap against time per instance, M = {M}, K = {K}")
      for name, M, K, cap, methods in (
          ("quality-time", 16, 2, 50, QUALITY_METHODS),
          ("quality-time-32", 32, 4, 20, tuple(m for m in QUALITY_METHODS if "cnn" not in m)),
          ("quality-time-64", 64, 8, 10, tuple(m for m in QUALITY_METHODS if "cnn" not in m)))],
    FigureSpec("budget", "iters_per_frame", (5, 10, 20, 50, 100, 200, 500),
               "iterations per frame", BUDGET_METHODS, frames=dict(TRACKING, rho=0.99),
               trial_fraction=0.1, trial_cap=8,
               title="Median per-frame gap after the burn-in, rho = 0.99",
               plot=figures.draw_budget, figsize=(7.6, 3.4)),
):
    register_figure(_spec)


@dataclass(frozen=True)
class RunConfig:
    """A figure run as the user asked for it.

    ``trials`` and ``reference_trials`` are not part of :meth:`identity`: trial i's numbers
    do not depend on how many trials there are, so raising them in the same folder extends a
    run. The reference solver runs on every trial (``reference_trials=None``, the default), so
    every result carries its optimality gap, or on the first ``reference_trials`` only, to
    save its time (0.02–0.2 s per instance); the gap is filled where it ran.
    """

    figure: str
    preset: str = "paper"
    seed: int = 0
    trials: int = 100
    methods: tuple = ()
    iters: int | None = None
    chunk_size: int = 25
    reference_trials: int | None = None

    @property
    def spec(self) -> FigureSpec:
        return FIGURES[self.figure]

    @property
    def n_trials(self) -> int:
        return self.spec.trials(self.trials)

    def method_trials(self, method: str) -> int:
        """Trials run by one method: all of them, except for the reference."""
        if method != "reference":
            return self.n_trials
        limits = (self.n_trials, self.reference_trials, self.spec.reference_cap)
        return min(n for n in limits if n is not None)

    def scenario(self, x) -> Scenario:
        """The scenario at one x-value of the sweep."""
        return Scenario.preset(self.preset, **self.spec.scenario_fields(x))

    def frame_params(self, x) -> dict | None:
        """Sequence and tracking parameters at one x-value (frames figures; else None)."""
        if self.spec.frames is None:
            return None
        params = dict(self.spec.frames)
        if self.iters is not None:
            params["iters_per_frame"] = self.iters
        if self.spec.x_field in FRAME_KEYS:
            params[self.spec.x_field] = x
        return params

    def calls(self) -> dict:
        """method name -> (registered solver, options)."""
        if self.spec.frames is not None:
            return {m: frame_call(m) for m in self.methods}
        return {m: method_call(m, self.iters) for m in self.methods}

    def calls_at(self, x) -> dict:
        """:meth:`calls` at one x-value, with the spec's ``x_options`` at x if it has any."""
        calls = self.calls()
        if self.spec.x_options is None:
            return calls
        return {m: (solver, {**options, **self.spec.x_options(solver, x)})
                for m, (solver, options) in calls.items()}

    def identity(self) -> dict:
        """Everything that decides a trial's numbers, as it reads back from meta.json."""
        return json.loads(json.dumps({
            "figure": self.figure,
            "preset": self.preset,
            "seed": self.seed,
            "methods": {m: {"solver": s, "options": o,
                            "resolved": resolved_options(s, _solver_options(o))}
                        for m, (s, o) in self.calls().items()},
            **({} if self.spec.x_options is None else {"budgets": [
                {m: o for m, (_, o) in self.calls_at(x).items()} for x in self.spec.x_values]}),
            "x_field": self.spec.x_field,
            "x_values": list(self.spec.x_values),
            "scenarios": [dataclasses.asdict(self.scenario(x)) for x in self.spec.x_values],
            "curves": self.spec.curves,
            "chunk_size": self.chunk_size,
            **({} if self.spec.frames is None else
               {"frames": [self.frame_params(x) for x in self.spec.x_values]}),
        }, default=repr))


def _solver_options(options):
    """A method's options without those of the frames runner (``carry``)."""
    return {k: v for k, v in options.items() if k != "carry"}


def make_config(figure, *, preset="paper", seed=0, trials=100, methods=None, iters=None,
                chunk_size=25, reference_trials=None) -> RunConfig:
    """Validate the user's choices and build a :class:`RunConfig`.

    ``methods`` restricts the figure's default methods (or adds others, e.g. ``pgd``).
    """
    if figure not in FIGURES:
        raise ValueError(f"figure must be one of {list(FIGURES)} or 'all', got {figure!r}")
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {preset!r}")
    seed = check_int(seed, "seed", minimum=0)
    trials = check_int(trials, "trials", minimum=1)
    chunk_size = check_int(chunk_size, "chunk_size", minimum=1)
    if reference_trials is not None:
        reference_trials = check_int(reference_trials, "reference_trials", minimum=1)
    if iters is not None:
        iters = check_int(iters, "iters", minimum=1)
    spec = FIGURES[figure]
    methods = spec.methods if methods is None else parse_methods(
        methods, frames=spec.frames is not None)
    return RunConfig(figure, preset, seed, trials, tuple(methods), iters, chunk_size,
                     reference_trials)
