"""A batch of (P1) instances as arrays, and the ULA steering vectors they are built from.

:class:`Problem` holds channels and steering vectors in linear watts and radians; the
objective and the solvers read nothing else. :func:`ula_steering` is eq. (2). Both are
re-exported by :mod:`angd_np.system`, which draws problems from a :class:`~angd_np.Scenario`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ._validate import check_complex_array, check_int, check_positive

__all__ = ["Problem", "ula_steering"]


def ula_steering(angles_rad, n_tx: int) -> np.ndarray:
    """Steering vectors of an M-element half-wavelength ULA, eq. (2).

    Parameters
    ----------
    angles_rad : array_like of shape (...,)
        Directions theta in radians, measured as in the paper (``sin`` of the angle sets
        the inter-element phase).
    n_tx : int
        Number of antennas M.

    Returns
    -------
    ndarray of complex128, shape (M,) + angles.shape... transposed to (..., M, N)
        For 1-D ``angles`` of length N: shape (M, N), column n is a(theta_n), unit norm.
        For angles of shape (..., N): shape (..., M, N).
    """
    n_tx = check_int(n_tx, "n_tx", minimum=1)
    theta = np.asarray(angles_rad, dtype=np.float64)
    if not np.all(np.isfinite(theta)):
        raise ValueError("angles_rad must be finite")
    m = np.arange(n_tx, dtype=np.float64)
    # (..., N, M) then swap to (..., M, N): columns are steering vectors.
    phase = np.pi * np.sin(theta)[..., :, None] * m
    return np.swapaxes(np.exp(1j * phase), -1, -2) / np.sqrt(n_tx)


@dataclass(frozen=True)
class Problem:
    """A batch of (P1) instances, all arrays in linear units.

    Parameters
    ----------
    H : ndarray of complex128, shape (..., M, K)
        Channels; column k is h_k (SINR uses h_k^H w_i, eq. 5).
    A : ndarray of complex128, shape (M, N) or (..., M, N)
        Target steering vectors, column n is a(theta_n). N may be 0.
    noise_var : float
        Noise power sigma^2 in watts, > 0.
    p_max : float
        Transmit power budget in watts, > 0 (eq. 7b).
    omega : float
        CSBF weight of the sensing term, >= 0 (eq. 7a).
    user_angles_rad : ndarray of float64, shape (..., K), optional
        Directions of the users' drawn positions (for plots and the Rician channel).
    target_angles_rad : ndarray of float64, shape (N,), optional
    """

    H: np.ndarray
    A: np.ndarray
    noise_var: float
    p_max: float
    omega: float
    user_angles_rad: np.ndarray | None = field(default=None, repr=False)
    target_angles_rad: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self):
        H = check_complex_array(self.H, "H", min_ndim=2)
        A = check_complex_array(self.A, "A", min_ndim=2)
        if A.shape[-2] != H.shape[-2]:
            raise ValueError(
                f"A must have M = {H.shape[-2]} rows like H (shape {H.shape}), got shape {A.shape}"
            )
        if H.shape[-1] < 1:
            raise ValueError(f"H must have at least one user column, got shape {H.shape}")
        try:
            np.broadcast_shapes(A.shape[:-2], H.shape[:-2])
        except ValueError:
            raise ValueError(
                f"A's batch shape {A.shape[:-2]} does not broadcast with H's {H.shape[:-2]}"
            ) from None
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "noise_var", check_positive(self.noise_var, "noise_var"))
        object.__setattr__(self, "p_max", check_positive(self.p_max, "p_max"))
        object.__setattr__(self, "omega", check_positive(self.omega, "omega", allow_zero=True))

    # -- derived arrays, computed once per problem (solvers evaluate f thousands of times) --
    @cached_property
    def H_conjT(self) -> np.ndarray:
        """H^H as a contiguous array of shape (..., K, M): row k is h_k^H."""
        return np.ascontiguousarray(np.conj(np.swapaxes(self.H, -1, -2)))

    @cached_property
    def omega_sensing_matrix(self) -> np.ndarray:
        """omega A A^H of shape (M, M) or (..., M, M): the Hessian-like matrix of the sensing
        term, so that omega * sum_n p(theta_n) = Re tr(W^H (omega A A^H) W)."""
        return self.omega * (self.A @ np.conj(np.swapaxes(self.A, -1, -2)))

    @property
    def batch_shape(self) -> tuple:
        """Leading axes of independent instances (``()`` for a single instance)."""
        return self.H.shape[:-2]

    @property
    def n_instances(self) -> int:
        return int(np.prod(self.batch_shape, dtype=np.int64))

    @property
    def n_tx(self) -> int:
        return self.H.shape[-2]

    @property
    def n_users(self) -> int:
        return self.H.shape[-1]

    @property
    def n_targets(self) -> int:
        return self.A.shape[-1]

    def __getitem__(self, index) -> Problem:
        """Select instances along the first batch axis (an int keeps no batch axis)."""
        if not self.batch_shape:
            raise IndexError("a single-instance Problem has no batch axis to index")

        def pick(x, core_ndim):
            if x is None or x.ndim <= core_ndim:
                return x
            return x[index]

        return dataclasses.replace(
            self,
            H=self.H[index],
            A=pick(self.A, 2),
            user_angles_rad=pick(self.user_angles_rad, 1),
        )

    def with_(self, **changes) -> Problem:
        """A copy with some fields replaced (e.g. ``p_max`` or ``omega`` for a sweep)."""
        return dataclasses.replace(self, **changes)

