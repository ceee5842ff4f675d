"""The ISAC system model of the paper's §II: scenario, channels and a batch of problems.

A :class:`Scenario` is the configuration in the units a person speaks (dBm, dB, degrees,
metres). :meth:`Scenario.draw` turns it into a :class:`Problem`: a batch of independent
instances held as arrays in linear watts and radians, which the objective and the solvers use.

Channels
--------
- Communication (eq. 1): ``h_k = sqrt(zeta_k) * h~_k`` with ``h~_k ~ CN(0, I_M)`` (Rayleigh),
  ``zeta_k = L(d_k)`` the path loss of eq. (12), ``L(d) = C0 (d / D0)^-nu``.
  Optionally Rician: a line-of-sight part pointing at each user's drawn position is added
  with power fraction ``K/(K+1)``; without it the user angles never enter the model.
- Sensing (eq. 2): fixed steering vectors ``a(theta_n)`` of a half-wavelength ULA.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ._validate import as_generator, check_finite, check_int, check_positive
from .problem import Problem, ula_steering
from .sequence import draw_sequence
from .units import db_to_lin, dbm_to_watt, deg_to_rad

__all__ = ["Scenario", "Problem", "ula_steering", "path_loss", "trial_generator", "PRESETS"]


def path_loss(distance_m, c0_db: float = -30.0, ref_distance_m: float = 1.0, exponent: float = 2.0):
    """Large-scale power gain of eq. (12): ``L(d) = C0 (d / D0)^-nu`` (linear, not dB)."""
    d = np.asarray(distance_m, dtype=np.float64)
    if np.any(~np.isfinite(d)) or np.any(d <= 0):
        raise ValueError("distance_m must be finite and > 0")
    return db_to_lin(c0_db) * (d / ref_distance_m) ** (-exponent)


def trial_generator(seed: int, trial: int, stream: int = 0) -> np.random.Generator:
    """The random stream of one Monte Carlo trial, derived from ``(seed, trial, stream)`` only.

    ``stream`` separates independent uses within a trial (0: channel draw, 1: solver
    initialisation), so a trial's numbers never depend on workers, chunking or order.
    """
    seed = check_int(seed, "seed", minimum=0)
    trial = check_int(trial, "trial", minimum=0)
    return np.random.default_rng(np.random.SeedSequence([seed, trial, stream]))


def _uniform_disc(rng, n, k, center_m, radius_m):
    """n×k points uniform in a disc (area-uniform: r = R sqrt(u)); returns x, y in metres."""
    r = radius_m * np.sqrt(rng.random((n, k)))
    phi = 2.0 * np.pi * rng.random((n, k))
    return center_m[0] + r * np.cos(phi), center_m[1] + r * np.sin(phi)


@dataclass(frozen=True)
class Scenario:
    """Configuration of the paper's ISAC system (§II and §VI), in edge units.

    Defaults are the paper's: M = 16 antennas, K = 2 users, N = 4 targets at -54, -18, 18, 54
    degrees, p_max = 30 dBm, noise -80 dBm, omega = 1e4, path loss C0 = -30 dB at D0 = 1 m with
    exponent 2, users uniform in a disc of radius 20 m centred at (50, 30) m.

    The paper also says the users are "at -30 and 30 degrees"; that contradicts the disc
    (which spans about 11 to 51 degrees). Rayleigh channels use only the drawn distances, so
    ``user_angles_deg`` is kept for plots only; with ``channel="rician"`` the line-of-sight part
    points at each user's drawn position.
    """

    n_tx: int = 16
    n_users: int = 2
    target_angles_deg: tuple = (-54.0, -18.0, 18.0, 54.0)
    user_angles_deg: tuple = (-30.0, 30.0)
    p_max_dbm: float = 30.0
    noise_dbm: float = -80.0
    omega: float = 1e4
    path_loss_c0_db: float = -30.0
    ref_distance_m: float = 1.0
    path_loss_exponent: float = 2.0
    user_center_m: tuple = (50.0, 30.0)
    user_radius_m: float = 20.0
    channel: str = "rayleigh"
    rician_k_db: float = 10.0
    name: str = "custom"

    def __post_init__(self):
        check_int(self.n_tx, "n_tx", minimum=1)
        check_int(self.n_users, "n_users", minimum=1)
        for name in ("p_max_dbm", "noise_dbm", "path_loss_c0_db", "rician_k_db"):
            check_finite(getattr(self, name), name)
        check_positive(self.omega, "omega", allow_zero=True)
        check_positive(self.ref_distance_m, "ref_distance_m")
        check_positive(self.path_loss_exponent, "path_loss_exponent", allow_zero=True)
        check_positive(self.user_radius_m, "user_radius_m", allow_zero=True)
        if self.channel not in ("rayleigh", "rician"):
            raise ValueError(f"channel must be 'rayleigh' or 'rician', got {self.channel!r}")
        angles = np.asarray(self.target_angles_deg, dtype=np.float64)
        if angles.ndim != 1 or np.any(~np.isfinite(angles)) or np.any(np.abs(angles) > 90):
            raise ValueError(
                "target_angles_deg must be a flat sequence of finite angles in [-90, 90] "
                f"degrees, got {self.target_angles_deg!r}"
            )
        if len(self.user_center_m) != 2:
            raise ValueError(f"user_center_m must be (x, y) in metres, got {self.user_center_m!r}")
        # Normalise sequences to tuples so the dataclass stays hashable and comparable.
        object.__setattr__(self, "target_angles_deg", tuple(float(a) for a in angles))
        object.__setattr__(self, "user_angles_deg", tuple(float(a) for a in self.user_angles_deg))
        object.__setattr__(self, "user_center_m", tuple(float(c) for c in self.user_center_m))

    # -- presets -------------------------------------------------------------------------
    @classmethod
    def preset(cls, name: str, **overrides) -> Scenario:
        """A named configuration: ``"paper"`` (faithful) or ``"balanced"`` (omega = 30).

        Why "balanced": in watts the paper's omega = 1e4 makes the sensing term (~1e4) dwarf
        the sum rate (~15-35 bit/s/Hz), so maximising the CSBF is nearly maximising the
        beampattern. The two terms are of the same order when
        ``omega ~ R_ZF / (p_max * lambda_max(A A^H))`` (the ZF sum rate over the largest
        sensing gain full power can buy); at the paper's geometry that is about 30 (the
        test ``test_balanced_omega_matches_rule_of_thumb`` recomputes it).
        """
        if name not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {name!r}")
        return dataclasses.replace(cls(**PRESETS[name]), **overrides)

    def replace(self, **changes) -> Scenario:
        """A copy with some fields changed (validated again)."""
        return dataclasses.replace(self, **changes)

    # -- linear quantities ---------------------------------------------------------------
    @property
    def p_max(self) -> float:
        """Power budget in watts."""
        return float(dbm_to_watt(self.p_max_dbm))

    @property
    def noise_var(self) -> float:
        """Noise power sigma^2 in watts."""
        return float(dbm_to_watt(self.noise_dbm))

    @property
    def target_angles_rad(self) -> np.ndarray:
        return deg_to_rad(self.target_angles_deg)

    def steering(self) -> np.ndarray:
        """Target steering matrix A of shape (M, N), eq. (2)."""
        return ula_steering(self.target_angles_rad, self.n_tx)

    # -- draws -----------------------------------------------------------------------------
    def draw(self, n: int, rng=None) -> Problem:
        """Draw a batch of ``n`` independent instances (H of shape (n, M, K)).

        Parameters
        ----------
        n : int
            Number of instances, >= 1.
        rng : numpy.random.Generator, int or None
            Source of all randomness (user positions and fading).
        """
        n = check_int(n, "n", minimum=1)
        rng = as_generator(rng)
        zeta, angles = self.draw_users(n, rng)
        M, K = self.n_tx, self.n_users
        # CN(0, I): real and imaginary parts each of variance 1/2.
        g = (rng.standard_normal((n, M, K)) + 1j * rng.standard_normal((n, M, K))) / np.sqrt(2)
        if self.channel == "rician":
            kf = float(db_to_lin(self.rician_k_db))
            los = np.sqrt(M) * ula_steering(angles, M)  # (n, M, K), unit-modulus entries
            g = np.sqrt(kf / (kf + 1.0)) * los + np.sqrt(1.0 / (kf + 1.0)) * g
        H = np.sqrt(zeta)[:, None, :] * g
        return Problem(
            H=H,
            A=self.steering(),
            noise_var=self.noise_var,
            p_max=self.p_max,
            omega=self.omega,
            user_angles_rad=angles,
            target_angles_rad=self.target_angles_rad,
        )

    def draw_users(self, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """Users uniform in the disc: path loss ζ (eq. 12, linear) and angle (rad), (n, K) each.

        The first draws of :meth:`draw` (then come the fading draws).
        """
        x, y = _uniform_disc(rng, n, self.n_users, self.user_center_m, self.user_radius_m)
        distance = np.maximum(np.hypot(x, y), 1e-3 * self.ref_distance_m)  # (n, K)
        zeta = db_to_lin(self.path_loss_c0_db) * (distance / self.ref_distance_m) ** (
            -self.path_loss_exponent
        )
        return zeta, np.arctan2(y, x)  # angles from the x-axis as in the paper

    def sequence(self, n: int, n_frames: int, *, rho=None, doppler_hz=None, frame_s=None,
                 target_drift_deg=0.0, rng=None):
        """``n`` sequences of ``n_frames`` time-correlated frames (:mod:`angd_np.sequence`).

        Gauss–Markov fading with frame-to-frame correlation ``rho`` (or Jakes'
        J0(2π ``doppler_hz`` ``frame_s``)), targets drifting ``target_drift_deg`` per frame;
        returns a :class:`~angd_np.sequence.ProblemSequence`.
        """
        return draw_sequence(self, n, n_frames, rho=rho, doppler_hz=doppler_hz,
                             frame_s=frame_s, target_drift_deg=target_drift_deg, rng=rng)

    def draw_trials(self, seed: int, trials) -> Problem:
        """Instances for the given trial indices, trial i from ``trial_generator(seed, i)``.

        The same trial index always gives the same instance, whatever else is drawn with it.
        """
        trials = [check_int(int(t), "trials") for t in np.atleast_1d(trials)]
        if not trials:
            raise ValueError("trials must name at least one trial index")
        parts = [self.draw(1, trial_generator(seed, t, 0)) for t in trials]
        return dataclasses.replace(
            parts[0],
            H=np.concatenate([p.H for p in parts]),
            user_angles_rad=np.concatenate([p.user_angles_rad for p in parts]),
        )


PRESETS = {
    "paper": dict(name="paper"),
    "balanced": dict(name="balanced", omega=30.0),
}
