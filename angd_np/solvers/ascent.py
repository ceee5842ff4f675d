r"""Projected gradient ascent and projected Adam on W: the controls for ANGD.

ANGD (``angd.py``) replaces the update rule of gradient ascent by a network. To see what the
network adds, these two solvers use the same gradient, projection (eq. 11), initial point,
best-iterate rule and stopping rule, and differ only in the update:

- ``pgd``: :math:`W_{t+1} = P(W_t + \eta_W\, G_t)` with :math:`G_t = \partial f/\partial W^*`
  at :math:`W_t` (eq. 8 with :math:`\phi` the identity), or with the normalised step
  :math:`\eta_W \sqrt{p_{max}}\, G_t / \|G_t\|_F` (``step="normalized"``);
- ``adam``: Adam (Kingma and Ba) directly on the complex entries of W, ascending f, each step
  followed by the projection.

Both solve the whole batch at once (W is small: the batch is one array), both keep the
best iterate seen, counting W_0 (Algorithm 1 line 10), and both can be continued from their
``Result.state`` (:mod:`.iterative`; ``adam`` adds its moments ``adam_m`` (n, M, K) complex,
``adam_v`` (n, M, K) real, as kept by :class:`angd_np.nn.Adam`, and its step count
``adam_t`` (n,)).

Why the normalised step exists. At the paper's numbers the gradient is ~1e4 ||W|| (the
sensing term dominates), so with :math:`\eta_W = 1` the raw step lands far outside the power
ball and the projection alone decides the next iterate: PGD becomes a power iteration on the
gradient map. The normalised step has a size in units of the ball's radius at any scale.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..nn import Adam
from ..objective import _projection_scale, csbf_and_grad, power
from .iterative import (
    BestTracker,
    check_state,
    finish,
    flatten_problem,
    initial_W,
    instance_streams,
)
from .options import IterativeOptions, check_betas, check_choice, check_real
from .spec import SolverSpec

__all__ = ["pgd", "adam", "PGDOptions", "AdamOptions", "SPECS"]

_STEPS = ("raw", "normalized")


@dataclasses.dataclass(frozen=True)
class PGDOptions(IterativeOptions):
    """Options of :func:`pgd` (and ``iters``, ``init``, ``tol``, ``patience``)."""

    eta_w: float = 1.0
    step: str = "raw"

    def __post_init__(self):
        super().__post_init__()
        self._set("eta_w", check_real(self.eta_w, "eta_w"))
        check_choice(self.step, "step", _STEPS)


@dataclasses.dataclass(frozen=True)
class AdamOptions(IterativeOptions):
    """Options of :func:`adam` (and ``iters``, ``init``, ``tol``, ``patience``)."""

    lr: float = 0.05
    betas: tuple = (0.9, 0.999)
    eps: float = 1e-8

    def __post_init__(self):
        super().__post_init__()
        self._set("lr", check_real(self.lr, "lr"))
        self._set("betas", check_betas(self.betas))
        self._set("eps", check_real(self.eps, "eps"))


def _project_inplace(W, p_max):
    """Eq. (11) in place on W of shape (n, M, K) (``objective.project_power`` without its
    p_max check and its copy, both done once per solve here, not once per iteration)."""
    W *= _projection_scale(power(W), p_max)[:, None, None]


def _stop_nonfinite(tracker, f, failed):
    """Deactivate instances whose f is not finite; returns True while any is active."""
    bad = tracker.active & ~np.isfinite(f)
    if bad.any():
        failed |= bad
        tracker.deactivate(bad)
    return bool(tracker.active.any())


def _start(problem, rng, opts, state, method, shapes=None):
    """Flattened problem, W_0, its f and G, the tracker and the failure flags.

    From ``state`` when given (W_0 = its last iterate, tracker counters restored), else from
    ``opts.init`` and the instances' random streams.
    """
    flat = flatten_problem(problem)
    n, core = flat.n_instances, flat.H.shape[-2:]
    if state is None:
        W = initial_W(opts.init, flat, instance_streams(rng, n))
        saved, failed = None, np.zeros(n, dtype=bool)
    else:
        saved = check_state(state, method, n, core, shapes, problem=flat)
        W, failed = saved["W"], saved["failed"]
    f, G = csbf_and_grad(W, flat)
    tracker = BestTracker(W, f, opts.iters, opts.tol, opts.patience, state=saved)
    return flat, W, f, G, tracker, failed, saved


def _steps(opts, tracker):
    """Iterations to run: none when every instance of a continued run has stopped already
    (a whole run would not have stepped past that point either)."""
    return range(opts.iters if tracker.active.any() else 0)


def pgd(problem, *, rng=None, state=None, **options):
    r"""Projected gradient ascent with a fixed step, keeping the best iterate.

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    rng : Generator, int, None or sequence of one per instance
        Source of the random initial W (instance i uses only its own stream).
    state : dict, optional
        A ``Result.state`` of ``pgd`` on the same instances: go on from there.
    **options
        See :class:`PGDOptions`:

        iters : int
            Number of iterations T (default 500, the paper's).
        eta_w : float
            Step size :math:`\eta_W` > 0 (default 1, the paper's). With ``step="raw"`` it
            multiplies G (units W² per unit f); with ``"normalized"`` it is a fraction of
            :math:`\sqrt{p_{max}}`, the radius of the power ball.
        step : {"raw", "normalized"}
            Step along G or along G / ||G||_F.
        init : {"random", "zf"} or array of shape (M, K) or (n, M, K)
            W_0 (see :func:`.iterative.initial_W`).
        tol, patience : float or None, int
            Early stopping: an instance stops after ``patience`` iterations in which its
            best f rose by no more than ``tol`` relative. None (default) runs all T.

    Returns
    -------
    Result
        ``history`` of shape (..., T): f(W_{t+1}) per iteration, NaN after a stop; ``W`` the
        best iterate (W_0 included); ``state`` to continue.
    """
    t0 = time.perf_counter()
    opts = PGDOptions.resolve("pgd", None, options)
    flat, W, f, G, tracker, failed, _ = _start(problem, rng, opts, state, "pgd")
    radius = np.sqrt(flat.p_max)
    for t in _steps(opts, tracker):
        if opts.step == "raw":
            W = W + opts.eta_w * G
        else:
            norm = np.sqrt(power(G))
            W = W + (opts.eta_w * radius / np.where(norm > 0, norm, 1.0))[:, None, None] * G
        _project_inplace(W, flat.p_max)
        f, G = csbf_and_grad(W, flat)
        if not tracker.update(t, W, f) or not _stop_nonfinite(tracker, f, failed):
            break
    return finish(problem, flat, tracker, "pgd", t0, failed, state={"W": W.copy()})


def adam(problem, *, rng=None, state=None, **options):
    r"""Adam directly on W (ascending f), each step followed by the projection of eq. (11).

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    rng : Generator, int, None or sequence of one per instance
        Source of the random initial W.
    state : dict, optional
        A ``Result.state`` of ``adam`` on the same instances: go on from there (moments and
        step count included).
    **options
        See :class:`AdamOptions`:

        iters : int
            T (default 500).
        lr : float
            Step size in units of :math:`\sqrt{p_{max}/(MK)}`, the RMS entry of a full-power
            W (so the same ``lr`` means the same relative step at any scale). Adam moves each
            entry by about ``lr`` of those units per step.
        betas, eps : as for ``angd_np.nn.Adam``
            ``eps`` is in the units of G (it only guards division by zero here).
        init, tol, patience
            As for :func:`pgd`.

    Returns
    -------
    Result

    Notes
    -----
    Adam receives G = ∂f/∂W* (complex); its second moment is ``|G|²`` per complex entry, so
    each entry gets one adaptive scale (PyTorch's complex Adam with ``.grad`` = 2G takes the
    same steps, eps aside).
    """
    t0 = time.perf_counter()
    opts = AdamOptions.resolve("adam", None, options)
    core = problem.H.shape[-2:]
    shapes = {"adam_m": (core, np.complex128), "adam_v": (core, np.float64),
              "adam_t": ((), np.int64)}
    flat, W, f, G, tracker, failed, saved = _start(problem, rng, opts, state, "adam", shapes)
    M, K = core
    opt = Adam(W, lr=opts.lr * np.sqrt(flat.p_max / (M * K)), betas=opts.betas,
               eps=opts.eps, maximize=True, check_finite=False)
    if saved is not None:
        _load_moments(opt, saved)
    for t in _steps(opts, tracker):
        opt.step(G)
        _project_inplace(W, flat.p_max)
        f, G = csbf_and_grad(W, flat)
        if not tracker.update(t, W, f) or not _stop_nonfinite(tracker, f, failed):
            break
    moments = opt.state_dict()
    own = {"W": W.copy(), "adam_m": moments["m_acc_0"], "adam_v": moments["v_acc_0"],
           "adam_t": np.full(W.shape[0], opt.t, dtype=np.int64)}
    return finish(problem, flat, tracker, "adam", t0, failed, state=own)


def _load_moments(opt, saved):
    """Restore Adam's moments and step count from a state (one step count per batch)."""
    steps = np.unique(saved["adam_t"])
    if steps.size != 1 or steps[0] < 0:
        raise ValueError(f"state['adam_t'] must be one step count >= 0 shared by the batch, "
                         f"got {steps.tolist()}")
    current = opt.state_dict()
    current.update(t=steps[0], m_acc_0=saved["adam_m"], v_acc_0=saved["adam_v"])
    opt.load_state_dict(current)


_STYLE = {"linewidth": 1.0}

SPECS = (
    # track_options: the best of the tracking study's grid on its tuning sequences
    # (studies/tracking_defaults/).
    SolverSpec("pgd", pgd, label="PGD", iterative=True, cost=1.0, options=PGDOptions,
               style=dict(color="#8c564b", marker="D", **_STYLE),
               track_options={"step": "normalized", "eta_w": 0.03}),
    SolverSpec("adam", adam, label="Adam on W", iterative=True, cost=1.0, options=AdamOptions,
               style=dict(color="#e377c2", marker="P", **_STYLE), track_options={"lr": 0.02}),
)
