r"""What makes a best-known precoder trustworthy: stationarity, and agreement between starts.

Stationarity on the power sphere
--------------------------------
The optimum of (P1) uses the full power, so it lies on the sphere :math:`\|W\|_F^2 = p_{max}`,
where only the tangential part of :math:`G = \partial f/\partial W^*` can still raise f:

.. math:: r(W) = \frac{\|G - \mathrm{Re}\langle W, G\rangle W / \|W\|_F^2\|_F}{\|G\|_F},
    \qquad \langle W, G\rangle = \textstyle\sum \overline{W} \odot G .

r = 0 at a local optimum (or saddle) on the sphere; r is about 1 where the gradient points
along the sphere. (On the sphere the radial part :math:`\mathrm{Re}\langle W, G\rangle > 0`
always: more power raises every SINR and the beampattern, so a point with r = 0 there is a KKT
point of the ball constraint too.) A bank certifies :math:`r(W_{best}) \le` 1e-6
(:data:`STATIONARITY_THRESHOLD`) on every instance.

Why a bound of 1e-6 when most instances reach 1e-16: ``f_best`` must be exactly
``csbf(W_best)`` and at least every solver's own float64 value, and near an optimum f no
longer resolves stationarity. At the presets' SNR (signal ~1e6 times the noise) the rate
term's Hessian is ~1e4 times stiffer along the directions that leak interference than along
the rest, so a step that shrinks r from 1e-8 to 1e-16 changes f by a few ulp, up or down.
Where a solver's own result rounds an ulp or two above every more stationary point we reach,
it stays W_best with its residual (up to ~5e-9 in the paper preset). The bound leaves two
orders of magnitude for that and for other platforms' rounding.

Polishing, the spread of the local optima, and the flag
-------------------------------------------------------
Every solver's result is used as a start: :func:`polish` climbs from it to the local optimum
it leads to (BFGS on :math:`W = \sqrt{p_{max}} V/\|V\|`, V unconstrained, as the reference
solver does, then up to six Newton steps on the tangential gradient with a finite-difference
Hessian, which go on while f changes by rounding only), keeping the most stationary point
of the way whose f is at least the start's; where there is none, the start stays.
``W_best`` is the best of these points; ``best_method`` names the solver it started from,
or, when several starts polish to the same optimum (equal f to 1e-12 relative), the one
among them whose own result was highest.

``spread = (f_best - min_s f_local[s]) / |f_best|`` describes the landscape: how far apart
the local optima reached from the S starts are. It is large on most instances (the CSBF has
several local optima, e.g. one per user left without power, and randomly initialised
first-order methods land in a lower one about half the time), so it says little about
f_best by itself. ``n_agree`` counts the starts whose local optimum is within 1e-6
(:data:`SPREAD_TOLERANCE`) of f_best: two or more independent searches ending at the same
value is the evidence that it is the optimum.

An instance is *flagged* when that evidence is missing: the reference solver's own result
(its multi-start search) is more than 1e-6 below f_best (``reference_gap``), so the starts
disagree about the best, or fewer than two starts reach f_best. There f_best is the best
of what we found and a better optimum is more likely than elsewhere.
"""

from __future__ import annotations

import warnings

import numpy as np

from .._validate import check_int
from ..objective import csbf, csbf_and_grad, tangent_component
from ..solvers import sphere

__all__ = ["STATIONARITY_THRESHOLD", "SPREAD_TOLERANCE", "stationarity_residual", "polish",
           "certify"]

#: Certified bound on the relative stationarity residual of every ``W_best``.
STATIONARITY_THRESHOLD = 1e-6
#: Two local optima "agree" when their CSBF differ by at most this, relative to f_best.
SPREAD_TOLERANCE = 1e-6
#: Polished optima this close (relative) are the same optimum up to rounding.
_TIE = 1e-12
#: How far f may drop (relative) in a Newton step that shrinks the gradient: 4 ulp.
_ROUNDING = 4 * np.finfo(np.float64).eps


