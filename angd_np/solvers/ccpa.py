r"""CCPA baseline (§VI-3): semidefinite relaxation + successive convex approximation (cvxpy).

The relaxation
--------------
With :math:`W_k = w_k w_k^H` (Hermitian PSD; the rank-one constraint dropped) the CSBF of
(P1) is a difference of concave functions of the W_k:

.. math::

    f_R = \sum_k \Big[\log_2\big(\textstyle\sum_i \mathrm{tr}(R_k W_i) + \sigma^2\big)
          - \log_2\big(\textstyle\sum_{i \ne k} \mathrm{tr}(R_k W_i) + \sigma^2\big)\Big]
          + \omega\,\mathrm{tr}\big(A A^H \textstyle\sum_k W_k\big),
    \quad R_k = h_k h_k^H, \quad \textstyle\sum_k \mathrm{tr}(W_k) \le p_{max}.

The first log is concave (kept as is); the second is concave too, so it is replaced by its
first-order Taylor expansion at the current point, which lies above it. The surrogate is
therefore a lower bound of f_R that touches it at the current point: each convex problem can
only increase f_R (minorise-maximise). We iterate until the relative increase is below
``tol``. ``Result.extra["relaxed"]`` is the best f_R reached, an upper bound of what the
rank-one recovery finds from it (up to the solver's accuracy).

Making it fast (measured in ``angd_np.bench.baselines``)
--------------------------------------------------------
1. *Exact subspace reduction.* f_R sees W_k only through h_j^H W_k h_j and tr(A A^H W_k),
   and the power only through tr(W_k). With Q an orthonormal basis of span[H, A]
   (r = min(M, K + N) columns), replacing W_k by :math:`Q Q^H W_k Q Q^H` changes none of them
   except that it can only lower the power, so the optimum is :math:`W_k = Q Y_k Q^H` with
   Y_k of size r x r. At M = 16, K = 2, N = 4 this shrinks each PSD cone from 16 x 16
   complex (32 x 32 real) to 6 x 6; one Clarabel solve went from ~0.5-1 s (and status
   "inaccurate" at every step) to ~25 ms ("optimal"), measured on one instance.
2. *One cvxpy problem per shape, re-solved.* The problem is built once per (r, K) with
   ``cvxpy.Parameter`` objects (it is DPP), so each SCA step and each instance only changes
   parameter values; cvxpy then skips re-canonicalisation.
3. *Scaling.* Variables are normalised powers Y_k / p_max (so sum tr <= 1), channel terms are
   divided by sigma^2 and each log argument by its value at the current point (arguments ~1),
   and the objective is divided by max(1, omega p_max ln2 lambda_max(A A^H)). The prototype
   found Clarabel often stops at "inaccurate" without it (raw numbers span 1e-11 W to 1e4).
4. *Clarabel on one thread*: the problems are tiny, threads only contend.
5. *Clarabel called directly* (option ``direct``, module ``_ccpa_direct``). With 1-4 done,
   everything but Clarabel was 31-37% of the wall time, mostly cvxpy's per-solve work
   (checking each Parameter value, splitting it into real and imaginary parts, applying its
   tensors, unpacking x through its reduction chain). Now cvxpy compiles each (r, K) once;
   per solve we gather the parameter values into cvxpy's parameter vector, apply cvxpy's own
   tensors and give a fresh Clarabel solver the settings cvxpy would build. Clarabel gets
   bit-identical data (checked against ``get_problem_data`` when a shape is first built), so
   the results are bit-identical too: 0 difference in W on 2 x 90 instances (M = 6, 10, 16,
   both presets). M = 16, K = 2, 20 instances, one process, mean s/instance: paper
   0.032 -> 0.022, balanced 0.070 -> 0.053. Clarabel's own setup and solve are now 90-93%
   of the time (5.5 / 8 ms per call, median 12 / 19 interior-point iterations, 1.9 / 3.2
   calls per SCA run, paper / balanced); the rest is ours (PSD clean-up, f_R, rank-one
   recovery) and the data gather (~0.1 ms per call). More speed needs fewer or cheaper
   convex solves (settings that change the iterates change the results), not less overhead.

Robustness: Clarabel first (directly), SCS (through cvxpy) as fallback; every status is
checked, with cvxpy's map of Clarabel's statuses on the direct path: ``optimal`` is
accepted, ``optimal_inaccurate`` only if the point is finite and raises f_R (else the
fallback is tried). The returned matrices are symmetrised, their negative eigenvalues
clipped and their power scaled back into the budget. An instance whose SCA runs all fail at
their first convex solve keeps its best (feasible) start, is marked in ``Result.success``
and counted in ``Result.message``: no NaN is ever returned.

Starts: one SCA run from ZF and one from the sensing beam by default (``init``); the best
recovered point wins.

Rank-one recovery: the principal eigenvector of each W_k and ``randomizations`` Gaussian
draws :math:`w_k = U_k \Lambda_k^{1/2} z_k`, :math:`z_k \sim CN(0, I)`, each scaled to full
power; the candidate with the highest true CSBF is kept. The starting points are candidates
too, so CCPA never returns less than any start (by default ZF and the sensing beam).
"""

