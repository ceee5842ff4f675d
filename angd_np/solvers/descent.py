r"""Projected gradient ascent and projected Adam on W: the controls for ANGD.

ANGD (``angd.py``) replaces the update rule of gradient ascent by a network. To see what the
network adds, these two solvers use the same gradient, projection (eq. 11), initial point,
best-iterate rule and stopping rule, and differ only in the update:

- ``pgd``: :math:`W_{t+1} = P(W_t + \eta_W\, G_t)` with :math:`G_t = \partial f/\partial W^*`
  at :math:`W_t` (eq. 8 with :math:`\phi` the identity), or with the normalised step
  :math:`\eta_W \sqrt{p_{max}}\, G_t / \|G_t\|_F` (``step="normalized"``);
- ``adam``: Adam (Kingma and Ba) directly on the complex entries of W, ascending f, each step
  followed by the projection.

Both solve the whole batch at once (W is small: the batch is one array), and both keep the
best iterate seen, counting W_0 (Algorithm 1 line 10).

Why the normalised step exists. At the paper's numbers the gradient is ~1e4 ||W|| (the
sensing term dominates), so with :math:`\eta_W = 1` the raw step lands far outside the power
ball and the projection alone decides the next iterate: PGD becomes a power iteration on the
gradient map. The normalised step has a size in units of the ball's radius at any scale.
"""

from __future__ import annotations

import time

import numpy as np

from ..nn import Adam
from ..objective import _projection_scale, csbf_and_grad, power
from ._angd_common import (
    BestTracker,
    check_choice,
    check_iters,
    check_real,
    check_tol,
    flatten_problem,
    initial_W,
    instance_streams,
    unflatten,
)
from .result import Result

__all__ = ["pgd", "adam"]

_STEPS = ("raw", "normalized")


def _project_inplace(W, p_max):
    """Eq. (11) in place on W of shape (n, M, K) (``objective.project_power`` without its
    p_max check and its copy, both done once per solve here, not once per iteration)."""
    W *= _projection_scale(power(W), p_max)[:, None, None]


def _finish(problem, tracker, flat, iters, method, t0, failed):
    message = tracker.message(iters)
    if failed.any():
        message += (f"; {int(failed.sum())} instances hit a non-finite value and were stopped "
                    "(their best finite iterate is returned)")
    batch = problem.batch_shape
    res = Result.from_W(flat, tracker.W, method=method, time_s=time.perf_counter() - t0,
                        nit=tracker.nit, history=tracker.history, message=message,
                        success=~failed)
    if batch == (flat.n_instances,):
        return res
    return Result(W=unflatten(res.W, batch), csbf=unflatten(res.csbf, batch),
                  sum_rate=unflatten(res.sum_rate, batch), sensing=unflatten(res.sensing, batch),
                  nit=unflatten(res.nit, batch), time_s=unflatten(res.time_s, batch),
                  history=unflatten(res.history, batch), method=method, message=message,
                  success=unflatten(res.success, batch))


def _stop_nonfinite(tracker, f, failed):
    """Deactivate instances whose f is not finite; returns True while any is active."""
    bad = tracker.active & ~np.isfinite(f)
    if bad.any():
        failed |= bad
        tracker.deactivate(bad)
    return bool(tracker.active.any())


def pgd(problem, *, rng=None, iters=500, eta_w=1.0, step="raw", init="random", tol=None,
        patience=50) -> Result:
    r"""Projected gradient ascent with a fixed step, keeping the best iterate.

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    rng : Generator, int, None or sequence of one per instance
        Source of the random initial W (instance i uses only its own stream).
    iters : int
        Number of iterations T (default 500, the paper's).
    eta_w : float
        Step size :math:`\eta_W` > 0 (default 1, the paper's). With ``step="raw"`` it
        multiplies G (units W² per unit f); with ``"normalized"`` it is a fraction of
        :math:`\sqrt{p_{max}}`, the radius of the power ball.
    step : {"raw", "normalized"}
        Step along G or along G / ||G||_F.
    init : {"random", "zf"} or array of shape (M, K) or (n, M, K)
        W_0 (see ``_angd_common.initial_W``).
    tol : float or None
        Early stopping: an instance stops after ``patience`` iterations in which its best f
        rose by no more than ``tol`` relative. None (default) runs all T iterations.
    patience : int

    Returns
    -------
    Result
        ``history`` of shape (..., T): f(W_{t+1}) per iteration, NaN after a stop; ``W`` the
        best iterate (W_0 included).
    """
    t0 = time.perf_counter()
    iters = check_iters(iters)
    eta_w = check_real(eta_w, "eta_w")
    step = check_choice(step, "step", _STEPS)
    tol, patience = check_tol(tol, patience)
    flat = flatten_problem(problem)
    W = initial_W(init, flat, instance_streams(rng, flat.n_instances))
    f, G = csbf_and_grad(W, flat)
    tracker = BestTracker(W, f, iters, tol, patience)
    failed = np.zeros(flat.n_instances, dtype=bool)
    radius = np.sqrt(flat.p_max)
    for t in range(iters):
        if step == "raw":
            W = W + eta_w * G
        else:
            norm = np.sqrt(power(G))
            W = W + (eta_w * radius / np.where(norm > 0, norm, 1.0))[:, None, None] * G
        _project_inplace(W, flat.p_max)
        f, G = csbf_and_grad(W, flat)
        if not tracker.update(t, W, f) or not _stop_nonfinite(tracker, f, failed):
            break
    return _finish(problem, tracker, flat, iters, "pgd", t0, failed)


def adam(problem, *, rng=None, iters=500, lr=0.05, betas=(0.9, 0.999), eps=1e-8,
         init="random", tol=None, patience=50) -> Result:
    r"""Adam directly on W (ascending f), each step followed by the projection of eq. (11).

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    rng : Generator, int, None or sequence of one per instance
        Source of the random initial W.
    iters : int
        T (default 500).
    lr : float
        Step size in units of :math:`\sqrt{p_{max}/(MK)}`, the RMS entry of a full-power W
        (so the same ``lr`` means the same relative step at any scale). Adam moves each
        entry by about ``lr`` of those units per step.
    betas, eps : as for ``angd_np.nn.Adam``
        ``eps`` is in the units of G (it only guards division by zero here).
    init, tol, patience : as for :func:`pgd`.

    Returns
    -------
    Result

    Notes
    -----
    Adam receives G = ∂f/∂W* (complex); its second moment is |G|² per complex entry, so
    each entry gets one adaptive scale (PyTorch's complex Adam with ``.grad`` = 2G takes the
    same steps, eps aside).
    """
    t0 = time.perf_counter()
    iters = check_iters(iters)
    lr = check_real(lr, "lr")
    tol, patience = check_tol(tol, patience)
    flat = flatten_problem(problem)
    _, M, K = flat.H.shape
    W = initial_W(init, flat, instance_streams(rng, flat.n_instances))
    f, G = csbf_and_grad(W, flat)
    tracker = BestTracker(W, f, iters, tol, patience)
    failed = np.zeros(flat.n_instances, dtype=bool)
    opt = Adam(W, lr=lr * np.sqrt(flat.p_max / (M * K)), betas=betas, eps=eps, maximize=True,
               check_finite=False)
    for t in range(iters):
        opt.step(G)
        _project_inplace(W, flat.p_max)
        f, G = csbf_and_grad(W, flat)
        if not tracker.update(t, W, f) or not _stop_nonfinite(tracker, f, failed):
            break
    return _finish(problem, tracker, flat, iters, "adam", t0, failed)
