"""What every iterative solver (``pgd``, ``adam``, ``angd-fcn``, ``angd-cnn``) shares.

Batch handling, per-instance random streams, the initial precoder, the "best W seen"
bookkeeping of Algorithm 1 line 10, the solver state that lets a run be continued, and
finishing a :class:`~angd_np.solvers.result.Result`. The maths of each solver lives in its
own module; this one only makes the solvers share behaviour, so that a comparison between
them isolates the update rule:

- every solver flattens the batch to ``n`` instances and gives instance i two random streams
  derived from its own generator only (stream 0: the initial W, stream 1: the network), so
  ``pgd``, ``adam`` and ANGD start from the same W for the same seed, and an instance's result
  never depends on the batch it is solved in;
- every solver keeps the best iterate (counting W_0) and stops an instance early only under
  the same rule (``tol``/``patience``);
- every solver returns ``Result.state``, plain arrays (``np.savez``-able, no pickle) with the
  last iterate, the tracker's counters and the solver's own state (network parameters, Adam
  moments), and accepts ``state=`` to go on: 250 iterations and 250 more from the state are
  the 500-iteration run, bit for bit (the histories concatenate, the best f is the larger of
  the two parts).

State layout
------------
Every array has the flattened batch as its leading axis n (``Result.state`` reshapes it to
the batch shape like every other field):

============== ============================ ============================================
key            shape, dtype                 meaning
============== ============================ ============================================
``method``     (), str                      the solver that wrote it
``W``          (n, M, K) complex128         the last iterate W_T (where to go on from)
``best_W``     (n, M, K) complex128         the best iterate so far (Algorithm 1 line 10)
``best_f``     (n,) float64                 its CSBF
``ref_f``      (n,) float64                 best f at the last significant gain (``tol``)
``since``      (n,) int64                   iterations since then
``active``     (n,) bool                    instances not stopped early
``failed``     (n,) bool                    instances stopped by a non-finite value
…              (n, ...)                     the solver's own keys (see its docstring)
============== ============================ ============================================
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_generators, check_complex_array
from ..objective import power
from ..system import Problem
from .result import Result

__all__ = [
    "flatten_problem",
    "instance_streams",
    "initial_W",
    "BestTracker",
    "check_state",
    "finish",
    "restart_state",
]

INITS = ("random", "zf")


def flatten_problem(problem) -> Problem:
    """The problem with its batch axes merged into one: H of shape (n, M, K)."""
    if not isinstance(problem, Problem):
        raise TypeError(f"problem must be an angd_np.Problem, got {type(problem).__name__}")
    n, (M, K) = problem.n_instances, problem.H.shape[-2:]
    if problem.H.ndim == 3 and problem.A.ndim == 2:
        return problem
    A = problem.A
    if A.ndim > 2:
        A = np.broadcast_to(A, problem.batch_shape + A.shape[-2:]).reshape(n, M, -1)
    angles = problem.user_angles_rad
    if angles is not None and angles.ndim > 1:
        angles = angles.reshape(n, -1)
    return problem.with_(H=problem.H.reshape(n, M, K), A=A, user_angles_rad=angles)


def instance_streams(rng, n: int):
    """Two independent generators per instance: (W init, network init), from ``rng`` only.

    ``rng`` is a Generator, int seed, None or a sequence of n of them (one per instance, as
    the Monte Carlo runner passes). Instance i's streams depend only on its own generator.
    """
    gens = as_generators(rng, n)
    return [tuple(g.spawn(2)) for g in gens]


def initial_W(init, problem: Problem, streams) -> np.ndarray:
    """W_0 of shape (n, M, K), feasible (Tr(W W^H) <= p_max) for every instance.

    Parameters
    ----------
    init : {"random", "zf"} or array_like of complex, shape (M, K) or (n, M, K)
        "random": CN(0, 1) entries scaled to full power, from each instance's stream 0;
        "zf": the zero-forcing precoder at full power (needs M >= K); an array is used as
        given, projected onto the power ball if it exceeds p_max.
    problem : Problem
        Flattened (H of shape (n, M, K)).
    streams : list of (Generator, Generator)
        From :func:`instance_streams`.
    """
    n, M, K = problem.H.shape
    if isinstance(init, str):
        if init == "random":
            W = np.empty((n, M, K), dtype=np.complex128)
            for i, (g, _) in enumerate(streams):
                z = g.standard_normal((M, K, 2))
                W[i] = z[..., 0] + 1j * z[..., 1]
            return W * np.sqrt(problem.p_max / power(W))[:, None, None]
        if init == "zf":
            from .linear import zf_precoder

            return zf_precoder(problem)
        raise ValueError(f"init must be one of {list(INITS)} or an array of shape (M, K) or "
                         f"(n, M, K) = (..., {M}, {K}), got {init!r}")
    W = check_complex_array(init, "init", min_ndim=2)
    if W.shape[-2:] != (M, K) or W.ndim > 3 or (W.ndim == 3 and W.shape[0] != n):
        raise ValueError(f"init must have shape ({M}, {K}) or ({n}, {M}, {K}) like the "
                         f"problem's H (batch flattened), got shape {W.shape}")
    W = np.array(np.broadcast_to(W, (n, M, K)))
    pw = power(W)
    if np.any(pw == 0):
        raise ValueError("init must not be all zeros for any instance: W = 0 is a "
                         "stationary point of the CSBF (zero gradient)")
    scale = np.where(pw > problem.p_max, np.sqrt(problem.p_max / pw), 1.0)
    return W * scale[:, None, None]


class BestTracker:
    """The best iterate per instance (Algorithm 1 line 10), the history and early stopping.

    Parameters
    ----------
    W0 : ndarray of complex128, shape (n, M, K)
        The starting point; it counts as "seen", so a solver never returns worse than W_0.
    f0 : ndarray of float64, shape (n,)
    iters : int
        T, the length of the history.
    tol, patience : float or None, int
        An instance stops after ``patience`` iterations without its best f rising by more
        than ``tol * |best f|`` (``tol=None``: run all T iterations, as the paper does).

    Attributes
    ----------
    W : (n, M, K) best W; f : (n,) its CSBF; history : (n, T) f(W_{t+1}), NaN after a stop;
    nit : (n,) iterations run; active : (n,) bool, instances still iterating.
    """

    def __init__(self, W0, f0, iters, tol=None, patience=50, state=None):
        n = W0.shape[0]
        self.W = np.array(W0, dtype=np.complex128)
        self.f = np.array(f0, dtype=np.float64)
        self.history = np.full((n, iters), np.nan)
        self.nit = np.zeros(n, dtype=np.int64)
        self.active = np.ones(n, dtype=bool)
        self.tol, self.patience = tol, patience
        self._ref = self.f.copy()  # best f at the last significant improvement
        self._since = np.zeros(n, dtype=np.int64)
        if state is not None:  # going on: the best so far and the stopping counters
            self.W[...], self.f[...] = state["best_W"], state["best_f"]
            self._ref[...], self._since[...] = state["ref_f"], state["since"]
            self.active[...] = state["active"]
        self._all_active = bool(self.active.all())

    def state(self) -> dict:
        """The tracker's part of a solver state (copies; see the module docstring)."""
        return {"best_W": self.W.copy(), "best_f": self.f.copy(), "ref_f": self._ref.copy(),
                "since": self._since.copy(), "active": self.active.copy()}

    def deactivate(self, which):
        """Stop the instances where ``which`` (n,) is True (e.g. diverged ones)."""
        self.active &= ~which
        self._all_active = bool(self.active.all())

    def update(self, t: int, V, f) -> bool:
        """Record iterate ``V`` (n, M, K) with values ``f`` (n,) at iteration t (0-based).

        Only active instances are recorded. Returns True while some instance is active.
        """
        act = self.active
        if self.tol is None and self._all_active:  # the common case, without fancy indexing
            self.history[:, t] = f
            self.nit[:] = t + 1
            better = f > self.f
        else:
            self.history[act, t] = f[act]
            self.nit[act] = t + 1
            better = act & (f > self.f)
        np.copyto(self.W, V, where=better[:, None, None])
        np.copyto(self.f, f, where=better)
        if self.tol is not None:
            gained = act & (self.f > self._ref + self.tol * np.abs(self._ref))
            np.copyto(self._ref, self.f, where=gained)
            self._since = np.where(gained, 0, self._since + 1)
            self.active = act & (self._since < self.patience)
            self._all_active = bool(self.active.all())
        return bool(self.active.any())

    def message(self, iters: int) -> str:
        stopped = int(np.count_nonzero(self.nit < iters))
        if self.tol is None or stopped == 0:
            return f"ran {iters} iterations; returned the best iterate seen"
        return (f"{stopped} of {self.nit.size} instances stopped early (best f gained less than "
                f"tol = {self.tol:g} relative in {self.patience} iterations); returned the best "
                "iterate seen")