from __future__ import annotations

import dataclasses
import functools
import threading
import time
import warnings
from typing import ClassVar

import numpy as np

from .._validate import as_generators, check_int, check_positive
from ..objective import csbf, power, scale_to_power
from ._ccpa_direct import DirectProgram, clarabel_settings
from .iterative import flatten_problem
from .linear import defined_precoder, sensing_beam
from .options import SolverOptions, check_bool
from .result import Result
from .spec import SolverSpec, add_start

__all__ = ["ccpa", "CCPAOptions", "SPECS"]

_LN2 = np.log(2.0)


@dataclasses.dataclass(frozen=True)
class CCPAOptions(SolverOptions):
    """Options of :func:`ccpa` (see its docstring). The solver names are checked against
    the installed cvxpy solvers when it runs."""

    renamed: ClassVar[dict] = {"max_iters": "iters"}

    tol: float = 1e-6
    iters: int = 30
    randomizations: int = 32
    init: object = ("zf", "sensing")
    solver: str = "CLARABEL"
    fallback: str | None = "SCS"
    solver_options: dict | None = None
    direct: bool = True

    def __post_init__(self):
        self._set("tol", check_positive(self.tol, "tol"))
        self._set("iters", check_int(self.iters, "iters", minimum=1))
        self._set("randomizations", check_int(self.randomizations, "randomizations",
                                              minimum=0))
        if self.solver_options is not None and not isinstance(self.solver_options, dict):
            raise TypeError(f"solver_options must be a dict, got "
                            f"{type(self.solver_options).__name__}")
        self._set("direct", check_bool(self.direct, "direct"))
# One thread: the problems are tiny (threads only contend); the runner parallelises across
# processes instead.
# Clarabel's default static regularisation (1e-8) ended a quarter of the balanced-preset
# solves "optimal_inaccurate", each then redone by the slow SCS fallback; 1e-7 solves them
# to "optimal" with the same values (to 1e-9 relative) in a third of the time (measured).
_SOLVER_DEFAULTS = {"CLARABEL": {"max_threads": 1, "static_regularization_constant": 1e-7},
                    "SCS": {"max_iters": 5000, "eps_abs": 1e-7, "eps_rel": 1e-7}}


def _import_cvxpy():
    try:
        import cvxpy
    except ImportError as exc:
        raise ImportError(
            "the 'ccpa' solver needs cvxpy (with clarabel and scs): pip install 'angd_np[cvx]'"
        ) from exc
    return cvxpy


# -- the parametrised convex problem, built once per shape and thread ----------------------

