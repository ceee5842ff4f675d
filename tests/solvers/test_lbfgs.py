"""L-BFGS on the power sphere from one start: curvature memory, strong Wolfe steps, runs.

State continuation (12 + 12 == 24 bit for bit, savez, bad states, batch axes) is checked for
every registered iterative solver, this one included, in ``test_state.py``; the sphere map
and its gradient in ``test_sphere.py``.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.solvers import _lbfgs_one, _quasi_newton, optimality_gap, sphere
from angd_np.solvers import iterative as _iterative
from angd_np.solvers import lbfgs as _module
from angd_np.solvers._quasi_newton import Memory
from angd_np.solvers.lbfgs import lbfgs


def _problem(n=4, n_tx=6, preset="balanced", rng=0):
    return Scenario.preset(preset, n_tx=n_tx).draw(n, rng=rng)


def _naive_inverse_hessian(pairs, gamma, d):
    """H_k of BFGS built densely from H_0 = gamma I by the updates, oldest pair first:
    H <- (I - rho s y^T) H (I - rho y s^T) + rho s s^T (Nocedal and Wright, eq. 7.19)."""
    H = gamma * np.eye(d)
    for s, y in pairs:
        rho = 1.0 / (s @ y)
        V = np.eye(d) - rho * np.outer(y, s)
        H = V.T @ H @ V + rho * np.outer(s, s)
    return H


@given(seed=st.integers(0, 2**16), n=st.integers(1, 3), d=st.integers(2, 12),
       m=st.integers(1, 6), filled=st.integers(0, 9))
def test_the_memory_applies_the_dense_bfgs_inverse_hessian_of_its_last_pairs(seed, n, d, m,
                                                                             filled):
    """The compact form against BFGS built densely from the pairs of the last m iterations,
    and a saved and reloaded memory gives the same product bit for bit."""
    rng = np.random.default_rng(seed)
    mem = Memory(n, m, d)
    pairs = [[] for _ in range(n)]
    for _ in range(filled):  # each instance its own count of pairs, s.y > 0 as the solver keeps
        rows = rng.random(n) < 0.7
        s = rng.standard_normal((n, d))
        y = s + 0.3 * rng.standard_normal((n, d))
        flip = np.einsum("nd,nd->n", s, y) <= 0
        y[flip] = -y[flip] + 2 * s[flip]
        mem.push(s, y, rows, np.einsum("nd,nd->n", s, y))
        for i in range(n):  # an iteration without a pair leaves its slot empty
            pairs[i].append((s[i], y[i]) if rows[i] else None)
    g = rng.standard_normal((n, d))
    gamma0 = rng.uniform(0.1, 3.0, n)
    r = mem.product(g, gamma0)
    for i in range(n):
        kept = [pair for pair in pairs[i][-m:] if pair is not None]  # the last m iterations
        gamma = gamma0[i] if not kept else (kept[-1][0] @ kept[-1][1]) / (kept[-1][1] @
                                                                         kept[-1][1])
        H = _naive_inverse_hessian(kept, gamma, d)
        np.testing.assert_allclose(r[i], H @ g[i], rtol=1e-8, atol=1e-8 * np.abs(H @ g[i]).max())
    again = Memory.from_arrays(*mem.arrays())
    np.testing.assert_array_equal(again.product(g, gamma0), r)


def _spy_line_search(monkeypatch):
    """Record the inputs and outputs of every line search lbfgs runs (the real one)."""
    calls = []
    original = _quasi_newton.wolfe_search

    def spy(fun, x, phi, g, aux, p, slope, step, searching, **kw):
        out = original(fun, x, phi, g, aux, p, slope, step, searching, **kw)
        calls.append(dict(x=x.copy(), phi=phi.copy(), g=g.copy(), p=p.copy(),
                          slope=slope.copy(), searching=searching.copy(), out=out, **kw))
        return out

    monkeypatch.setattr(_module, "wolfe_search", spy)
    return calls


def test_the_first_step_is_along_steepest_descent_of_step0_times_the_radius(monkeypatch):
    calls = _spy_line_search(monkeypatch)
    problem = _problem(3)
    lbfgs(problem, iters=2, init="zf", step0=0.05)
    first = calls[0]
    x = sphere.to_x(an.solve(problem, "zf").W)
    np.testing.assert_array_equal(first["x"], x)
    gnorm = np.linalg.norm(first["g"], axis=1)
    expected = -0.05 * (np.linalg.norm(x, axis=1) / gnorm)[:, None] * first["g"]
    np.testing.assert_allclose(first["p"], expected, rtol=1e-14)
    # the second iteration has a pair: a quasi-Newton direction, no longer along -g
    cos = np.einsum("nd,nd->n", calls[1]["p"], -calls[1]["g"]) / (
        np.linalg.norm(calls[1]["p"], axis=1) * np.linalg.norm(calls[1]["g"], axis=1))
    assert np.all(cos < 1 - 1e-6)


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_every_accepted_step_satisfies_the_strong_wolfe_conditions(monkeypatch, preset):
    calls = _spy_line_search(monkeypatch)
    problem = _problem(6, 8, preset, rng=3)
    lbfgs(problem, rng=2, iters=40, init="random")
    assert len(calls) == 40
    steps = 0
    for c in calls:
        x_new, phi_new, g_new, _, moved, wolfe = c["out"]
        assert np.array_equal(moved, wolfe)  # far from round-off: no fallback step
        for i in np.flatnonzero(moved):
            a = (x_new[i] - c["x"][i]) @ c["p"][i] / (c["p"][i] @ c["p"][i])
            # recompute value and slope at the accepted point: the search's own numbers
            # are not trusted
            f, g, _ = sphere.value_and_grad(x_new[i:i + 1], problem[i:i + 1], -1.0)
            assert -f[0] == phi_new[i]
            assert -f[0] <= c["phi"][i] + c["c1"] * a * c["slope"][i]
            assert abs(g[0] @ c["p"][i]) <= c["c2"] * abs(c["slope"][i])
            steps += 1
    assert steps == 6 * 40


def test_the_line_search_lengthens_a_step_that_is_too_short(monkeypatch):
    calls = _spy_line_search(monkeypatch)
    lbfgs(_problem(2, 6, "paper", rng=1), iters=1, init="zf", step0=1e-6)
    x_new, _, _, _, moved, wolfe = calls[0]["out"]
    a = np.einsum("nd,nd->n", x_new - calls[0]["x"], calls[0]["p"]) / np.einsum(
        "nd,nd->n", calls[0]["p"], calls[0]["p"])
    assert np.all(moved & wolfe) and np.all(a > 10)  # extrapolated far past the trial step


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_every_step_rises_and_the_best_is_never_below_the_start(preset):
    problem = _problem(6, 8, preset, rng=3)
    for init in ("zf", "random"):
        res = lbfgs(problem, rng=2, iters=60, init=init)
        W0 = _iterative.initial_W(init, problem, _iterative.instance_streams(2, 6))
        f0 = csbf(W0, problem)
        assert np.all(np.diff(res.history, axis=1) >= 0)  # the decrease test never lets f fall
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
    rows = []
    original = sphere.value_and_grad

    def spy(x, problem, factor=1.0):
        rows.append(x.shape[0])
        return original(x, problem, factor)

    monkeypatch.setattr(sphere, "value_and_grad", spy)
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
                       (dict(wolfe=1.0), ValueError), (dict(wolfe=1e-5), ValueError),
                       (dict(step0=-1.0), ValueError), (dict(step0="big"), TypeError),
                       (dict(max_evals=0), ValueError), (dict(iters=0), ValueError),
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
    for key in ("V", "lbfgs_s", "lbfgs_y", "lbfgs_rho", "lbfgs_linv", "lbfgs_yy", "lbfgs_head",
                "best_W"):
        np.testing.assert_array_equal(tracked.state[key], whole.state[key], err_msg=key)
    np.testing.assert_array_equal(tracked.csbf[:, 1], whole.csbf)


def test_a_state_from_another_problem_continues_without_its_pairs():
    seq = Scenario.preset("balanced", n_tx=6).sequence(3, 2, rho=0.9, target_drift_deg=0.2,
                                                      rng=1)
    before = lbfgs(seq.frame(0), rng=2, iters=15).state
    assert np.all(before["lbfgs_rho"].max(axis=1) > 0)
    state = an.solvers.iterative.restart_state(before, seq.frame(1))
    emptied = dict(state, **{k: np.zeros_like(state[k])
                             for k in ("lbfgs_s", "lbfgs_y", "lbfgs_rho", "lbfgs_yy")},
                   lbfgs_linv=np.broadcast_to(np.eye(10), state["lbfgs_linv"].shape).copy())
    dropped = lbfgs(seq.frame(1), iters=5, state=state)
    np.testing.assert_array_equal(dropped.history,
                                  lbfgs(seq.frame(1), iters=5, state=emptied).history)
    kept = lbfgs(seq.frame(1), iters=5, state=state, keep_memory=True)
    assert not np.array_equal(kept.history, dropped.history)


def test_the_old_name_of_max_evals_still_works_with_a_warning():
    problem = _problem(1)
    with pytest.warns(DeprecationWarning, match="'max_backtracks' is renamed 'max_evals'"):
        old = an.solve(problem, "lbfgs", iters=5, max_backtracks=7, rng=0)
    np.testing.assert_array_equal(old.history, an.solve(problem, "lbfgs", iters=5, max_evals=7,
                                                        rng=0).history)


def test_a_batch_with_a_stalled_instance_still_equals_each_alone():
    """Rows stall (round-off) or search longer at different iterations: the gathers of the
    line search must not change any row's bits."""
    problem = Scenario.preset("paper", n_tx=4).draw(5, rng=2)
    batch = lbfgs(problem, iters=300, init="zf")
    # some row is at round-off: flat over its last 50 iterations
    assert np.any(np.all(batch.history[:, -50:] == batch.history[:, -1:], axis=1))
    for i in range(5):
        alone = lbfgs(problem[i:i + 1], iters=300, init="zf")
        np.testing.assert_array_equal(alone.history[0], batch.history[i])
        for key in ("lbfgs_linv", "lbfgs_s", "lbfgs_head"):
            np.testing.assert_array_equal(alone.state[key][0], batch.state[key][i])


