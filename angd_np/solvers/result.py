"""The one result object every solver returns (after scipy.optimize.OptimizeResult)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..objective import power, sensing_gain, sum_rate

__all__ = ["Result", "optimality_gap", "check_reference"]


def check_reference(reference, shape, name="reference") -> np.ndarray:
    """The f values of ``reference`` (an object with ``csbf``, or an array), of ``shape``.

    Refuses, by name, a reference of another shape (NumPy would broadcast a (2, 1) or a
    (1, 3) reference against (2, 3) results without a word), non-numbers and NaN.
    """
    f = getattr(reference, "csbf", reference)
    try:
        f = np.asarray(f, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a result or an array of f values, got "
                        f"{type(reference).__name__}") from None
    if f.shape != tuple(shape):
        raise ValueError(f"{name} must hold f of shape {tuple(shape)} like these results, got "
                         f"shape {f.shape}")
    if np.isnan(f).any():
        raise ValueError(f"{name} must not hold NaN f values")
    return f


def optimality_gap(f, f_best):
    """Relative optimality gap ``(f_best - f) / |f_best|`` (0: as good as the best known).

    The one formula behind every gap the package reports (results.csv, the report, the CLI).
    """
    f_best = np.asarray(f_best, dtype=np.float64)
    return (f_best - np.asarray(f, dtype=np.float64)) / np.abs(f_best)


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
    extra : dict
        Solver-specific outputs (arrays of shape (...) are sliced and reshaped with the rest).
    state : dict or None
        Iterative solvers: everything needed to go on from the last iterate, as plain arrays
        of leading shape (...) (``np.savez(path, **result.state)`` saves it, no pickle);
        pass it back as ``solve(..., state=result.state)``. None for the other solvers. It
        records a fingerprint of each instance: on the same instances the run goes on
        exactly; on other instances of the same size the state's best W is re-evaluated on
        the new problem (the best returned is the best on *that* problem) and the stopping
        counters restart (:mod:`angd_np.solvers.state`).
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
    state: dict | None = field(default=None, repr=False)

    def __post_init__(self):
        batch = np.shape(self.csbf)
        ok = np.ones(batch, dtype=bool) if self.success is None else self.success
        self.success = np.broadcast_to(np.asarray(ok, dtype=bool), batch).copy()

    @classmethod
    def from_W(cls, problem, W, *, method, time_s, nit=0, history=None, message="done",
               success=None, extra=None, state=None) -> Result:
        """Evaluate the metrics of W on ``problem`` and build the result.

        ``time_s`` may be the wall time of the whole batch (a float, shared evenly) or an
        array of per-instance times.
        """
        W = np.asarray(W, dtype=np.complex128)
        batch = W.shape[:-2]
        n = int(np.prod(batch, dtype=np.int64))
        t = np.asarray(time_s, dtype=np.float64)
        t = np.full(batch, float(t) / max(n, 1)) if t.ndim == 0 else np.broadcast_to(t, batch)
        rate, sensing = sum_rate(W, problem), sensing_gain(W, problem)
        return cls(
            W=W,
            csbf=np.asarray(rate + problem.omega * sensing, dtype=np.float64),  # as csbf()
            sum_rate=np.asarray(rate, dtype=np.float64),
            sensing=np.asarray(sensing, dtype=np.float64),
            nit=np.broadcast_to(np.asarray(nit, dtype=np.int64), batch).copy(),
            time_s=np.array(t, dtype=np.float64),
            history=history,
            method=method,
            message=message,
            success=success,
            extra={} if extra is None else dict(extra),
            state=state,
        )

    @property
    def power(self) -> np.ndarray:
        """Transmit power Tr(W W^H) in watts, shape (...)."""
        return power(self.W)

    def gap(self, reference) -> np.ndarray:
        """Relative optimality gap (f_ref - f) / abs(f_ref), shape (...); ``reference`` is a
        Result on the same instances (e.g. from the ``reference`` solver) or an array of f,
        of this result's batch shape exactly."""
        return optimality_gap(self.csbf, check_reference(reference, self.batch_shape))

    @property
    def batch_shape(self) -> tuple:
        return self.csbf.shape

    def _map(self, fn) -> Result:
        """A Result with ``fn`` applied to every per-instance array (leading batch axes)."""
        batch = self.batch_shape

        def per_instance(x):
            return isinstance(x, np.ndarray) and x.shape[:len(batch)] == batch

        def each(d):
            return None if d is None else {k: fn(v) if per_instance(v) and k != "method"
                                           else v for k, v in d.items()}

        return Result(
            W=fn(self.W), csbf=fn(self.csbf), sum_rate=fn(self.sum_rate),
            sensing=fn(self.sensing), nit=fn(self.nit), time_s=fn(self.time_s),
            history=None if self.history is None else fn(self.history), method=self.method,
            message=self.message, success=fn(self.success), extra=each(self.extra),
            state=each(self.state),
        )

    def reshape(self, batch_shape) -> Result:
        """The same results with the batch axes reshaped (everything it holds, state too)."""
        batch, n = self.batch_shape, int(np.prod(self.batch_shape, dtype=np.int64))
        new = tuple(batch_shape)
        if int(np.prod(new, dtype=np.int64)) != n:
            raise ValueError(f"batch_shape must hold {n} instances like {batch}, got {new}")
        if new == batch:
            return self
        return self._map(lambda x: x.reshape(new + x.shape[len(batch):]))

    def __getitem__(self, index) -> Result:
        """The results of a subset of instances (first batch axis), everything it holds."""
        if not self.batch_shape:
            raise IndexError("a single-instance Result has no batch axis to index")
        return self._map(lambda x: x[index])
