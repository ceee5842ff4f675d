"""Properties of the CSBF (eqs. 5-7a), its analytic gradient and the projection (eq. 11)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np import (
    Problem,
    Scenario,
    beampattern,
    csbf,
    csbf_and_grad,
    csbf_grad,
    power,
    project_power,
    project_power_backward,
    rates,
    sensing_gain,
    sinr,
    sum_rate,
    ula_steering,
)
from angd_np.gradcheck import check_gradient, taylor_remainder
from tests.strategies import complex_normal, problems_and_points


def loop_metrics(W, problem):
    """Eqs. (5)-(7a) written as plain loops over users and targets, one instance."""
    H, A = problem.H, problem.A
    M, K = W.shape
    rate = 0.0
    for k in range(K):
        h = H[:, k]
        signal = abs(np.conj(h) @ W[:, k]) ** 2
        interf = sum(abs(np.conj(h) @ W[:, i]) ** 2 for i in range(K) if i != k)
        rate += np.log2(1.0 + signal / (interf + problem.noise_var))
    gain = 0.0
    for n in range(A.shape[1]):
        a = A[:, n]
        gain += sum(abs(np.conj(a) @ W[:, k]) ** 2 for k in range(K))
    return rate, gain, rate + problem.omega * gain


@given(problems_and_points())
def test_grad_matches_finite_differences_for_any_shape_and_scale(case):
    problem, W = case
    check = check_gradient(lambda X: csbf(X, problem).sum(), csbf_grad(W, problem), W, rng=0)
    assert check.max_error < 1e-6, check


@given(problems_and_points(max_m=8, max_k=4, batch_ndim=(0, 0)))
def test_taylor_remainder_falls_as_h_squared(case):
    problem, W = case
    f = lambda X: float(csbf(X, problem))  # noqa: E731
    steps = np.linalg.norm(W) * 2.0 ** -np.arange(6, 18)
    steps, rem, orders = taylor_remainder(f, csbf_grad(W, problem), W, steps=steps, rng=1)
    # Rounding floors the remainder at tiny h, and higher-order terms blur it at large h:
    # judge the order at the smallest steps whose remainder is well above rounding.
    floor = 1e-13 * max(abs(f(W)), 1e-300)
    usable = np.flatnonzero((rem[:-1] > 1e3 * floor) & (rem[1:] > 1e3 * floor))
    if usable.size:
        assert orders[usable[-1]] > 1.8, (steps, rem, orders)


@given(problems_and_points(max_m=6, max_k=4, max_n=4, batch_ndim=(1, 1)))
def test_metrics_agree_with_plain_loops(case):
    problem, W = case
    f, G = csbf_and_grad(W, problem)
    for b in range(W.shape[0]):
        rate, gain, total = loop_metrics(W[b], problem[b])
        np.testing.assert_allclose(sum_rate(W, problem)[b], rate, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sensing_gain(W, problem)[b], gain, rtol=1e-9, atol=1e-300)
        np.testing.assert_allclose(csbf(W, problem)[b], total, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(f[b], total, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(G, csbf_grad(W, problem))
    np.testing.assert_allclose(rates(W, problem).sum(-1), sum_rate(W, problem))
    np.testing.assert_allclose(np.log1p(sinr(W, problem)) / np.log(2), rates(W, problem),
                               rtol=1e-12)


def test_beampattern_on_a_grid_peaks_at_the_steered_angle():
    M = 16
    theta0 = np.deg2rad(20.0)
    W = ula_steering([theta0], M)  # one user, beam steered to 20 degrees, unit power
    grid = np.deg2rad(np.linspace(-90, 90, 721))
    p = beampattern(W, ula_steering(grid, M))
    assert p.shape == (721,)
    assert abs(np.rad2deg(grid[np.argmax(p)]) - 20.0) < 0.5
    np.testing.assert_allclose(p.max(), 1.0, rtol=1e-12)  # |a^H a|^2 = 1 for unit vectors


@given(problems_and_points(), st.floats(1e-3, 1e3))
def test_projection_is_feasible_and_leaves_feasible_points_untouched(case, scale):
    problem, W = case
    V = project_power(scale * W, problem.p_max)
    assert np.all(power(V) <= problem.p_max * (1 + 1e-12))
    inside = power(scale * W) <= problem.p_max
    np.testing.assert_array_equal(V[inside], (scale * W)[inside])


@given(problems_and_points(max_m=8, max_k=4), st.sampled_from([0.5, 3.0]))
def test_projection_backward_matches_finite_differences(case, ratio):
    problem, W = case
    # Power exactly ratio * p_max: 0.5 is the identity branch, 3 the scaled one; both far
    # enough from the kink at the sphere that the finite difference never crosses it.
    U = W * np.sqrt(ratio * problem.p_max / power(W))[..., None, None]

    def f(X):
        return csbf(project_power(X, problem.p_max), problem).sum()

    V = project_power(U, problem.p_max)
    G = project_power_backward(U, problem.p_max, csbf_grad(V, problem))
    check = check_gradient(f, G, U, rng=2)
    assert check.max_error < 1e-6, check


def test_zero_precoder_and_single_user_give_finite_values(rng):
    problem = Scenario(n_users=1).draw(3, rng)
    W = np.zeros((3, 16, 1), complex)
    assert np.all(np.isfinite(csbf(W, problem)))
    np.testing.assert_array_equal(csbf_grad(W, problem), 0)  # the origin is stationary
    np.testing.assert_array_equal(sum_rate(W, problem), 0)
    np.testing.assert_array_equal(project_power(W, problem.p_max), 0)
    W1 = complex_normal(rng, (3, 16, 1))
    # No interference with one user: SINR = |h^H w|^2 / sigma^2 exactly.
    expected = np.abs(np.einsum("bm,bm->b", problem.H[..., 0].conj(), W1[..., 0])) ** 2
    np.testing.assert_allclose(sinr(W1, problem)[:, 0], expected / problem.noise_var)


def test_wrong_precoder_shape_is_rejected_naming_W(rng):
    problem = Scenario().draw(2, rng)
    with pytest.raises(ValueError, match=r"W must have shape \(\.\.\., M, K\)"):
        csbf(np.zeros((2, 15, 2), complex), problem)
    with pytest.raises(ValueError, match="A must have M"):
        beampattern(np.zeros((4, 2)), np.zeros((5, 3)))


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan, np.inf])
def test_projection_rejects_non_positive_or_non_finite_budget(bad):
    with pytest.raises(ValueError, match="p_max"):
        project_power(np.ones((2, 2)), bad)


def test_batched_call_equals_per_instance_calls(rng):
    problem = Scenario.preset("balanced").draw(5, rng)
    W = complex_normal(rng, (5, 16, 2), 0.2)
    f, G = csbf_and_grad(W, problem)
    for b in range(5):
        fb, Gb = csbf_and_grad(W[b], problem[b])
        np.testing.assert_allclose(f[b], fb, rtol=1e-13)
        np.testing.assert_allclose(G[b], Gb, rtol=1e-12, atol=0)


def test_problem_accepts_a_batch_of_steering_matrices(rng):
    H = complex_normal(rng, (3, 4, 2))
    A = np.stack([ula_steering(rng.uniform(-1, 1, 2), 4) for _ in range(3)])
    problem = Problem(H=H, A=A, noise_var=1.0, p_max=1.0, omega=2.0)
    W = complex_normal(rng, (3, 4, 2))
    for b in range(3):
        assert np.isclose(csbf(W, problem)[b], csbf(W[b], problem[b]))
