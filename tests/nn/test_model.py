"""Sequential and the paper's builders: gradients, live flat buffers, bad input."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np.nn import ReLU, Sequential, cnn, fcn

from .test_layers import assert_pairs_close, loss_and_grad_check

seed_st = st.integers(0, 2**32 - 1)


def relus(net):
    return [layer for layer in net.layers if isinstance(layer, ReLU)]


def check_net(net, x, rng):
    pairs = loss_and_grad_check(net.forward, net.backward, x, (net.params, net.grads), rng,
                                kinks=relus(net))
    assert len(pairs) == 1 + len(net.params)
    # Derivatives along directions scaled like x are of the size of the output.
    assert_pairs_close(pairs, scale=max(1.0, float(np.abs(net.forward(x)).max())))


@given(batch=st.integers(1, 3), d_in=st.integers(1, 6), hidden=st.integers(1, 8),
       init=st.sampled_from(["he", "torch"]), x_scale_exp=st.floats(-3.0, 6.0), seed=seed_st)
def test_fcn_backward_matches_finite_differences_at_any_input_scale(batch, d_in, hidden, init,
                                                                     x_scale_exp, seed):
    # ANGD feeds raw CSBF gradients, up to ~1e4 x ||W|| at the paper's numbers, or
    # normalised ones.
    rng = np.random.default_rng(seed)
    net = fcn(d_in, hidden, rng=rng, init=init)
    check_net(net, 10.0**x_scale_exp * rng.standard_normal((batch, d_in)), rng)


@given(batch=st.integers(1, 2), length=st.integers(1, 6), channels=st.integers(1, 4),
       k=st.integers(1, 5), seed=seed_st)
def test_cnn_backward_matches_finite_differences(batch, length, channels, k, seed):
    rng = np.random.default_rng(seed)
    net = cnn(length, rng=rng, init="torch", channels=channels, kernel_size=k)
    check_net(net, rng.standard_normal((batch, 2, length)), rng)


def test_fcn_of_the_paper_has_33088_parameters_and_keeps_the_input_size():
    net = fcn(64, 128, rng=0)
    assert net.n_params == 33088 and net.flat_params.shape == (33088,)
    assert net.forward(np.ones((3, 64))).shape == (3, 64)


def test_cnn_maps_two_channels_to_twice_the_length():
    net = cnn(32, rng=0)
    assert net.forward(np.ones((3, 2, 32))).shape == (3, 64)
    # Conv(2->16, 3), Conv(16->16, 3), Dense(16·32 -> 64)
    assert net.n_params == (16 * 2 * 3 + 16) + (16 * 16 * 3 + 16) + (512 * 64 + 64)


def test_params_and_grads_are_live_views_of_the_flat_buffers(rng):
    net = fcn(3, 4, rng=rng)
    x = rng.standard_normal((2, 3))
    y0 = net.forward(x)
    net.params[-1][...] += 1.0  # output bias
    np.testing.assert_allclose(net.forward(x), y0 + 1.0)
    net.flat_params *= 0.0
    assert not net.forward(x).any()
    net.backward(np.ones_like(y0))
    assert np.shares_memory(net.grads[0], net.flat_grads)
    np.testing.assert_array_equal(net.flat_grads[-3:], net.grads[-1].ravel()[-3:])
    assert net.flat_grads[-3:].tolist() == [2.0, 2.0, 2.0]  # ∂L/∂b: dy summed over 2 rows


def test_backward_overwrites_grads_instead_of_accumulating(rng):
    net = fcn(3, 4, rng=rng)
    x = rng.standard_normal((2, 3))
    net.forward(x)
    net.backward(np.ones((2, 3)))
    first = net.flat_grads.copy()
    net.forward(x)
    net.backward(np.ones((2, 3)))
    np.testing.assert_array_equal(net.flat_grads, first)


def test_same_rng_seed_gives_same_network_and_different_seeds_differ():
    np.testing.assert_array_equal(fcn(4, 5, rng=3).flat_params, fcn(4, 5, rng=3).flat_params)
    assert not np.array_equal(fcn(4, 5, rng=3).flat_params, fcn(4, 5, rng=4).flat_params)
    np.testing.assert_array_equal(cnn(4, rng=3).flat_params, cnn(4, rng=3).flat_params)


@pytest.mark.parametrize("net, x, message", [
    (fcn(4, 8, rng=0), np.ones((2, 5)), "4 features"),
    (fcn(4, 8, rng=0), np.ones((2, 1, 4)), r"\(batch, d_in\)"),
    (cnn(6, rng=0), np.ones((1, 3, 6)), "2 channels"),
    (cnn(6, rng=0), np.ones((1, 2, 7)), "96 features"),
    (cnn(6, rng=0), np.ones((2, 6)), "shape"),
    (fcn(4, 8, rng=0), np.array([[0.0, 1.0, np.inf, 0.0]]), "finite"),
])
def test_bad_network_input_raises_value_error_naming_the_problem(net, x, message):
    with pytest.raises(ValueError, match=message):
        net.forward(x)


def test_bad_dy_and_bad_construction_raise():
    net = fcn(4, 8, rng=0)
    with pytest.raises(RuntimeError, match="before forward"):
        net.backward(np.ones((1, 4)))
    net.forward(np.ones((1, 4)))
    with pytest.raises(ValueError, match=r"\(1, 4\)"):
        net.backward(np.ones((2, 4)))
    with pytest.raises(ValueError, match="finite"):
        net.backward(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential()
    with pytest.raises(TypeError, match="Layer"):
        Sequential(np.ones(3))
    with pytest.raises(ValueError, match="init"):
        fcn(4, 8, init="glorot")


def test_backward_without_input_gradient_gives_the_same_parameter_gradients(rng):
    for net, x in ((fcn(4, 6, rng=rng), rng.standard_normal((3, 4))),
                   (cnn(5, rng=rng), rng.standard_normal((3, 2, 5)))):
        dy = rng.standard_normal(net.forward(x).shape)
        assert net.backward(dy).shape == x.shape
        full = net.flat_grads.copy()
        net.flat_grads[...] = np.nan
        assert net.backward(dy, input_grad=False) is None
        np.testing.assert_array_equal(net.flat_grads, full)


@pytest.mark.parametrize("build,shape", [
    (lambda rng: fcn(4, 6, rng=rng), (1, 4)),
    (lambda rng: fcn(4, 6, rng=rng), (3, 4)),
    (lambda rng: cnn(5, rng=rng), (1, 2, 5)),
    (lambda rng: cnn(5, rng=rng), (3, 2, 5)),
])
def test_unchecked_fast_path_gives_the_same_outputs_and_gradients(rng, build, shape):
    net = build(rng)
    x = rng.standard_normal(shape)
    y = net.forward(x)
    dy = rng.standard_normal(y.shape)
    dx = net.backward(dy)
    grads = net.flat_grads.copy()
    net.flat_grads[...] = np.nan
    np.testing.assert_array_equal(net.forward(x, check=False), y)
    np.testing.assert_array_equal(net.backward(dy, check=False), dx)
    np.testing.assert_array_equal(net.flat_grads, grads)


def test_checked_calls_still_reject_bad_input_after_unchecked_ones(rng):
    net = fcn(4, 6, rng=rng)
    x = rng.standard_normal((1, 4))
    net.backward(np.zeros_like(net.forward(x, check=False)), check=False)
    with pytest.raises(ValueError, match="finite"):
        net.forward(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="shape"):
        net.backward(np.zeros((1, 3)))
