"""The iterations of :func:`~angd_np.solvers.lbfgs.lbfgs` for one instance, without batch
bookkeeping.

One instance at a time, an iteration of the batched loop costs more in row masks, gathers
and whole-batch tests than in arithmetic. This loop runs the same iteration for n = 1: the
vectors keep their row axis of length 1 and go through the very NumPy calls of the batched
path (:class:`._quasi_newton.Memory`, :func:`.sphere.value_and_grad`), so every vector
operation is the same floating-point operation; the per-row scalars (f, slopes, steps,
s.y) are Python floats, whose +, -, *, / and sqrt round as NumPy's float64 do; and the
line search is the same :class:`._quasi_newton._Search` state machine. So an instance
solved alone equals its row of a batch bit for bit (tested), at about half the calls.
"""

from __future__ import annotations

import math

import numpy as np

from ._quasi_newton import _Search

_CURVATURE = 1e-12  # as lbfgs: relative s.y a pair taken without the Wolfe conditions needs
_NO_PAIR = np.zeros(1, dtype=bool)  # push's ``pair`` (n,) for a step without one
_NO_PAIR.flags.writeable = False


def run(fun, x, phi, g, W, mem, tracker, opts, stalled):
    """``opts.iters`` iterations of lbfgs on one instance (the loop of ``lbfgs``, n = 1).

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (phi (1,), grad (1, d), W (1, M, K))``, phi = -f.
    x, g : ndarray of float64, shape (1, d)
    phi : ndarray of float64, shape (1,)
    W : ndarray of complex128, shape (1, M, K)
    mem : Memory of one row
    tracker : BestTracker of one instance (active)
    opts : LBFGSOptions
    stalled : bool
        The instance sits at round-off (see ``lbfgs``): it is no longer evaluated.

    Returns
    -------
    x, phi, W : the last iterate (arrays as given).
    """
    c1, c2, step0, max_evals = opts.armijo, opts.wolfe, opts.step0, opts.max_evals
    lean = tracker.tol is None  # otherwise the tracker's stopping rule runs every iteration
    history = tracker.history[0]
    best, best_f = None, float(tracker.f[0])  # the best iterate's W (never written to)
    f = float(-phi[0])
    t = -1
    for t in range(opts.iters):
        if stalled:  # as the batched loop: an empty slot a round, the same f recorded
            mem.push(np.zeros_like(x), np.zeros_like(g), _NO_PAIR, np.zeros(1))
        else:
            x, phi, g, W, stalled = _iteration(fun, x, phi, g, W, mem, c1, c2, step0,
                                               max_evals)
            f = float(-phi[0])
        if lean:
            history[t] = f
            if f > best_f:
                best, best_f = W, f
        elif not tracker.update(t, W, -phi):
            break
    if lean:
        tracker.nit[0] = t + 1
        if best is not None:
            tracker.W[...], tracker.f[0] = best, best_f
    return x, phi, W


def _iteration(fun, x, phi, g, W, mem, c1, c2, step0, max_evals):
    """One iteration of lbfgs's loop for one row; returns x, phi, g, W, stalled."""
    if mem.all_empty:
        p = _steepest(x, g, step0) * g
    else:
        p = mem.product_one(g)
    p *= -1.0
    s0 = float(np.vecdot(g, p)[0])
    if not s0 < 0 and not mem.all_empty:  # a stale memory (or g = 0): steepest descent
        mem.clear(np.ones(1, dtype=bool))
        p = -_steepest(x, g, step0) * g
        s0 = float(np.vecdot(g, p)[0])
    phi0 = float(phi[0])
    moved = wolfe = False
    if s0 < 0:
        # the first trial (a = 1), as wolfe_search's vectorised test of every row
        xt = x + p
        ft, gt, Wt = fun(xt)
        dt = float(np.vecdot(gt, p)[0])
        if ft[0] <= phi0 + c1 * 1.0 * s0 and abs(dt) <= -c2 * s0:
            x_new, phi_new, g_new, W_new, moved = xt, ft, gt, Wt, True
            wolfe = True
        else:
            x_new, phi_new, g_new, W_new = x, phi, g, W
            row = _Search(phi0, s0, 1.0)
            ft = float(ft[0])
            for k in range(max_evals):
                better, wolfe = row.tell(ft, dt, c1, c2)
                if better:
                    x_new, phi_new, g_new, W_new, moved = xt, np.array([ft]), gt, Wt, True
                if row.done or k == max_evals - 1:
                    break
                xt = x + row.a * p
                fa, gt, Wt = fun(xt)
                ft, dt = float(fa[0]), float(np.vecdot(gt, p)[0])
    if not moved:  # no decrease: a steepest step next, or, from steepest descent, stalled
        stalled = mem.all_empty
        mem.clear(np.ones(1, dtype=bool))
        mem.push(np.zeros_like(x), np.zeros_like(g), _NO_PAIR, np.zeros(1))
        return x, phi, g, W, stalled
    s, y = x_new - x, g_new - g
    sy = np.vecdot(s, y)
    pair = sy[0] > 0
    if pair and not wolfe:  # a fallback step: its pair must show clear positive curvature
        pair = sy[0] > _CURVATURE * math.sqrt(float(np.vecdot(s, s)[0] * np.vecdot(y, y)[0]))
    if pair:
        mem.push_one(s, y, float(sy[0]))
    else:
        mem.push(s, y, _NO_PAIR, sy)
    return x_new, phi_new, g_new, W_new, False


def _steepest(x, g, step0):
    """gamma of H_0 = gamma I, as lbfgs's ``_steepest`` for one row (a Python float)."""
    gnorm = math.sqrt(float(np.vecdot(g, g)[0]))
    return step0 * math.sqrt(float(np.vecdot(x, x)[0])) / (gnorm if gnorm > 0 else 1.0)
