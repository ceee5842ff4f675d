r"""The full-power sphere as an unconstrained problem: W = √p_max V/‖V‖ and its gradient.

The optimum of (P1) uses the full power: scaling W by c > 1 multiplies every useful and
interfering power by c² against the same noise, which raises every SINR, and multiplies the
beampattern gain by c². So the quasi-Newton solvers (``lbfgs``, ``reference``) and the bank's
certificate search over

.. math:: W(V) = \sqrt{p_{max}}\, V / \|V\|_F, \qquad V \in \mathbb{C}^{M \times K}
          \text{ unconstrained},

an unconstrained smooth problem in 2MK real variables, whose every point is feasible with
:math:`\|W\|_F^2 = p_{max}`.

Real variables
--------------
x is V's memory read as float64: :math:`x = [\mathrm{Re}\,v_1, \mathrm{Im}\,v_1,
\mathrm{Re}\,v_2, \dots]` with :math:`v = \mathrm{vec}\,V` in C order, shape (n, 2MK). Going
between x and V is then a view, not a copy (:func:`to_V`), and exact both ways.

The Jacobian of the map
-----------------------
With :math:`c = \sqrt{p_{max}}/\|V\|`, :math:`d\|V\| = \mathrm{Re}\langle V, dV\rangle/\|V\|`
(:math:`\langle A, B\rangle = \sum \overline{A} \odot B`), so

.. math:: dW = c\,\big(dV - \mathrm{Re}\langle V, dV\rangle\, V/\|V\|^2\big) = c\, P_V\, dV,

c times the projection :math:`P_V` onto the tangent space of the sphere through V
(:func:`jvp`; :func:`angd_np.objective.tangent_component` is :math:`P_V`). :math:`P_V` is
symmetric for the real inner product :math:`\mathrm{Re}\langle\cdot,\cdot\rangle`, so the
chain rule from :math:`G = \partial f/\partial W^*` (:func:`angd_np.objective.csbf_and_grad`)
back to V uses the same projection:

.. math:: \partial f/\partial V^* = c\,\big(G - \mathrm{Re}\langle V, G\rangle\, V/\|V\|^2
          \big), \qquad \nabla_x f = 2\,\partial f/\partial V^* \text{ read as real pairs}

(the convention of :mod:`angd_np.objective`: the real gradient is twice the conjugate
Wirtinger one). f does not depend on the scale of V, so :math:`\nabla_x f \perp x`, and
:math:`\|V\|` drifts as an optimiser moves (f sees only the direction); V itself, not W, is
an optimiser's iterate, because W = cV cannot be inverted bit for bit.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..objective import csbf_and_grad, tangent_component

__all__ = ["to_x", "to_V", "to_W", "jvp", "value_and_grad", "value_and_grad_one", "rows"]


def to_x(V) -> np.ndarray:
    """V (n, M, K) complex -> x (n, 2MK) float64 (a copy; module docstring: the layout)."""
    V = np.ascontiguousarray(V, dtype=np.complex128)
    return V.reshape(V.shape[0], -1).view(np.float64).copy()


def to_V(x, core) -> np.ndarray:
    """x (n, 2MK) float64 -> V (n, M, K) complex128: a view of x (exact, no arithmetic)."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    return x.view(np.complex128).reshape((x.shape[0],) + tuple(core))


def to_W(V, p_max) -> np.ndarray:
    """W = √p_max V/‖V‖_F for V of shape (..., M, K) nonzero; ‖W‖_F² = p_max watts."""
    V = np.asarray(V)
    norm2 = (V.real**2 + V.imag**2).sum(axis=(-2, -1))
    return V * np.sqrt(p_max / norm2)[..., None, None]


def jvp(V, dV, p_max) -> np.ndarray:
    """dW, the change of W(V) along dV (module docstring), shape (..., M, K)."""
    V = np.asarray(V)
    norm2 = (V.real**2 + V.imag**2).sum(axis=(-2, -1))
    c = np.sqrt(p_max / norm2)[..., None, None]
    return c * tangent_component(V, np.asarray(dV), norm2)


class _Rows(NamedTuple):
    """The fields of a Problem that :func:`csbf_and_grad` reads, for some of its instances.

    Gathered from arrays a Problem computes once, where ``problem[idx]`` would validate a new
    Problem and recompute H^H and omega A A^H on every call.
    """

    H: np.ndarray
    H_conjT: np.ndarray
    omega_sensing_matrix: np.ndarray
    noise_var: float
    p_max: float


def rows(problem, idx=None):
    """The instances ``idx`` (int array) of a flat problem (n, M, K), for :func:`value_and_grad`.

    ``idx=None`` (or all of them, in order) gives the problem itself, so its caches serve.
    """
    if idx is None or (idx.size == problem.H.shape[0]
                       and np.array_equal(idx, np.arange(idx.size))):
        return problem
    Q = problem.omega_sensing_matrix
    return _Rows(problem.H[idx], problem.H_conjT[idx], Q[idx] if Q.ndim > 2 else Q,
                 problem.noise_var, problem.p_max)


def value_and_grad(x, problem, factor=1.0):
    r"""f(W(x)), ``factor`` times :math:`\nabla_x f`, and W(x), for every row of x.

    Parameters
    ----------
    x : ndarray of float64, shape (n, 2MK)
        Rows of V read as real pairs (module docstring), V nonzero.
    problem : Problem or the result of :func:`rows`
        n instances (H of shape (n, M, K)), one per row of x.
    factor : float or ndarray of float64, shape (n,)
        Scales the gradient (e.g. -1 for the gradient of -f that a minimiser wants).

    Returns
    -------
    f : ndarray of float64, shape (n,)
        The CSBF at :math:`W = \sqrt{p_{max}} V/\|V\|_F`.
    g : ndarray of float64, shape (n, 2MK)
        ``factor`` times :math:`\nabla_x f`, in units of f per unit of x.
    W : ndarray of complex128, shape (n, M, K)
        The point on the power sphere.
    """
    n = x.shape[0]
    if not x.flags.c_contiguous:
        x = np.ascontiguousarray(x)
    flat = x.view(np.complex128)  # (n, MK), vec V
    norm2 = np.vecdot(flat, flat).real
    c = np.sqrt(problem.p_max / norm2)
    W = flat.reshape((n,) + problem.H.shape[-2:]) * c[:, None, None]
    f, G = csbf_and_grad(W, problem)
    G = G.reshape(n, -1)
    # the tangent part of G (module docstring), then the factor c of the chain rule
    radial = np.vecdot(flat, G).real / norm2  # vecdot conjugates its first argument
    G_V = (G - radial[:, None] * flat) * (c * (2.0 * factor))[:, None]
    return f, G_V.view(np.float64), W


def value_and_grad_one(x, problem, factor=1.0):
    """:func:`value_and_grad` of one instance (x of shape (1, 2MK)), its scalars as Python
    floats: the same floating-point operations (bit for bit its row of a batch), fewer calls.
    """
    flat = x.view(np.complex128)  # (1, MK), x contiguous
    norm2 = float(np.vecdot(flat, flat).real[0])
    c = math.sqrt(problem.p_max / norm2)
    W = flat.reshape((1,) + problem.H.shape[-2:]) * c
    f, G = csbf_and_grad(W, problem)
    G = G.reshape(1, -1)
    radial = float(np.vecdot(flat, G).real[0]) / norm2
    G_V = (G - radial * flat) * (c * (2.0 * factor))
    return f, G_V.view(np.float64), W
