"""Adam: the published rule step by step, convergence, in-place updates, state, bad input."""

import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np.nn import Adam, fcn


def textbook_adam(p0, grads, lr, betas, eps, maximize=False):
    """Kingma and Ba (2015), Algorithm 1, written as plainly as possible (|g|² for complex)."""
    b1, b2 = betas
    p, m, v = p0.copy(), np.zeros_like(p0), np.zeros(p0.shape)
    trajectory = []
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * np.abs(g) ** 2
        m_hat = m / (1 - b1**t)
        v_hat = v / (1 - b2**t)
        step = lr * m_hat / (np.sqrt(v_hat) + eps)
        p = p + step if maximize else p - step
        trajectory.append(p.copy())
    return trajectory


def random_array(rng, shape, complex_):
    x = rng.standard_normal(shape)
    return x + 1j * rng.standard_normal(shape) if complex_ else x


@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=3), steps=st.integers(1, 12),
       lr=st.floats(1e-5, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999),
       grad_scale_exp=st.floats(-6.0, 8.0), complex_=st.booleans(), maximize=st.booleans(),
       chunk=st.sampled_from([None, 1, 3, 1 << 15]), seed=st.integers(0, 2**32 - 1))
def test_adam_reproduces_the_published_rule_step_by_step(shape, steps, lr, beta1, beta2,
                                                         grad_scale_exp, complex_, maximize,
                                                         chunk, seed):
    rng = np.random.default_rng(seed)
    p = random_array(rng, shape, complex_)
    grads = [10.0**grad_scale_exp * random_array(rng, shape, complex_) for _ in range(steps)]
    expected = textbook_adam(p, grads, lr, (beta1, beta2), 1e-8, maximize)
    opt = Adam(p, lr=lr, betas=(beta1, beta2), eps=1e-8, maximize=maximize, chunk_size=chunk)
    for g, p_expected in zip(grads, expected, strict=True):
        opt.step(g)
        np.testing.assert_allclose(p, p_expected, rtol=1e-12, atol=1e-12 * lr)
    assert opt.t == steps


def test_constant_gradient_moves_every_entry_by_lr_per_step():
    # m̂ = g and v̂ = g² exactly for a constant g, so each step is lr·g / (|g| + eps).
    p = np.zeros(4)
    g = np.array([3.0, -0.5, 1e-3, -2e6])
    opt = Adam(p, lr=0.1, eps=1e-8)
    for t in range(1, 6):
        opt.step(g)
        np.testing.assert_allclose(p, -t * 0.1 * g / (np.abs(g) + 1e-8), rtol=1e-12)


def test_known_two_step_sequence_by_hand():
    # g1 = 1, g2 = -1, beta = (0.5, 0.5), lr = 1, eps = 0+: m1 = 0.5, v1 = 0.5 -> step 1;
    # m2 = -0.25, v2 = 0.75, m̂2 = -1/3, v̂2 = 1 -> step -1/3.
    p = np.array([0.0])
    opt = Adam(p, lr=1.0, betas=(0.5, 0.5), eps=1e-300)
    opt.step(np.array([1.0]))
    np.testing.assert_allclose(p, [-1.0], rtol=1e-15)
    opt.step(np.array([-1.0]))
    np.testing.assert_allclose(p, [-1.0 + 1.0 / 3.0], rtol=1e-15)


def test_adam_minimises_a_convex_quadratic(rng):
    q, _ = np.linalg.qr(rng.standard_normal((6, 6)))
    a = q @ np.diag(np.linspace(1.0, 20.0, 6)) @ q.T
    b = rng.standard_normal(6)
    p_star = np.linalg.solve(a, b)
    p = np.zeros(6)

    def f(x):
        return 0.5 * x @ a @ x - b @ x

    opt = Adam(p, lr=0.05)
    for _ in range(1500):
        opt.step(a @ p - b)
    opt.lr = 1e-4  # learning rate changed between steps takes effect
    for _ in range(500):
        opt.step(a @ p - b)
    np.testing.assert_allclose(p, p_star, atol=1e-3)
    assert f(p) - f(p_star) < 1e-6


def test_maximising_minus_f_follows_the_same_path_as_minimising_f(rng):
    p_min, p_max = np.zeros(5), np.zeros(5)
    opt_min, opt_max = Adam(p_min, lr=0.1), Adam(p_max, lr=0.1, maximize=True)
    target = rng.standard_normal(5)
    for _ in range(20):
        opt_min.step(p_min - target)
        opt_max.step(-(p_max - target))
    np.testing.assert_array_equal(p_min, p_max)


