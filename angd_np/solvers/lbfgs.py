r"""L-BFGS on the full-power sphere from one start: the "what a user would embed" control.

The reference (:mod:`.reference`) finds its optimum by L-BFGS on the power sphere from about
ten starts. ``lbfgs`` is that inner method alone: one start (ZF, random or given), an
iteration budget T like ``pgd``, ``adam`` and ANGD, NumPy only, with the best-iterate,
history, early-stopping and ``Result.state`` rules of every iterative solver
(:mod:`.iterative`), so that its curves sit beside theirs.

The problem
-----------
We minimise :math:`\varphi(x) = -f(W(x))` over the real variables x of V, with
:math:`W = \sqrt{p_{max}}\, V/\|V\|_F` (:mod:`.sphere`: the map, its gradient, why V and not
W is the iterate). Every iterate is feasible by construction, :math:`\|W\|_F^2 = p_{max}`.

One iteration (Nocedal and Wright, Algorithm 7.5)
-------------------------------------------------
The direction is :math:`p_k = -H_k g_k`, :math:`H_k` the L-BFGS inverse Hessian of the pairs
of the last ``memory`` iterations (module ``_quasi_newton``, the compact form of the two-loop
recursion). With no
pair yet (the first iteration, or after a reset) :math:`H_0 = \gamma I` with
:math:`\gamma = \texttt{step0}\,\|x_k\|/\|g_k\|`: a steepest-descent step of ``step0`` times
the radius of V, the same size at any p_max or omega. The step along :math:`p_k` satisfies
the strong Wolfe conditions (c_1 = ``armijo``, c_2 = ``wolfe``), trying a = 1 first (the
quasi-Newton step), by bracketing and cubic zooming (``_quasi_newton.wolfe_search``);
the pair :math:`(s_k, y_k)` then has :math:`s_k^T y_k > 0` and enters the memory (a step
taken without the curvature condition, after ``max_evals`` trials, enters only if
:math:`s_k^T y_k > 10^{-12}\|s_k\|\|y_k\|`). Each trial is one
:func:`~angd_np.objective.csbf_and_grad` call on the rows still searching, so a batch pays for
its slowest instance; when every row accepts its first trial, which is most iterations, the
iteration costs one call and no gather. A single instance runs the same iterations in
module ``_lbfgs_one``, a loop without row masks or gathers (bit for bit its row of a batch).
A large batch is iterated in chunks of ``chunk_rows`` instances whose curvature pairs fit
in the processor's cache (every iteration reads them three times); the rows are independent,
so chunks change no result, and the memory of every row ends a call ``T`` slots on (empty
slots for a row that stopped), however the batch was cut.
Memory 10 (scipy's default too) and step0 = 0.1
were measured on instances apart from the benchmark's: memory 20 reached a median gap of
1e-3 in about as many iterations, memory 5 in up to 2.5 times as many; step0 from 0.01 to
1 changed little, since the line search lengthens a short first step.

Why Wolfe and not Armijo backtracking: a step that only passes the decrease test can be far
too short, and its pair then describes the curvature poorly. On held-out balanced instances
(M = 16, K = 2) from ZF, the Armijo version needed about four times the iterations of
scipy's L-BFGS-B (whose line search enforces the same conditions) to reach a median gap of
1e-3; ``python benchmarks/lbfgs_scipy.py`` measures this version against scipy's.

Safeguards. A direction that is not a descent direction (:math:`g^T p \ge 0`) is replaced by
steepest descent and the memory is cleared. A line search that finds no decrease clears the
memory (the next iteration tries steepest descent); if steepest descent fails too, the
instance sits at round-off level: it stays where it is (history repeats its f) and is not
evaluated again in this call, a pure shortcut, since retrying from the same point and empty
memory would fail identically.

State
-----
Besides the keys of every iterative solver (:mod:`.iterative`: ``W`` the last iterate on the
sphere, the best iterate and the stopping counters), one row per instance (d = 2MK, m =
``memory``; x and the pairs in the layout of :mod:`.sphere`):

============== ========================== ================================================
key            shape, dtype               meaning
============== ========================== ================================================
``V``          (n, M, K) complex128       the last iterate's unnormalised V (W = cV)
``lbfgs_s``    (n, m, d) float64          steps s_j, a ring of slots, zeros when empty
``lbfgs_y``    (n, m, d) float64          gradient differences y_j (of -f), likewise
``lbfgs_rho``  (n, m) float64             1/(s_j.y_j); 0 marks an empty slot
``lbfgs_linv`` (n, m, m) float64          L^{-1} of the compact form (identity if empty)
``lbfgs_yy``   (n, m, m) float64          Y Y^T
``lbfgs_head`` (n,) int64                 the slot written last (the same for all)
``lbfgs_f``    (n,) float64               f at V when the state was written
============== ========================== ================================================

Continuing recomputes f and g at V (one evaluation). On the same problem that is f bit for
bit ``lbfgs_f``, and 12 + 12 iterations are the 24-iteration run. Where f differs, the state
comes from another problem (the previous frame in :func:`angd_np.track`): the pairs describe
the old function and are dropped, unless ``keep_memory=True``. Measured on 8 sequences of 40
balanced frames (rho = 0.99, 0.2 degree drift, 50 iterations a frame), dropping them gave a
median gap of 5.7e-4 after frame 20 against 6.1e-3 when they were kept.
"""

