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

================ ============================ ============================================
key              shape, dtype                 meaning
================ ============================ ============================================
``method``       (), str                      the solver that wrote it
``W``            (n, M, K) complex128         the last iterate W_T (where to go on from)
``best_W``       (n, M, K) complex128         the best iterate so far (Algorithm 1 line 10)
``best_f``       (n,) float64                 its CSBF
``ref_f``        (n,) float64                 best f at the last significant gain (``tol``)
``since``        (n,) int64                   iterations since then
``active``       (n,) bool                    instances not stopped early
``failed``       (n,) bool                    instances stopped by a non-finite value
``fingerprint``  (n,) uint64                  hash of the instance it was written on
…                (n, ...)                     the solver's own keys (see its docstring)
================ ============================ ============================================
"""

from __future__ import annotations

import time

import numpy as np

from .._validate import as_generators, check_complex_array
from ..objective import power
from ..system import Problem
from .result import Result
from .state import check_state, fingerprint

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
        self._held = ~self.active  # stopped before this call: they run no iteration
        self._all_active = bool(self.active.all())

    def state(self) -> dict:
        """The tracker's part of a solver state (copies; see the module docstring)."""
        return {"best_W": self.W.copy(), "best_f": self.f.copy(), "ref_f": self._ref.copy(),
                "since": self._since.copy(), "active": self.active.copy()}

    def rows(self, lo: int, hi: int) -> BestTracker:
        """A tracker of instances ``lo:hi`` over views of this one's arrays, for a chunk of
        the batch iterated on its own; hand it back to :meth:`merge_rows` when done."""
        part = object.__new__(BestTracker)
        part.tol, part.patience = self.tol, self.patience
        for name in ("W", "f", "history", "nit", "active", "_ref", "_since", "_held"):
            setattr(part, name, getattr(self, name)[lo:hi])
        part._all_active = bool(part.active.all())
        return part

    def merge_rows(self, part: BestTracker, lo: int, hi: int) -> None:
        """Take back the counters of a :meth:`rows` tracker (the arrays it replaced)."""
        self.active[lo:hi], self._since[lo:hi] = part.active, part._since
        self._all_active = bool(self.active.all())

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
        n, held = self.nit.size, int(np.count_nonzero(self._held))
        stopped = int(np.count_nonzero((self.nit < iters) & ~self._held))
        if held == n:
            return (f"ran no iterations: all {n} instances had stopped before this call "
                    "(state['active'] False: stopped early or failed); returned the best "
                    "iterate seen")
        if self.tol is None or stopped == 0:
            text = f"ran {iters} iterations"
        else:
            text = (f"{stopped} of {n} instances stopped early (best f gained less than "
                    f"tol = {self.tol:g} relative in {self.patience} iterations)")
        if held:
            text += (f"; {held} of {n} instances had stopped before this call (state['active'] "
                     "False) and ran no iterations")
        return text + "; returned the best iterate seen"


def restart_state(state, problem=None) -> dict:
    """A state whose instances the next solve treats as new problems, whatever they are.

    Its fingerprints are dropped, so :func:`~angd_np.solvers.state.check_state` re-evaluates
    the best W on the problem it is passed to and restarts the stopping counters (what it does
    anyway for instances it was not written on). ``problem`` is accepted for compatibility.
    """
    return {k: v for k, v in state.items() if k != "fingerprint"}


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
                 "failed": failed.copy(), "fingerprint": fingerprint(flat)}
    res = Result.from_W(flat, tracker.W, method=method, time_s=time.perf_counter() - t0,
                        nit=tracker.nit, history=tracker.history, message=message,
                        success=~failed, extra=extra, state=state)
    return res.reshape(problem.batch_shape)