def check_state(state, method: str, n: int, core: tuple, shapes: dict | None = None) -> dict:
    """Validate a solver state for ``n`` instances of size ``core`` = (M, K); flat arrays out.

    Parameters
    ----------
    state : mapping of str to array_like
        A ``Result.state``, or what ``np.load`` gives back for one saved with ``np.savez``
        (any leading batch shape holding n instances is accepted).
    method : str
        The solver that is to continue; the state must have been written by it.
    n : int
        Instances of the problem being solved.
    core : (int, int)
        (M, K) of the problem.
    shapes : dict, optional
        The solver's own keys: name -> (shape of one instance, dtype), e.g.
        ``{"adam_m": ((M, K), np.complex128)}``.

    Returns
    -------
    dict of ndarray with leading axis n (copies), plus ``"method"``.

    Raises
    ------
    TypeError
        ``state`` is not a mapping of arrays.
    ValueError
        Another solver's state, a missing key, or an array whose shape or dtype does not fit
        this problem (another size or batch) or this solver's options (another network).
    """
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(f"state must be a mapping of arrays (a Result.state or np.load of one), "
                        f"got {type(state).__name__}")
    if "method" not in state.keys():
        raise ValueError(f"state must hold a 'method' key (a Result.state of {method}), got "
                         f"keys {sorted(state.keys())}")
    written_by = str(np.asarray(state["method"]))
    if written_by != method:
        raise ValueError(f"state was written by {written_by!r}, not {method!r}: a solver can "
                         "only continue its own state")
    spec = {"W": (core, np.complex128), "best_W": (core, np.complex128),
            "best_f": ((), np.float64), "ref_f": ((), np.float64), "since": ((), np.int64),
            "active": ((), np.bool_), "failed": ((), np.bool_), **(shapes or {})}
    missing = [k for k in spec if k not in state.keys()]
    if missing:
        raise ValueError(f"state is missing keys {missing}; {method} needs {list(spec)}")
    out = {"method": method}
    for key, (tail, dtype) in spec.items():
        a = np.asarray(state[key])
        tail = tuple(tail)
        lead = a.ndim - len(tail)
        if lead < 0 or a.shape[lead:] != tail or int(np.prod(a.shape[:lead])) != n:
            raise ValueError(f"state[{key!r}] must hold {n} instances of shape {tail} (this "
                             f"problem's size and batch, these options), got shape {a.shape}")
        if a.dtype != np.dtype(dtype):
            raise ValueError(f"state[{key!r}] must have dtype {np.dtype(dtype)}, got {a.dtype}")
        if key == "W" and not np.all(np.isfinite(a)):
            raise ValueError("state['W'] must be finite")
        out[key] = np.array(a.reshape((n,) + tail))
    return out


