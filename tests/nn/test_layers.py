"""Layers: backward against finite differences, Conv1d against a naive loop, bad input."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from angd_np.nn import Conv1d, Dense, Flatten, ReLU

STEP = 1e-5


def loss_and_grad_check(forward, backward, x, params, rng, kinks=()):
    """Check backward on L = Σ r·forward(x) along one random direction per array.

    The networks are piecewise linear in x and multilinear in their parameters, so a central
    difference is exact up to rounding unless the step crosses a ReLU kink; ``kinks`` lists
    ReLU layers whose masks must agree at both ends of the step (else the example is skipped).
    Returns the list of (finite difference, analytic) pairs, one per array.
    """
    y = forward(x)
    r = rng.standard_normal(y.shape)
    dx = backward(r)
    grads = [g.copy() for g in params[1]]
    pairs = []
    for target, analytic in [(x, dx), *zip(params[0], grads, strict=True)]:
        # The step is relative to the array's scale, so inputs of any magnitude are checked.
        rms = np.sqrt(np.mean(target**2))
        u = rng.standard_normal(target.shape) * (rms if rms > 0 else 1.0)
        values, masks = [], []
        for sign in (1.0, -1.0):
            saved = target.copy()
            target += sign * STEP * u
            values.append(np.sum(r * forward(x)))
            masks.append([k._mask.copy() for k in kinks])
            target[...] = saved
        for a, b in zip(*masks, strict=True):
            assume(np.array_equal(a, b))
        pairs.append(((values[0] - values[1]) / (2 * STEP), np.sum(analytic * u)))
    return pairs


def assert_pairs_close(pairs, scale=1.0):
    """Directional derivatives agree to 1e-6 relative to ``scale`` (the typical size)."""
    for fd, an in pairs:
        assert abs(fd - an) <= 1e-6 * (scale + abs(an)), (fd, an)


def naive_conv1d(x, kernel, bias):
    """Loop version of 'same' Conv1d for one network: x (n, c_in, L) -> (n, c_out, L)."""
    n, c_in, length = x.shape
    c_out, _, k = kernel.shape
    left = (k - 1) // 2
    y = np.zeros((n, c_out, length))
    for i in range(n):
        for o in range(c_out):
            for pos in range(length):
                acc = bias[o]
                for c in range(c_in):
                    for j in range(k):
                        src = pos + j - left
                        if 0 <= src < length:
                            acc += kernel[o, c, j] * x[i, c, src]
                y[i, o, pos] = acc
    return y


seed_st = st.integers(0, 2**32 - 1)


@given(batch=st.integers(1, 4), d_in=st.integers(1, 6), d_out=st.integers(1, 6),
       init=st.sampled_from(["he", "glorot", "torch"]), seed=seed_st)
def test_dense_backward_matches_finite_differences(batch, d_in, d_out, init, seed):
    rng = np.random.default_rng(seed)
    layer = Dense(d_in, d_out, rng=rng, init=init)
    x = rng.standard_normal((batch, d_in))
    pairs = loss_and_grad_check(layer.forward, layer.backward, x,
                                (layer.params, layer.grads), rng)
    assert_pairs_close(pairs)


@given(shape=st.lists(st.integers(1, 4), min_size=1, max_size=4), seed=seed_st)
def test_relu_backward_matches_finite_differences(shape, seed):
    rng = np.random.default_rng(seed)
    layer = ReLU()
    x = rng.standard_normal(shape)
    pairs = loss_and_grad_check(layer.forward, layer.backward, x, ([], []), rng, kinks=[layer])
    assert_pairs_close(pairs)


@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=5), seed=seed_st)
def test_flatten_backward_is_the_inverse_reshape(shape, seed):
    rng = np.random.default_rng(seed)
    layer = Flatten(n_axes=len(shape) - 1)
    x = rng.standard_normal(shape)
    y = layer.forward(x)
    assert y.shape == (shape[0], int(np.prod(shape[1:])))
    dy = rng.standard_normal(y.shape)
    np.testing.assert_array_equal(layer.backward(dy), dy.reshape(shape))


conv_case = dict(batch=st.integers(1, 3), c_in=st.integers(1, 3),
                 c_out=st.integers(1, 3), k=st.integers(1, 6), length=st.integers(1, 7),
                 seed=seed_st)


@given(**conv_case)
def test_conv1d_backward_matches_finite_differences(batch, c_in, c_out, k, length, seed):
    rng = np.random.default_rng(seed)
    layer = Conv1d(c_in, c_out, k, rng=rng, init="torch")
    x = rng.standard_normal((batch, c_in, length))
    pairs = loss_and_grad_check(layer.forward, layer.backward, x,
                                (layer.params, layer.grads), rng)
    assert_pairs_close(pairs)


@given(**conv_case)
def test_conv1d_matches_naive_loop(batch, c_in, c_out, k, length, seed):
    rng = np.random.default_rng(seed)
    layer = Conv1d(c_in, c_out, k, rng=rng, init="torch")
    x = rng.standard_normal((batch, c_in, length))
    kernel, bias = layer.params
    np.testing.assert_allclose(layer.forward(x), naive_conv1d(x, kernel, bias),
                               rtol=1e-12, atol=1e-12)


def test_conv1d_even_kernel_pads_more_on_the_right():
    layer = Conv1d(1, 1, 2, init="he", rng=0)
    layer.params[0][...] = [[[1.0, 10.0]]]  # y[l] = x[l] + 10 x[l + 1]
    y = layer.forward(np.array([[[1.0, 2.0, 3.0]]]))
    np.testing.assert_allclose(y, [[[21.0, 32.0, 3.0]]])


def test_layers_accept_integer_input_and_return_float64():
    layer = Dense(2, 3, rng=0)
    assert layer.forward([[1, 2]]).dtype == np.float64


@pytest.mark.parametrize("layer, x, message", [
    (Dense(3, 2, rng=0), np.ones((4, 5)), "3 features"),
    (Dense(3, 2, rng=0), np.ones(3), "shape"),
    (Dense(3, 2, rng=0), np.ones((3, 4, 3)), r"\(batch, d_in\)"),
    (Conv1d(2, 4, 3, rng=0), np.ones((1, 3, 8)), "2 channels"),
    (Conv1d(2, 4, 3, rng=0), np.ones((2, 8)), "shape"),
    (Dense(3, 2, rng=0), np.array([[1.0, np.nan, 0.0]]), "finite"),
    (Conv1d(2, 4, 3, rng=0), np.full((1, 2, 4), np.inf), "finite"),
    (Flatten(2), np.ones((3, 4)), "at least 3 axes"),
])
def test_bad_input_raises_value_error_naming_the_problem(layer, x, message):
    with pytest.raises(ValueError, match=message):
        layer.forward(x)


def test_complex_input_is_a_type_error():
    with pytest.raises(TypeError, match="real"):
        Dense(2, 2, rng=0).forward(np.ones((1, 2), complex))


def test_backward_checks_dy_shape_and_order_of_calls():
    layer = Dense(3, 2, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 2)))
    layer.forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match=r"\(1, 2\)"):
        layer.backward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="finite"):
        layer.backward(np.array([[np.nan, 1.0]]))


@pytest.mark.parametrize("kwargs, error", [
    (dict(d_in=0, d_out=2), ValueError),
    (dict(d_in=2.0, d_out=2), TypeError),
    (dict(d_in=2, d_out=2, init="xavier"), ValueError),
    (dict(d_in=2, d_out=2, rng="seed"), TypeError),
])
def test_bad_constructor_arguments_are_rejected(kwargs, error):
    with pytest.raises(error):
        Dense(**kwargs)


def test_initialisations_have_the_documented_scale():
    rng = np.random.default_rng(0)
    he = Dense(400, 300, rng=rng, init="he").params
    assert abs(he[0].std() - np.sqrt(2 / 400)) < 0.02 * np.sqrt(2 / 400)
    assert not he[1].any()
    glorot = Dense(400, 300, rng=rng, init="glorot").params[0]
    assert abs(glorot).max() <= np.sqrt(6 / 700)
    torch_w, torch_b = Conv1d(4, 8, 5, rng=rng, init="torch").params
    assert abs(torch_w).max() <= 1 / np.sqrt(20) and abs(torch_b).max() <= 1 / np.sqrt(20)
    assert torch_b.any()


def test_same_seed_gives_same_parameters_and_seeds_differ():
    np.testing.assert_array_equal(Dense(3, 4, rng=7).params[0], Dense(3, 4, rng=7).params[0])
    assert not np.array_equal(Dense(3, 4, rng=7).params[0], Dense(3, 4, rng=8).params[0])


def test_dense_single_row_gradients_equal_the_outer_product(rng):
    # batch = 1 takes the outer-product fast path (np.dot): it must equal the textbook
    # x^T dy bit for bit.
    layer = Dense(5, 4, rng=rng)
    x = rng.standard_normal((1, 5))
    layer.forward(x)
    dy = rng.standard_normal((1, 4))
    dx = layer.backward(dy)
    np.testing.assert_array_equal(layer.grads[0], np.outer(x[0], dy[0]))
    np.testing.assert_allclose(dx[0], layer.params[0] @ dy[0], rtol=1e-13)
    np.testing.assert_array_equal(layer.grads[1], dy[0])
