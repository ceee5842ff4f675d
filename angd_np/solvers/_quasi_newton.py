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

the same matrix as the two-loop recursion (Nocedal and Wright, Algorithm 7.4) builds (the
package has this one implementation of it), so
:math:`r = H g` is, with :math:`a = S g`, :math:`b = Y g`, :math:`c = L^{-1} a`,

.. math:: r = \gamma g + S^T L^{-T}\big(D c + \gamma (Y Y^T c - b)\big) - \gamma Y^T c .

Five small matrix products instead of 4m vector operations: at these sizes the cost of an
operation is its call, not its flops. :math:`L^{-1}` and :math:`Y Y^T` are updated as a
pair enters (one product with the new y). In age order, newest first, L is lower
triangular; dropping the oldest pair removes its last row and column, and the inverse of
what remains is the leading block of :math:`L^{-1}` (a property of triangular matrices);
the newest pair adds a first row :math:`[s^T y, 0]` and a first column c' (the kept
:math:`s_i^T y`), whose inverse has first column :math:`-L_{old}^{-1} c'/(s^T y)`.
:math:`\gamma = s^T y / y^T y` of the newest pair (Nocedal and Wright, eq. 7.20); a row
without pairs gets the caller's :math:`\gamma`.

The memory is a ring of m slots, one per iteration, the same slot for every row: an
iteration replaces the oldest slot by its pair, or by an empty slot where a row has none
(its pair was skipped, or it did not move), so the memory holds the pairs of the last m
iterations. The formulas hold in any order of the slots (L is then a permuted triangle).
An empty slot has s = y = 0, :math:`\rho = 1/s^Ty = 0` and a unit diagonal in
:math:`L^{-1}`: it adds exact zeros. :math:`\gamma` comes from the newest pair held.

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
(a step that is then not "Wolfe": the caller keeps its pair only if :math:`s^T y` is
positive, above 1e-12 of :math:`\|s\| \|y\|`).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["Memory", "wolfe_search"]


def _dot(a, b):
    """Row-wise inner products of real (n, d) arrays, shape (n,)."""
    return np.vecdot(a, b)


def _any(mask):
    """mask.any() for a bool array, at a quarter of its cost (called a few times an
    iteration, where one instance costs little more than its NumPy calls)."""
    return np.count_nonzero(mask) > 0


def _all(mask):
    """mask.all() for a bool array (as :func:`_any`)."""
    return np.count_nonzero(mask) == mask.size


def _mv(A, v):
    """A @ v row by row: A (n, p, q), v (n, q) -> (n, p)."""
    return np.vecdot(A, v[:, None, :])


