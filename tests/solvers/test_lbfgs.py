"""L-BFGS on the power sphere from one start: gradient, two-loop recursion, line search, runs.

State continuation (12 + 12 == 24 bit for bit, savez, bad states, batch axes) is checked for
every registered iterative solver, this one included, in ``test_state.py``.
"""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.gradcheck import check_gradient
from angd_np.solvers import iterative as _iterative
from angd_np.solvers import optimality_gap
from angd_np.solvers.lbfgs import _to_x, lbfgs, sphere_value_and_grad, two_loop


def _problem(n=4, n_tx=6, preset="balanced", rng=0):
    return Scenario.preset(preset, n_tx=n_tx).draw(n, rng=rng)


def _naive_inverse_hessian(S, Y, gamma):
    """H_k of BFGS built densely from H_0 = gamma I by the m updates, oldest pair first:
    H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T (Nocedal and Wright, eq. 7.19)."""
    d = S.shape[-1]
    H = gamma * np.eye(d)
    for s, y in zip(S[::-1], Y[::-1], strict=True):  # the memory is stored newest first
        rho = 1.0 / (s @ y)
        V = np.eye(d) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


@given(seed=st.integers(0, 2**16), n=st.integers(1, 3), d=st.integers(2, 12),
       m=st.integers(1, 6), filled=st.integers(0, 6))
def test_two_loop_equals_the_dense_bfgs_inverse_hessian(seed, n, d, m, filled):
    rng = np.random.default_rng(seed)
    S = np.zeros((n, m, d))
    Y = np.zeros((n, m, d))
    rho = np.zeros((n, m))
    pairs = min(filled, m)
    for i in range(n):  # each instance its own count of pairs, s.y > 0 as the solver keeps
        count = rng.integers(0, pairs + 1)
        for j in range(count):
            s = rng.standard_normal(d)
            y = s + 0.3 * rng.standard_normal(d)
            if s @ y <= 0:
                y = -y + 2 * s  # positive curvature
            S[i, j], Y[i, j], rho[i, j] = s, y, 1.0 / (s @ y)
    g = rng.standard_normal((n, d))
    gamma = rng.uniform(0.1, 3.0, n)
    r = two_loop(g, S, Y, rho, gamma)
    for i in range(n):
        count = int(np.count_nonzero(rho[i]))
        H = _naive_inverse_hessian(S[i, :count], Y[i, :count], gamma[i])
        np.testing.assert_allclose(r[i], H @ g[i], rtol=1e-9, atol=1e-9 * np.abs(H @ g[i]).max())


@given(seed=st.integers(0, 2**16), preset=st.sampled_from(["paper", "balanced"]),
       n_tx=st.integers(2, 8), radius=st.sampled_from([1e-3, 1.0, 30.0]))
def test_sphere_gradient_matches_finite_differences_at_any_radius(seed, preset, n_tx, radius):
    """g = grad_x(-f(sqrt(p) V/||V||)) for V of any norm (the iterate's V drifts off p_max)."""
    problem = _problem(1, n_tx, preset, rng=seed)
    rng = np.random.default_rng(seed)
    V = rng.standard_normal((1, n_tx, 2)) + 1j * rng.standard_normal((1, n_tx, 2))
    x = _to_x(radius * V / np.linalg.norm(V))
    _, g, W = sphere_value_and_grad(x, problem)
    np.testing.assert_allclose(power(W), problem.p_max, rtol=1e-12)

    def phi(z):
        return -sphere_value_and_grad(z, problem)[0].sum()

    # check_gradient takes G = df/dx / 2 for a real variable (its Wirtinger convention)
    check = check_gradient(phi, g / 2, x, rng=seed, step=1e-5)
    assert check.max_error < 1e-6, check


