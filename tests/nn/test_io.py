"""Saving and loading networks and Adam state as plain .npz files."""

import numpy as np
import pytest

from angd_np.nn import Adam, Dense, Sequential, fcn, load, save


def trained(rng, steps=3):
    net = fcn(3, 5, rng=rng)
    opt = Adam(net.flat_params, lr=1e-2, maximize=True)
    x = rng.standard_normal((2, 3))
    for _ in range(steps):
        net.backward(net.forward(x))
        opt.step(net.flat_grads)
    return net, opt, x


def test_round_trip_restores_parameters_and_optimiser_in_place(tmp_path, rng):
    net, opt, x = trained(rng)
    path = tmp_path / "state.npz"
    save(path, net, opt)
    net2 = fcn(3, 5, rng=99)
    opt2 = Adam(net2.flat_params)
    flat_before = net2.flat_params
    load(path, net2, opt2)
    assert net2.flat_params is flat_before  # loaded in place: views stay valid
    np.testing.assert_array_equal(net2.flat_params, net.flat_params)
    assert opt2.t == opt.t and opt2.maximize
    # Both continue identically.
    for n, o in ((net, opt), (net2, opt2)):
        n.backward(n.forward(x))
        o.step(n.flat_grads)
    np.testing.assert_array_equal(net2.flat_params, net.flat_params)


def test_file_loads_without_pickle_and_holds_plain_arrays(tmp_path, rng):
    net, opt, _ = trained(rng)
    path = tmp_path / "state.npz"
    save(path, net, opt)
    with np.load(path, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
        assert sum(k.startswith("param_") for k in data.files) == len(net.params)


def test_loading_into_another_architecture_is_refused(tmp_path, rng):
    net, _, _ = trained(rng)
    path = tmp_path / "state.npz"
    save(path, net)
    with pytest.raises(ValueError, match="different architecture"):
        load(path, fcn(3, 6, rng=0))
    with pytest.raises(ValueError, match="parameter arrays"):
        load(path, Sequential(Dense(3, 3, rng=0)))
    with pytest.raises(ValueError, match="no optimiser state"):
        other = fcn(3, 5, rng=0)
        load(path, other, Adam(other.flat_params))


def test_a_foreign_npz_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an angd_np.nn file"):
        load(path, fcn(3, 5, rng=0))