def _scipy_lbfgsb(one, x0, iters):
    """scipy's L-BFGS-B on the same sphere parametrisation and scaled objective."""
    from scipy.optimize import minimize

    scale = abs(sphere.value_and_grad(x0[None], one)[0][0])

    def fun(z):
        f, g, _ = sphere.value_and_grad(z[None], one, -1.0 / scale)
        return -f[0] / scale, g[0]

    res = minimize(fun, x0, jac=True, method="L-BFGS-B",
                   options={"maxiter": iters, "ftol": 1e-15, "gtol": 1e-12})
    return res.x


def _residual(x, one):
    _, g, W = sphere.value_and_grad(x[None], one)
    _, G = an.csbf_and_grad(W, one)
    return np.linalg.norm(g) * np.linalg.norm(x) / (2 * np.linalg.norm(G) * np.sqrt(one.p_max))


@pytest.mark.parametrize("preset", ["paper", "balanced"])
def test_lbfgs_and_scipy_lbfgsb_reach_the_same_csbf_where_both_converge(preset):
    pytest.importorskip("scipy")
    problem = _problem(4, 6, preset, rng=4)
    ours = lbfgs(problem, iters=1500, init="zf")
    x0 = sphere.to_x(an.solve(problem, "zf").W)
    compared = 0
    for i in range(4):
        one = problem[i:i + 1]
        x = _scipy_lbfgsb(one, x0[i], 3000)
        theirs = csbf(sphere.to_W(sphere.to_V(x[None], (6, 2)), one.p_max), one)[0]
        mine = sphere.to_x(ours.state["V"][i:i + 1])[0]
        # converged: a relative tangential gradient that f can hardly resolve further (about
        # 1e-6 in the balanced preset, see bank.certificate)
        if max(_residual(x, one), _residual(mine, one)) > 1e-5:
            continue  # one of the two has not converged: nothing to compare
        np.testing.assert_allclose(ours.csbf[i], theirs, rtol=1e-9)
        compared += 1
    assert compared >= 3