def restart_state(state, problem) -> dict:
    """A solver state carried over to a new problem of the same size (the next frame).

    Everything the solver learned is kept (last iterate, networks, moments); the best
    iterate so far is re-evaluated on the new problem (it stays a candidate: on an unchanged
    channel the continuation is then exactly one longer run) and the early-stopping counters
    start afresh.
    """
    from ..objective import csbf

    out = dict(state)
    batch = np.shape(state["best_f"])
    best_W = np.asarray(state["best_W"])
    f = csbf(best_W.reshape((-1,) + best_W.shape[-2:]), flatten_problem(problem))
    out["best_f"] = f.reshape(batch)
    out["ref_f"] = out["best_f"].copy()
    out["since"] = np.zeros(batch, dtype=np.int64)
    out["active"] = np.ones(batch, dtype=bool)
    out["failed"] = np.zeros(batch, dtype=bool)
    return out


def finish(problem, flat, tracker, method, t0, failed, *, state=None, extra=None) -> Result:
    """The :class:`Result` of an iterative solve, in the problem's batch shape.

    Parameters
    ----------
    problem : Problem
        As the caller received it (batch shape (...)).
    flat : Problem
        The same, flattened to n instances (:func:`flatten_problem`).
    tracker : BestTracker
    method : str
    t0 : float
        ``time.perf_counter()`` at the start of the solve (the batch's wall time is shared
        evenly).
    failed : ndarray of bool, shape (n,)
        Instances stopped by a non-finite value.
    state : dict, optional
        The solver's own state keys (flat, leading axis n); the tracker's part, ``W`` (the
        last iterate, in ``state["W"]``), ``failed`` and ``method`` are added here.
    """
    message = tracker.message(tracker.history.shape[1])
    if failed.any():
        message += (f"; {int(failed.sum())} instances hit a non-finite value and were stopped "
                    "(their best finite iterate is returned)")
    if state is not None:
        state = {"method": np.array(method), **state, **tracker.state(),
                 "failed": failed.copy()}
    res = Result.from_W(flat, tracker.W, method=method, time_s=time.perf_counter() - t0,
                        nit=tracker.nit, history=tracker.history, message=message,
                        success=~failed, extra=extra, state=state)
    return res.reshape(problem.batch_shape)