class Memory:
    """The curvature pairs of the last ``m`` iterations of each of n rows, and r = H g.

    Attributes
    ----------
    Z : ndarray of float64, shape (n, 2m, d)
        S in ``Z[:, :m]``, Y in ``Z[:, m:]``: a ring of m slots, one per iteration.
    head : int
        The slot the last iteration wrote; the next writes slot head - 1 (mod m), so slots
        head, head + 1, ... run from newest to oldest, the same for every row.
    rho : ndarray of float64, shape (n, m)
        1/(s.y), 0 in an empty slot.
    Linv : ndarray of float64, shape (n, m, m)
        :math:`L^{-1}` in slot order (a permuted triangle; identity in empty slots).
    YY : ndarray of float64, shape (n, m, m)
        :math:`Y Y^T` in slot order.

    Every iteration writes one slot of every row, the row's new pair or, for a row without
    one (a skipped pair, a row that did not move), an empty slot: so the slot index is the
    same for all rows and every write is a plain slice, and the memory holds the pairs of
    the last m iterations (module docstring).
    """

    def __init__(self, n, m, d):
        self.m = m
        self._Z4 = np.zeros((n, 2, m, d))  # S and Y
        self._LY = np.zeros((n, 2, m, m))  # Linv and YY
        self._LY[:, 0, np.arange(m), np.arange(m)] = 1.0
        self._RD = np.zeros((n, 2, m))  # rho and D = s.y
        self._gamma = np.zeros(n)  # s.y / y.y of the newest pair
        self.head = 0
        self.pushes = 0  # push() calls, slots written (see merge_rows)
        self._eye = np.eye(m)
        self._no_empty = np.zeros(n, dtype=bool)
        self._views()

    def _views(self):
        n, _, m, d = self._Z4.shape
        self.Z = self._Z4.reshape(n, 2 * m, d)
        self.Linv, self.YY = self._LY[:, 0], self._LY[:, 1]
        self.rho, self._D = self._RD[:, 0], self._RD[:, 1]
        self._w = np.empty((n, 2 * m))  # a buffer of product()
        self._set_empty(~self.rho.any(axis=1))

    def _set_empty(self, empty):
        """Keep the rows without pairs, and whether that is none or all of them (cached:
        :meth:`product` asks every iteration)."""
        self._empty = empty
        count = np.count_nonzero(empty)
        self.all_empty, self._some_empty = count == empty.size, count > 0

    @classmethod
    def from_arrays(cls, S, Y, rho, Linv, YY, head):
        """A memory from its saved arrays (copies): S, Y (n, m, d), rho (n, m), Linv, YY
        (n, m, m), head (int)."""
        n, m, d = S.shape
        mem = cls(n, m, d)
        mem._Z4[:, 0], mem._Z4[:, 1] = S, Y
        mem.rho[...], mem.Linv[...], mem.YY[...], mem.head = rho, Linv, YY, int(head)
        mem._set_empty(~mem.rho.any(axis=1))
        used = rho > 0
        mem._D[used] = 1.0 / rho[used]  # as push() computes it: the same bits
        for j in (mem.head + np.arange(m)[::-1]) % m:  # oldest to newest: the newest wins
            mem._gamma = np.where(used[:, j], mem._D[:, j] / np.where(used[:, j],
                                                                    mem.YY[:, j, j], 1.0),
                                  mem._gamma)
        return mem

    def arrays(self):
        """S, Y (n, m, d), rho (n, m), Linv, YY (n, m, m) (copies) and head (int)."""
        return (self._Z4[:, 0].copy(), self._Z4[:, 1].copy(), self.rho.copy(),
                self.Linv.copy(), self.YY.copy(), self.head)

    def empty(self):
        """(n,) True where a row holds no pair (do not modify)."""
        return self._empty

    def product(self, g, gamma_empty):
        """r = H g (n, d); rows without pairs use H_0 = gamma_empty I (gamma_empty (n,), or
        None when every row holds a pair)."""
        if self.all_empty:
            return gamma_empty[:, None] * g
        m = self.m
        gamma = (np.where(self._empty, gamma_empty, self._gamma) if self._some_empty
                 else self._gamma)[:, None]
        ab = _mv(self.Z, g)  # [S g, Y g]
        c = _mv(self.Linv, ab[:, :m])
        e = _mv(self.YY, c)
        e -= ab[:, m:]
        e *= gamma
        e += self._D * c  # D c + gamma (Y Y^T c - b)
        w = self._w  # [L^-T e, -gamma c]
        np.matmul(e[:, None, :], self.Linv, out=w[:, None, :m])
        np.multiply(c, -gamma, out=w[:, m:])
        r = np.matmul(w[:, None, :], self.Z)[:, 0]
        r += gamma * g
        return r

    def push(self, s, y, pair, sy):
        """One iteration: the pair (s, y) (n, d) with s.y = ``sy`` (n,) where ``pair`` (n,)
        is True, an empty slot elsewhere, in place of every row's oldest slot."""
        m, L, YY = self.m, self.Linv, self.YY
        j = self.head = (self.head - 1) % m  # the oldest slot: its pair leaves
        self.pushes += 1
        every = _all(pair)
        if every:
            rho = 1.0 / sy
        else:
            rho = np.divide(1.0, sy, out=np.zeros_like(sy), where=pair)
            s, y = np.where(pair[:, None], s, 0.0), np.where(pair[:, None], y, 0.0)
        self._Z4[:, 0, j], self._Z4[:, 1, j] = s, y
        u = _mv(self.Z, y)  # s_i.y and y_i.y of the slots, the new one's included
        L[:, j], L[:, :, j] = 0.0, 0.0  # so the new slot's s.y adds an exact 0 to col
        col = _mv(L, u[:, :m])
        col *= -rho[:, None]
        L[:, :, j] = col
        L[:, j, j] = rho if every else np.where(pair, rho, 1.0)
        YY[:, j], YY[:, :, j] = u[:, m:], u[:, m:]  # y.y of the new slot on the diagonal
        self.rho[:, j] = rho
        self._D[:, j] = (1.0 / rho if every
                         else np.divide(1.0, rho, out=np.zeros_like(rho), where=pair))
        gamma = self._D[:, j] / u[:, m + j] if every else np.divide(
            self._D[:, j], u[:, m + j], out=self._gamma.copy(), where=pair)
        self._gamma = gamma
        if every:
            self._empty, self.all_empty, self._some_empty = self._no_empty, False, False
        else:
            self._set_empty(~self.rho.any(axis=1))

    def product_one(self, g):
        """:meth:`product` of a one-row memory that holds a pair, gamma as a Python float:
        the same floating-point operations (the same bits), fewer calls."""
        m, gamma = self.m, float(self._gamma[0])
        ab = _mv(self.Z, g)
        c = _mv(self.Linv, ab[:, :m])
        e = _mv(self.YY, c)
        e -= ab[:, m:]
        e *= gamma
        e += self._D * c
        w = self._w
        np.matmul(e[:, None, :], self.Linv, out=w[:, None, :m])
        np.multiply(c, -gamma, out=w[:, m:])
        r = np.matmul(w[:, None, :], self.Z)[:, 0]
        r += gamma * g
        return r

    def push_one(self, s, y, sy):
        """:meth:`push` of a one-row memory with a pair, s.y = ``sy`` a Python float: its
        scalars are Python floats, whose / rounds as NumPy's float64 (the same bits)."""
        m, L, YY = self.m, self.Linv, self.YY
        j = self.head = (self.head - 1) % m
        self.pushes += 1
        rho = 1.0 / sy
        self._Z4[:, 0, j], self._Z4[:, 1, j] = s, y
        u = _mv(self.Z, y)
        L[:, j], L[:, :, j] = 0.0, 0.0
        col = _mv(L, u[:, :m])
        col *= -rho
        L[:, :, j] = col
        L[0, j, j] = rho
        YY[:, j], YY[:, :, j] = u[:, m:], u[:, m:]
        D = 1.0 / rho
        self._RD[0, 0, j], self._RD[0, 1, j] = rho, D
        self._gamma[0] = D / float(u[0, m + j])
        self._empty, self.all_empty, self._some_empty = self._no_empty, False, False

    def clear(self, rows):
        """Empty the memory of the rows where ``rows`` (n,) is True."""
        if _any(rows):
            self._Z4[rows], self._RD[rows], self._gamma[rows] = 0.0, 0.0, 0.0
            self._LY[rows] = 0.0
            self._LY[rows, 0] = self._eye
            self._set_empty(self._empty | rows)

    def rows(self, lo, hi):
        """The memory of rows ``lo:hi`` over views of this one's arrays (its writes land
        here), for a chunk of the batch iterated on its own; see :meth:`merge_rows`."""
        part = object.__new__(Memory)
        part.m, part.head, part._eye, part.pushes = self.m, self.head, self._eye, 0
        part._Z4, part._LY, part._RD = self._Z4[lo:hi], self._LY[lo:hi], self._RD[lo:hi]
        part._gamma, part._no_empty = self._gamma[lo:hi].copy(), self._no_empty[lo:hi]
        part._views()
        return part

    def merge_rows(self, part, lo, hi, iters):
        """Take back a :meth:`rows` memory after a call of ``iters`` iterations (then
        :meth:`advance` once).

        Every row's ring ends the call ``iters`` slots on, as in one batch, where a row that
        stopped (or never ran) is given an empty slot each iteration: a part that wrote
        fewer (every row of it stopped early, or had stopped before) is advanced to the same
        slot with empty slots, so the memory does not depend on how the batch was cut.
        """
        m = self.m
        for k in range(min(iters - part.pushes, m)):  # the slots a batch would have emptied
            j = (part.head - 1 - k) % m
            part._Z4[:, :, j] = 0.0
            part._RD[:, :, j] = 0.0
            part._LY[:, :, j, :] = 0.0
            part._LY[:, :, :, j] = 0.0
            part._LY[:, 0, j, j] = 1.0
        self._gamma[lo:hi] = part._gamma
        self._set_empty(~self.rho.any(axis=1))

    def advance(self, iters):
        """Move the ring ``iters`` slots on, after every part's :meth:`merge_rows`."""
        self.head = (self.head - iters) % self.m
        self.pushes += iters

    def take(self, keep):
        """Keep only the rows ``keep`` (a bool mask or an index array)."""
        self._Z4, self._LY, self._RD = self._Z4[keep], self._LY[keep], self._RD[keep]
        self._gamma = self._gamma[keep]
        self._no_empty = self._no_empty[keep]
        self._views()


