r"""Adam with scaled moments over one flat buffer: ANGD's optimiser for the network φ.

The published rule (Kingma and Ba; ``angd_np.nn.Adam``), ascending f, for a gradient g_t at
step t = 1, 2, ...::

    m_t = β1 m_{t-1} + (1 - β1) g_t            v_t = β2 v_{t-1} + (1 - β2) g_t²
    p_t = p_{t-1} + lr · m̂_t / (sqrt(v̂_t) + ε),  m̂_t = m_t / (1 - β1^t),  v̂_t = v_t / (1 - β2^t)

Scaled moments. Keep m̃ = m_t / β1^j and ṽ = v_t / β2^j instead, where j = t - r counts the
steps since the last renormalisation r (a multiple of ``period``). Then the decays vanish
from the passes over the parameters:

    m̃ += α g_t,  α = (1 - β1) β1^(-j)          ṽ += γ g_t²,  γ = (1 - β2) β2^(-j)

and the step folds the bias corrections and the scale into two scalars:

    p += A · m̃ / (sqrt(ṽ) + e),   q = sqrt(β2^j / (1 - β2^t)),
                                  A = lr β1^j / ((1 - β1^t) q),  e = ε / q.

Every ``period`` steps (j = period) the moments are renormalised, m̃ *= β1^j, ṽ *= β2^j, so
that β^(-j) stays small (at most ~1e6: float32 moments and squares keep their range). A zero
β makes its moment the last gradient itself (α = 1, j taken as 0).

Writing the gradient once. The caller (the network's backward pass) writes T = α g into the
workspace ``T``, folding α into its small back-propagated vectors, so that each weight
gradient (an outer product u δᵀ for a dense layer fed one input) is written exactly once;
then :meth:`ScaledAdam.step` does, over the whole flat buffer::

    m̃ += T;   T *= sqrt(γ)/α;   T *= T   (now γ g², without overflowing on the way);
    ṽ += T;   T = sqrt(ṽ);  T += e;  T = m̃ / T;  T *= A;  p += T

nine passes, against eleven for the textbook rule with its gradient written separately.

Rank-one layers through BLAS (:meth:`ScaledAdam.use_rank1`). A dense layer fed one input
has the gradient u δᵀ, so its two moment updates are rank-one updates of the moments:
m̃ += u dᵀ and ṽ += σ² (u∘u) (d∘d)ᵀ, with d = αδ and σ = sqrt(γ)/α. BLAS ``?ger`` does each in
one pass over the moment, in place (NumPy has no in-place rank-one update: it writes the
outer product, then adds it), and ``?axpy`` adds A·T to the parameters in one pass. For
such layers the caller writes only d = αδ (not T), and a step is::

    m̃ += u dᵀ;   ṽ += σ² u² d²ᵀ;   T = sqrt(ṽ);  T += e;  T = m̃ / T;  p += A T

five passes over the parameters instead of ten (the outer product included): about 9 µs less
per iteration for ANGD's float32 FCN at the paper's size (timed part by part: 76.5 -> 67.6 µs
for propose + backprop + step; a whole solve, one thread: 50 -> 44 ms). The arithmetic is
the same up to rounding (BLAS may fuse a multiply and an add), so results differ from the
NumPy path in the last bits of float32/float64, as two BLAS libraries' do; a given path
gives the same result in any process, thread or chunk. The kernels are scipy's
(``scipy.linalg.blas``): :func:`blas_kernels` returns them only if scipy imports and they
are seen to write into the given buffers (f2py silently works on a copy of an array it
cannot use as is).

State. ``(m̃, ṽ, t)`` as kept: the representation is a function of t alone (renormalised at
t = multiples of ``period``), so a run continued from them is bit for bit the run that was
not interrupted.
"""

from __future__ import annotations

import functools
import math
import os

import numpy as np

from .. import _parallel

__all__ = ["ScaledAdam", "renormalisation_period", "blas_kernels", "blas_may_thread"]


def renormalisation_period(beta1, beta2, limit=1e6, longest=200):
    """Steps between renormalisations: β^(-period) <= ``limit`` for both β > 0."""
    period = longest
    for beta in (beta1, beta2):
        if beta > 0:
            period = min(period, max(1, int(math.log(limit) / -math.log(beta))))
    return period


#: Largest ?ger and ?axpy calls that OpenBLAS runs on one thread (its thresholds, measured
#: here: a rank-one update is threaded above 8,192 entries, axpy above 10,000).
GER_PIECE, AXPY_PIECE = 8192, 10000


def _bounds(n, pieces):
    """``pieces`` consecutive (start, stop) ranges of about equal length covering range(n)."""
    edges = [round(i * n / pieces) for i in range(pieces + 1)]
    return list(zip(edges[:-1], edges[1:], strict=True))