def test_the_first_step_is_steepest_descent_of_step0_times_the_radius():
    problem = _problem(3)
    zf = an.solve(problem, "zf").W
    res = lbfgs(problem, iters=1, init="zf", step0=1e-5)  # small enough to be accepted
    x = _to_x(zf)
    f0, g, _ = sphere_value_and_grad(x, problem)
    step = 1e-5 * np.linalg.norm(x, axis=1) / np.linalg.norm(g, axis=1)
    expected, _, _ = sphere_value_and_grad(x - step[:, None] * g, problem)
    assert np.all(expected > f0)
    np.testing.assert_array_equal(res.history[:, 0], expected)


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_every_step_rises_and_the_best_is_never_below_the_start(preset):
    problem = _problem(6, 8, preset, rng=3)
    for init in ("zf", "random"):
        res = lbfgs(problem, rng=2, iters=60, init=init)
        W0 = _iterative.initial_W(init, problem, _iterative.instance_streams(2, 6))
        f0 = csbf(W0, problem)
        assert np.all(np.diff(res.history, axis=1) >= 0)  # the Armijo test never lets f fall
        assert np.all(res.history[:, 0] >= f0 * (1 - 1e-12))
        np.testing.assert_allclose(res.csbf, res.history[:, -1], rtol=1e-14)
        assert np.all(res.csbf >= f0 * (1 - 1e-12))


def test_every_iterate_is_on_the_power_sphere(monkeypatch):
    seen = []
    original = _iterative.BestTracker.update

    def spy(self, t, V, f):
        seen.append(np.array(V))
        return original(self, t, V, f)

    monkeypatch.setattr(_iterative.BestTracker, "update", spy)
    problem = _problem(4, 6, "paper", rng=1)
    res = lbfgs(problem, rng=2, iters=30)
    assert len(seen) == 30
    for V in seen + [res.W]:
        assert np.all(power(V) <= problem.p_max * (1 + 1e-12))
        np.testing.assert_allclose(power(V), problem.p_max, rtol=1e-12)


@pytest.mark.parametrize("n_tx,iters,seed", [(4, 300, 0), (4, 300, 1), (6, 600, 0),
                                             (6, 600, 1)])
def test_converges_to_the_reference_value_from_zero_forcing(n_tx, iters, seed):
    pytest.importorskip("scipy")
    problem = _problem(4, n_tx, rng=seed)
    ref = an.solve(problem, "reference", rng=0)
    res = lbfgs(problem, iters=iters, init="zf")
    assert np.all(optimality_gap(res.csbf, ref.csbf) < 1e-6)


def test_a_converged_instance_stays_put_and_is_no_longer_evaluated(monkeypatch):
    from angd_np.solvers import lbfgs as module

    rows = []
    original = module.sphere_value_and_grad

    def spy(x, problem):
        rows.append(x.shape[0])
        return original(x, problem)

    monkeypatch.setattr(module, "sphere_value_and_grad", spy)
    problem = _problem(2, 4, rng=0)
    res = lbfgs(problem, iters=1500, init="zf")
    assert np.all(res.history[:, -100:] == res.history[:, -1:])  # at round-off: no move
    assert sum(rows) < 1500  # fewer evaluations than iterations: stalled rows are skipped


def test_the_batch_does_not_change_an_instance_and_runs_are_deterministic():
    problem = _problem(4, rng=7)
    seeds = [11, 12, 13, 14]
    batch = lbfgs(problem, rng=seeds, iters=40)
    again = lbfgs(problem, rng=seeds, iters=40)
    np.testing.assert_array_equal(batch.history, again.history)
    np.testing.assert_array_equal(batch.W, again.W)
    for i in (0, 3):
        alone = lbfgs(problem[i:i + 1], rng=[seeds[i]], iters=40)
        np.testing.assert_array_equal(alone.history[0], batch.history[i])
        np.testing.assert_array_equal(alone.W[0], batch.W[i])


