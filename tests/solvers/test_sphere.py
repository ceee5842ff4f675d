"""The power sphere W = sqrt(p_max) V/||V||: exact layout, the map, its Jacobian, its gradient."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np import Scenario, csbf, power
from angd_np.gradcheck import check_gradient
from angd_np.solvers import sphere


def _problem(n=1, n_tx=6, preset="balanced", rng=0):
    return Scenario.preset(preset, n_tx=n_tx).draw(n, rng=rng)


def _random_V(rng, shape, radius=1.0):
    V = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    return radius * V / np.linalg.norm(V, axis=(-2, -1), keepdims=True)


def test_x_and_V_convert_exactly_and_V_is_a_view_of_x():
    V = _random_V(np.random.default_rng(0), (3, 5, 2))
    x = sphere.to_x(V)
    assert x.shape == (3, 20) and x.dtype == np.float64
    np.testing.assert_array_equal(x[:, 0::2], V.reshape(3, -1).real)
    np.testing.assert_array_equal(x[:, 1::2], V.reshape(3, -1).imag)
    back = sphere.to_V(x, (5, 2))
    np.testing.assert_array_equal(back, V)
    assert np.shares_memory(back, x)  # no copy on the hot path
    assert not np.shares_memory(x, V)  # to_x copies: an iterate never aliases the caller's


@given(seed=st.integers(0, 2**16), radius=st.sampled_from([1e-3, 1.0, 30.0]),
       p_max=st.sampled_from([0.1, 1.0, 40.0]))
def test_the_map_lands_on_the_sphere_and_ignores_the_scale_of_V(seed, radius, p_max):
    V = _random_V(np.random.default_rng(seed), (2, 4, 3), radius)
    W = sphere.to_W(V, p_max)
    np.testing.assert_allclose(power(W), p_max, rtol=1e-13)
    np.testing.assert_allclose(sphere.to_W(7.5 * V, p_max), W, rtol=1e-13, atol=0)


@given(seed=st.integers(0, 2**16), radius=st.sampled_from([1e-3, 1.0, 30.0]))
def test_the_jacobian_vector_product_matches_finite_differences(seed, radius):
    rng = np.random.default_rng(seed)
    V = _random_V(rng, (4, 2), radius)
    dV = _random_V(rng, (4, 2), radius)
    h = 1e-6
    fd = (sphere.to_W(V + h * dV, 3.0) - sphere.to_W(V - h * dV, 3.0)) / (2 * h)
    np.testing.assert_allclose(sphere.jvp(V, dV, 3.0), fd, rtol=1e-6,
                               atol=1e-8 * np.abs(fd).max())
    radial = sphere.jvp(V, 2.0 * V, 3.0)  # along V itself the map does not move
    np.testing.assert_allclose(radial, 0.0, atol=1e-12 * np.sqrt(3.0) / radius)


@given(seed=st.integers(0, 2**16), preset=st.sampled_from(["paper", "balanced"]),
       n_tx=st.integers(2, 8), radius=st.sampled_from([1e-3, 1.0, 30.0]))
def test_the_gradient_matches_finite_differences_at_any_radius(seed, preset, n_tx, radius):
    """grad_x f(W(x)) for V of any norm (an optimiser's V drifts off p_max)."""
    problem = _problem(1, n_tx, preset, rng=seed)
    x = sphere.to_x(_random_V(np.random.default_rng(seed), (1, n_tx, 2), radius))
    f, g, W = sphere.value_and_grad(x, problem)
    np.testing.assert_allclose(power(W), problem.p_max, rtol=1e-12)
    np.testing.assert_allclose(f, csbf(W, problem), rtol=1e-13)

    def phi(z):
        return sphere.value_and_grad(z, problem)[0].sum()

    # check_gradient takes G = df/dx / 2 for a real variable (its Wirtinger convention)
    check = check_gradient(phi, g / 2, x, rng=seed, step=1e-5)
    assert check.max_error < 1e-6, check
    # f does not depend on the scale of V: the gradient is orthogonal to x
    assert abs(g[0] @ x[0]) <= 1e-10 * np.linalg.norm(g) * np.linalg.norm(x)


def test_factor_scales_the_gradient_per_row_and_rows_pick_instances():
    problem = _problem(4, 5, "paper", rng=3)
    x = sphere.to_x(_random_V(np.random.default_rng(1), (4, 5, 2)))
    f, g, W = sphere.value_and_grad(x, problem)
    factor = np.array([-1.0, 2.0, 0.5, -3.0])
    f2, g2, W2 = sphere.value_and_grad(x, problem, factor)
    np.testing.assert_array_equal(f2, f)
    np.testing.assert_allclose(g2, factor[:, None] * g, rtol=1e-14)
    idx = np.array([3, 1])
    f3, g3, W3 = sphere.value_and_grad(x[idx], sphere.rows(problem, idx))
    f4, g4, _ = sphere.value_and_grad(x[idx], problem[idx])
    np.testing.assert_array_equal(f3, f4)
    np.testing.assert_array_equal(g3, g4)
    np.testing.assert_array_equal(W3, W[idx])
    assert sphere.rows(problem, np.arange(4)) is problem  # its caches serve


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_a_shared_and_a_per_instance_target_matrix_give_the_same_rows(preset):
    problem = _problem(3, 4, preset, rng=5)
    per_row = problem.with_(A=np.broadcast_to(problem.A, (3,) + problem.A.shape).copy())
    x = sphere.to_x(_random_V(np.random.default_rng(2), (3, 4, 2)))
    idx = np.array([2, 0])
    a = sphere.value_and_grad(x[idx], sphere.rows(problem, idx))
    b = sphere.value_and_grad(x[idx], sphere.rows(per_row, idx))
    np.testing.assert_allclose(a[0], b[0], rtol=1e-13)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-10, atol=1e-12 * np.abs(a[1]).max())


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_the_one_instance_evaluation_is_its_row_of_the_batched_one_bit_for_bit(preset):
    problem = Scenario.preset(preset, n_tx=7, n_users=3).draw(5, rng=2)
    x = np.random.default_rng(3).standard_normal((5, 42)) * np.logspace(-3, 2, 5)[:, None]
    f, g, W = sphere.value_and_grad(x, problem, -0.7)
    for i in range(5):
        f1, g1, W1 = sphere.value_and_grad_one(x[i:i + 1], problem[i:i + 1], -0.7)
        assert f1[0] == f[i]
        np.testing.assert_array_equal(g1[0], g[i])
        np.testing.assert_array_equal(W1[0], W[i])