def stationarity_residual(W, problem) -> np.ndarray:
    """Relative tangential gradient ``||G_tan|| / ||G||`` on the sphere through W.

    Parameters
    ----------
    W : ndarray of complex128, shape (..., M, K)
        Nonzero precoders.
    problem : Problem

    Returns
    -------
    ndarray of float64, shape (...): 0 at a stationary point on the sphere, at most 1.
    """
    W = np.asarray(W, dtype=np.complex128)
    _, G = csbf_and_grad(W, problem)
    tangent = tangent_component(W, G)
    return np.linalg.norm(tangent, axis=(-2, -1)) / np.linalg.norm(G, axis=(-2, -1))


def _newton(W, one, steps, f_floor):
    """Newton steps on the tangential gradient of one instance (module docstring).

    Near the optimum f can no longer resolve the progress (its changes are rounding, a few
    ulp either way) while the gradient still can: steps continue while f drops by rounding
    at most (4 ulp) and the gradient does not grow tenfold. Returns the iterate (the start
    included) with the smallest gradient among those whose ``csbf`` is at least
    ``f_floor``, or None if there is none.
    """
    shape = W.shape
    d = 2 * W.size
    x = sphere.to_x(W[None])[0]
    f, g = sphere.value_and_grad(x[None], one)[:2]
    rows = one.with_(H=np.broadcast_to(one.H, (2 * d,) + one.H.shape[-2:]),
                     A=np.broadcast_to(one.A, (2 * d,) + one.A.shape[-2:]))
    best, best_norm = None, np.inf
    smallest = np.linalg.norm(g)
    for k in range(steps + 1):
        W_k = sphere.to_W(sphere.to_V(x[None], shape), one.p_max)[0]
        norm_k = np.linalg.norm(g)
        if norm_k < best_norm and csbf(W_k[None], one)[0] >= f_floor:
            best, best_norm = W_k, norm_k
        if k == steps:
            break
        h = 1e-6 * np.linalg.norm(x)
        E = h * np.eye(d)
        _, g_pm = sphere.value_and_grad(np.concatenate([x + E, x - E]), rows)[:2]
        J = (g_pm[:d] - g_pm[d:]).T / (2 * h)
        J = 0.5 * (J + J.T)  # a Hessian: symmetric up to finite-difference noise
        # Least squares: J is singular along the radial direction and along each column's
        # common phase (f does not change), and Newton must not move along those.
        step = np.linalg.lstsq(J, -g[0], rcond=1e-9)[0]
        x_new = x + step
        x_new *= np.sqrt(one.p_max) / np.linalg.norm(x_new)
        f_new, g_new = sphere.value_and_grad(x_new[None], one)[:2]
        if not (f_new[0] >= f[0] - _ROUNDING * abs(f[0])
                and np.linalg.norm(g_new) <= 10 * smallest):
            break
        x, f, g = x_new, f_new, g_new
        smallest = min(smallest, np.linalg.norm(g))
    return best