def blas_may_thread():
    """False when BLAS runs on one thread here: held so by ``_parallel.one_blas_thread``,
    told so by the thread variables (as in the package's worker processes,
    ``_parallel.one_blas_thread_env``), or one core."""
    if (os.cpu_count() or 1) == 1 or _parallel.blas_held():
        return False
    for name in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        value = os.environ.get(name)
        if value:  # OpenBLAS reads the first of these that is set
            return value.strip() != "1"
    return True


@functools.lru_cache(maxsize=4)
def blas_kernels(dtype):
    """scipy's BLAS ``(?ger, ?axpy)`` for ``dtype`` (float32 or float64), or None when
    scipy is missing or the calls do not update their arguments in place."""
    try:
        from scipy.linalg import blas
    except ImportError:
        return None
    dtype = np.dtype(dtype)
    ger, axpy = blas.get_blas_funcs(("ger", "axpy"), dtype=dtype)
    # A moment block as the engine passes it: the transpose of a C-ordered slice of a flat
    # buffer (Fortran-ordered for BLAS), and the flat buffer itself for axpy.
    flat = np.zeros(7, dtype)
    block = flat[1:7].reshape(2, 3)
    x, y = np.arange(1, 4, dtype=dtype), np.arange(1, 3, dtype=dtype)
    out = ger(1.0, x, y, a=block.T, overwrite_a=1)  # block += y xᵀ
    z = axpy(np.ones(7, dtype), flat, a=2.0)  # flat += 2
    expected = np.concatenate([[2.0], (np.outer(y, x) + 2.0).ravel()])
    if (not np.shares_memory(out, flat) or not np.shares_memory(z, flat)
            or not np.array_equal(flat, expected.astype(dtype))):
        return None
    return ger, axpy