class _SCAModel:
    """The surrogate SDP of one SCA step for r-dimensional Y_k, k = 1..K (DPP, reusable)."""

    def __init__(self, cp, r, K):
        self.cp = cp
        self.Y = [cp.Variable((r, r), hermitian=True) for _ in range(K)]
        # conj(.) of the coefficient matrices, so that tr(C Y) = sum(multiply(conj(C)^T...)):
        # for Hermitian C, tr(C Y) = sum_ab C_ba Y_ab = sum(C^T * Y) = sum(conj(C) * Y).
        self.total = [cp.Parameter((r, r), hermitian=True) for _ in range(K)]
        self.offset = cp.Parameter(K, nonneg=True)
        self.interf = [cp.Parameter((r, r), hermitian=True) for _ in range(K)]
        self.sensing = cp.Parameter((r, r), hermitian=True)
        self.rate_weight = cp.Parameter(nonneg=True)
        t = cp.Variable(K)

        def inner(C, Y):
            return cp.real(cp.sum(cp.multiply(C, Y)))

        cons = [Y >> 0 for Y in self.Y]
        cons.append(sum(cp.real(cp.trace(Y)) for Y in self.Y) <= 1.0)
        objective = inner(self.sensing, sum(self.Y))
        for k in range(K):
            # Hypograph variable t_k <= log(normalised total power): keeps the problem DPP.
            cons.append(t[k] <= cp.log(sum(inner(self.total[k], Y) for Y in self.Y)
                                       + self.offset[k]))
            objective = objective + self.rate_weight * t[k]
            others = [inner(self.interf[k], self.Y[i]) for i in range(K) if i != k]
            if others:
                objective = objective - sum(others)
        self.problem = cp.Problem(cp.Maximize(objective), cons)
        # The order of the values from _values (and of DirectProgram's packed vector).
        self.params = [*self.total, *self.interf, self.offset, self.sensing,
                       self.rate_weight]
        self._direct = None  # DirectProgram, or the reason it is unavailable (a str)

    def direct(self):
        """The DirectProgram of this model (built on first use), or None if unavailable."""
        if self._direct is None:
            try:
                self._direct = DirectProgram(self.problem, self.params, self.Y)
            except Exception as exc:  # noqa: BLE001 - reported in Result.message
                # Another cvxpy version may lay its internals out differently, and fail in
                # any way while we read them: then every solve goes through cvxpy.
                self._direct = f"{type(exc).__name__}: {exc}"
        return self._direct if isinstance(self._direct, DirectProgram) else None

    def _values(self, G, B, X, snr, omega_p, scale):
        """The Parameter values of the surrogate at X (K, r, r), in the order of params."""
        S = _received(G, X, snr)  # (K, K): S[k, i] = snr g_k^H X_i g_k
        total = S.sum(axis=1) + 1.0
        interf = total - np.diag(S)
        R = snr * np.einsum("rk,sk->krs", G, np.conj(G))  # R_k = snr g_k g_k^H
        K = len(self.Y)
        # log(T_k) - log(T_k^t) = log(T_k / T_k^t): the argument is ~1 near X.
        totals = [np.conj(R[k]) / total[k] for k in range(K)]
        # d log(I_k) = dI_k / I_k^t: the linearised interference, pre-divided by scale.
        interfs = [np.conj(R[k]) / (interf[k] * scale) for k in range(K)]
        return [*totals, *interfs, 1.0 / total, np.conj(B) * (omega_p * _LN2 / scale),
                1.0 / scale]

    def _solve_cvxpy(self, name, opts, values):
        """(status, Y (K, r, r) or None) from problem.solve with solver ``name``."""
        for p, v in zip(self.params, values, strict=False):
            p.value = v
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # cvxpy warns on inaccurate solutions
                # warm_start=False: cvxpy would otherwise update the cached solver in place,
                # and Clarabel keeps the scaling of the first problem it saw, so a result
                # would depend (at the 1e-6 level) on which instances this process solved
                # before, and Monte Carlo runs would differ between worker counts.
                self.problem.solve(solver=name, warm_start=False, **opts)
        except self.cp.error.SolverError as exc:
            return f"{name} error: {str(exc).splitlines()[0][:80]}", None
        status = f"{name} {self.problem.status}"
        if (self.problem.status not in ("optimal", "optimal_inaccurate")
                or any(y.value is None for y in self.Y)):
            return status, None
        return status, np.stack([np.asarray(y.value) for y in self.Y])

    def step(self, G, B, X, snr, omega_p, scale, chain, f_now):
        """One SCA step from X (K, r, r) whose relaxed value is f_now.

        Returns (X_new, f_new, status): X_new is None if no solver gave an acceptable point.
        A status "optimal" is accepted; "optimal_inaccurate" only if the point is finite and
        raises f_R (a valid ascent step even if the surrogate was not solved to 1e-8).
        Chain entries with Clarabel settings go to Clarabel directly (same data, same
        solution, a fresh solver each time, as with warm_start=False); the others, and all
        if the direct program is unavailable, through cvxpy.
        """
        values = self._values(G, B, X, snr, omega_p, scale)
        status = "not run"
        for name, opts, settings in chain:
            direct = self.direct() if settings is not None else None
            if direct is not None:
                status, Y = direct.solve(values, settings)
            else:
                status, Y = self._solve_cvxpy(name, opts, values)
            if Y is None or not np.all(np.isfinite(Y)):
                continue
            Y = _clean_psd(Y)
            f = _relaxed_value(G, B, Y, snr, omega_p)
            if status.endswith(" optimal") or f > f_now:
                return Y, f, status
        return None, None, status


_local = threading.local()  # parameters are mutable state: one model per thread and shape