def polish(W, problem, *, iters=2000, newton_steps=6, maxiter=None) -> np.ndarray:
    """Climb from each W to the local optimum it leads to, on the power sphere.

    BFGS (scipy) on the normalised objective, then ``newton_steps`` Newton steps (module
    docstring). An instance where no point of the way is at least f(W) keeps W.

    Parameters
    ----------
    W : ndarray of complex128, shape (n, M, K)
        Starting points, nonzero; need not be on the sphere.
    problem : Problem
        n instances (H of shape (n, M, K)).
    iters : int
        BFGS iterations per instance (formerly ``maxiter``, still accepted with a
        DeprecationWarning).
    newton_steps : int

    Returns
    -------
    ndarray of complex128, shape (n, M, K), with f(result) >= f(W) per instance.
    """
    try:
        from scipy.optimize import minimize
    except ImportError as exc:
        raise ImportError("certifying a bank needs scipy: pip install 'angd_np[cvx]'") from exc
    if maxiter is not None:
        warnings.warn("polish(): maxiter is renamed iters; the old name will be removed in "
                      "the next version", DeprecationWarning, stacklevel=2)
        iters = maxiter
    iters = check_int(iters, "iters", minimum=1)
    newton_steps = check_int(newton_steps, "newton_steps", minimum=0)
    W = np.asarray(W, dtype=np.complex128)
    if W.ndim != 3 or W.shape != problem.H.shape:
        raise ValueError(f"W must have shape {problem.H.shape} like the problem's H, got "
                         f"shape {W.shape}")
    f_start = csbf(W, problem)
    out = W.copy()
    for j in range(W.shape[0]):
        if not np.any(W[j]):
            continue  # the zero precoder has no direction to climb from
        one = problem[j:j + 1]
        scale = max(abs(f_start[j]), 1e-300)

        def fun(z, one=one, scale=scale):  # (called inside this iteration only)
            f, g = sphere.value_and_grad(z[None], one)[:2]
            return -f[0] / scale, -g[0] / scale

        x0 = sphere.to_x(W[j][None])[0]
        res = minimize(fun, x0, jac=True, method="BFGS",
                       options={"gtol": 1e-12, "maxiter": iters})
        W_res = sphere.to_W(sphere.to_V(res.x[None], W.shape[1:]), problem.p_max)[0]
        W_j = _newton(W_res, one, newton_steps, f_start[j])
        if W_j is not None:
            out[j] = W_j
    return out


def certify(problem, starts: dict, *, reference: str = "reference") -> dict:
    """Best-known precoders and their certificate from the results of several solvers.

    Parameters
    ----------
    problem : Problem
        n instances, H of shape (n, M, K).
    starts : dict name -> ndarray of complex128, shape (n, M, K)
        Each solver's precoders (feasible). Their order breaks exact ties in f.
    reference : str
        The key of ``starts`` holding the reference solver's result (for ``reference_gap``).

    Returns
    -------
    dict with ``W_best`` (n, M, K), ``f_best`` (n,), ``best_method`` (n,) str,
    ``f_methods`` and ``f_local`` (n, S), ``stationarity``, ``spread``, ``n_agree``,
    ``reference_gap``, ``flagged`` (n,), and the two constants.
    """
    if not isinstance(starts, dict) or not starts:
        raise ValueError(f"starts must be a non-empty dict name -> W, got {starts!r}")
    names = list(starts)
    if reference not in starts:
        raise ValueError(f"reference must be one of the starts {names}, got {reference!r}")
    f_methods = np.stack([csbf(np.asarray(starts[m]), problem) for m in names], axis=1)
    local = np.stack([polish(starts[m], problem) for m in names])  # (S, n, M, K)
    f_local = np.stack([csbf(W, problem) for W in local], axis=1)  # (n, S)
    pick = np.argmax(f_local, axis=1)
    n = problem.n_instances
    W_best = local[pick, np.arange(n)]
    f_best = csbf(W_best, problem)
    # Several starts usually polish to the same optimum, equal to rounding: credit the one
    # whose own result was highest among them, not whichever won by the last bit.
    ties = (f_best[:, None] - f_local) <= _TIE * np.abs(f_best)[:, None]
    credit = np.argmax(np.where(ties, f_methods, -np.inf), axis=1)
    spread = (f_best - f_local.min(axis=1)) / np.abs(f_best)
    n_agree = np.count_nonzero((f_best[:, None] - f_local) <= SPREAD_TOLERANCE * np.abs(
        f_best)[:, None], axis=1)
    reference_gap = (f_best - f_methods[:, names.index(reference)]) / np.abs(f_best)
    return {
        "W_best": W_best,
        "f_best": f_best,
        "best_method": np.asarray(names)[credit],
        "f_methods": f_methods,
        "f_local": f_local,
        "stationarity": stationarity_residual(W_best, problem),
        "stationarity_threshold": STATIONARITY_THRESHOLD,
        "spread": spread,
        "spread_tolerance": SPREAD_TOLERANCE,
        "n_agree": n_agree,
        "reference_gap": reference_gap,
        "flagged": (reference_gap > SPREAD_TOLERANCE) | (n_agree < 2),
    }
