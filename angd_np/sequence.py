r"""Time-varying channels and moving targets: a batch of frame sequences.

A base station re-solves its precoder every frame while the channels age and the targets
move. :meth:`Scenario.sequence <angd_np.Scenario.sequence>` draws ``n`` independent sequences
of ``n_frames`` frames, returned as a :class:`ProblemSequence`.

Channels: first-order Gauss–Markov fading
-----------------------------------------
Each user's position (hence its path loss ζ_k, eq. 12) is drawn once per sequence, as in
:meth:`Scenario.draw`; the fading evolves as

.. math::

    h_k[t+1] = \bar h_k + \rho\,(h_k[t] - \bar h_k) + \sqrt{1 - \rho^2}\; e_k[t],
    \qquad e_k[t] \sim \mathcal{CN}(0,\ \zeta_k\, I_M / (\kappa + 1)),

with :math:`\bar h_k` the line-of-sight mean (zero for the Rayleigh channel of eq. 1, where
κ = 0). Frame 0 is a :meth:`Scenario.draw`, and the recursion keeps the scattered part's
covariance, so every frame has the channel statistics of a ``draw``; the correlation between
frames t and t + d is ρ^d. ρ = 1 repeats frame 0; ρ = 0 makes the frames independent draws.

ρ is given, or comes from Jakes' model of a mobile at Doppler frequency f_D observed every
T_frame seconds: :math:`\rho = J_0(2\pi f_D T_{frame})` (:func:`jakes_rho`), clipped at 0.

Targets: each drifts by ``target_drift_deg`` per frame, in a direction (±) drawn per target
from the sequence's stream, so the steering matrix A changes every frame.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ._validate import (
    as_generators,
    check_complex_array,
    check_finite,
    check_int,
    check_positive,
)
from .problem import Problem, ula_steering
from .units import db_to_lin, deg_to_rad

__all__ = ["ProblemSequence", "draw_sequence", "jakes_rho", "bessel_j0"]


def bessel_j0(x):
    r"""The Bessel function :math:`J_0(x) = \frac{1}{\pi}\int_0^\pi \cos(x \sin\tau)\,d\tau`.

    The trapezoid rule on this periodic integrand converges spectrally: with more nodes than
    abs(x) + 64 it is exact to round-off (checked against scipy.special.j0 in the tests), so no
    scipy is needed.
    """
    x = np.asarray(x, dtype=np.float64)
    nodes = int(max(64, 2 * np.max(np.abs(x), initial=0.0) + 64))
    tau = np.pi * (np.arange(nodes) + 0.5) / nodes  # midpoints: the same spectral accuracy
    return np.cos(x[..., None] * np.sin(tau)).mean(axis=-1)


def jakes_rho(doppler_hz: float, frame_s: float) -> float:
    """ρ = J0(2π f_D T_frame) of Jakes' model, clipped at 0 (a first-order process cannot
    follow J0's negative lobes)."""
    doppler_hz = check_positive(doppler_hz, "doppler_hz", allow_zero=True)
    frame_s = check_positive(frame_s, "frame_s")
    return max(0.0, float(bessel_j0(2.0 * math.pi * doppler_hz * frame_s)))


@dataclasses.dataclass(frozen=True)
class ProblemSequence:
    """``n`` sequences of ``n_frames`` frames of (P1), arrays in linear units.

    Attributes
    ----------
    H : ndarray of complex128, shape (n, F, M, K)
        Channels of every frame.
    A : ndarray of complex128, shape (n, F, M, N) or (M, N)
        Target steering vectors (per frame when the targets drift).
    noise_var, p_max, omega : float
        As in :class:`~angd_np.Problem` (watts).
    rho : float
        Correlation of the fading between consecutive frames.
    target_angles_rad : ndarray of float64, shape (n, F, N) or (N,)
    """

    H: np.ndarray
    A: np.ndarray
    noise_var: float
    p_max: float
    omega: float
    rho: float
    target_angles_rad: np.ndarray | None = None

    def __post_init__(self):
        H = check_complex_array(self.H, "H", min_ndim=4)
        if H.ndim != 4 or min(H.shape[:2]) < 1 or H.shape[-1] < 1:
            raise ValueError(f"H must have shape (n, F, M, K) with n >= 1 sequences, F >= 1 "
                             f"frames and K >= 1 users, got shape {H.shape}")
        A = check_complex_array(self.A, "A", min_ndim=2)
        n, F, M = H.shape[:3]
        if A.ndim not in (2, 4) or A.shape[-2] != M or (A.ndim == 4 and A.shape[:2] != (n, F)):
            raise ValueError(f"A must have shape ({M}, N) or ({n}, {F}, {M}, N) like H "
                             f"(shape {H.shape}), got shape {A.shape}")
        object.__setattr__(self, "H", H)
        object.__setattr__(self, "A", A)
        object.__setattr__(self, "noise_var", check_positive(self.noise_var, "noise_var"))
        object.__setattr__(self, "p_max", check_positive(self.p_max, "p_max"))
        object.__setattr__(self, "omega", check_positive(self.omega, "omega", allow_zero=True))
        rho = check_finite(self.rho, "rho")
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"rho must lie in [0, 1], got {rho!r}")
        object.__setattr__(self, "rho", rho)

    @property
    def n_sequences(self) -> int:
        return self.H.shape[0]

    @property
    def n_frames(self) -> int:
        return self.H.shape[1]

    def frame(self, t: int) -> Problem:
        """The batch of the n instances at frame ``t`` (H of shape (n, M, K))."""
        t = check_int(t, "t", minimum=0)
        if t >= self.n_frames:
            raise ValueError(f"t must be a frame index in [0, {self.n_frames}), got {t}")
        A = self.A[:, t] if self.A.ndim == 4 else self.A
        return Problem(H=self.H[:, t], A=A, noise_var=self.noise_var, p_max=self.p_max,
                       omega=self.omega)

    def __getitem__(self, index) -> ProblemSequence:
        """A subset of the sequences (first axis), as a sequence batch of its own."""
        index = np.atleast_1d(np.arange(self.n_sequences)[index])
        pick = (lambda a: a[index]) if self.A.ndim == 4 else (lambda a: a)
        angles = self.target_angles_rad
        return dataclasses.replace(
            self, H=self.H[index], A=pick(self.A),
            target_angles_rad=angles[index] if angles is not None and angles.ndim == 3
            else angles)


