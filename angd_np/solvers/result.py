"""The one result object every solver returns (after scipy.optimize.OptimizeResult)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..objective import csbf, power, sensing_gain, sum_rate

__all__ = ["Result"]


@dataclass
class Result:
    """Outcome of solving a batch of instances with one method.

    Attributes
    ----------
    W : ndarray of complex128, shape (..., M, K)
        The precoders, feasible: Tr(W W^H) <= p_max.
    csbf, sum_rate, sensing : ndarray of float64, shape (...)
        f(W) (eq. 7a), the sum rate in bit/s/Hz and the sensing gain sum_n p(theta_n) in watts.
    nit : ndarray of int64, shape (...)
        Iterations used per instance (0 for closed-form methods).
    time_s : ndarray of float64, shape (...)
        Wall-clock seconds per instance; a batch solved together shares its wall time evenly.
    history : ndarray of float64, shape (..., T) or None
        f after each iteration (iterative methods), NaN-padded past an early stop.
    method : str
    message : str
        Why the solver stopped, and how many instances failed if any did.
    success : ndarray of bool, shape (...)
        False where an instance failed (its W is then a feasible fallback, never NaN).
    """

    W: np.ndarray
    csbf: np.ndarray
    sum_rate: np.ndarray
    sensing: np.ndarray
    nit: np.ndarray
    time_s: np.ndarray
    history: np.ndarray | None
    method: str
    message: str
    success: np.ndarray = field(default=None)
    extra: dict = field(default_factory=dict, repr=False)

    @classmethod
    def from_W(cls, problem, W, *, method, time_s, nit=0, history=None, message="done",
               success=None, extra=None) -> Result:
        """Evaluate the metrics of W on ``problem`` and build the result.

        ``time_s`` may be the wall time of the whole batch (a float, shared evenly) or an
        array of per-instance times.
        """
        W = np.asarray(W, dtype=np.complex128)
        batch = W.shape[:-2]
        n = int(np.prod(batch, dtype=np.int64))
        t = np.asarray(time_s, dtype=np.float64)
        t = np.full(batch, float(t) / max(n, 1)) if t.ndim == 0 else np.broadcast_to(t, batch)
        return cls(
            W=W,
            csbf=np.asarray(csbf(W, problem), dtype=np.float64),
            sum_rate=np.asarray(sum_rate(W, problem), dtype=np.float64),
            sensing=np.asarray(sensing_gain(W, problem), dtype=np.float64),
            nit=np.broadcast_to(np.asarray(nit, dtype=np.int64), batch).copy(),
            time_s=np.array(t, dtype=np.float64),
            history=history,
            method=method,
            message=message,
            success=(np.ones(batch, dtype=bool) if success is None
                     else np.broadcast_to(np.asarray(success, dtype=bool), batch).copy()),
            extra={} if extra is None else dict(extra),
        )

    @property
    def power(self) -> np.ndarray:
        """Transmit power Tr(W W^H) in watts, shape (...)."""
        return power(self.W)

    def gap(self, reference) -> np.ndarray:
        """Relative optimality gap (f_ref - f) / |f_ref|, shape (...); ``reference`` is a
        Result on the same instances (e.g. from the ``reference`` solver) or an array of f."""
        f_ref = np.asarray(getattr(reference, "csbf", reference), dtype=np.float64)
        return (f_ref - self.csbf) / np.abs(f_ref)

    def __getitem__(self, index) -> Result:
        """The results of a subset of instances (first batch axis)."""
        def pick(x):
            return None if x is None else x[index]

        return Result(
            W=self.W[index], csbf=self.csbf[index], sum_rate=self.sum_rate[index],
            sensing=self.sensing[index], nit=self.nit[index], time_s=self.time_s[index],
            history=pick(self.history), method=self.method, message=self.message,
            success=self.success[index], extra=self.extra,
        )
