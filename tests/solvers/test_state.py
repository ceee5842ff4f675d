"""Continuable state of every iterative solver: 250 + 250 iterations == 500, bit for bit.

Smaller numbers here (12 + 12 == 24) keep the suite fast; the property is the same.
"""

import numpy as np
import pytest

import angd_np as an
from angd_np import solvers

ITERATIVE = [name for name, spec in solvers.SPECS.items() if spec.iterative]


def _problem(n=3, preset="balanced", n_tx=6):
    return an.Scenario.preset(preset, n_tx=n_tx).draw(n, rng=11)


def _split_equals_whole(method, problem, first, second, **options):
    whole = an.solve(problem, method, rng=5, iters=first + second, **options)
    part1 = an.solve(problem, method, rng=5, iters=first, **options)
    part2 = an.solve(problem, method, rng=99, iters=second, state=part1.state, **options)
    np.testing.assert_array_equal(np.concatenate([part1.history, part2.history], axis=-1),
                                  whole.history)
    np.testing.assert_array_equal(np.maximum(part1.csbf, part2.csbf), whole.csbf)
    np.testing.assert_array_equal(part2.csbf, whole.csbf)
    np.testing.assert_array_equal(part2.W, whole.W)
    np.testing.assert_array_equal(part1.nit + part2.nit, whole.nit)
    for key in whole.state:
        np.testing.assert_array_equal(part2.state[key], whole.state[key], err_msg=key)
    return whole


@pytest.mark.parametrize("method", ITERATIVE)
def test_two_halves_from_the_state_are_the_whole_run(method):
    _split_equals_whole(method, _problem(), 12, 12)


@pytest.mark.parametrize("method", ITERATIVE)
def test_two_halves_equal_the_whole_with_early_stopping(method):
    whole = _split_equals_whole(method, _problem(4), 15, 25, tol=1e-3, patience=4)
    assert np.any(whole.nit < 40)  # the stopping rule acted, across the split


@pytest.mark.parametrize("method", ITERATIVE)
def test_a_state_saved_with_savez_continues_identically(method, tmp_path):
    problem = _problem(2)
    part1 = an.solve(problem, method, rng=5, iters=6)
    np.savez(tmp_path / "state.npz", **part1.state)
    with np.load(tmp_path / "state.npz", allow_pickle=False) as saved:
        loaded = dict(saved)
    a = an.solve(problem, method, iters=6, state=part1.state)
    b = an.solve(problem, method, iters=6, state=loaded)
    np.testing.assert_array_equal(a.history, b.history)
    np.testing.assert_array_equal(a.W, b.W)


@pytest.mark.parametrize("method", ITERATIVE)
def test_a_batch_state_with_batch_axes_continues(method):
    flat = _problem(4)
    problem = flat.with_(H=flat.H.reshape(2, 2, *flat.H.shape[1:]), user_angles_rad=None)
    part1 = an.solve(problem, method, rng=5, iters=5)
    assert part1.state["W"].shape == (2, 2) + flat.H.shape[1:]
    part2 = an.solve(problem, method, iters=5, state=part1.state)
    whole = an.solve(problem, method, rng=5, iters=10)
    np.testing.assert_array_equal(part2.W, whole.W)


@pytest.mark.parametrize("method", ITERATIVE)
def test_a_bad_state_is_refused_by_name(method):
    problem = _problem(2)
    state = an.solve(problem, method, rng=5, iters=3).state
    other = "pgd" if method != "pgd" else "adam"
    with pytest.raises(ValueError, match=f"written by '{other}'"):
        an.solve(problem, method, iters=3, state=an.solve(problem, other, iters=2).state)
    with pytest.raises(ValueError, match="state\\['W'\\] must hold 3 instances"):
        an.solve(_problem(3), method, iters=3, state=state)  # another batch
    with pytest.raises(ValueError, match="state\\['W'\\] must hold"):
        an.solve(_problem(2, n_tx=8), method, iters=3, state=state)  # another size
    with pytest.raises(ValueError, match="missing keys"):
        an.solve(problem, method, iters=3, state={k: v for k, v in state.items() if k != "W"})
    with pytest.raises(TypeError, match="state must be a mapping"):
        an.solve(problem, method, iters=3, state=[1, 2])


def test_result_reshape_and_slicing_carry_everything():
    flat = _problem(6)
    res = an.solve(flat, "adam", rng=1, iters=4)
    grid = res.reshape((2, 3))
    assert grid.W.shape == (2, 3) + flat.H.shape[1:] and grid.history.shape == (2, 3, 4)
    assert grid.state["adam_m"].shape == grid.W.shape and grid.success.shape == (2, 3)
    row = grid[1]
    np.testing.assert_array_equal(row.csbf, res.csbf[3:])
    np.testing.assert_array_equal(row.state["W"], res.state["W"][3:])
    np.testing.assert_array_equal(row.state["adam_t"], res.state["adam_t"][3:])
    assert str(row.state["method"]) == "adam"
    ref = an.solve(flat, "ccpa", rng=1, max_iters=2, randomizations=2)
    np.testing.assert_array_equal(ref[2:4].extra["relaxed"], ref.extra["relaxed"][2:4])
    with pytest.raises(ValueError, match="batch_shape must hold 6"):
        res.reshape((4,))