from __future__ import annotations

import dataclasses
import time
from typing import ClassVar

import numpy as np

from .._validate import check_int
from ..objective import power
from . import _lbfgs_one, sphere
from ._quasi_newton import Memory, _all, _any, _dot, wolfe_search
from .iterative import (
    BestTracker,
    check_state,
    finish,
    flatten_problem,
    initial_W,
    instance_streams,
)
from .options import IterativeOptions, check_bool, check_real
from .spec import SolverSpec

__all__ = ["lbfgs", "LBFGSOptions", "SPECS"]

#: A chunk's curvature pairs (bytes) that :func:`chunk_rows` aims at, and the fewest rows a
#: chunk has (below that, a batch's call overhead shows again).
CHUNK_BYTES = 4 * 2**20
CHUNK_MIN = 16

_CURVATURE = 1e-12  # relative s.y a pair taken without the Wolfe conditions needs


@dataclasses.dataclass(frozen=True)
class LBFGSOptions(IterativeOptions):
    """Options of :func:`lbfgs` (and ``iters``, ``init``, ``tol``, ``patience``).

    Attributes
    ----------
    memory : int
        m, the iterations whose curvature pairs are kept (default 10).
    step0 : float
        Length of a steepest-descent trial step (no pairs yet) as a fraction of ||V||, the
        radius of the sphere the iterate is on (default 0.1). The line search lengthens or
        shortens it.
    armijo : float
        c_1 in (0, wolfe): the fraction of the first-order decrease a step must achieve (1e-4).
    wolfe : float
        c_2 in (armijo, 1): how much the slope along the direction must flatten (0.9).
    max_evals : int
        Trial steps of one line search before it takes its best point (20).
    keep_memory : bool
        Keep the curvature pairs of a state written on another problem, e.g. the previous
        frame (default False: dropped, see the module docstring).
    """

    renamed: ClassVar[dict] = {"max_backtracks": "max_evals"}

    memory: int = 10
    step0: float = 0.1
    armijo: float = 1e-4
    wolfe: float = 0.9
    max_evals: int = 20
    keep_memory: bool = False

    def __post_init__(self):
        super().__post_init__()
        self._set("memory", check_int(self.memory, "memory", minimum=1))
        self._set("step0", check_real(self.step0, "step0"))
        self._set("armijo", check_real(self.armijo, "armijo"))
        self._set("wolfe", check_real(self.wolfe, "wolfe"))
        if not self.armijo < self.wolfe < 1:
            raise ValueError(f"armijo and wolfe must satisfy 0 < armijo < wolfe < 1, got "
                             f"armijo={self.armijo!r}, wolfe={self.wolfe!r}")
        self._set("max_evals", check_int(self.max_evals, "max_evals", minimum=1))
        self._set("keep_memory", check_bool(self.keep_memory, "keep_memory"))


def _state_shapes(opts, M, K):
    d, m = 2 * M * K, opts.memory
    return {"V": ((M, K), np.complex128), "lbfgs_s": ((m, d), np.float64),
            "lbfgs_y": ((m, d), np.float64), "lbfgs_rho": ((m,), np.float64),
            "lbfgs_linv": ((m, m), np.float64), "lbfgs_yy": ((m, m), np.float64),
            "lbfgs_head": ((), np.int64), "lbfgs_f": ((), np.float64)}


def _objective(flat):
    """fun(x, idx) -> (phi = -f, grad phi, W) for the rows idx of ``flat`` (None: all)."""
    def fun(x, idx=None):
        f, g, W = sphere.value_and_grad(x, sphere.rows(flat, idx), -1.0)
        return -f, g, W
    return fun


def _objective_one(one):
    """fun(x) -> (phi = -f, grad phi, W) for one instance (x of shape (1, 2MK))."""
    def fun(x):
        f, g, W = sphere.value_and_grad_one(x, one, -1.0)
        return -f, g, W
    return fun