def _model(cp, r, K):
    cache = getattr(_local, "models", None)
    if cache is None:
        cache = _local.models = {}
    if (r, K) not in cache:
        cache[(r, K)] = _SCAModel(cp, r, K)
    return cache[(r, K)]


# -- small numpy helpers --------------------------------------------------------------------

def _clean_psd(X):
    """Symmetrise (K, r, r), clip negative eigenvalues (solver round-off) to zero and scale
    down to sum_k tr(X_k) <= 1 if the solver overshot the power budget."""
    X = 0.5 * (X + np.conj(np.swapaxes(X, -1, -2)))
    lam, U = np.linalg.eigh(X)
    lam = np.clip(lam, 0.0, None)
    X = (U * lam[..., None, :]) @ np.conj(np.swapaxes(U, -1, -2))
    return X / max(1.0, lam.sum())


def _received(G, X, snr):
    """S[k, i] = snr * g_k^H X_i g_k for reduced channels G (r, K) and X (K, r, r)."""
    return snr * np.einsum("rk,irs,sk->ki", np.conj(G), X, G).real


def _relaxed_value(G, B, X, snr, omega_p):
    """f_R of the module docstring at normalised X (K, r, r), in bit/s/Hz + omega * W."""
    S = _received(G, X, snr)
    total = S.sum(axis=1) + 1.0
    interf = total - np.diag(S)
    rate = np.sum(np.log2(total) - np.log2(interf))
    return rate + omega_p * np.einsum("rs,isr->", B, X).real


def _subspace(H, A):
    """Orthonormal Q (M, r) spanning [H, A], r = min(M, K + N) (columns normalised first;
    a zero channel column stays zero, and the SVD still completes the basis)."""
    M = H.shape[0]
    norms = np.linalg.norm(H, axis=0)
    cols = np.concatenate([H / np.where(norms > 0, norms, 1.0), A], axis=1)
    U = np.linalg.svd(cols, full_matrices=True)[0]
    return U[:, : min(M, cols.shape[1])]


# -- the solver -----------------------------------------------------------------------------

def _starting_points(problem, init):
    """The SCA starts (S, ..., M, K), feasible and at full power, and where each exists.

    Returns (starts, ok) with ok of shape (S, ...): a ZF or MMSE start does not exist on a
    degenerate channel (rank-deficient for ZF, zero for MMSE); that instance then runs from
    its other starts only, and the rest of the batch is unaffected.
    """
    entries = [init] if isinstance(init, (str, np.ndarray)) else list(init)
    starts, ok = [], []
    for entry in entries:
        if isinstance(entry, str):
            if entry not in ("zf", "mmse", "sensing"):
                raise ValueError(f"init entries must be 'zf', 'mmse', 'sensing' or arrays of "
                                 f"shape {problem.H.shape}, got {entry!r}")
            if entry in ("zf", "mmse") and problem.n_users > problem.n_tx:
                continue  # undefined for K > M; the other starts remain
            if entry == "sensing" and problem.n_targets == 0:
                continue
            if entry == "sensing":
                W0, exists = sensing_beam(problem), np.ones(problem.batch_shape, dtype=bool)
            else:
                W0, exists = defined_precoder(entry, problem)
            starts.append(W0)
            ok.append(exists)
            continue
        W0 = np.asarray(entry)
        if W0.shape != problem.H.shape or not np.all(np.isfinite(W0)) or power(W0).min() <= 0:
            raise ValueError(f"init arrays must be finite, nonzero and of shape "
                             f"{problem.H.shape} like H, got shape {W0.shape}")
        starts.append(scale_to_power(W0.astype(np.complex128), problem.p_max))
        ok.append(np.ones(problem.batch_shape, dtype=bool))
    if not starts:
        raise ValueError(f"init {init!r} gives no starting point for M = {problem.n_tx}, "
                         f"K = {problem.n_users}, N = {problem.n_targets}")
    return np.stack(starts), np.stack(ok)


def _recover(Q, X, problem_1, rng, n_draws):
    """Rank-one candidates (C, M, K) at full power: principal eigenvectors + Gaussian draws."""
    lam, U = np.linalg.eigh(X)  # (K, r), (K, r, r), ascending
    lam = np.clip(lam, 0.0, None)
    cands = [(U[:, :, -1] * np.sqrt(lam[:, -1])[:, None]).T]  # (r, K)
    if n_draws:
        K, r = X.shape[:2]
        z = (rng.standard_normal((n_draws, K, r))
             + 1j * rng.standard_normal((n_draws, K, r))) / np.sqrt(2)
        cands.extend(np.einsum("krs,ks,nks->nrk", U, np.sqrt(lam), z))
    return scale_to_power(Q @ np.stack(cands), problem_1.p_max)