def _cubic_min(a1, f1, d1, a2, f2, d2):
    """Minimiser of the cubic through (a1, f1, f'(a1) = d1) and (a2, f2, d2); NaN if it has
    none (Nocedal and Wright, eq. 3.59). Python floats: one row at a time."""
    try:
        t1 = d1 + d2 - 3.0 * (f1 - f2) / (a1 - a2)
        disc = t1 * t1 - d1 * d2
        if not disc >= 0:  # no minimiser (or NaN)
            return math.nan
        t2 = math.copysign(math.sqrt(disc), a2 - a1)
        return a2 - (a2 - a1) * (d2 + t2 - t1) / (d2 - d1 + 2.0 * t2)
    except (ZeroDivisionError, OverflowError):
        return math.nan


class _Search:
    """The line search of one row: Algorithms 3.5 and 3.6 as a state machine on floats.

    The bookkeeping of a row costs a few Python operations per trial, where whole-batch
    array operations would cost microseconds each; the evaluations stay batched.
    """

    __slots__ = ("phi0", "s0", "a", "prev", "zoom", "lo", "hi", "done")

    def __init__(self, phi0, s0, a):
        self.phi0, self.s0, self.a = phi0, s0, a
        self.prev = (0.0, phi0, s0)  # (step, phi, slope) of the last trial, or of a = 0
        self.zoom, self.lo, self.hi, self.done = False, None, None, False

    def tell(self, ft, dt, c1, c2):
        """The value and slope at the trial step ``a``; returns (better, accepted).

        ``better``: a has enough decrease and is the lowest point so far (the fallback).
        """
        a = self.a
        armijo = math.isfinite(dt) and ft <= self.phi0 + c1 * a * self.s0  # NaN: False
        if self.zoom:
            high = not armijo or ft >= self.lo[1]
        else:
            high = not armijo or (self.prev[0] > 0 and ft >= self.prev[1])
        if not high and abs(dt) <= -c2 * self.s0:
            self.done = True
            return True, True
        point = (a, ft, dt)
        if not self.zoom:  # bracketing (Algorithm 3.5)
            if high:  # [prev, a] holds an acceptable step
                self.lo, self.hi, self.zoom = self.prev, point, True
            elif dt >= 0:  # past a minimiser of phi: [a, prev]
                self.lo, self.hi, self.zoom = point, self.prev, True
            else:  # still descending: a longer step
                grow = a - self.prev[0]
                nxt = _cubic_min(*self.prev, *point)
                lower, upper = a + 1.1 * grow, a + 4.0 * grow
                self.a = min(max(nxt, lower), upper) if math.isfinite(nxt) else upper
                self.prev = point
                return True, False
        elif high:  # zooming (Algorithm 3.6)
            self.hi = point
        else:
            if dt * (self.hi[0] - self.lo[0]) >= 0:
                self.hi = self.lo
            self.lo = point
        left, right = min(self.lo[0], self.hi[0]), max(self.lo[0], self.hi[0])
        width = right - left
        trial = _cubic_min(*self.lo, *self.hi)
        self.a = (min(max(trial, left + 0.1 * width), right - 0.1 * width)
                  if math.isfinite(trial) else left + 0.5 * width)
        self.done = width <= 1e-14 * right  # below round-off: keep the best point
        return not high, False


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
    x, phi, g, aux : the new point where a row moved, the given one elsewhere (copies)
    moved : (n,) bool, a step with enough decrease was taken
    wolfe : (n,) bool, and it satisfies both strong Wolfe conditions
    """
    n = phi.shape[0]
    if _all(searching):  # the usual case: every row accepts its first trial
        idx = np.arange(n)
        xt = x + step[:, None] * p
        ft, gt, auxt = fun(xt, None)
        dt = _dot(gt, p)
        ok = (ft <= phi + c1 * step * slope) & (np.abs(dt) <= -c2 * slope)
        if _all(ok):
            return xt, ft, gt, auxt, ok, ok
    else:
        idx = np.flatnonzero(searching)
        if idx.size == 0:
            zero = np.zeros(n, dtype=bool)
            return (x.copy(), phi.copy(), g.copy(), None if aux is None else aux.copy(), zero,
                    zero)
        xt = x[idx] + step[idx, None] * p[idx]
        ft, gt, auxt = fun(xt, idx)
        dt = _dot(gt, p[idx])
        s0 = slope[idx]
        ok = (ft <= phi[idx] + c1 * step[idx] * s0) & (np.abs(dt) <= -c2 * s0)
    out = [x.copy(), phi.copy(), g.copy(), None if aux is None else aux.copy()]
    done = idx[ok]  # accepted at the first trial, as the rest of the search would
    out[0][done], out[1][done], out[2][done] = xt[ok], ft[ok], gt[ok]
    if aux is not None:
        out[3][done] = auxt[ok]
    moved, wolfe = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    moved[done] = wolfe[done] = True
    rest = ~ok
    idx, ft, gt, dt = idx[rest], ft[rest], gt[rest], dt[rest]
    auxt = None if auxt is None else auxt[rest]
    trial = step[idx]
    rows = [_Search(*v) for v in zip(phi[idx].tolist(), slope[idx].tolist(), trial.tolist(),
                                     strict=True)]
    for _ in range(max_evals):
        keep = []
        for j, (i, row, f_j, d_j) in enumerate(zip(idx.tolist(), rows, ft.tolist(),
                                                    dt.tolist(), strict=True)):
            a = row.a
            better, accepted = row.tell(f_j, d_j, c1, c2)
            if better:  # the trial point (x + a p, exactly as evaluated) becomes the result
                out[0][i] = x[i] + a * p[i]
                out[1][i], out[2][i] = f_j, gt[j]
                if aux is not None:
                    out[3][i] = auxt[j]
                moved[i] = True
            wolfe[i] = accepted
            if not row.done:
                keep.append(j)
        if not keep or _ == max_evals - 1:
            break
        idx, rows = idx[keep], [rows[j] for j in keep]
        trial = np.array([row.a for row in rows])
        ft, gt, auxt = fun(x[idx] + trial[:, None] * p[idx], idx)
        dt = _dot(gt, p[idx])
    return out[0], out[1], out[2], out[3], moved, wolfe