def test_list_of_arrays_and_one_flat_array_give_identical_updates(rng):
    net_a, net_b = fcn(4, 6, rng=1), fcn(4, 6, rng=1)
    opt_a = Adam(net_a.params, lr=1e-2)
    opt_b = Adam(net_b.flat_params, lr=1e-2, chunk_size=17)
    x = rng.standard_normal((3, 4))
    for _ in range(5):
        for net in (net_a, net_b):
            net.backward(net.forward(x))
        opt_a.step(net_a.grads)
        opt_b.step(net_b.flat_grads)
    np.testing.assert_array_equal(net_a.flat_params, net_b.flat_params)


def test_step_allocates_no_temporaries_the_size_of_the_parameters():
    p = np.zeros(200_000)  # 1.6 MB
    g = np.ones_like(p)
    opt = Adam(p, lr=1e-3, chunk_size=None)
    opt.step(g)
    tracemalloc.start()
    opt.step(g)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 20_000, peak
    assert np.all(p < 0)


def test_state_dict_round_trip_continues_exactly(rng):
    p1 = rng.standard_normal(7) + 1j * rng.standard_normal(7)
    p2 = p1.copy()
    grads = [rng.standard_normal(7) + 1j * rng.standard_normal(7) for _ in range(8)]
    opt1 = Adam(p1, lr=0.01, betas=(0.8, 0.99), maximize=True)
    for g in grads[:4]:
        opt1.step(g)
    p2[...] = p1
    opt2 = Adam(p2)
    opt2.load_state_dict(opt1.state_dict())
    assert (opt2.t, opt2.lr, opt2.betas, opt2.maximize) == (4, 0.01, (0.8, 0.99), True)
    for g in grads[4:]:
        opt1.step(g)
        opt2.step(g)
    np.testing.assert_array_equal(p2, p1)


def test_state_dict_holds_the_published_moments_over_one_minus_beta():
    p = np.zeros(2)
    opt = Adam(p, betas=(0.9, 0.99))
    opt.step(np.array([1.0, -2.0]))
    state = opt.state_dict()
    np.testing.assert_allclose(0.1 * state["m_acc_0"], [0.1, -0.2])  # m = (1 - β1) g
    np.testing.assert_allclose(0.01 * state["v_acc_0"], [0.01, 0.04])  # v = (1 - β2) g²


@pytest.mark.parametrize("grads, error, message", [
    (np.ones(4), ValueError, "shape"),
    (np.ones(3, complex), ValueError, "dtype"),
    ([np.ones(3)], TypeError, "ndarray"),
    (np.array([1.0, np.nan, 0.0]), ValueError, "finite"),
    (np.array([1.0, -np.inf, 0.0]), ValueError, "finite"),
])
def test_bad_gradients_raise_before_changing_anything(grads, error, message):
    p = np.zeros(3)
    opt = Adam(p)
    with pytest.raises(error, match=message):
        opt.step(grads)
    assert opt.t == 0 and not p.any()
    assert not opt.state_dict()["m_acc_0"].any()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(params=[]), ValueError, "at least one"),
    (dict(params=np.zeros(3, np.float32)), TypeError, "float64"),
    (dict(params=[np.zeros(2), [0.0]]), TypeError, r"params\[1\]"),
    (dict(params=np.zeros(3), lr=-1.0), ValueError, "lr"),
    (dict(params=np.zeros(3), betas=(0.9, 1.0)), ValueError, "betas"),
    (dict(params=np.zeros(3), betas=0.9), ValueError, "betas"),
    (dict(params=np.zeros(3), eps=0.0), ValueError, "eps"),
    (dict(params=np.zeros(3), chunk_size=0), ValueError, "chunk_size"),
    (dict(params=np.broadcast_to(np.zeros(1), (3,))), ValueError, "writeable"),
])
def test_bad_optimiser_arguments_are_rejected(kwargs, error, message):
    with pytest.raises(error, match=message):
        Adam(**kwargs)


def test_wrong_number_of_gradient_arrays_and_bad_state_are_rejected():
    opt = Adam([np.zeros(2), np.zeros(3)])
    with pytest.raises(ValueError, match="2 arrays"):
        opt.step([np.zeros(2)])
    state = opt.state_dict()
    state["m_acc_1"] = np.zeros(4)
    with pytest.raises(ValueError, match="m_acc_1"):
        opt.load_state_dict(state)
    with pytest.raises(ValueError, match="missing"):
        opt.load_state_dict({"t": 1})
