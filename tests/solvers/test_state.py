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
    ref = an.solve(flat, "ccpa", rng=1, iters=2, randomizations=2)
    np.testing.assert_array_equal(ref[2:4].extra["relaxed"], ref.extra["relaxed"][2:4])
    with pytest.raises(ValueError, match="batch_shape must hold 6"):
        res.reshape((4,))


def _other_problem(problem, scale=10.0):
    """Instances of the same size on which the first problem's best means nothing: another
    draw, and omega scaled so that best f values of the two differ by a lot."""
    other = an.Scenario.preset("balanced", n_tx=problem.H.shape[-2]).draw(
        problem.n_instances, rng=12)
    return other, problem.with_(omega=problem.omega * scale)


@pytest.mark.parametrize("method", ITERATIVE)
def test_a_state_from_another_problem_returns_the_best_on_this_problem(method):
    p2, big = _other_problem(_problem(3))
    carried = an.solve(big, method, rng=5, iters=6).state  # best f ~10x those on p2
    res = an.solve(p2, method, rng=5, iters=6, state=carried)
    # The best returned is the best iterate seen on p2: at least every iterate of this run,
    # and at least the carried best W evaluated on p2 (where it is one more candidate).
    assert _at_least(res.csbf, np.nanmax(res.history, axis=-1))
    carried_on_p2 = an.csbf(an.project_power(carried["best_W"], p2.p_max), p2)
    assert _at_least(res.csbf, carried_on_p2)
    np.testing.assert_allclose(res.state["best_f"], res.csbf, rtol=1e-12)


@pytest.mark.parametrize("method", ["pgd", "angd-fcn"])
def test_the_same_instances_continue_exactly_in_any_batch_order(method):
    problem = _problem(3)
    part1 = an.solve(problem, method, rng=5, iters=6)
    whole = an.solve(problem, method, rng=5, iters=12)
    # Instance 0 on another problem (its best is re-evaluated there), 1 and 2 unchanged.
    mixed = problem.with_(H=np.concatenate([_other_problem(problem)[0].H[:1], problem.H[1:]]))
    part2 = an.solve(mixed, method, iters=6, state=part1.state)
    np.testing.assert_array_equal(part2.W[1:], whole.W[1:])
    assert _at_least(part2.csbf[0], np.nanmax(part2.history[0]))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("key", ["best_f", "ref_f"])
def test_a_non_finite_best_f_is_refused_by_name(key, bad):
    problem = _problem(2)
    state = dict(an.solve(problem, "pgd", rng=5, iters=4).state)
    state[key] = state[key].copy()
    state[key][1] = bad
    with pytest.raises(ValueError, match=rf"state\['{key}'\] must be finite"):
        an.solve(problem, "pgd", iters=4, state=state)


@pytest.mark.parametrize("edit, match", [
    (lambda s: s.update(best_f=s["best_f"] * 2), "is not the CSBF of state\\['best_W'\\]"),
    (lambda s: s.update(best_W=s["best_W"] * 3), "state\\['best_W'\\] exceeds"),
    (lambda s: s.update(since=s["since"] - 5), "state\\['since'\\] must be"),
    (lambda s: s.update(failed=np.ones_like(s["failed"])), "both True"),
    (lambda s: s.update(ref_f=s["best_f"] + 1.0), "state\\['ref_f'\\] must not exceed"),
    (lambda s: s.update(fingerprint=s["fingerprint"].astype(np.int64)), "fingerprint"),
    (lambda s: s.update(method=np.array(["pgd", "pgd"])), "written by"),
])
def test_an_inconsistent_state_is_refused_by_name(edit, match):
    problem = _problem(2)
    state = dict(an.solve(problem, "pgd", rng=5, iters=4).state)
    edit(state)
    with pytest.raises(ValueError, match=match):
        an.solve(problem, "pgd", iters=4, state=state)


def test_continuing_a_stopped_state_says_no_iteration_ran():
    problem = _problem(2)
    stopped = an.solve(problem, "pgd", rng=5, iters=40, tol=1e6, patience=2)
    assert not stopped.state["active"].any()
    res = an.solve(problem, "pgd", iters=5, state=stopped.state)
    assert np.all(res.nit == 0)
    assert res.message.startswith("ran no iterations: all 2 instances had stopped before")


def test_gap_refuses_a_reference_of_another_shape():
    res = an.solve(_problem(3), "zf")
    np.testing.assert_allclose(res.gap(res.csbf * 2), 0.5)
    for bad in (res.csbf[:1], res.csbf[:, None], np.ones((1, 3))):
        with pytest.raises(ValueError, match="reference must hold f of shape \\(3,\\)"):
            res.gap(bad)
    with pytest.raises(TypeError, match="reference must be a result or an array"):
        res.gap("best")


def _at_least(f, g):
    """f >= g everywhere, up to the round-off of evaluating f in another batch."""
    return bool(np.all(f >= g - 1e-12 * np.abs(g)))
