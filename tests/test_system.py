"""The system model: steering vectors, path loss, draws, presets and validation."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np import Problem, Scenario, path_loss, trial_generator, ula_steering
from angd_np.objective import power, sum_rate


@given(st.integers(1, 64), st.lists(st.floats(-np.pi / 2, np.pi / 2), max_size=6))
def test_steering_vectors_have_unit_norm_and_eq2_phases(m, angles):
    A = ula_steering(angles, m)
    assert A.shape == (m, len(angles))
    np.testing.assert_allclose(np.linalg.norm(A, axis=0), 1.0, rtol=1e-12)
    for n, theta in enumerate(angles):
        expected = np.exp(1j * np.pi * np.arange(m) * np.sin(theta)) / np.sqrt(m)
        np.testing.assert_allclose(A[:, n], expected, atol=1e-12)


def test_path_loss_follows_eq12():
    assert path_loss(1.0) == pytest.approx(1e-3)
    assert path_loss(10.0) == pytest.approx(1e-5)
    with pytest.raises(ValueError, match="distance_m"):
        path_loss(0.0)


def test_paper_defaults_and_presets():
    s = Scenario.preset("paper")
    assert (s.n_tx, s.n_users, s.target_angles_deg) == (16, 2, (-54.0, -18.0, 18.0, 54.0))
    assert s.p_max == pytest.approx(1.0) and s.noise_var == pytest.approx(1e-11)
    assert s.omega == 1e4
    assert Scenario.preset("balanced").omega == 30.0
    assert Scenario.preset("balanced", n_tx=8).n_tx == 8
    with pytest.raises(ValueError, match="preset must be one of"):
        Scenario.preset("nope")


def test_draw_gives_batches_with_the_paper_channel_statistics():
    s = Scenario()
    p = s.draw(4000, rng=1)
    assert p.H.shape == (4000, 16, 2) and p.A.shape == (16, 4)
    # Users sit 38..78 m away: per-antenna power gain 1e-3 d^-2 lies in [1.6e-7, 7e-7].
    per_antenna = np.mean(np.abs(p.H) ** 2, axis=1)
    assert 1e-7 < np.median(per_antenna) < 1e-6
    d = np.sqrt(1e-3 / per_antenna.mean(axis=0))  # typical distance from the mean gain
    assert np.all((d > 38) & (d < 78))
    # User angles lie in the disc centred at (50, 30) m, radius 20 m: about 11..51 degrees.
    deg = np.rad2deg(p.user_angles_rad)
    assert deg.min() > 10 and deg.max() < 52


def test_same_seed_same_draw_and_trials_are_independent_of_grouping():
    s = Scenario()
    np.testing.assert_array_equal(s.draw(3, rng=7).H, s.draw(3, rng=7).H)
    both = s.draw_trials(5, [0, 1, 2])
    alone = s.draw_trials(5, [2])
    np.testing.assert_array_equal(both.H[2], alone.H[0])
    assert not np.allclose(trial_generator(5, 0).random(), trial_generator(5, 1).random())


def test_rician_channel_points_at_the_users():
    s = Scenario(channel="rician", rician_k_db=40.0)
    p = s.draw(50, rng=3)
    # Nearly pure line of sight: h_k is parallel to a(theta_k).
    for b in range(5):
        for k in range(2):
            a = ula_steering([p.user_angles_rad[b, k]], 16)[:, 0]
            h = p.H[b, :, k]
            assert abs(np.vdot(a, h)) / np.linalg.norm(h) > 0.99


def test_balanced_omega_matches_rule_of_thumb(rng):
    """omega ~ R_ZF / (p_max lambda_max(A A^H)) puts both CSBF terms on the same order."""
    s = Scenario.preset("balanced")
    p = s.draw(200, rng)
    H = p.H
    W = H @ np.linalg.inv(np.conj(np.swapaxes(H, -1, -2)) @ H)
    W *= np.sqrt(p.p_max / power(W))[:, None, None]
    lam = np.linalg.eigvalsh(p.A @ p.A.conj().T).max()
    rule = np.mean(sum_rate(W, p)) / (p.p_max * lam)
    assert 0.5 * s.omega < rule < 2.0 * s.omega


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(noise_var=-1.0), "noise_var"),
        (dict(noise_var=0.0), "noise_var"),
        (dict(p_max=0.0), "p_max"),
        (dict(p_max=np.nan), "p_max"),
        (dict(omega=-1.0), "omega"),
        (dict(H=np.full((4, 2), np.nan)), "H must be finite"),
        (dict(H=np.ones(4)), "H must have at least 2 axes"),
        (dict(A=np.ones((5, 3))), "A must have M = 4"),
        (dict(H=np.ones((3, 4, 2)), A=np.ones((2, 4, 3))), "batch shape"),
    ],
)
def test_problem_rejects_bad_input_naming_the_argument(kwargs, match):
    base = dict(H=np.ones((4, 2)), A=np.ones((4, 3)), noise_var=1.0, p_max=1.0, omega=1.0)
    with pytest.raises(ValueError, match=match):
        Problem(**{**base, **kwargs})


@pytest.mark.parametrize(
    "kwargs, exc, match",
    [
        (dict(n_tx=0), ValueError, "n_tx"),
        (dict(n_users=2.5), TypeError, "n_users"),
        (dict(channel="awgn"), ValueError, "channel"),
        (dict(target_angles_deg=(100.0,)), ValueError, "target_angles_deg"),
        (dict(p_max_dbm=np.inf), ValueError, "p_max_dbm"),
    ],
)
def test_scenario_rejects_bad_input_naming_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        Scenario(**kwargs)


def test_draw_rejects_bad_count_and_rng():
    with pytest.raises(ValueError, match="n must be"):
        Scenario().draw(0)
    with pytest.raises(TypeError, match="rng must be"):
        Scenario().draw(1, rng="seed")
