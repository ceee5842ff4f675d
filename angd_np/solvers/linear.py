r"""Closed-form precoders: zero forcing, MMSE (§VI-1, §VI-2) and the best single sensing beam.

All three solve a whole batch (``problem.H`` of shape (..., M, K)) with batched linear algebra,
no Python loop over instances, and use the full power budget: the optimum of (P1) lies on the
sphere ``||W||_F^2 = p_max`` because every SINR and the beampattern gain grow with a common
power scale, so a baseline that wasted power would be an unfair comparison.

Zero forcing (§VI-1)
--------------------
:math:`W_{ZF} = c\, H (H^H H)^{-1}`, with one common factor c that sets
:math:`\|W\|_F^2 = p_{max}`. Since :math:`H^H W_{ZF} = c I`, user k hears only its own
stream: :math:`h_k^H w_i = 0` for :math:`i \ne k`. It needs :math:`M \ge K` (otherwise
:math:`H^H H` is singular; ``numpy.linalg.inv`` would not always notice, so we check).

MMSE (§VI-2)
------------
:math:`W_{MMSE} = c\, H (H^H H + \lambda I_K)^{-1}`, scaled the same way. The paper prints
:math:`\lambda = \sigma^2`, which is what we use by default (``regularizer="paper"``) so the
baseline is the paper's. That λ has the units of a channel gain times a power, so its effect
changes with the unit of power and does not follow a ``p_max`` sweep. The textbook
regularised ZF uses the scale-free :math:`\lambda = K\sigma^2/p_{max}` (the inverse SNR per
user), available as ``regularizer="scaled"``. At the paper's numbers in watts (p_max = 1 W)
the two differ only by the factor K and both are ~1e-11 against a Gram matrix of ~1e-6, so
MMSE is practically ZF there, as the paper's Figs. 3-4 show.

Best single sensing beam
------------------------
The sensing gain :math:`\omega\,\mathrm{tr}(W^H A A^H W)` alone is maximised by putting all
power along u, the principal eigenvector of :math:`A A^H`: :math:`W = \sqrt{p_{max}}\, u
c^T` with any unit vector c. Among those rank-one precoders the sum rate
:math:`\sum_k \log_2\big((g_k + 1)/(g_k(1 - |c_k|^2) + 1)\big)`, with
:math:`g_k = p_{max}|h_k^H u|^2/\sigma^2`, is convex in :math:`x_k = |c_k|^2` on the simplex,
so its maximum is at a vertex: the whole beam goes to the single user with the largest
:math:`|h_k^H u|` (the others get rate 0). :func:`sensing_beam` returns that precoder.

How far from the optimum the sensing beam can be
------------------------------------------------
Its sensing gain is the largest of any precoder, and no user's rate can exceed
:math:`\log_2(1 + p_{max}\|h_k\|^2/\sigma^2)` (all the power on that user, matched to its
channel, no interference). So no precoder's CSBF exceeds the beam's by more than the users'
rate headroom :math:`\sum_k \log_2(1 + p_{max}\|h_k\|^2/\sigma^2) - R(W_{beam})`;
:func:`beam_headroom` returns it as a fraction q of the beam's CSBF, and the beam is within
:math:`q / (1 + q)` of the optimum. In the paper's scenario (ω = 1e4) q is ~0.2% at 30 dBm
and M = 16: the sensing beam is provably within 0.2% of the optimum there.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from ..objective import scale_to_power
from .options import SolverOptions
from .result import Result
from .spec import SolverSpec

__all__ = ["zf", "mmse", "sensing_beam", "beam_headroom", "zf_precoder", "mmse_precoder",
           "defined_precoder", "MMSEOptions", "SPECS"]


@dataclasses.dataclass(frozen=True)
class MMSEOptions(SolverOptions):
    """Options of :func:`mmse`: ``regularizer`` (see :func:`mmse_precoder`)."""

    regularizer: object = "paper"


def _check_users_fit(problem, method):
    M, K = problem.n_tx, problem.n_users
    if K > M:
        raise ValueError(
            f"{method} needs at least as many antennas as users (M >= K): problem has "
            f"M = {M} antennas and K = {K} users, so H^H H (K x K) is singular"
        )


def _inverse_precoders(H, lam):
    """H (H^H H + lam I)^{-1} for a batch H (..., M, K), lam >= 0, and where it is undefined.

    Returns (W, bad): W of shape (..., M, K), zero where ``bad`` (...) is True. With lam = 0
    an instance is bad when H is (numerically) rank-deficient: ``solve`` would not always
    raise, it can return huge garbage instead, so the rank is measured directly. With any
    lam an instance is bad when W is zero (H = 0: no direction to scale to full power) or not
    finite.
    """
    K = H.shape[-1]
    sv = np.linalg.svd(H, compute_uv=False)  # (..., K), descending
    bad = ~(sv[..., 0] > 0) | ~np.isfinite(sv[..., 0])
    if lam == 0.0:
        bad |= sv[..., -1] <= 1e-12 * sv[..., 0]
    gram = np.conj(np.swapaxes(H, -1, -2)) @ H + lam * np.eye(K)
    gram = np.where(bad[..., None, None], np.eye(K), gram)  # keep the batch solvable
    # Solve the K x K system rather than invert it: same cost, better accuracy.
    with np.errstate(all="ignore"):
        W = H @ np.linalg.solve(gram, np.broadcast_to(np.eye(K, dtype=H.dtype), gram.shape))
    bad |= ~np.all(np.isfinite(W), axis=(-2, -1)) | ~(np.abs(W).max(axis=(-2, -1),
                                                                      initial=0.0) > 0)
    return np.where(bad[..., None, None], 0.0, W), bad


def _refuse_bad(bad, method, what):
    if np.any(bad):
        where = np.argwhere(np.asarray(bad))
        first = tuple(int(i) for i in where[0])
        at = first[0] if len(first) == 1 else first
        raise ValueError(f"{method}: {what} for {len(where)} instance(s), first instance {at}"
                         "; the precoder is undefined there")


def defined_precoder(kind, problem):
    """(W, ok) of ``kind`` in {"zf", "mmse"} at full power: W zero where ``ok`` is False
    (a rank-deficient channel for ZF, a zero one for MMSE). For solvers that choose their
    starts per instance (CCPA)."""
    if problem.n_users > problem.n_tx and kind == "zf":
        return np.zeros_like(problem.H), np.zeros(problem.batch_shape, dtype=bool)
    lam = 0.0 if kind == "zf" else problem.noise_var
    W, bad = _inverse_precoders(problem.H, lam)
    return scale_to_power(W, problem.p_max), ~bad


def zf_precoder(problem) -> np.ndarray:
    r"""The zero-forcing precoder :math:`W \propto H (H^H H)^{-1}` at full power (§VI-1).

    Parameters
    ----------
    problem : Problem
        H of shape (..., M, K) with M >= K.

    Returns
    -------
    ndarray of complex128, shape (..., M, K), with ||W||_F^2 = p_max (watts) per instance.

    Raises
    ------
    ValueError
        If K > M or H^H H is singular for an instance (named).
    """
    _check_users_fit(problem, "zf")
    W, bad = _inverse_precoders(problem.H, 0.0)
    _refuse_bad(bad, "zf", "H^H H is singular (channel columns linearly dependent)")
    return scale_to_power(W, problem.p_max)


def mmse_precoder(problem, regularizer="paper") -> np.ndarray:
    r"""The MMSE precoder :math:`W \propto H (H^H H + \lambda I_K)^{-1}` at full power (§VI-2).

    Parameters
    ----------
    problem : Problem
        H of shape (..., M, K) with M >= K.
    regularizer : {"paper", "scaled"} or float
        ``"paper"`` (default): :math:`\lambda = \sigma^2` as printed in the paper.
        ``"scaled"``: :math:`\lambda = K\sigma^2/p_{max}`, independent of the power unit.
        A float >= 0 is used as λ directly (in the units of abs(h)^2, i.e. of H^H H).

    Returns
    -------
    ndarray of complex128, shape (..., M, K), with ``||W||_F^2 = p_max`` per instance.

    Raises
    ------
    ValueError
        If K > M or an instance's channel is zero (named): W = 0 cannot be scaled to p_max.
    """
    _check_users_fit(problem, "mmse")
    if isinstance(regularizer, str):
        if regularizer == "paper":
            lam = problem.noise_var
        elif regularizer == "scaled":
            lam = problem.n_users * problem.noise_var / problem.p_max
        else:
            raise ValueError(
                f"regularizer must be 'paper', 'scaled' or a float >= 0, got {regularizer!r}"
            )
    else:
        try:
            lam = float(regularizer)
        except (TypeError, ValueError):
            raise TypeError(
                f"regularizer must be 'paper', 'scaled' or a float >= 0, got {regularizer!r}"
            ) from None
        if not np.isfinite(lam) or lam < 0:
            raise ValueError(f"regularizer must be a finite float >= 0, got {regularizer!r}")
    W, bad = _inverse_precoders(problem.H, lam)
    _refuse_bad(bad, "mmse", "H^H H is singular (lambda = 0)" if lam == 0.0 else
                "the channel is zero (H = 0: no direction to transmit in)")
    return scale_to_power(W, problem.p_max)


def sensing_beam(problem) -> np.ndarray:
    """The best rank-one precoder that maximises the sensing gain (see the module docstring).

    All the power goes along u, the principal eigenvector of A A^H, in the column of the user
    with the largest abs(h_k^H u); the other columns are zero.

    Parameters
    ----------
    problem : Problem
        H of shape (..., M, K); A of shape (M, N) or (..., M, N).

    Returns
    -------
    ndarray of complex128, shape (..., M, K), with ``||W||_F^2 = p_max`` per instance.
    """
    A = problem.A
    if problem.n_targets == 0:
        raise ValueError("sensing_beam needs at least one target (A has N = 0 columns)")
    B = A @ np.conj(np.swapaxes(A, -1, -2))  # (..., M, M), Hermitian PSD
    _, vecs = np.linalg.eigh(B)  # ascending eigenvalues: the last column is principal
    u = np.broadcast_to(vecs[..., :, -1], problem.batch_shape + (problem.n_tx,))
    gain = np.abs(np.einsum("...mk,...m->...k", np.conj(problem.H), u))  # |h_k^H u|
    best = np.argmax(gain, axis=-1)  # (...)
    onehot = np.arange(problem.n_users) == best[..., None]  # (..., K)
    return np.sqrt(problem.p_max) * u[..., :, None] * onehot[..., None, :]


def beam_headroom(problem) -> np.ndarray:
    r"""The most any precoder's CSBF can exceed the sensing beam's, as a fraction of it.

    .. math:: q = \frac{\sum_k \log_2(1 + p_{max}\|h_k\|^2/\sigma^2) - R(W_{beam})}
        {f(W_{beam})}

    (module docstring: the beam has the largest sensing gain, and the sum is a bound on the
    sum rate). So :math:`f(W) \le (1 + q)\, f(W_{beam})` for every feasible W: small q means
    the sensing dominates and the beam is nearly optimal; large q means the users' rates
    decide, and the beam, which serves one user, leaves most of them unused.

    Parameters
    ----------
    problem : Problem
        With at least one target.

    Returns
    -------
    ndarray of float64, shape (...)
        q >= 0 per instance (dimensionless).
    """
    return _headroom_of(problem, sensing_beam(problem))


def _headroom_of(problem, W):
    """:func:`beam_headroom` with W = ``sensing_beam(problem)`` already computed."""
    from ..objective import sensing_gain, sum_rate

    rate = sum_rate(W, problem)
    f_beam = rate + problem.omega * sensing_gain(W, problem)  # csbf(W), the rate computed once
    gain = np.sum(np.abs(problem.H) ** 2, axis=-2)  # ||h_k||², (..., K)
    bound = np.sum(np.log2(1.0 + problem.p_max * gain / problem.noise_var), axis=-1)
    # 0 where the beam's rates reach the bound (one user, M = 1), a rounding below it at most
    return np.maximum(bound - rate, 0.0) / f_beam


def zf(problem, *, rng=None, **options) -> Result:
    """Solve every instance with zero forcing at full power (§VI-1). No options.

    ``rng`` is accepted for a uniform solver signature and ignored (ZF is deterministic).
    """
    SolverOptions.resolve("zf", None, options)
    t0 = time.perf_counter()
    W = zf_precoder(problem)
    return Result.from_W(problem, W, method="zf", time_s=time.perf_counter() - t0,
                         message="closed form")


def mmse(problem, *, rng=None, **options) -> Result:
    """Solve every instance with the MMSE precoder at full power (§VI-2).

    Options
    -------
    regularizer : {"paper", "scaled"} or float
        See :func:`mmse_precoder`; default ``"paper"`` (λ = σ², as printed).
    """
    opts = MMSEOptions.resolve("mmse", None, options)
    t0 = time.perf_counter()
    W = mmse_precoder(problem, opts.regularizer)
    return Result.from_W(problem, W, method="mmse", time_s=time.perf_counter() - t0,
                         message="closed form")


SPECS = (
    SolverSpec("zf", zf, label="ZF", cost=0.02, style=dict(color="#1f77b4", marker="o")),
    SolverSpec("mmse", mmse, label="MMSE", cost=0.02, options=MMSEOptions,
               style=dict(color="#17becf", marker="x")),
)
