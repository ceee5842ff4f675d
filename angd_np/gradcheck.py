r"""Finite-difference checks of conjugate Wirtinger gradients (a teaching tool, used by tests).

For a real function f of a complex array W and a claimed gradient G = df/dW*, the first-order
change along any complex direction D is

.. math:: \frac{d}{dh} f(W + hD)\Big|_{h=0} = 2\,\mathrm{Re}\sum \overline{G} \odot D .

Two checks follow from it:

- :func:`check_gradient` compares that number with a central finite difference along random
  complex directions (two or four calls of f per direction, any shape). Never the
  complex-step trick: f is not holomorphic, so f(W + ihD) says nothing about G.
- :func:`taylor_remainder` checks the *order*: the error of the first-order model,
  :math:`|f(W + hD) - f(W) - h\, 2\mathrm{Re}\langle G, D\rangle|`, must fall as h^2 when h
  is halved (a wrong G leaves an O(h) error, so the slope tells right from wrong without any
  tolerance to tune).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import as_generator, check_int

__all__ = ["directional_derivative", "check_gradient", "GradientCheck", "taylor_remainder"]


def directional_derivative(G, D) -> float:
    """2 Re sum(conj(G) * D): the rate of change of f along D, given G = df/dW*."""
    return float(2.0 * np.real(np.vdot(np.asarray(G).ravel(), np.asarray(D).ravel())))


def _random_direction(shape, rng, complex_):
    D = rng.standard_normal(shape)
    if complex_:
        D = D + 1j * rng.standard_normal(shape)
    return D / np.linalg.norm(D)


@dataclass(frozen=True)
class GradientCheck:
    """Outcome of :func:`check_gradient`.

    ``errors[j]`` is ``|fd_j - an_j| / max(|2G|, |f(W)| / ||W||)`` along the unit direction j:
    the mismatch relative to the largest slope any unit direction could show, or, where the
    gradient vanishes (a stationary point, a function constant along the sphere), relative to
    the slope that would change f by its own size over a step of W's size. This stays
    meaningful when a direction happens to be nearly orthogonal to the gradient.
    """

    max_error: float
    errors: np.ndarray
    finite_differences: np.ndarray
    analytic: np.ndarray
    step: float

    def __bool__(self):  # pragma: no cover - convenience only
        return bool(np.isfinite(self.max_error))


def check_gradient(f, G, W, *, n_directions=4, step=None, rng=None) -> GradientCheck:
    """Compare a claimed conjugate gradient with finite differences along random directions.

    Parameters
    ----------
    f : callable
        Real scalar function of an array of W's shape (a batch objective should be summed).
    G : ndarray, same shape as W
        The claimed df/dW* at W.
    W : ndarray of complex128 or float64, any shape
        The point. A real W gets real directions (then G is df/dW / 2 for consistency).
    n_directions : int
        Number of random unit directions.
    step : float, optional
        Finite-difference step h in units of ||W|| (default 1e-4, or 1e-4 absolute at W = 0).
    rng : Generator, int or None

    Returns
    -------
    GradientCheck
        Uses the fourth-order central stencil
        (8[f(+h) - f(-h)] - [f(+2h) - f(-2h)]) / 12h, whose truncation error is O(h^4), so
        the remaining error is rounding, about ``eps |f| / (h |G|)``.
    """
    n_directions = check_int(n_directions, "n_directions", minimum=1)
    rng = as_generator(rng)
    W = np.asarray(W)
    G = np.asarray(G)
    if G.shape != W.shape:
        raise ValueError(f"G must have W's shape {W.shape}, got {G.shape}")
    scale = float(np.linalg.norm(W)) or 1.0
    h = (1e-4 if step is None else float(step)) * scale
    slope_scale = 2.0 * float(np.linalg.norm(G))
    fd, an = np.empty(n_directions), np.empty(n_directions)
    for j in range(n_directions):
        D = _random_direction(W.shape, rng, np.iscomplexobj(W))
        f1 = float(f(W + h * D)) - float(f(W - h * D))
        f2 = float(f(W + 2 * h * D)) - float(f(W - 2 * h * D))
        fd[j] = (8.0 * f1 - f2) / (12.0 * h)
        an[j] = directional_derivative(G, D)
    denom = max(slope_scale, abs(float(f(W))) / scale, np.finfo(float).tiny)
    errors = np.abs(fd - an) / denom
    return GradientCheck(float(errors.max()), errors, fd, an, h)


def taylor_remainder(f, G, W, *, steps=None, rng=None):
    """Errors of the first-order Taylor model along one random direction.

    Parameters
    ----------
    f, G, W : as in :func:`check_gradient`
    steps : array_like of float, optional
        Step sizes h (absolute), default ``||W|| * 2**-arange(4, 12)``.

    Returns
    -------
    steps : ndarray of float64, shape (S,)
    remainders : ndarray of float64, shape (S,)
        ``|f(W + hD) - f(W) - h 2Re<G, D>|``.
    orders : ndarray of float64, shape (S - 1,)
        log2 of successive remainder ratios when h halves: about 2 for a correct gradient
        (1 for a wrong one), until rounding takes over at tiny h.
    """
    rng = as_generator(rng)
    W = np.asarray(W)
    scale = float(np.linalg.norm(W)) or 1.0
    if steps is None:
        steps = scale * 2.0 ** -np.arange(4, 12)
    steps = np.asarray(steps, dtype=np.float64)
    D = _random_direction(W.shape, rng, np.iscomplexobj(W))
    f0 = float(f(W))
    slope = directional_derivative(G, D)
    rem = np.array([abs(float(f(W + h * D)) - f0 - h * slope) for h in steps])
    with np.errstate(divide="ignore", invalid="ignore"):
        orders = np.log(rem[:-1] / rem[1:]) / np.log(steps[:-1] / steps[1:])
    return steps, rem, orders
