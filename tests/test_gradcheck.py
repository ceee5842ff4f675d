"""The gradient checker itself, on functions whose gradients are known."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from angd_np.gradcheck import check_gradient, directional_derivative, taylor_remainder


def quadratic(B):
    """f(W) = ||B W||_F^2 = tr(W^H B^H B W), with df/dW* = B^H B W."""
    return (lambda W: float(np.linalg.norm(B @ W) ** 2)), (lambda W: B.conj().T @ B @ W)


@given(st.integers(1, 6), st.integers(1, 4), st.integers(0, 2**31))
def test_known_gradient_passes_and_wrong_ones_fail(m, k, seed):
    rng = np.random.default_rng(seed)
    B = rng.standard_normal((m, m)) + 1j * rng.standard_normal((m, m))
    W = rng.standard_normal((m, k)) + 1j * rng.standard_normal((m, k))
    f, grad = quadratic(B)
    assert check_gradient(f, grad(W), W, rng=0).max_error < 1e-8
    # The real-composite gradient 2G (PyTorch's convention) is wrong by a factor 2 here...
    assert check_gradient(f, 2 * grad(W), W, rng=0).max_error > 1e-3
    # ...and so is the conjugate-free derivative df/dW = conj(G).
    if np.linalg.norm(grad(W).imag) > 1e-3 * np.linalg.norm(grad(W)):
        assert check_gradient(f, np.conj(grad(W)), W, rng=0).max_error > 1e-3


def test_directional_derivative_of_a_linear_function():
    # f(W) = Re(c^H W) = Re sum conj(c) W has df/dW* = c / 2.
    c = np.array([1 + 2j, -0.5j])
    D = np.array([0.3 - 1j, 2.0 + 0j])
    assert np.isclose(directional_derivative(c / 2, D), np.real(np.vdot(c, D)))


def test_taylor_remainder_distinguishes_right_from_wrong_gradients():
    rng = np.random.default_rng(3)
    B = rng.standard_normal((4, 4)) + 1j * rng.standard_normal((4, 4))
    W = rng.standard_normal((4, 2)) + 1j * rng.standard_normal((4, 2))
    f, grad = quadratic(B)
    _, _, right = taylor_remainder(f, grad(W), W, rng=1)
    _, _, wrong = taylor_remainder(f, 1.1 * grad(W), W, rng=1)
    np.testing.assert_allclose(right, 2.0, atol=0.05)
    assert abs(wrong[-1] - 1.0) < 0.1