def _sca(model, G, B, X, snr, omega_p, scale, chain, tol, max_iters):
    """SCA from X (K, r, r). Returns (X_best, f_best, steps, history list, last failure)."""
    f_prev = f_best = _relaxed_value(G, B, X, snr, omega_p)
    X_best, history, failure = X, [], None
    for _ in range(max_iters):
        X, f, status = model.step(G, B, X, snr, omega_p, scale, chain, f_prev)
        if X is None:
            failure = status
            break
        history.append(f)
        if f > f_best:
            f_best, X_best = f, X
        # Stop on a small relative increase; a decrease can only be solver round-off.
        if f - f_prev <= tol * abs(f_prev):
            break
        f_prev = f
    return X_best, f_best, len(history), history, failure


def ccpa(problem, *, rng=None, **options) -> Result:
    """Solve every instance with SDR + SCA (§VI-3), one instance at a time.

    Parameters
    ----------
    problem : Problem
        H of shape (..., M, K).
    rng : Generator, int, None or a sequence of one Generator per instance
        Gaussian randomisation of the rank-one recovery (per-instance streams).

    Options
    -------
    tol : float, default 1e-6
        Stop a run when the relative increase of the relaxed objective f_R is below ``tol``.
    iters : int, default 30
        Maximum number of SCA steps (convex solves) per run (``max_iters`` before; the old
        name still works, with a DeprecationWarning).
    randomizations : int, default 32
        Gaussian randomisation draws per run in the rank-one recovery.
    init : str, ndarray (..., M, K) or a sequence of them, default ("zf", "sensing")
        SCA starts ("zf", "mmse", "sensing" or arrays); one SCA run per start, the best
        kept. Why two: measured on 30 instances, the sensing-beam start lost 3.5% of the
        CSBF to the ZF start at M = 10 (balanced preset), while the ZF start stalled with
        the interference nulled, far below the sensing beam, in the paper preset.
    solver : str, default "CLARABEL"; fallback : str or None, default "SCS"
        The cvxpy solver of the convex steps, and the one that redoes a failed step.
    solver_options : dict, optional
        Keyword arguments for the primary solver (e.g. ``{"max_iter": 50}``).
    direct : bool, default True
        Call Clarabel directly with the conic data cvxpy compiled once per shape: the same
        numbers, hence the same results, 1.3-1.5x faster at M = 16 (module docstring). It
        applies to Clarabel with plain Clarabel settings as ``solver_options``; other
        solvers, other options, ``direct=False`` and cvxpy versions whose data it cannot
        reproduce go through cvxpy (the last is said in ``Result.message``).

    Returns
    -------
    Result
        ``nit`` = SCA steps over all runs; ``history`` (..., iters) = f_R after each step
        of the best run (NaN after its stop); ``extra["relaxed"]`` (...) = best f_R, an upper
        bound of ``csbf`` up to solver accuracy; ``extra["solver_failures"]`` = runs ended
        by a failed convex solve. CCPA never returns less than any of its starts.
    """
    opts = CCPAOptions.resolve("ccpa", None, options)
    cp = _import_cvxpy()
    tol, max_iters, n_draws = opts.tol, opts.iters, opts.randomizations
    chain = _solver_chain(cp, opts)

    batch, n, K = problem.batch_shape, problem.n_instances, problem.n_users
    starts, exists = _starting_points(problem, opts.init)
    rngs = as_generators(rng, n)
    flat = flatten_problem(problem)
    H, A = flat.H, np.broadcast_to(flat.A, (n,) + flat.A.shape[-2:])
    starts = starts.reshape((len(starts), n) + H.shape[-2:])
    exists = exists.reshape(len(starts), n)
    snr = problem.p_max / problem.noise_var
    omega_p = problem.omega * problem.p_max

    W_out = np.empty_like(H)
    relaxed = np.empty(n)
    nit = np.zeros(n, dtype=np.int64)
    history = np.full((n, max_iters), np.nan)
    success = np.ones(n, dtype=bool)
    times = np.empty(n)
    failures, last_failure = 0, ""
    models = set()
    for j in range(n):
        t0 = time.perf_counter()
        one = problem.with_(H=H[j], A=A[j], user_angles_rad=None)
        Q = _subspace(H[j], A[j])
        G = np.conj(Q.T) @ H[j]  # reduced channels (r, K)
        QA = np.conj(Q.T) @ A[j]
        B = QA @ np.conj(QA.T)  # Q^H A A^H Q, (r, r)
        lam_max = np.linalg.eigvalsh(B)[-1] if A.shape[-1] else 0.0
        scale = max(1.0, omega_p * _LN2 * lam_max)
        model = _model(cp, Q.shape[1], K)
        models.add(model)
        mine = starts[exists[:, j], j]  # the starts this instance has
        if not len(mine):  # no start exists here (e.g. a zero channel and only ZF asked)
            W_out[j], relaxed[j], success[j] = 0.0, np.nan, False
            times[j] = time.perf_counter() - t0
            continue
        cands, relaxed[j], solved = [mine], -np.inf, False
        for W0 in mine:
            V = np.conj(Q.T) @ W0 / np.sqrt(problem.p_max)
            X0 = np.einsum("rk,sk->krs", V, np.conj(V))  # normalised W_k = w_k w_k^H
            X, f, steps, hist, failure = _sca(model, G, B, X0, snr, omega_p, scale, chain,
                                              tol, max_iters)
            nit[j] += steps
            if failure is not None:
                failures, last_failure = failures + 1, failure
            if steps:
                solved = True
                cands.append(_recover(Q, X, one, rngs[j], n_draws))
            if f > relaxed[j]:
                relaxed[j] = f
                history[j] = np.nan
                history[j, :steps] = hist
        cands = np.concatenate(cands)
        W_out[j] = cands[np.argmax(csbf(cands, one))]
        success[j] = solved  # a failed instance keeps its best start: feasible, never NaN
        times[j] = time.perf_counter() - t0

    n_failed = int(np.count_nonzero(~success))
    message = (f"SCA from {len(starts)} start(s), stopped at relative tolerance {tol:g} "
               f"or {max_iters} steps")
    missing = ~exists.all(axis=0)
    if missing.any():
        none = int(np.count_nonzero(~exists.any(axis=0)))
        message += (f"; ccpa: {int(missing.sum())} instance(s) with a degenerate channel "
                    f"(first: {int(np.flatnonzero(missing)[0])}) ran without their ZF/MMSE "
                    "start" + (f", {none} with no start at all (success=False, W = 0)"
                               if none else ""))
    if failures:
        message += (f"; {failures} run(s) ended by a failed convex solve (last: "
                    f"{last_failure}); {n_failed} of {n} instance(s) failed and keep their "
                    "best starting point")
    unavailable = sorted({m._direct for m in models if isinstance(m._direct, str)})
    if unavailable and any(settings is not None for _, _, settings in chain):
        message += f"; direct Clarabel path unavailable ({unavailable[0]}), used cvxpy"
    return Result.from_W(
        problem, W_out.reshape(batch + H.shape[-2:]), method="ccpa",
        time_s=times.reshape(batch), nit=nit.reshape(batch),
        history=history.reshape(batch + (max_iters,)), message=message,
        success=success.reshape(batch),
        extra={"relaxed": relaxed.reshape(batch), "solver_failures": failures},
    )