def test_numpy_alone_is_enough(tmp_path):
    """With scipy unimportable, lbfgs still solves (a fresh interpreter; nothing mocked)."""
    script = textwrap.dedent("""
        import sys

        class NoScipy:
            def find_spec(self, name, path=None, target=None):
                if name == "scipy" or name.startswith("scipy."):
                    raise ImportError("scipy is blocked")

        sys.meta_path.insert(0, NoScipy())
        import numpy as np
        import angd_np as an

        problem = an.Scenario.preset("balanced", n_tx=6).draw(3, rng=0)
        res = an.solve(problem, "lbfgs", iters=200, init="zf")
        zf = an.solve(problem, "zf")
        assert np.all(res.csbf > zf.csbf) and "scipy" not in sys.modules
        print("ok", float(res.csbf.min()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok")


def test_one_instance_runs_the_lean_loop_and_equals_its_batch_row_with_every_option(
        monkeypatch):
    """n = 1 takes the loop of _lbfgs_one (no batch bookkeeping); its history, best W,
    stopping and state are its row of the batched loop's, bit for bit, and 12 + 12
    iterations from the state are the 24-iteration run."""
    ran = []
    original = _lbfgs_one.run
    monkeypatch.setattr(_lbfgs_one, "run", lambda *a: ran.append(1) or original(*a))
    problem = Scenario.preset("paper", n_tx=5).draw(3, rng=8)
    for options in (dict(init="zf"), dict(init="random", rng=[4, 5, 6], memory=3),
                    dict(init="zf", tol=1e-7, patience=4), dict(init="zf", max_evals=2)):
        options = dict(options)
        rng = options.pop("rng", None)
        batch = lbfgs(problem, iters=60, rng=rng, **options)
        assert not ran
        for i in range(3):
            alone = lbfgs(problem[i:i + 1], iters=60, rng=None if rng is None else rng[i:i + 1],
                          **options)
            assert ran.pop()
            np.testing.assert_array_equal(alone.history[0], batch.history[i])
            assert alone.nit[0] == batch.nit[i]
            # an early-stopped row's ring is moved on with empty slots, as in a batch (one
            # head for all rows); its stopping counter is not
            keys = ("best_W", "V", "active", "lbfgs_s", "lbfgs_y", "lbfgs_rho", "lbfgs_linv",
                    "lbfgs_yy", "lbfgs_head") + (() if "tol" in options else ("since",))
            for key in keys:
                np.testing.assert_array_equal(alone.state[key][0], batch.state[key][i])
    one = problem[:1]
    half = lbfgs(one, iters=12, init="zf")
    whole = lbfgs(one, iters=24, init="zf")
    np.testing.assert_array_equal(lbfgs(one, iters=12, state=half.state).history[0],
                                  whole.history[0, 12:])


@pytest.mark.parametrize("options", [dict(init="zf"), dict(init="zf", tol=1e-7, patience=4),
                                     dict(init="random", memory=3)])
def test_a_batch_cut_into_chunks_equals_one_batch(monkeypatch, options):
    """Large batches run in chunks whose pairs fit in cache (``chunk_rows``): chunks of 3, 3
    and 1 (the last in the one-instance loop) give the one batch's results and state bit for
    bit, early-stopped rows and a continuation from the state included."""
    problem = Scenario.preset("paper", n_tx=5).draw(7, rng=3)
    whole = lbfgs(problem, iters=50, rng=range(7), **options)
    memory = {k: v for k, v in options.items() if k == "memory"}
    again = lbfgs(problem, iters=20, state=whole.state, **memory)
    monkeypatch.setattr(_module, "CHUNK_BYTES", 1)
    monkeypatch.setattr(_module, "CHUNK_MIN", 3)
    assert _module.chunk_rows(10, 20) == 3
    cut = lbfgs(problem, iters=50, rng=range(7), **options)
    cut_again = lbfgs(problem, iters=20, state=cut.state, **memory)
    for a, b in ((whole, cut), (again, cut_again)):
        for field in ("W", "csbf", "history", "nit", "success"):
            np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
        assert a.message == b.message
        assert a.state.keys() == b.state.keys()
        for key in a.state:
            np.testing.assert_array_equal(a.state[key], b.state[key], err_msg=key)
    if "tol" in options:
        assert np.any(whole.nit < 50)  # the padding of early-stopped chunks was exercised


@given(seed=st.integers(0, 2**16), d=st.integers(2, 12), m=st.integers(1, 5),
       pairs=st.integers(1, 8))
def test_the_one_row_push_and_product_are_the_batched_ones_bit_for_bit(seed, d, m, pairs):
    """push_one and product_one (Python-float scalars, the lean loop's) leave the memory and
    return the product exactly as push and product of a one-row memory do."""
    rng = np.random.default_rng(seed)
    a, b = Memory(1, m, d), Memory(1, m, d)
    for _ in range(pairs):
        s = rng.standard_normal((1, d))
        y = s + 0.3 * rng.standard_normal((1, d))  # s.y > 0 for these draws, mostly
        sy = np.vecdot(s, y)
        if sy[0] <= 0:
            continue
        a.push(s, y, np.ones(1, dtype=bool), sy)
        b.push_one(s, y, float(sy[0]))
        for left, right in zip(a.arrays(), b.arrays(), strict=True):
            np.testing.assert_array_equal(left, right)
        g = rng.standard_normal((1, d))
        np.testing.assert_array_equal(a.product(g, None), b.product_one(g))