@functools.lru_cache(maxsize=4096)
def _scalars(beta1, beta2, lr, eps, period, t):
    """(α, sqrt(γ)/α, e, A, renormalise) of step t (module docstring); cached, since every
    instance of a batch takes the same steps."""
    j1, j2 = (0 if b == 0 else t - period * ((t - 1) // period) for b in (beta1, beta2))
    alpha = (1.0 - beta1) * beta1 ** -j1
    gamma = (1.0 - beta2) * beta2 ** -j2
    q = math.sqrt(beta2 ** j2 / (1.0 - beta2 ** t))
    A = lr * beta1 ** j1 / ((1.0 - beta1 ** t) * q)
    renorm = (beta1 ** j1, beta2 ** j2) if t % period == 0 else None
    return alpha, math.sqrt(gamma) / alpha, eps / q, A, renorm


class ScaledAdam:
    """Adam ascending f over the flat parameter buffer ``params`` (module docstring).

    Parameters
    ----------
    params : ndarray, shape (P,), float32 or float64
        The live parameters, updated in place.
    lr, betas, eps
        As for ``angd_np.nn.Adam`` (ε is added to sqrt(v̂)).
    period : int or None
        Steps between renormalisations (None: :func:`renormalisation_period`).

    Attributes
    ----------
    T : ndarray like ``params``
        The workspace into which the caller writes ``alpha`` × the gradient before
        :meth:`step`.
    m, v : ndarray like ``params``
        The scaled moments m̃, ṽ.
    t : int
        Steps taken.
    """

    def __init__(self, params, lr, betas=(0.9, 0.999), eps=1e-8, *, period=None):
        self.params = params
        self.beta1, self.beta2 = (float(b) for b in betas)
        self.period = renormalisation_period(*betas) if period is None else int(period)
        self._key = (self.beta1, self.beta2, float(lr), float(eps), self.period)
        self.T = np.zeros_like(params)
        self.m = np.zeros_like(params)
        self.v = np.zeros_like(params)
        self.t = 0
        self._rank1 = None  # (ger, axpy, layers, squares, dense slices): use_rank1
        self._factors = []

    def use_rank1(self, layers, squares, kernels, split=False):
        """Update the given dense layers' moments by rank-one BLAS updates (module
        docstring); the caller then writes only their ``d`` = αδ, not their part of ``T``.

        Parameters
        ----------
        layers : sequence of (offset, (rows, cols), u, d, u_sq, d_sq)
            Each layer's block of the flat buffer (C order, ``rows`` × ``cols`` from
            ``offset``), its gradient's factors u (rows,), d (cols,) (the layer's part of
            α·gradient is u dᵀ) and buffers that will hold u∘u and d∘d. The rest of the
            buffer is still read from ``T``.
        squares : sequence of (source, target)
            Arrays squared at each step, ``target = source²``: together they fill every
            ``u_sq`` and ``d_sq`` (few large calls rather than one per vector).
        kernels : (ger, axpy)
            From :func:`blas_kernels`.
        split : bool
            Cut every call into pieces small enough that OpenBLAS runs them on one thread
            (:data:`GER_PIECE`, :data:`AXPY_PIECE` entries). For a process whose BLAS may use
            several threads (:func:`blas_may_thread`; where threadpoolctl is installed, the
            package holds BLAS to one thread instead, ``_parallel.one_blas_thread``, which
            is faster: the cut costs ~4.5 ms of a float32 solve). At these sizes threads
            cost more than they save (a rank-one update of 16,512 entries: 1.4 µs per
            8,192 on one thread, 4.1 µs threaded with the other core busy). The pieces touch
            disjoint entries, so the result is the same bit for bit either way.
        """
        ger, axpy = kernels
        rank1, covered = [], np.zeros(self.params.size, bool)
        for offset, (rows, cols), u, d, u_sq, d_sq in layers:
            end = offset + rows * cols
            mT = self.m[offset:end].reshape(rows, cols).T  # Fortran order for BLAS
            vT = self.v[offset:end].reshape(rows, cols).T
            # pieces of whole columns of mT (entries of u), each at most GER_PIECE entries
            n = 1 if not split else -(-rows // max(1, GER_PIECE // cols))
            for a, b in _bounds(rows, n):
                rank1.append((mT[:, a:b], vT[:, a:b], u[a:b], d, u_sq[a:b], d_sq))
            covered[offset:end] = True
        # The rest, as runs of consecutive entries: written into T by the caller.
        edges = np.flatnonzero(np.diff(np.concatenate([[1], covered, [1]]).astype(np.int8)))
        dense = [slice(a, b) for a, b in zip(edges[::2], edges[1::2], strict=True)]
        P = self.params.size
        n = 1 if not split else -(-P // AXPY_PIECE)
        steps = [(self.T[a:b], self.params[a:b]) for a, b in _bounds(P, n)]
        self._rank1 = (ger, axpy, rank1, tuple(squares), dense, steps)
        self._factors = [(offset, (rows, cols), u, d)
                         for offset, (rows, cols), u, d, _, _ in layers]

    def gradient(self):
        """α·g as the next :meth:`step` will take it, over the flat buffer (a copy): ``T``,
        with the rank-one layers' blocks written out from their factors. For tests and for
        reading; the step itself never forms it."""
        g = self.T.copy()
        for offset, (rows, cols), u, d in self._factors:
            g[offset:offset + rows * cols] = np.outer(u, d).ravel()
        return g

    def load(self, m, v, t):
        """Resume from scaled moments and a step count as :meth:`step` left them."""
        self.m[...], self.v[...], self.t = m, v, int(t)

    @property
    def alpha(self) -> float:
        """α of the next step: the factor the caller folds into the gradient it writes."""
        return _scalars(*self._key, self.t + 1)[0]

    def step(self):
        """One step with the gradient α g already written into ``T``."""
        self.t += 1
        _, sigma, e, A, renorm = _scalars(*self._key, self.t)
        T, m, v = self.T, self.m, self.v
        if self._rank1 is not None:
            self._step_rank1(sigma, e, A)
        else:
            if self.beta1 == 0:
                np.copyto(m, T)
            else:
                m += T
            # In-place operators: ~0.2 µs less per call than np.multiply(..., out=).
            T *= sigma
            T *= T  # γ g², never larger than needed on the way
            if self.beta2 == 0:
                np.copyto(v, T)
            else:
                v += T
            np.sqrt(v, out=T)
            T += e
            np.divide(m, T, out=T)
            T *= A
            self.params += T
        if renorm is not None:  # j back to 0: m̃ = m_t, ṽ = v_t
            m *= renorm[0]
            v *= renorm[1]
            # A moment that only decays (a dead unit's, whose gradient is 0) sinks into the
            # subnormal range, where every pass over it is many times slower (float32 ANGD
            # ran 70 -> 122 us per iteration from T = 500 to 2000). Below the smallest normal
            # number it is worth nothing next to eps: set it to 0 (every period steps only).
            for moment in (m, v):
                moment[np.abs(moment) < np.finfo(moment.dtype).tiny] = 0.0

    def _step_rank1(self, sigma, e, A):
        """The step of :meth:`step` with the rank-one layers through BLAS."""
        ger, axpy, rank1, squares, dense, steps = self._rank1
        T, m, v = self.T, self.m, self.v
        if self.beta1 == 0:  # the moment is the last gradient itself: start it from 0
            m.fill(0.0)
        if self.beta2 == 0:
            v.fill(0.0)
        for source, target in squares:
            np.multiply(source, source, out=target)
        s2 = sigma * sigma
        for mT, vT, u, d, u_sq, d_sq in rank1:
            ger(1.0, d, u, a=mT, overwrite_a=1)  # m̃ += u dᵀ  (BLAS: a += alpha x yᵀ)
            ger(s2, d_sq, u_sq, a=vT, overwrite_a=1)  # ṽ += σ² u² d²ᵀ = γ (u δᵀ)²
        for part in dense:
            Tp = T[part]
            m[part] += Tp
            Tp *= sigma
            Tp *= Tp
            v[part] += Tp
        np.sqrt(v, out=T)
        T += e
        np.divide(m, T, out=T)
        for T_piece, p_piece in steps:
            axpy(T_piece, p_piece, a=A)  # p += A T