def _solver_chain(cp, options):
    """[(solver name, options, Clarabel settings or None), ...]: the primary solver, then the
    fallback if any. Settings are given for the entries the direct path can solve exactly as
    cvxpy would (Clarabel, ``direct`` on, only plain Clarabel settings among the options)."""
    installed = set(cp.installed_solvers())
    primary, fallback = options.solver, options.fallback
    user_opts = options.solver_options or {}
    chain = []
    for role, name in (("solver", primary), ("fallback", fallback)):
        if name is None and role == "fallback":
            continue
        if not isinstance(name, str) or name.upper() not in installed:
            raise ValueError(f"{role} must name an installed cvxpy solver for SDPs with "
                             f"exponential cones (e.g. 'CLARABEL', 'SCS'), got {name!r}; "
                             f"installed: {sorted(installed)}")
        name = name.upper()
        opts = dict(_SOLVER_DEFAULTS.get(name, {}))
        if role == "solver":
            opts.update(user_opts)
        settings = (clarabel_settings(opts) if options.direct and name == "CLARABEL"
                    else None)
        chain.append((name, opts, settings))
    return chain


SPECS = (
    SolverSpec("ccpa", ccpa, label="CCPA", cost=30.0, extra="cvx", options=CCPAOptions,
               style=dict(color="#d62728", marker="s"),
               warm=functools.partial(add_start, "init", CCPAOptions().init),
               budgets=tuple({"iters": i} for i in (1, 2, 3, 5, 10, 30))),
)
