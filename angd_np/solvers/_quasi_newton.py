r"""Batched L-BFGS machinery: the curvature memory and a strong Wolfe line search.

Shared by :func:`~angd_np.solvers.lbfgs.lbfgs` (one start, an iteration budget) and
:func:`~angd_np.solvers.reference.reference` (many starts until convergence). Both minimise
n independent smooth functions :math:`\varphi_i`, one per row of x (n, d); every quantity
here carries that row axis and every operation acts on each row alone, so a row's iterates
do not depend on which rows share the batch (bit for bit).

The inverse-Hessian product (Byrd, Nocedal and Schnabel 1994, the compact form)
------------------------------------------------------------------------------
With the last m pairs :math:`s_j = x_{j+1} - x_j`, :math:`y_j = \nabla\varphi_{j+1} -
\nabla\varphi_j` as the rows of S and Y (m, d), :math:`D = \mathrm{diag}(s_j^T y_j)`, L the
triangle of :math:`S Y^T` whose entry (i, j) is :math:`s_i^T y_j` for :math:`s_i` not newer
than :math:`y_j`, and :math:`H_0 = \gamma I`, the L-BFGS inverse Hessian is

.. math:: H = \gamma I + [S^T\ \ \gamma Y^T]
          \begin{bmatrix} L^{-T}(D + \gamma Y Y^T) L^{-1} & -L^{-T} \\ -L^{-1} & 0
          \end{bmatrix} \begin{bmatrix} S \\ \gamma Y \end{bmatrix},

the same matrix as the two-loop recursion (Nocedal and Wright, Algorithm 7.4) builds, so
:math:`r = H g` is, with :math:`a = S g`, :math:`b = Y g`, :math:`c = L^{-1} a`,

.. math:: r = \gamma g + S^T L^{-T}\big(D c + \gamma (Y Y^T c - b)\big) - \gamma Y^T c .

Five small matrix products instead of 4m vector operations: at these sizes the cost of an
operation is its call, not its flops. :math:`L^{-1}` and :math:`Y Y^T` are updated as a
pair enters (one product with the new y): prepending the newest pair to L adds a first row
:math:`[s^T y, 0]` and a first column, whose inverse has first column
:math:`-L_{old}^{-1} c'/(s^T y)` (c' the old s_i against the new y), and dropping the oldest
pair drops L's last row and column, which leaves the leading block of :math:`L^{-1}`.
:math:`\gamma = s^T y / y^T y` of the newest pair (Nocedal and Wright, eq. 7.20); a row
without pairs gets the caller's :math:`\gamma`.

Pairs are stored newest first (slot 0 the last one). An empty slot has s = y = 0,
:math:`\rho = 1/s^Ty = 0` and a unit diagonal in :math:`L^{-1}`: it adds exact zeros.

The line search (Nocedal and Wright, Algorithms 3.5 and 3.6)
------------------------------------------------------------
A step a along a descent direction p (:math:`\varphi'(0) = g^T p < 0`) is accepted when it
satisfies the strong Wolfe conditions

.. math:: \varphi(x + a p) \le \varphi(x) + c_1 a\, g^T p, \qquad
          |\nabla\varphi(x + a p)^T p| \le c_2 |g^T p|,

c_1 = 1e-4 (enough decrease) and c_2 = 0.9 (the slope has flattened: the step is not too
short, and :math:`s^T y > 0`, so the pair keeps H positive definite). Bracketing
(Algorithm 3.5) tries a, then extrapolates by the cubic through the last two points, kept
within [a + 1.1 (a - a_prev), a + 4 (a - a_prev)] (the bounds of Moré and Thuente), until an
interval must contain an acceptable step; zooming (Algorithm 3.6) then tries the minimiser
of the cubic through both ends (value and slope, eq. 3.59), kept 10% away from either end,
bisecting where the cubic has none. Every trial costs one evaluation of value and gradient,
for the rows still searching, all at once. After ``max_evals`` trials, or once the interval
is below round-off, a row takes its best point that satisfies the first condition, if any
(a step that is then not "Wolfe": the caller keeps its pair only if :math:`s^T y > 0`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["Memory", "wolfe_search"]


def _dot(a, b):
    """Row-wise inner products of real (n, d) arrays, shape (n,)."""
    return np.vecdot(a, b)


def _mv(A, v):
    """A @ v row by row: A (n, p, q), v (n, q) -> (n, p)."""
    return np.matmul(A, v[..., None])[..., 0]


class Memory:
    """The last ``m`` curvature pairs of each of n rows, and r = H g (module docstring).

    Attributes
    ----------
    Z : ndarray of float64, shape (n, 2m, d)
        S in ``Z[:, :m]``, Y in ``Z[:, m:]``, newest first.
    rho : ndarray of float64, shape (n, m)
        1/(s.y), 0 in an empty slot.
    Linv : ndarray of float64, shape (n, m, m)
        :math:`L^{-1}` (lower triangular; identity in empty slots).
    YY : ndarray of float64, shape (n, m, m)
        :math:`Y Y^T`.
    """

    def __init__(self, n, m, d):
        self.m = m
        self.Z = np.zeros((n, 2 * m, d))
        self.rho = np.zeros((n, m))
        self.Linv = np.zeros((n, m, m))
        self.Linv[:, np.arange(m), np.arange(m)] = 1.0
        self.YY = np.zeros((n, m, m))
        self._D = np.zeros((n, m))

    @classmethod
    def from_arrays(cls, S, Y, rho, Linv, YY):
        """A memory from its saved arrays (copies of S, Y (n, m, d), rho (n, m), ...)."""
        n, m, d = S.shape
        mem = cls(n, m, d)
        mem.Z[:, :m], mem.Z[:, m:] = S, Y
        mem.rho[...], mem.Linv[...], mem.YY[...] = rho, Linv, YY
        used = rho > 0
        mem._D[used] = 1.0 / rho[used]  # as push() computes it: the same bits
        return mem

    def arrays(self):
        """S, Y (n, m, d), rho (n, m), Linv, YY (n, m, m): copies, to save and reload."""
        m = self.m
        return (self.Z[:, :m].copy(), self.Z[:, m:].copy(), self.rho.copy(),
                self.Linv.copy(), self.YY.copy())

    def empty(self):
        """(n,) True where a row holds no pair."""
        return self.rho[:, 0] == 0

    def product(self, g, gamma_empty):
        """r = H g (n, d); rows without pairs use H_0 = gamma_empty I (gamma_empty (n,))."""
        empty = self.empty()
        if empty.all():
            return gamma_empty[:, None] * g
        m = self.m
        newest = np.where(empty, 1.0, self.YY[:, 0, 0])
        gamma = np.where(empty, gamma_empty, self._D[:, 0] / newest)
        ab = _mv(self.Z, g)
        c = _mv(self.Linv, ab[:, :m])
        e = self._D * c + gamma[:, None] * (_mv(self.YY, c) - ab[:, m:])
        t = np.matmul(e[:, None, :], self.Linv)[:, 0]  # L^-T e
        w = np.concatenate([t, -gamma[:, None] * c], axis=1)
        return gamma[:, None] * g + np.matmul(w[:, None, :], self.Z)[:, 0]

    def push(self, s, y, rows):
        """Insert the pair (s, y) (n, d) as the newest in the rows where ``rows`` (n,) is True."""
        if not rows.any():
            return
        r = slice(None) if rows.all() else np.flatnonzero(rows)
        s, y = s[r], y[r]
        m, Z, Linv, YY = self.m, self.Z, self.Linv, self.YY
        rho = 1.0 / _dot(s, y)
        u = _mv(Z[r], y)  # old s_i.y and y_i.y
        col = -_mv(Linv[r, :-1, :-1], u[:, :m - 1]) * rho[:, None]
        Z[r, 1:m], Z[r, m + 1:] = Z[r, :m - 1], Z[r, m:-1]
        Z[r, 0], Z[r, m] = s, y
        Linv[r, 1:, 1:] = Linv[r, :-1, :-1]
        Linv[r, 0, 0], Linv[r, 0, 1:], Linv[r, 1:, 0] = rho, 0.0, col
        YY[r, 1:, 1:] = YY[r, :-1, :-1]
        YY[r, 0, 0] = _dot(y, y)
        YY[r, 0, 1:] = YY[r, 1:, 0] = u[:, m:-1]
        self.rho[r, 1:], self._D[r, 1:] = self.rho[r, :-1], self._D[r, :-1]
        self.rho[r, 0], self._D[r, 0] = rho, 1.0 / rho

    def clear(self, rows):
        """Empty the memory of the rows where ``rows`` (n,) is True."""
        if rows.any():
            self.Z[rows], self.rho[rows], self.YY[rows], self._D[rows] = 0.0, 0.0, 0.0, 0.0
            self.Linv[rows] = np.eye(self.m)

    def take(self, keep):
        """Keep only the rows ``keep`` (a bool mask or an index array)."""
        for name in ("Z", "rho", "Linv", "YY", "_D"):
            setattr(self, name, getattr(self, name)[keep])


def _cubic_min(a1, f1, d1, a2, f2, d2):
    """Minimiser of the cubic through (a1, f1, f'(a1) = d1) and (a2, f2, d2); NaN if none
    (Nocedal and Wright, eq. 3.59)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        t1 = d1 + d2 - 3.0 * (f1 - f2) / (a1 - a2)
        t2 = np.sign(a2 - a1) * np.sqrt(t1 * t1 - d1 * d2)
        return a2 - (a2 - a1) * (d2 + t2 - t1) / (d2 - d1 + 2.0 * t2)


def wolfe_search(fun, x, phi, g, aux, p, slope, step, searching, *, c1=1e-4, c2=0.9,
                 max_evals=20):
    """Strong Wolfe line search along p for the rows where ``searching`` (n,) is True.

    Parameters
    ----------
    fun : callable
        ``fun(x_rows, idx) -> (phi, grad, aux)`` for the rows ``idx`` (an int array, or None
        for all n rows in order); ``aux`` (rows, ...) is carried along (None allowed).
    x, g : ndarray of float64, shape (n, d)
    phi, slope, step : ndarray of float64, shape (n,)
        :math:`\\varphi(x)`, :math:`g^T p < 0` and the first trial step.
    aux : ndarray with leading axis n, or None
    p : ndarray of float64, shape (n, d)
    searching : ndarray of bool, shape (n,)

    Returns
    -------
    x, phi, g, aux : the new point where a row moved, the given one elsewhere
    moved : (n,) bool, a step with enough decrease was taken
    wolfe : (n,) bool, and it satisfies both strong Wolfe conditions
    """
    n = phi.shape[0]
    first = None
    if searching.all():  # the usual case: every row tries its first step and accepts it
        xt = x + step[:, None] * p
        ft, gt, auxt = fun(xt, None)
        dt = _dot(gt, p)
        ok = (ft <= phi + c1 * step * slope) & (np.abs(dt) <= -c2 * slope)
        if ok.all():
            return xt, ft, gt, auxt, ok, ok.copy()
        first = ft, gt, auxt, dt
    active = searching.copy()
    a = np.where(active, step, 0.0)
    a_prev, phi_prev, d_prev = np.zeros(n), phi.copy(), slope.copy()
    zoom = np.zeros(n, dtype=bool)
    lo, phi_lo, d_lo = np.zeros(n), phi.copy(), slope.copy()
    hi, phi_hi, d_hi = np.zeros(n), phi.copy(), slope.copy()
    moved, wolfe = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    out = [x.copy(), phi.copy(), g.copy(), None if aux is None else aux.copy()]
    for _ in range(max_evals):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        full = idx.size == n
        sel = slice(None) if full else idx
        pi, ai = p[sel], a[sel]
        if first is not None:  # already evaluated above
            (ft, gt, auxt, dt), first = first, None
        else:
            ft, gt, auxt = fun(x[sel] + ai[:, None] * pi, None if full else idx)
            dt = _dot(gt, pi)
        phi0, s0 = phi[sel], slope[sel]
        armijo = np.isfinite(dt) & (ft <= phi0 + c1 * ai * s0)  # NaN compares False
        z = zoom[sel]
        ref = np.where(z, phi_lo[sel], phi_prev[sel])
        high = ~armijo | ((z | (a_prev[sel] > 0)) & (ft >= ref))
        accept = ~high & (np.abs(dt) <= -c2 * s0)
        better = ~high  # the best point with enough decrease so far: kept if all else fails
        rows = idx[better]
        out[0][rows] = x[rows] + a[rows, None] * p[rows]
        out[1][rows], out[2][rows] = ft[better], gt[better]
        if aux is not None:
            out[3][rows] = auxt[better]
        moved[rows] = True
        wolfe[idx[accept]] = True
        # Bracketing (Algorithm 3.5) for the rows not yet zooming.
        to_zoom_hi = ~z & high & ~accept  # [a_prev, a] brackets: lo = a_prev, hi = a
        j = idx[to_zoom_hi]
        lo[j], phi_lo[j], d_lo[j] = a_prev[j], phi_prev[j], d_prev[j]
        hi[j], phi_hi[j], d_hi[j] = a[j], ft[to_zoom_hi], dt[to_zoom_hi]
        flip = ~z & ~high & ~accept & (dt >= 0)  # past a minimiser: lo = a, hi = a_prev
        j = idx[flip]
        hi[j], phi_hi[j], d_hi[j] = a_prev[j], phi_prev[j], d_prev[j]
        lo[j], phi_lo[j], d_lo[j] = a[j], ft[flip], dt[flip]
        extend = ~z & ~high & ~accept & (dt < 0)  # still descending: a longer step
        j = idx[extend]
        grow = a[j] - a_prev[j]
        nxt = _cubic_min(a_prev[j], phi_prev[j], d_prev[j], a[j], ft[extend], dt[extend])
        lower, upper = a[j] + 1.1 * grow, a[j] + 4.0 * grow
        nxt = np.where(np.isfinite(nxt), np.clip(nxt, lower, upper), upper)
        a_prev[j], phi_prev[j], d_prev[j] = a[j], ft[extend], dt[extend]
        a[j] = nxt
        zoom[idx[to_zoom_hi | flip]] = True
        # Zooming (Algorithm 3.6).
        z_high = z & high
        j = idx[z_high]
        hi[j], phi_hi[j], d_hi[j] = a[j], ft[z_high], dt[z_high]
        z_low = z & ~high & ~accept
        j = idx[z_low]
        swap = dt[z_low] * (hi[j] - lo[j]) >= 0
        js = j[swap]
        hi[js], phi_hi[js], d_hi[js] = lo[js], phi_lo[js], d_lo[js]
        lo[j], phi_lo[j], d_lo[j] = a[j], ft[z_low], dt[z_low]
        active[idx[accept]] = False
        j = np.flatnonzero(active & zoom)
        left, right = np.minimum(lo[j], hi[j]), np.maximum(lo[j], hi[j])
        width = right - left
        trial = _cubic_min(lo[j], phi_lo[j], d_lo[j], hi[j], phi_hi[j], d_hi[j])
        trial = np.where(np.isfinite(trial), np.clip(trial, left + 0.1 * width,
                                                     right - 0.1 * width), left + 0.5 * width)
        a[j] = trial
        active[j[width <= 1e-14 * right]] = False  # below round-off: keep the best point
    return out[0], out[1], out[2], out[3], moved, wolfe