def lbfgs(problem, *, rng=None, state=None, **options):
    r"""L-BFGS on the full-power sphere from one start, keeping the best iterate.

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    rng : Generator, int, None or sequence of one per instance
        Source of the random initial W (instance i uses only its own stream, stream 0 as
        ``pgd`` and ANGD: the same seed gives the same W_0).
    state : dict, optional
        A ``Result.state`` of ``lbfgs`` on the same instances (or their next frame): go on
        from there, curvature memory included (module docstring).
    **options
        See :class:`LBFGSOptions`:

        iters : int
            T, iterations of this call (default 500); each costs one gradient evaluation
            plus one per extra trial step of its line search.
        memory : int
            Curvature pairs kept (default 10).
        step0, armijo, wolfe, max_evals : float, float, float, int
            The first step and the line search (module docstring).
        keep_memory : bool
            Keep the pairs of a state from another problem (default False).
        init : {"random", "zf"} or array of shape (M, K) or (n, M, K)
            W_0 (see :func:`.iterative.initial_W`), put on the sphere; ignored with ``state``.
        tol, patience : float or None, int
            The shared early-stopping rule (``tol=None``, default, runs all T).

    Returns
    -------
    Result
        ``history`` (..., T): f(W_{t+1}) per iteration, non-decreasing, NaN after an early
        stop; ``W`` the best iterate (W_0 on the sphere included); ``state`` to continue.
    """
    t0 = time.perf_counter()
    opts = LBFGSOptions.resolve("lbfgs", None, options)
    flat = flatten_problem(problem)
    n, (M, K) = flat.n_instances, flat.H.shape[-2:]
    if state is None:
        random = isinstance(opts.init, str) and opts.init == "random"
        # the streams only feed a random start (with rng=None, drawing them costs ~0.1 ms)
        streams = instance_streams(rng, n) if random or rng is not None else None
        x = sphere.to_x(initial_W(opts.init, flat, streams))
        mem = Memory(n, opts.memory, 2 * M * K)
        saved, failed = None, np.zeros(n, dtype=bool)
    else:
        saved = check_state(state, "lbfgs", n, (M, K), _state_shapes(opts, M, K), problem=flat)
        if not np.all(np.isfinite(saved["V"])) or np.any(power(saved["V"]) == 0):
            raise ValueError("state['V'] must be finite and nonzero for every instance")
        x, failed = sphere.to_x(saved["V"]), saved["failed"]
        head = saved["lbfgs_head"]
        if n and not np.all(head == head[0]):
            raise ValueError(f"state['lbfgs_head'] must be the same slot for every instance, "
                             f"got {np.unique(head).tolist()}")
        mem = Memory.from_arrays(*(saved[k] for k in ("lbfgs_s", "lbfgs_y", "lbfgs_rho",
                                                      "lbfgs_linv", "lbfgs_yy")),
                                 head[0] if n else 0)
    phi, g, W = (_objective_one(flat) if n == 1 else _objective(flat))(x)  # the same bits
    if saved is not None and not opts.keep_memory:
        mem.clear(-phi != saved["lbfgs_f"])  # another problem: the pairs are stale
    tracker = BestTracker(W, -phi, opts.iters, opts.tol, opts.patience, state=saved)
    bad = ~np.isfinite(phi) | ~np.all(np.isfinite(g), axis=1)
    if _any(bad):
        failed |= bad
        tracker.deactivate(bad)
    rows = chunk_rows(opts.memory, 2 * M * K)
    for lo in range(0, n, rows):  # the rows are independent: chunks change no result
        hi = min(lo + rows, n)
        part, cmem = tracker.rows(lo, hi), mem.rows(lo, hi)
        if not _any(part.active):  # every row stopped: only the ring moves on
            mem.merge_rows(cmem, lo, hi, opts.iters)
            continue
        chunk = flat if hi - lo == n else flat[lo:hi]
        if hi - lo == 1:  # one instance: the same iterations, no batch overhead
            x[lo:hi], phi[lo:hi], W[lo:hi] = _lbfgs_one.run(
                _objective_one(chunk), x[lo:hi], phi[lo:hi], g[lo:hi], W[lo:hi], cmem, part,
                opts, False)
        else:
            x[lo:hi], phi[lo:hi], W[lo:hi] = _iterate(
                _objective(chunk), x[lo:hi], phi[lo:hi], g[lo:hi], W[lo:hi], cmem, part, opts)
        tracker.merge_rows(part, lo, hi)
        mem.merge_rows(cmem, lo, hi, opts.iters)
    mem.advance(opts.iters)
    S, Y, rho, Linv, YY, head = mem.arrays()
    own = {"W": W.copy(), "V": sphere.to_V(x, (M, K)).copy(), "lbfgs_s": S, "lbfgs_y": Y,
           "lbfgs_rho": rho, "lbfgs_linv": Linv, "lbfgs_yy": YY,
           "lbfgs_head": np.full(n, head, dtype=np.int64),
           "lbfgs_f": -phi}
    return finish(problem, flat, tracker, "lbfgs", t0, failed, state=own)


