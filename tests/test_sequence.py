"""Time-correlated channels: Gauss–Markov fading with the asked ρ, drifting targets."""

import numpy as np
import pytest

import angd_np as an
from angd_np.sequence import bessel_j0, jakes_rho

SCENARIO = an.Scenario.preset("balanced", n_tx=4)


def _corr(H, lag=1):
    """Normalised correlation E[h_t^H h_{t+lag}] / E|h|² over everything, per user."""
    a, b = H[:, :-lag], H[:, lag:]
    num = (np.conj(a) * b).sum(axis=(0, 1, 2))
    return (num / np.sqrt((np.abs(a) ** 2).sum(axis=(0, 1, 2))
                          * (np.abs(b) ** 2).sum(axis=(0, 1, 2)))).real


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_frames_have_the_asked_correlation_and_the_channel_power_of_a_draw(rho):
    seq = SCENARIO.sequence(200, 40, rho=rho, rng=1)
    assert seq.H.shape == (200, 40, 4, 2)
    np.testing.assert_allclose(_corr(seq.H), rho, atol=0.03)
    np.testing.assert_allclose(_corr(seq.H, 2), rho**2, atol=0.03)
    # per-frame channel power: the same in the first and the last frame, as in draws
    p_seq = (np.abs(seq.H) ** 2).sum(axis=-2)  # (n, F, K)
    p_draw = (np.abs(SCENARIO.draw(8000, rng=2).H) ** 2).sum(axis=-2)  # (n, K)
    for frame in (0, 39):
        np.testing.assert_allclose(p_seq[:, frame].mean(axis=0) / p_draw.mean(axis=0), 1.0,
                                   atol=0.12)


def test_frame_zero_is_a_draw_and_rho_one_without_drift_repeats_it():
    gens = [np.random.default_rng(i) for i in range(3)]
    seq = SCENARIO.sequence(3, 5, rho=1.0, rng=gens)
    np.testing.assert_array_equal(seq.H[2, 0], SCENARIO.draw(1, np.random.default_rng(2)).H[0])
    for t in range(5):
        np.testing.assert_array_equal(seq.H[:, t], seq.H[:, 0])
    assert seq.A.shape == (4, 4)  # no drift: one A for every frame


def test_rho_zero_frames_are_independent_draws():
    seq = SCENARIO.sequence(400, 3, rho=0.0, rng=5)
    assert abs(_corr(seq.H)).max() < 0.05


def test_targets_drift_each_with_its_own_sign():
    seq = SCENARIO.sequence(3, 6, rho=0.9, target_drift_deg=0.5, rng=0)
    assert seq.A.shape == (3, 6, 4, 4)
    step = np.diff(np.rad2deg(seq.target_angles_rad), axis=1)
    np.testing.assert_allclose(np.abs(step), 0.5)
    assert np.all(step == step[:, :1])  # each target keeps its direction
    problem = seq.frame(3)
    np.testing.assert_array_equal(problem.A, seq.A[:, 3])
    np.testing.assert_array_equal(problem.H, seq.H[:, 3])


def test_a_sequence_is_the_same_alone_and_in_a_batch():
    gens = [np.random.default_rng(10 + i) for i in range(4)]
    batch = SCENARIO.sequence(4, 5, rho=0.7, target_drift_deg=0.3, rng=gens)
    alone = SCENARIO.sequence(1, 5, rho=0.7, target_drift_deg=0.3,
                              rng=[np.random.default_rng(12)])
    np.testing.assert_array_equal(batch.H[2], alone.H[0])
    np.testing.assert_array_equal(batch[2].A, alone.A)


def test_jakes_doppler_map_matches_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.array([0.0, 0.3, 2.404825557695773, 10.0, 63.0])
    np.testing.assert_allclose(bessel_j0(x), special.j0(x), atol=1e-13)
    assert jakes_rho(10.0, 1e-3) == pytest.approx(special.j0(2 * np.pi * 1e-2))
    assert jakes_rho(500.0, 1e-3) == 0.0  # J0 < 0 there: clipped
    seq = SCENARIO.sequence(2, 3, doppler_hz=10.0, frame_s=1e-3, rng=0)
    assert seq.rho == pytest.approx(special.j0(2 * np.pi * 1e-2))


@pytest.mark.parametrize("kwargs, match", [
    (dict(rho=1.2), "rho must lie in"),
    (dict(rho=-0.1), "rho must lie in"),
    (dict(rho=0.5, doppler_hz=10.0, frame_s=1e-3), "either rho or doppler_hz"),
    (dict(), "give rho"),
    (dict(doppler_hz=10.0), "give rho"),
    (dict(rho=0.5, target_drift_deg=-1.0), "target_drift_deg"),
])
def test_bad_arguments_are_refused_by_name(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SCENARIO.sequence(2, 3, **kwargs)


def test_bad_counts_are_refused():
    with pytest.raises(ValueError, match="n_frames"):
        SCENARIO.sequence(2, -1, rho=0.5)
    with pytest.raises(ValueError, match="n must be"):
        SCENARIO.sequence(0, 3, rho=0.5)
    with pytest.raises(ValueError, match="t must be a frame index"):
        SCENARIO.sequence(1, 3, rho=0.5).frame(3)
