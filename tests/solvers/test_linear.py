"""Closed-form baselines: zero forcing, MMSE and the best single sensing beam."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Scenario, csbf, power, sensing_gain
from angd_np.solvers.linear import (
    beam_headroom,
    mmse,
    mmse_precoder,
    sensing_beam,
    zf,
    zf_precoder,
)


@given(m=st.integers(1, 12), k=st.integers(1, 4), n=st.integers(1, 5),
       preset=st.sampled_from(["paper", "balanced"]), seed=st.integers(0, 2**31))
def test_zf_nulls_interference_and_uses_exactly_full_power(m, k, n, preset, seed):
    if k > m:
        k = m
    problem = Scenario.preset(preset, n_tx=m, n_users=k).draw(n, seed)
    W = zf(problem).W
    np.testing.assert_allclose(power(W), problem.p_max, rtol=1e-12)
    S = np.conj(np.swapaxes(problem.H, -1, -2)) @ W  # S[k, i] = h_k^H w_i
    # |h_k^H w_i| relative to ||h_k|| ||w_i||, off the diagonal.
    rel = np.abs(S) / (np.linalg.norm(problem.H, axis=-2)[..., :, None]
                       * np.linalg.norm(W, axis=-2)[..., None, :])
    off = rel[..., ~np.eye(k, dtype=bool)]
    assert off.size == 0 or off.max() < 1e-9
    assert np.all(np.abs(np.diagonal(S, axis1=-2, axis2=-1)) > 0)


def test_zf_and_mmse_refuse_more_users_than_antennas():
    problem = Scenario(n_tx=2, n_users=3).draw(2, 0)
    for solver in (zf, mmse):
        with pytest.raises(ValueError, match="M >= K"):
            solver(problem)


def test_zf_refuses_linearly_dependent_channels():
    problem = Scenario(n_tx=4, n_users=2).draw(1, 0)
    H = problem.H.copy()
    H[..., 1] = 2.0 * H[..., 0]
    with pytest.raises(ValueError, match="singular"):
        zf(problem.with_(H=H))


def test_zf_and_mmse_name_the_degenerate_instance():
    problem = Scenario(n_tx=4, n_users=2).draw(3, 0)
    H = problem.H.copy()
    H[2] = 0.0
    for solver, what in ((zf, "zf: H\\^H H is singular"), (mmse, "mmse: the channel is zero")):
        with pytest.raises(ValueError, match=f"{what}.*first instance 2"):
            solver(problem.with_(H=H))
    H[2, :, 1] = problem.H[2, :, 0]  # rank one: MMSE is defined, ZF is not
    with pytest.raises(ValueError, match="zf: .* first instance 2"):
        zf(problem.with_(H=H))
    assert mmse(problem.with_(H=H)).success.all()


def test_mmse_tends_to_zf_as_the_noise_vanishes(rng):
    problem = Scenario.preset("balanced", n_tx=6, n_users=3).draw(4, rng)
    W_zf = zf_precoder(problem)
    errors = []
    for noise in (1e-9, 1e-11, 1e-13, 1e-15):
        W = mmse_precoder(problem.with_(noise_var=noise))
        errors.append(np.linalg.norm(W - W_zf) / np.linalg.norm(W_zf))
    assert errors[-1] < 1e-6
    assert all(b < a for a, b in zip(errors, errors[1:], strict=False))


def test_mmse_regularizers_paper_scaled_and_float_agree_with_their_definitions(rng):
    problem = Scenario.preset("paper", n_tx=5, n_users=2).draw(3, rng)
    lam = problem.n_users * problem.noise_var / problem.p_max
    np.testing.assert_allclose(mmse_precoder(problem, "scaled"), mmse_precoder(problem, lam))
    np.testing.assert_allclose(mmse_precoder(problem, "paper"),
                               mmse_precoder(problem, problem.noise_var))
    # A large regulariser turns MMSE into matched filtering (W proportional to H).
    W = mmse_precoder(problem, 1e6)
    np.testing.assert_allclose(W, problem.H * np.sqrt(problem.p_max / power(problem.H))[
        :, None, None], rtol=1e-6)


@pytest.mark.parametrize("bad, error", [("wiener", ValueError), (-1.0, ValueError),
                                        (np.nan, ValueError), (object(), TypeError)])
def test_mmse_rejects_a_bad_regularizer_naming_it(bad, error):
    problem = Scenario(n_tx=4).draw(1, 0)
    with pytest.raises(error, match="regularizer"):
        mmse(problem, regularizer=bad)


def test_unknown_options_raise_type_error_naming_them():
    problem = Scenario(n_tx=4).draw(1, 0)
    with pytest.raises(TypeError, match="iters"):
        zf(problem, iters=3)
    with pytest.raises(TypeError, match="bogus"):
        mmse(problem, bogus=1)


def test_a_batch_is_solved_as_its_instances_alone(rng):
    problem = Scenario.preset("balanced", n_tx=8).draw(5, rng)
    for name in ("zf", "mmse"):
        whole = an.solve(problem, name)
        for i in range(5):
            np.testing.assert_allclose(an.solve(problem[i:i + 1], name).W[0], whole.W[i],
                                       rtol=1e-12, atol=0)
    assert whole.W.shape == problem.H.shape and whole.nit.shape == (5,)


def test_sensing_beam_reaches_the_largest_sensing_gain_and_the_best_single_user(rng):
    problem = Scenario.preset("paper", n_tx=10, n_users=3).draw(6, rng)
    W = sensing_beam(problem)
    np.testing.assert_allclose(power(W), problem.p_max, rtol=1e-12)
    lam_max = np.linalg.eigvalsh(problem.A @ np.conj(problem.A.T))[-1]
    np.testing.assert_allclose(sensing_gain(W, problem), problem.p_max * lam_max, rtol=1e-10)
    # Moving the beam to any other column, or splitting it, never scores higher.
    u = W.sum(axis=-1, keepdims=True)
    f = csbf(W, problem)
    for k in range(3):
        other = u * (np.arange(3) == k)
        assert np.all(csbf(other, problem) <= f + 1e-9 * np.abs(f))
    split = u * np.ones(3) / np.sqrt(3)
    assert np.all(csbf(split, problem) <= f)


@given(m=st.integers(1, 12), k=st.integers(1, 4), preset=st.sampled_from(["paper", "balanced"]),
       dbm=st.floats(10.0, 45.0), log_omega=st.floats(-1.0, 5.0),
       scale=st.floats(0.0, 1.0), seed=st.integers(0, 2**31))
def test_no_precoder_beats_the_sensing_beam_by_more_than_its_headroom(m, k, preset, dbm,
                                                                     log_omega, scale, seed):
    """f(W) <= (1 + q) f(beam) for every W in the power ball: the beam has the largest
    sensing gain, and each user's rate is at most log2(1 + p_max ||h_k||² / σ²)."""
    problem = Scenario.preset(preset, n_tx=m, n_users=k, p_max_dbm=dbm,
                              omega=10.0 ** log_omega).draw(4, seed)
    q = beam_headroom(problem)
    f_beam = csbf(sensing_beam(problem), problem)
    assert q.shape == (4,) and (q >= 0).all()
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(problem.H.shape) + 1j * rng.standard_normal(problem.H.shape)
    W *= np.sqrt(scale * problem.p_max / power(W))[..., None, None]
    # the closest a precoder gets: every user served alone at full power, matched
    matched = problem.H / np.linalg.norm(problem.H, axis=-2, keepdims=True)
    for V in (W, np.sqrt(problem.p_max / k) * matched, zf_precoder(problem) if k <= m else W):
        assert (csbf(V, problem) <= (1 + q) * f_beam * (1 + 1e-12)).all()


def test_the_headroom_is_small_where_the_sensing_dominates_and_bounds_the_optimum():
    """Paper scenario (ω = 1e4): q ~ 0.2%, so the beam is within q of the best precoder the
    reference solver finds; balanced (ω = 30): q ~ 50%, the rates decide."""
    paper = Scenario.preset("paper").draw(3, 1)
    balanced = Scenario.preset("balanced").draw(3, 1)
    q_paper, q_balanced = beam_headroom(paper), beam_headroom(balanced)
    assert (q_paper < 0.005).all() and (q_balanced > 0.3).all()
    for problem, q in ((paper, q_paper), (balanced, q_balanced)):
        best = an.solve(problem, "reference").csbf
        f_beam = csbf(sensing_beam(problem), problem)
        assert (best <= (1 + q) * f_beam).all() and (best >= f_beam * (1 - 1e-9)).all()