def chunk_rows(memory, d):
    """Instances iterated together: as many as keep a chunk's curvature pairs within
    ``CHUNK_BYTES`` (at least ``CHUNK_MIN``).

    Every iteration reads the pairs three times (two products, one update), between
    evaluations that read everything else: a batch whose pairs fit in the processor's cache
    streams them from there. Measured by timing ``solve(problem[i:i + c], "lbfgs")`` over the
    chunks of 1000 paper-preset instances from ZF, T = 70 / 45 / 30, one BLAS thread, against
    one call on all of them (a one-off timing, not a benchmark script): at (64, 8) chunks of
    50 took 0.63 of the one call, chunks of 20 0.70, of 8 0.87; at (32, 4) chunks of 50-200
    0.72-0.75; at (16, 2) chunks of 200 0.93, of 50 1.17 (call overhead).
    """
    return max(CHUNK_MIN, CHUNK_BYTES // (2 * memory * d * 8))


def _iterate(fun, x, phi, g, W, mem, tracker, opts):
    """``opts.iters`` iterations of lbfgs on the rows of one chunk (module docstring).

    Parameters
    ----------
    fun : callable
        ``fun(x_rows, idx) -> (phi, grad, W)`` on the chunk's rows (:func:`_objective`).
    x, g : ndarray of float64, shape (n, d)
    phi : ndarray of float64, shape (n,)
    W : ndarray of complex128, shape (n, M, K)
    mem, tracker : Memory and BestTracker of the n rows

    Returns
    -------
    x, phi, W : the last iterate.
    """
    n = x.shape[0]
    stalled = np.zeros(n, dtype=bool)  # at round-off: skipped (module docstring)
    ones = np.ones(n)
    for t in range(opts.iters):
        moving = tracker.active & ~stalled if _any(stalled) else tracker.active
        empty = mem.empty()
        steepest = _steepest(x, g, opts.step0) if _any(empty) else ones
        p = mem.product(g, steepest)
        p *= -1.0
        slope = _dot(g, p)
        searching = moving & (slope < 0)
        uphill = moving ^ searching  # a stale memory (or g = 0): steepest descent
        if _any(uphill):
            mem.clear(uphill)
            empty = mem.empty()
            steepest = _steepest(x, g, opts.step0)
            p[uphill] = -steepest[uphill, None] * g[uphill]
            slope[uphill] = _dot(g[uphill], p[uphill])
            searching = moving & (slope < 0)
        x_new, phi_new, g_new, W, moved, wolfe = wolfe_search(
            fun, x, phi, g, W, p, slope, ones, searching, c1=opts.armijo, c2=opts.wolfe,
            max_evals=opts.max_evals)
        if not _all(moved):
            lost = moving & ~moved
            stalled |= lost & empty
            mem.clear(lost)
        s, y = x_new - x, g_new - g
        sy = _dot(s, y)
        pair = moved & (sy > 0)  # > 0 by the curvature condition where wolfe holds
        if not _all(wolfe) and _any(pair & ~wolfe):
            # a fallback step: its pair must show clear positive curvature
            pair &= wolfe | (sy > _CURVATURE * np.sqrt(_dot(s, s) * _dot(y, y)))
        mem.push(s, y, pair, sy)
        x, phi, g = x_new, phi_new, g_new
        if not tracker.update(t, W, -phi):
            break
    return x, phi, W


def _steepest(x, g, step0):
    """gamma (n,) of H_0 = gamma I: a step of step0 ||x|| along -g (module docstring)."""
    gnorm = np.sqrt(_dot(g, g))
    return step0 * np.sqrt(_dot(x, x)) / np.where(gnorm > 0, gnorm, 1.0)


SPECS = (
    # track_options: memory 20 tracked best in studies/tracking_defaults/ (held-out median
    # per-frame gap 0.018% against 0.045% with 10 on the tuning set's ranking).
    SolverSpec("lbfgs", lbfgs, label="L-BFGS (sphere)", iterative=True, cost=6.0,
               options=LBFGSOptions, style=dict(color="#ff7f0e", marker="X", linewidth=1.0),
               track_options={"memory": 20}),
)