def _check_rho(rho, doppler_hz, frame_s) -> float:
    if rho is not None and (doppler_hz is not None or frame_s is not None):
        raise ValueError(f"give either rho or doppler_hz with frame_s, not both (got rho={rho!r}, "
                         f"doppler_hz={doppler_hz!r}, frame_s={frame_s!r})")
    if rho is None:
        if doppler_hz is None or frame_s is None:
            raise ValueError("give rho (in [0, 1]) or both doppler_hz and frame_s (Jakes' "
                             f"model), got doppler_hz={doppler_hz!r}, frame_s={frame_s!r}")
        return jakes_rho(doppler_hz, frame_s)
    rho = check_finite(rho, "rho")
    if not 0.0 <= rho <= 1.0:
        raise ValueError(f"rho must lie in [0, 1], got {rho!r}")
    return rho


def draw_sequence(scenario, n, n_frames, *, rho=None, doppler_hz=None, frame_s=None,
                  target_drift_deg=0.0, rng=None) -> ProblemSequence:
    """Draw ``n`` independent sequences of ``n_frames`` frames (see the module docstring).

    Parameters
    ----------
    scenario : Scenario
    n, n_frames : int
        Sequences (>= 1) and frames per sequence (>= 1).
    rho : float in [0, 1], optional
        Frame-to-frame correlation of the fading; or give ``doppler_hz`` and ``frame_s``.
    doppler_hz, frame_s : float, optional
        Doppler frequency (Hz, >= 0) and frame duration (s, > 0) for Jakes' ρ.
    target_drift_deg : float
        Angle by which each target moves per frame, degrees (>= 0; its sign per target is
        drawn).
    rng : Generator, int, None, or a sequence of n of them
        Sequence i draws everything from its own generator (the Monte Carlo runner passes
        ``trial_generator(seed, i, 0)``), so it is the same in any batch.
    """
    n = check_int(n, "n", minimum=1)
    n_frames = check_int(n_frames, "n_frames", minimum=1)
    rho = _check_rho(rho, doppler_hz, frame_s)
    drift = deg_to_rad(check_positive(target_drift_deg, "target_drift_deg", allow_zero=True))
    gens = as_generators(rng, n)
    M, K = scenario.n_tx, scenario.n_users
    theta0 = scenario.target_angles_rad
    N = theta0.size
    kf = float(db_to_lin(scenario.rician_k_db)) if scenario.channel == "rician" else 0.0
    H = np.empty((n, n_frames, M, K), dtype=np.complex128)
    angles = np.empty((n, n_frames, N)) if drift > 0 else None
    innovation = np.sqrt(1.0 - rho * rho)
    for i, g in enumerate(gens):
        # The draws of Scenario.draw(1, g) first, so frame 0 is exactly that draw.
        zeta, user_angles = scenario.draw_users(1, g)
        zeta, user_angles = zeta[0], user_angles[0]
        mean = 0.0
        if kf > 0:
            mean = np.sqrt(zeta * kf / (kf + 1.0)) * np.sqrt(M) * ula_steering(user_angles, M)
        scatter_sd = np.sqrt(zeta / (kf + 1.0))  # (K,)
        for t in range(n_frames):
            e = (g.standard_normal((M, K)) + 1j * g.standard_normal((M, K))) / np.sqrt(2)
            if t == 0:
                H[i, 0] = mean + scatter_sd * e
            else:
                H[i, t] = mean + rho * (H[i, t - 1] - mean) + innovation * scatter_sd * e
        if angles is not None:
            signs = g.choice((-1.0, 1.0), size=N)
            angles[i] = theta0 + drift * np.arange(n_frames)[:, None] * signs
    A = scenario.steering() if angles is None else ula_steering(angles, M)
    return ProblemSequence(H=H, A=A, noise_var=scenario.noise_var, p_max=scenario.p_max,
                           omega=scenario.omega, rho=rho,
                           target_angles_rad=theta0 if angles is None else angles)
