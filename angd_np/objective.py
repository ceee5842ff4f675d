r"""The capacity-sensing balance function (CSBF) of (P1) and its analytic gradient.

Everything here is a pure function of arrays that broadcasts over leading batch axes:
``W`` and ``H`` have shape (..., M, K), ``A`` has shape (M, N) or (..., M, N).

The objective (eq. 7a)
----------------------
.. math::

    f(W) = \sum_k \log_2(1 + \gamma_k) + \omega \sum_n a_n^H W W^H a_n

with the SINR of eq. (5), :math:`\gamma_k = |h_k^H w_k|^2 / (\sum_{i \ne k} |h_k^H w_i|^2
+ \sigma^2)` and the beampattern gain of eq. (6), :math:`p(\theta_n) = a_n^H W W^H a_n`.

Deriving the gradient by hand (no autodiff)
-------------------------------------------
*Convention.* f is real but W is complex, so f is not holomorphic and has no ordinary complex
derivative. We treat W and its conjugate W* as independent (Wirtinger calculus) and return
:math:`G = \partial f / \partial W^*`, of the same shape as W. It is the direction of steepest
ascent: for a small change dW, :math:`df = 2\,\mathrm{Re}\sum \overline{G} \odot dW`. (The
"real-composite" gradient :math:`\partial f/\partial \mathrm{Re}W + j\,\partial f/\partial
\mathrm{Im}W` that PyTorch stores in ``.grad`` equals 2G.)

*Step 1: one squared magnitude.* Let :math:`s_{ki} = h_k^H w_i` (a scalar; the matrix
:math:`S = H^H W` of shape (K, K) holds them all). Then :math:`|s_{ki}|^2 = s_{ki}
\overline{s_{ki}} = (h_k^H w_i)(w_i^H h_k)`. The first factor does not contain :math:`w_i^*`;
the second is linear in it, so

.. math:: \partial |s_{ki}|^2 / \partial w_i^* = h_k\, s_{ki}.

*Step 2: rate as a difference of logs.* With :math:`T_k = \sum_i |s_{ki}|^2 + \sigma^2` (the
total received power) and :math:`I_k = T_k - |s_{kk}|^2` (interference plus noise),
:math:`\log_2(1+\gamma_k) = \log_2 T_k - \log_2 I_k`. By the chain rule with
:math:`d \log_2 x = dx / (x \ln 2)`:

.. math::

    \frac{\partial R_k}{\partial w_i^*} = \frac{h_k s_{ki}}{\ln 2}
        \Big(\frac{1}{T_k} - \frac{[i \ne k]}{I_k}\Big).

*Step 3: sum over users.* Collect the scalar weights in :math:`C_{ki} = s_{ki}(1/T_k -
[i\ne k]/I_k)/\ln 2`. Column i of the gradient is :math:`\sum_k h_k C_{ki}`, that is
:math:`\partial R/\partial W^* = H C`.

*Step 4: sensing.* :math:`\sum_n a_n^H W W^H a_n = \mathrm{tr}(W^H A A^H W)` is a Hermitian
quadratic form in W; its conjugate derivative is :math:`A A^H W`.

*Result.*

.. math:: G = \partial f / \partial W^* = H C + \omega A (A^H W).

Cost: O(MK^2 + MNK) per instance, never forming M×M matrices. At W = 0, S = 0 and G = 0: the
origin is a stationary point, which is why solvers start elsewhere.

Power projection (eq. 11) and its backward pass
-----------------------------------------------
:math:`P(W) = W` if :math:`\|W\|_F^2 \le p_{max}`, else :math:`c W` with :math:`c =
\sqrt{p_{max}}/\|W\|_F`. ANGD differentiates through it. If :math:`G_V = \partial f/\partial
V^*` at V = P(W), then on the scaled branch (using :math:`d\|W\| = \mathrm{Re}\langle W, dW
\rangle / \|W\|`)

.. math:: \partial f / \partial W^* = c\,\big(G_V - \mathrm{Re}\langle W, G_V\rangle W /
    \|W\|_F^2\big),

the component of :math:`G_V` tangent to the sphere, scaled by c; on the identity branch it is
:math:`G_V` itself.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sinr",
    "rates",
    "sum_rate",
    "beampattern",
    "sensing_gain",
    "csbf",
    "csbf_grad",
    "csbf_and_grad",
    "project_power",
    "project_power_backward",
    "tangent_component",
    "scale_to_power",
    "power",
]

_LN2 = np.log(2.0)


def _powers(W, problem):
    """S = H^H W, the signal power |s_kk|^2, the total T_k and interference-plus-noise I_k.

    Shapes: S (..., K, K); signal, total, interf (..., K). All powers in watts.
    """
    S = problem.H_conjT @ W  # S[k, i] = h_k^H w_i
    P = S.real**2 + S.imag**2
    signal = np.diagonal(P, axis1=-2, axis2=-1)
    # Sum the off-diagonal powers directly: T_k - |s_kk|^2 would cancel catastrophically
    # when the user's own signal dominates (SINR ~ 1e6 at the paper's scales).
    interf = (P * _offdiag_mask(P.shape[-1])).sum(axis=-1) + problem.noise_var
    total = interf + signal
    return S, signal, total, interf


def _check_W(W, problem):
    W = np.asarray(W)
    if W.shape[-2:] != problem.H.shape[-2:]:
        raise ValueError(
            f"W must have shape (..., M, K) = (..., {problem.n_tx}, {problem.n_users}) like H, "
            f"got shape {W.shape}"
        )
    return W


def sinr(W, problem) -> np.ndarray:
    """Per-user SINR gamma_k of eq. (5), linear (not dB).

    Parameters
    ----------
    W : ndarray of complex128, shape (..., M, K)
        Precoder; column k is w_k, in sqrt(watts).
    problem : Problem
        Supplies H (..., M, K) and noise_var (watts).

    Returns
    -------
    ndarray of float64, shape (..., K)
    """
    W = _check_W(W, problem)
    _, signal, _, interf = _powers(W, problem)
    return signal / interf


def rates(W, problem) -> np.ndarray:
    """Per-user rate R_k = log2(1 + gamma_k) in bit/s/Hz, shape (..., K)."""
    W = _check_W(W, problem)
    _, signal, _, interf = _powers(W, problem)
    # log1p keeps full relative precision at low SINR, where log2(T) - log2(I) would
    # subtract two nearly equal numbers (and finite differences would see only rounding).
    return np.log1p(signal / interf) / _LN2


def sum_rate(W, problem) -> np.ndarray:
    """Sum rate sum_k log2(1 + gamma_k) in bit/s/Hz, shape (...)."""
    return rates(W, problem).sum(axis=-1)


def beampattern(W, A) -> np.ndarray:
    """Transmit beampattern p(theta) = a^H W W^H a (eq. 6) for each column a of A.

    Parameters
    ----------
    W : ndarray of complex128, shape (..., M, K)
    A : ndarray of complex128, shape (M, N) or (..., M, N)
        Steering vectors: the targets' (``problem.A``) or any angle grid
        (``ula_steering(grid_rad, M)``).

    Returns
    -------
    ndarray of float64, shape (..., N), in watts (A has unit-norm columns).
    """
    W = np.asarray(W)
    A = np.asarray(A)
    if A.shape[-2] != W.shape[-2]:
        raise ValueError(f"A must have M = {W.shape[-2]} rows like W, got shape {A.shape}")
    B = np.conj(np.swapaxes(A, -1, -2)) @ W  # (..., N, K): a_n^H w_k
    return (B.real**2 + B.imag**2).sum(axis=-1)


def sensing_gain(W, problem) -> np.ndarray:
    """Sum of the beampattern gains at the targets, sum_n p(theta_n), watts, shape (...)."""
    W = _check_W(W, problem)
    return beampattern(W, problem.A).sum(axis=-1)


def csbf(W, problem) -> np.ndarray:
    """The CSBF f(W) of eq. (7a): sum rate + omega * sensing gain, shape (...)."""
    return sum_rate(W, problem) + problem.omega * sensing_gain(W, problem)


def csbf_and_grad(W, problem):
    """f(W) and G = df/dW* in one pass (the hot path of every iterative solver).

    Implements steps 1-4 of the module docstring with as few array operations as possible
    (each NumPy call costs microseconds at these sizes, so the count matters more than
    flops): H^H and omega A A^H are computed once per problem and cached on it.

    Returns
    -------
    f : ndarray of float64, shape (...)
    G : ndarray of complex128, shape (..., M, K)
    """
    W = _check_W(W, problem)
    S = problem.H_conjT @ W  # (..., K, K), S[k, i] = h_k^H w_i
    P = S.real**2 + S.imag**2
    K = P.shape[-1]
    off = _offdiag_mask(K)
    interf = (P * off).sum(axis=-1) + problem.noise_var  # I_k
    signal = np.diagonal(P, axis1=-2, axis2=-1)
    total = interf + signal  # T_k
    # C[k, i] = s_ki (1/T_k - [i != k]/I_k) / ln 2  (steps 2-3)
    inv_t = 1.0 / (_LN2 * total)
    inv_i = 1.0 / (_LN2 * interf)
    weight = inv_t[..., :, None] - off * inv_i[..., :, None]
    G = problem.H @ (S * weight)
    rate = np.log1p(signal / interf).sum(axis=-1) / _LN2
    # Step 4 with the cached omega A A^H: gradient Q W, value Re tr(W^H Q W).
    QW = problem.omega_sensing_matrix @ W
    G += QW
    flat = W.shape[:-2] + (-1,)
    sensing = np.vecdot(W.reshape(flat), QW.reshape(flat)).real  # vecdot conjugates W
    return rate + sensing, G


_OFFDIAG = {}


def _offdiag_mask(K):
    """1 - I_K, cached: the [i != k] of the derivation."""
    mask = _OFFDIAG.get(K)
    if mask is None:
        mask = _OFFDIAG[K] = 1.0 - np.eye(K)
    return mask


def csbf_grad(W, problem) -> np.ndarray:
    """Conjugate Wirtinger gradient G = df/dW* of the CSBF, shape (..., M, K).

    See the module docstring for the derivation. Notes: G is the steepest-ascent
    direction; PyTorch's real-composite ``.grad`` would be 2G; at W = 0, G = 0.
    """
    return csbf_and_grad(W, problem)[1]


def power(W) -> np.ndarray:
    """Transmit power Tr(W W^H) = ||W||_F^2 in watts, shape (...)."""
    W = np.asarray(W)
    return (W.real**2 + W.imag**2).sum(axis=(-2, -1))


def project_power(W, p_max) -> np.ndarray:
    """Projection onto the power ball Tr(W W^H) <= p_max, eq. (11), per instance.

    Parameters
    ----------
    W : ndarray of complex128, shape (..., M, K)
    p_max : float or ndarray broadcastable to W.shape[:-2]
        Budget in watts, > 0.

    Returns
    -------
    ndarray of complex128, shape (..., M, K): W where feasible, else scaled onto the sphere.
    """
    p_max = np.asarray(p_max, dtype=np.float64)
    if np.any(~(p_max > 0)) or np.any(~np.isfinite(p_max)):
        raise ValueError(f"p_max must be finite and > 0, got {p_max!r}")
    W = np.asarray(W)
    return W * _projection_scale(power(W), p_max)[..., None, None]


def _projection_scale(pw, p_max):
    """c = min(1, sqrt(p_max / ||W||^2)), 1 where W = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.sqrt(p_max / pw)
    return np.where(pw > p_max, c, 1.0)