def test_early_stopping_and_batch_axes():
    problem = _problem(4)
    grid = problem.with_(H=problem.H.reshape(2, 2, 6, 2), user_angles_rad=None)
    res = lbfgs(grid, rng=0, iters=400, init="zf", tol=1e-6, patience=3)
    assert res.W.shape == (2, 2, 6, 2) and res.history.shape == (2, 2, 400)
    assert np.all(res.nit < 400) and "stopped early" in res.message
    stopped = np.isnan(res.history)
    assert np.all(stopped == (np.arange(400) >= res.nit[..., None]))


def test_bad_options_are_refused_by_name():
    problem = _problem(1)
    with pytest.raises(TypeError, match=r"lbfgs\(\) got unknown options \['memroy'\]; "
                                        r"accepted: \['armijo', 'init', 'iters'"):
        an.solve(problem, "lbfgs", memroy=5)
    for bad, error in ((dict(memory=0), ValueError), (dict(memory=2.5), TypeError),
                       (dict(armijo=1.0), ValueError), (dict(armijo=0.0), ValueError),
                       (dict(step0=-1.0), ValueError), (dict(step0="big"), TypeError),
                       (dict(max_backtracks=-1), ValueError), (dict(iters=0), ValueError),
                       (dict(keep_memory="yes"), TypeError),
                       (dict(init="mmse"), ValueError)):
        name = next(iter(bad))
        with pytest.raises(error, match=name):
            an.solve(problem, "lbfgs", **bad)


def test_a_state_of_another_memory_size_is_refused():
    problem = _problem(2)
    state = lbfgs(problem, rng=0, iters=3, memory=4).state
    assert state["lbfgs_s"].shape == (2, 4, 24) and state["lbfgs_rho"].shape == (2, 4)
    with pytest.raises(ValueError, match=r"state\['lbfgs_s'\] must hold 2 instances"):
        lbfgs(problem, iters=3, state=state, memory=5)
    zero = dict(state, V=np.zeros_like(state["V"]))
    with pytest.raises(ValueError, match=r"state\['V'\] must be finite and nonzero"):
        lbfgs(problem, iters=3, state=zero, memory=4)


def test_on_a_constant_channel_tracking_is_one_longer_solve():
    """Same function, same f at V: the curvature pairs carry over (bit for bit)."""
    seq = Scenario.preset("balanced", n_tx=6).sequence(2, 2, rho=1.0, rng=0)
    gens = [np.random.default_rng(i) for i in (3, 4)]
    tracked = an.track(seq, "lbfgs", iters_per_frame=10, rng=gens)
    first = [np.random.default_rng(i).spawn(2)[0] for i in (3, 4)]
    whole = lbfgs(seq.frame(0), rng=first, iters=20, **an.solvers.SPECS["lbfgs"].track_options)
    for key in ("V", "lbfgs_s", "lbfgs_y", "lbfgs_rho", "best_W"):
        np.testing.assert_array_equal(tracked.state[key], whole.state[key], err_msg=key)
    np.testing.assert_array_equal(tracked.csbf[:, 1], whole.csbf)


def test_a_state_from_another_problem_continues_without_its_pairs():
    seq = Scenario.preset("balanced", n_tx=6).sequence(3, 2, rho=0.9, target_drift_deg=0.2,
                                                      rng=1)
    before = lbfgs(seq.frame(0), rng=2, iters=15).state
    assert np.all(before["lbfgs_rho"][:, 0] > 0)
    state = an.solvers.iterative.restart_state(before, seq.frame(1))
    emptied = dict(state, **{k: np.zeros_like(state[k])
                             for k in ("lbfgs_s", "lbfgs_y", "lbfgs_rho")})
    dropped = lbfgs(seq.frame(1), iters=5, state=state)
    np.testing.assert_array_equal(dropped.history,
                                  lbfgs(seq.frame(1), iters=5, state=emptied).history)
    kept = lbfgs(seq.frame(1), iters=5, state=state, keep_memory=True)
    assert not np.array_equal(kept.history, dropped.history)