def project_power_backward(W, p_max, G_out) -> np.ndarray:
    """Backward pass of :func:`project_power`: df/dW* from G_out = df/dV* at V = P(W).

    On the scaled branch the result is ``c (G_out - Re<W, G_out> W / ||W||^2)``: only the
    component tangent to the power sphere survives (see the module docstring).

    Parameters
    ----------
    W : ndarray of complex128, shape (..., M, K)
        The input of the projection (before scaling).
    p_max : float or ndarray broadcastable to W.shape[:-2]
    G_out : ndarray of complex128, shape (..., M, K)

    Returns
    -------
    ndarray of complex128, shape (..., M, K)
    """
    W = np.asarray(W)
    G_out = np.asarray(G_out)
    pw = power(W)
    c = _projection_scale(pw, np.asarray(p_max, dtype=np.float64))
    scaled = pw > p_max
    with np.errstate(divide="ignore", invalid="ignore"):
        tangent = tangent_component(W, G_out, pw)
    return c[..., None, None] * np.where(scaled[..., None, None], tangent, G_out)


def tangent_component(W, G, pw=None) -> np.ndarray:
    """The part of G tangent to the sphere through W: ``G - Re<W, G> W / ||W||_F^2``.

    On the power sphere ||W||² = p_max only this part of the gradient G = ∂f/∂W* moves f to
    first order; the radial part only changes the power. It is the backward pass of a
    normalisation W = r V/||V|| (times r/||V||), and its norm relative to ||G|| measures
    stationarity on the sphere (zero at a local optimum of (P1) that uses the full power).

    Parameters
    ----------
    W, G : ndarray of complex128, shape (..., M, K)
        A nonzero point and a gradient there.
    pw : ndarray of float64, shape (...), optional
        ||W||_F² if already computed.

    Returns
    -------
    ndarray of complex128, shape (..., M, K)
    """
    pw = power(W) if pw is None else pw
    radial = (np.conj(W) * G).real.sum(axis=(-2, -1)) / pw
    return G - radial[..., None, None] * W


def scale_to_power(W, p_max) -> np.ndarray:
    """Each instance of W (..., M, K) scaled by one positive factor to ||W||_F² = p_max.

    The optimum of (P1) uses the full power (every SINR and the beampattern grow with a
    common power scale), so baselines and starting points are put on the sphere. An all-zero
    instance has no direction and stays zero.
    """
    pw = power(W)
    return W * np.sqrt(p_max / np.where(pw > 0, pw, 1.0))[..., None, None]
