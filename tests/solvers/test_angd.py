"""ANGD (Algorithm 1): the exact φ-gradient, feasibility, best iterate, determinism, batches."""

import dataclasses
import os

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.solvers import iterative as _angd_common
from angd_np.solvers._angd_engine import Objective, rates
from angd_np.solvers.angd import VARIANTS, ANGDOptions, angd_cnn, angd_fcn
from angd_np.solvers.linear import sensing_beam, zf_precoder


@pytest.fixture
def spy_iterates(monkeypatch):
    """Record every point the engine evaluates f at (W_0, then each iterate), observing only."""
    seen = []
    original = Objective.__call__

    def call(self, V, G):
        f = original(self, V, G)
        seen.append((np.array(V), f))
        return f

    monkeypatch.setattr(Objective, "__call__", call)
    return seen


@pytest.mark.parametrize("method", ["angd-fcn", "angd-cnn"])
@pytest.mark.parametrize("preset", ["paper", "tuned"])
@pytest.mark.parametrize("net_dtype", ["float64", "float32"])
def test_every_iterate_is_feasible_and_the_best_one_is_returned(spy_iterates, method, preset,
                                                                net_dtype):
    problem = Scenario.preset("balanced").draw(3, rng=4)
    # pilot=0: one chain per instance, so the recorded points are its W_0 and iterates (the
    # pilot's own test checks what it adds).
    res = an.solve(problem, method, rng=5, variant=preset, iters=25, threads=1,
                   net_dtype=net_dtype, pilot=0)
    assert len(spy_iterates) == 3 * 26  # per instance: W_0 and 25 iterates
    for i in range(3):
        points = spy_iterates[26 * i:26 * (i + 1)]
        for V, f in points:
            assert power(V) <= problem.p_max * (1 + 1e-12)
            assert f == pytest.approx(float(csbf(V, problem[i])), rel=1e-12)
        np.testing.assert_array_equal(res.history[i], [f for _, f in points[1:]])
        # The returned W is the best of W_0 and every iterate.
        best = max(range(26), key=lambda j: points[j][1])
        np.testing.assert_array_equal(res.W[i], points[best][0])
    init = VARIANTS[preset]["fcn"].init  # paper: random, tuned: zf
    W0 = _angd_common.initial_W(init, problem, _angd_common.instance_streams(5, 3))
    np.testing.assert_array_equal([V for V, _ in spy_iterates[::26]], W0)
    assert np.all(res.power <= problem.p_max * (1 + 1e-12))
    assert res.history.shape == (3, 25) and np.all(res.nit == 25)
    assert res.method == method


def test_same_seed_gives_identical_results_and_another_seed_differs():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    a = angd_fcn(problem, rng=7, iters=15, hidden=8)
    b = angd_fcn(problem, rng=7, iters=15, hidden=8)
    c = angd_fcn(problem, rng=8, iters=15, hidden=8)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.history, b.history)
    assert not np.allclose(a.W, c.W)


@pytest.mark.parametrize("method,options", [
    ("angd-fcn", dict(hidden=8)), ("angd-cnn", {}), ("angd-fcn", dict(variant="tuned", hidden=8)),
    ("angd-fcn", dict(variant="tuned", hidden=8, pilot=3, workers=2, chunk=1)),
    ("angd-cnn", dict(channels=4, precondition="channel", net_dtype="float64")),
    ("angd-fcn", dict(variant="tuned", hidden=8, pilot=6)),
    ("angd-fcn", dict(variant="tuned", hidden=8, step_input=0.5, workers=2, chunk=1))])
def test_an_instance_solved_in_a_batch_equals_it_solved_alone(method, options):
    problem = Scenario.preset("balanced").draw(5, rng=1)
    seeds = [101, 102, 103, 104, 105]
    options = {"chunk": 2, **options}
    batch = an.solve(problem, method, rng=seeds, iters=20, **options)
    for i in (0, 3, 4):
        alone = an.solve(problem[i:i + 1], method, rng=[seeds[i]], iters=20,
                         **{**options, "workers": 1})
        np.testing.assert_array_equal(alone.W[0], batch.W[i])
        np.testing.assert_array_equal(alone.history[0], batch.history[i])


@given(chunk=st.integers(1, 4), threads=st.integers(1, 3))
def test_chunking_and_threads_do_not_change_results(chunk, threads):
    problem = Scenario.preset("paper").draw(4, rng=2)
    ref = angd_fcn(problem, rng=3, iters=6, hidden=4, chunk=4, threads=1)
    res = angd_fcn(problem, rng=3, iters=6, hidden=4, chunk=chunk, threads=threads)
    np.testing.assert_array_equal(res.W, ref.W)


@pytest.mark.parametrize("M,K", [(4, 1), (3, 3), (1, 1)])
@pytest.mark.parametrize("method", ["angd-fcn", "angd-cnn"])
def test_single_user_and_as_many_users_as_antennas(M, K, method):
    scenario = Scenario(n_tx=M, n_users=K, user_angles_deg=tuple(range(K)), omega=30.0)
    problem = scenario.draw(2, rng=6)
    options = dict(hidden=8) if method == "angd-fcn" else {}
    res = an.solve(problem, method, rng=1, iters=10, init="zf", **options)
    assert res.W.shape == (2, M, K)
    assert np.all(np.isfinite(res.csbf)) and np.all(res.power <= problem.p_max * (1 + 1e-12))
    zf = an.solve(problem, "zf")
    assert np.all(res.csbf >= zf.csbf * (1 - 1e-12))  # ZF is W_0, and the best is kept


def test_batch_axes_and_a_single_instance_keep_their_shapes():
    problem = Scenario.preset("balanced").draw(6, rng=0)
    grid = problem.with_(H=problem.H.reshape(2, 3, 16, 2))
    res = angd_fcn(grid, rng=0, iters=3, hidden=4)
    assert res.W.shape == (2, 3, 16, 2) and res.history.shape == (2, 3, 3)
    single = problem.with_(H=problem.H[0])
    res1 = angd_fcn(single, rng=0, iters=3, hidden=4)
    assert res1.W.shape == (16, 2) and res1.csbf.shape == () and res1.history.shape == (3,)


def test_early_stopping_pads_history_with_nan():
    problem = Scenario.preset("balanced").draw(3, rng=0)
    res = angd_fcn(problem, rng=0, iters=60, hidden=4, eta_phi=0.0, tol=0.5, patience=5)
    assert np.all(res.nit < 60)
    for h, k in zip(res.history, res.nit, strict=True):
        assert np.all(np.isfinite(h[:k])) and np.all(np.isnan(h[k:]))
    assert "stopped early" in res.message


def test_given_initial_point_is_projected_and_used():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    W0 = 3.0 * an.solve(problem, "zf").W  # 9 p_max: must be scaled back onto the ball
    res = angd_fcn(problem, rng=0, iters=1, hidden=4, init=W0, eta_w=1e-12)
    np.testing.assert_allclose(res.W, W0 / 3.0, rtol=1e-9)


def test_presets_hold_the_papers_values():
    paper = VARIANTS["paper"]["fcn"]
    assert isinstance(paper, ANGDOptions)
    assert (paper.iters, paper.eta_w, paper.eta_phi) == (500, 1.0, 1e-4)
    assert paper.input_scale == "raw" and paper.output_scale == "none"
    assert VARIANTS["paper"]["cnn"].channels == 16 and VARIANTS["paper"]["cnn"].kernel_size == 3
    tuned = VARIANTS["tuned"]["fcn"]
    assert (tuned.eta_w, tuned.eta_phi, tuned.input_scale, tuned.output_scale) == (
        0.03, 2.4e-4, "rms", "w") and tuned.zero_last
    assert (tuned.init, tuned.iters, tuned.size_scale) == ("zf", 400, "sqrt")
    assert tuned.precondition == "channel" and tuned.pilot == 100
    assert tuned.tol is None and paper.tol is None  # no stopping rule (studies/angd_speed)
    assert paper.size_scale == "none" and paper.precondition == "none" and paper.pilot == 0
    assert tuned.step_input == 0.5 and paper.step_input == 0  # the FCN only: section 2b
    assert VARIANTS["tuned"]["cnn"] == dataclasses.replace(tuned, step_input=0.0)


def test_explicit_options_override_the_preset_and_are_validated_once():
    opts = ANGDOptions.resolve("angd-fcn", VARIANTS["tuned"]["fcn"], {"eta_phi": 5e-4,
                                                                    "betas": [0.8, 0.99]})
    assert opts.eta_phi == 5e-4 and opts.eta_w == 0.03 and opts.betas == (0.8, 0.99)
    assert VARIANTS["tuned"]["fcn"].eta_phi == 2.4e-4  # the preset itself is unchanged
    with pytest.raises(TypeError, match=r"angd-cnn\(\) got unknown options \['hidden'\]; "
                                        r"accepted: \[.*'channels'"):
        ANGDOptions.resolve("angd-cnn", None, {"hidden": 8})


@pytest.mark.parametrize("options,error,match", [
    (dict(bogus=1), TypeError, "bogus"),
    (dict(channels=4), TypeError, "channels"),
    (dict(iters=0), ValueError, "iters"),
    (dict(eta_w=-1.0), ValueError, "eta_w"),
    (dict(eta_w="big"), TypeError, "eta_w"),
    (dict(eta_phi=float("nan")), ValueError, "eta_phi"),
    (dict(hidden=0), ValueError, "hidden"),
    (dict(input_scale="norm"), ValueError, "input_scale"),
    (dict(output_scale="huge"), ValueError, "output_scale"),
    (dict(output_scale=-2.0), ValueError, "output_scale"),
    (dict(net_init="xavier"), ValueError, "net_init"),
    (dict(init="ones"), ValueError, "init"),
    (dict(init=np.ones((3, 2))), ValueError, "init"),
    (dict(init=np.zeros((16, 2))), ValueError, "init"),
    (dict(variant="fast"), ValueError, "variant"),
    (dict(chunk=0), ValueError, "chunk"),
    (dict(threads=0), ValueError, "threads"),
    (dict(betas=(0.9, 1.5)), ValueError, "betas"),
    (dict(tol=-1.0), ValueError, "tol"),
    (dict(rng="seed"), TypeError, "rng"),
    (dict(accept="ascent"), TypeError, "accept"),  # removed: measured worse (README)
    (dict(size_scale="linear"), ValueError, "size_scale"),
    (dict(gated=True), TypeError, "gated"),
    (dict(precondition="mmse"), ValueError, "precondition"),
    (dict(pilot=-1), ValueError, "pilot"),
    (dict(pilot=2.5), TypeError, "pilot"),
    (dict(pilot_extend=-1), ValueError, "pilot_extend"),
    (dict(pilot_extend=1.5), TypeError, "pilot_extend"),
    (dict(headroom=(0.1, 0.01)), ValueError, "headroom.*0.1, 0.01"),
    (dict(headroom=(-1.0, 1.0)), ValueError, "headroom"),
    (dict(headroom=(0.0, float("nan"))), ValueError, "headroom"),
    (dict(headroom=0.1), TypeError, "headroom.*0.1"),
    (dict(headroom="0.1"), TypeError, "headroom"),
    (dict(headroom=(0.1, 0.2, 0.3)), TypeError, "headroom"),
    (dict(headroom=(True, 1.0)), TypeError, "headroom"),
    (dict(headroom=(0.0, 1.0), pilot_extend=1), ValueError, "headroom and pilot_extend"),
    (dict(check_starts="yes"), TypeError, "check_starts"),
    (dict(check_starts=1), TypeError, "check_starts"),
    (dict(step_input="yes"), TypeError, "step_input"),
    (dict(step_input=True), TypeError, "step_input"),
    (dict(step_input=-0.5), ValueError, "step_input"),
    (dict(step_input=float("inf")), ValueError, "step_input"),
])
def test_bad_options_are_rejected_with_a_message_naming_them(options, error, match):
    problem = Scenario.preset("balanced").draw(1, rng=0)
    with pytest.raises(error, match=match):
        angd_fcn(problem, iters=options.pop("iters", 2), **options)


def test_cnn_rejects_the_fcn_width_and_a_wrong_problem_type():
    problem = Scenario.preset("balanced").draw(1, rng=0)
    with pytest.raises(TypeError, match="hidden"):
        angd_cnn(problem, hidden=8, iters=2)
    with pytest.raises(TypeError, match="step_input"):  # the FCN's input only
        angd_cnn(problem, step_input=0.5, iters=2)
    with pytest.raises(TypeError, match="Problem"):
        angd_fcn({"H": problem.H}, iters=2)


def test_registered_names_solve_through_the_public_entry_point():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    for method, solver in (("angd-fcn", angd_fcn), ("angd-cnn", angd_cnn)):
        res = an.solve(problem, method, rng=0, iters=3)
        direct = solver(problem, rng=0, iters=3)
        assert res.method == method
        np.testing.assert_array_equal(res.W, direct.W)  # the same solver, the same streams
        np.testing.assert_allclose(res.csbf, csbf(res.W, problem), rtol=1e-12)


def test_a_diverging_instance_is_stopped_and_returns_its_best_finite_iterate():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    res = angd_fcn(problem, rng=0, iters=5, hidden=4, eta_w=1e300, output_scale=1e300,
                   input_scale="rms")
    assert not res.success.any() and "non-finite" in res.message
    assert np.all(np.isfinite(res.W)) and np.all(res.power <= problem.p_max * (1 + 1e-12))


def test_zero_last_makes_the_first_step_a_no_op():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    W0 = an.solve(problem, "zf").W
    res = angd_fcn(problem, rng=0, iters=2, hidden=4, zero_last=True, init=W0)
    np.testing.assert_allclose(res.history[:, 0], csbf(W0, problem), rtol=1e-12)
    with pytest.raises(TypeError, match="zero_last"):
        angd_fcn(problem, iters=2, zero_last="yes")


@pytest.mark.parametrize("M,K,factor", [(16, 2, 1.0), (10, 2, 1.0), (32, 4, 0.5),
                                         (64, 8, 0.25), (8, 8, 1 / np.sqrt(2))])
def test_size_scale_divides_both_rates_by_the_root_of_the_size(M, K, factor):
    opts = ANGDOptions(eta_w=0.03, eta_phi=1.2e-4, size_scale="sqrt")
    assert rates(opts, M, K) == pytest.approx((0.03 * factor, 1.2e-4 * factor), rel=1e-15)
    assert rates(ANGDOptions(eta_w=0.03, eta_phi=1.2e-4), M, K) == (0.03, 1.2e-4)


def test_size_scale_runs_what_the_scaled_rates_run():
    scenario = Scenario(n_tx=8, n_users=8, user_angles_deg=tuple(range(0, 80, 10)), omega=30.0)
    problem = scenario.draw(2, rng=4)
    scaled = angd_fcn(problem, rng=1, iters=12, hidden=8, eta_w=0.2, eta_phi=1e-3,
                      size_scale="sqrt", input_scale="rms", output_scale="w")
    factor = np.sqrt(32 / 64)  # M·K = 64
    by_hand = angd_fcn(problem, rng=1, iters=12, hidden=8, eta_w=0.2 * factor,
                       eta_phi=1e-3 * factor, input_scale="rms", output_scale="w")
    np.testing.assert_array_equal(scaled.history, by_hand.history)
    np.testing.assert_array_equal(scaled.W, by_hand.W)


# -- continuable state ----------------------------------------------------------------------
_STATE_CASES = [
    ("angd-fcn", dict(hidden=8)),
    ("angd-cnn", dict(channels=4)),
    ("angd-fcn", dict(hidden=8, variant="tuned", chunk=2, threads=2)),
    ("angd-cnn", dict(variant="tuned", chunk=4, threads=2)),
    # tol/patience: instances stop in the first part, in the second, and not at all.
    ("angd-fcn", dict(hidden=8, tol=1e-4, patience=8, chunk=2, threads=2)),
    ("angd-cnn", dict(tol=3e-4, patience=6, chunk=2, threads=2)),
    ("angd-fcn", dict(hidden=8, net_dtype="float32", chunk=4)),
    ("angd-cnn", dict(channels=4, net_dtype="float32", variant="tuned")),
    # Parts solved by the kept process pool.
    ("angd-fcn", dict(hidden=8, chunk=1, workers=2)),
    # The channel metric is recomputed from H when a state is continued.
    ("angd-fcn", dict(hidden=8, precondition="channel", chunk=2, threads=2)),
    # The pilot belongs to the start: the continued call goes on from the chosen chain.
    ("angd-cnn", dict(channels=4, variant="tuned", pilot=5, chunk=2, threads=2)),
    ("angd-fcn", dict(hidden=8, variant="tuned", pilot=5, pilot_extend=2, headroom=None,
                      chunk=2)),
    # The previous output the network sees is in the state (net_out).
    ("angd-fcn", dict(hidden=8, variant="tuned", step_input=0.5, chunk=2, threads=2)),
    ("angd-fcn", dict(hidden=8, variant="tuned", step_input=0.5, pilot=5, headroom=None,
                      chunk=2)),
]


def _assert_continues_exactly(full, first, second):
    np.testing.assert_array_equal(np.concatenate([first.history, second.history], axis=-1),
                                  full.history)
    np.testing.assert_array_equal(second.W, full.W)
    np.testing.assert_array_equal(second.csbf, full.csbf)
    np.testing.assert_array_equal(second.csbf, np.maximum(first.csbf, second.csbf))
    np.testing.assert_array_equal(first.nit + second.nit, full.nit)
    for key in full.state:
        np.testing.assert_array_equal(second.state[key], full.state[key], err_msg=key)


@pytest.mark.parametrize("method,options", _STATE_CASES)
def test_twenty_plus_twenty_iterations_from_the_state_equal_forty(method, options):
    problem = Scenario.preset("balanced").draw(6, rng=1)
    full = an.solve(problem, method, rng=3, iters=40, **options)
    first = an.solve(problem, method, rng=3, iters=20, **options)
    second = an.solve(problem, method, state=first.state, iters=20, **options)
    _assert_continues_exactly(full, first, second)
    if "tol" in options:  # the case covers stops in both parts and a full run
        assert (full.nit < 20).any() and ((full.nit > 20) & (full.nit < 40)).any()
        assert (full.nit == 40).any()


def test_state_of_a_single_instance_and_of_a_batch_grid_continue(tmp_path):
    problem = Scenario.preset("paper").draw(4, rng=2)
    grid = problem.with_(H=problem.H.reshape(2, 2, 16, 2))
    full = an.solve(grid, "angd-fcn", rng=5, iters=12, hidden=4)
    first = an.solve(grid, "angd-fcn", rng=5, iters=5, hidden=4)
    assert first.state["net_params"].shape[:2] == (2, 2)
    second = an.solve(grid, "angd-fcn", state=first.state, iters=7, hidden=4)
    _assert_continues_exactly(full, first, second)
    single = problem.with_(H=problem.H[0])
    one = an.solve(single, "angd-fcn", rng=5, iters=5, hidden=4)
    assert one.state["W"].shape == (16, 2) and one.state["adam_t"].shape == ()
    more = an.solve(single, "angd-fcn", state=one.state, iters=7, hidden=4)
    np.testing.assert_array_equal(more.W, an.solve(single, "angd-fcn", rng=5, iters=12,
                                                   hidden=4).W)


@pytest.mark.parametrize("method,options", [("angd-fcn", dict(hidden=8)),
                                            ("angd-cnn", dict(channels=4))])
def test_a_state_saved_with_savez_continues_identically(tmp_path, method, options):
    problem = Scenario.preset("balanced").draw(3, rng=4)
    first = an.solve(problem, method, rng=6, iters=10, **options)
    path = tmp_path / "state.npz"
    np.savez(path, **first.state)
    with np.load(path, allow_pickle=False) as loaded:
        again = an.solve(problem, method, state=loaded, iters=10, **options)
    direct = an.solve(problem, method, state=first.state, iters=10, **options)
    np.testing.assert_array_equal(again.history, direct.history)
    np.testing.assert_array_equal(again.W, direct.W)
    full = an.solve(problem, method, rng=6, iters=20, **options)
    np.testing.assert_array_equal(again.W, full.W)


def test_continuing_with_other_chunks_and_threads_gives_the_same_results():
    problem = Scenario.preset("balanced").draw(5, rng=1)
    first = an.solve(problem, "angd-fcn", rng=2, iters=8, hidden=4, chunk=2, threads=2)
    a = an.solve(problem, "angd-fcn", state=first.state, iters=8, hidden=4, chunk=2)
    b = an.solve(problem, "angd-fcn", state=first.state, iters=8, hidden=4, chunk=5, threads=1)
    np.testing.assert_array_equal(a.W, b.W)
    np.testing.assert_array_equal(a.history, b.history)


def _bad_state_cases():
    problem = Scenario.preset("balanced").draw(2, rng=0)
    state = an.solve(problem, "angd-fcn", rng=0, iters=3, hidden=4).state
    pgd_state = an.solve(problem, "pgd", rng=0, iters=3).state
    cnn_state = an.solve(problem, "angd-cnn", rng=0, iters=3, channels=2).state
    bigger = Scenario.preset("balanced", n_tx=8).draw(2, rng=0)
    return problem, state, [
        (problem, pgd_state, {}, "written by 'pgd'"),
        (problem, cnn_state, {}, "written by 'angd-cnn'"),
        (problem, state, dict(hidden=8), "net_params"),
        (problem[:1], state, {}, "1 instances"),
        (bigger, state, {}, r"shape \(8, 2\)"),
        (problem, {k: v for k, v in state.items() if k != "adam_m"}, {}, "missing.*adam_m"),
        (problem, {**state, "adam_v": state["adam_v"][:, :-1]}, {}, "adam_v"),
        (problem, {**state, "adam_t": state["adam_t"].astype(np.float64)}, {}, "int64"),
        (problem, {**state, "adam_t": np.array([-1, 5])}, {}, "adam_t"),
    ]


def test_a_bad_state_is_refused_with_a_clear_error():
    _, _, cases = _bad_state_cases()
    for problem, state, options, match in cases:
        with pytest.raises(ValueError, match=match):
            angd_fcn(problem, state=state, iters=2, **{"hidden": 4, **options})
    with pytest.raises(TypeError, match="state must be a mapping"):
        angd_fcn(cases[0][0], state=[1, 2], iters=2, hidden=4)


def test_success_is_a_bool_array_per_instance():
    problem = Scenario.preset("balanced").draw(3, rng=0)
    res = angd_fcn(problem, rng=0, iters=3, hidden=4)
    assert res.success.dtype == np.bool_ and res.success.shape == (3,) and res.success.all()


# -- processes ---------------------------------------------------------------------------------
@pytest.fixture
def no_kept_pool():
    """No pool kept before the test, none left after it."""
    from angd_np import _parallel

    _parallel.close_pools()
    yield _parallel
    _parallel.close_pools()


def test_results_are_identical_for_one_and_two_processes_and_any_chunking(no_kept_pool):
    problem = Scenario.preset("paper").draw(5, rng=3)
    options = dict(rng=4, iters=12, hidden=8)
    one = an.solve(problem, "angd-fcn", workers=1, threads=1, **options)
    for extra in (dict(workers=2, chunk=2), dict(workers=2, chunk=1), dict(workers=1, chunk=3)):
        res = an.solve(problem, "angd-fcn", **options, **extra)
        np.testing.assert_array_equal(res.W, one.W)
        np.testing.assert_array_equal(res.history, one.history)
        for key in one.state:
            np.testing.assert_array_equal(res.state[key], one.state[key], err_msg=key)


def test_the_process_pool_is_kept_and_reused_by_the_next_call(no_kept_pool):
    _parallel = no_kept_pool
    problem = Scenario.preset("paper").draw(4, rng=3)
    first = an.solve(problem, "angd-fcn", rng=1, iters=5, hidden=4, workers=2)
    pool = _parallel._pool[0]
    assert _parallel.live_pool() == 2 and pool is not None
    workers = set(pool._processes)
    second = an.solve(problem, "angd-fcn", rng=1, iters=5, hidden=4, workers=2)
    assert _parallel._pool[0] is pool and set(pool._processes) == workers  # no new process
    np.testing.assert_array_equal(first.W, second.W)
    # Another worker count replaces the pool (one is kept, never two).
    an.solve(problem, "angd-fcn", rng=1, iters=5, hidden=4, workers=3, chunk=1)
    assert _parallel.live_pool() == 3 and _parallel._pool[0] is not pool
    assert pool._processes is None  # the replaced pool was shut down
    _parallel.close_pools()
    assert _parallel.live_pool() == 0


def test_pool_workers_start_with_blas_on_one_thread(no_kept_pool, monkeypatch):
    import os

    _parallel = no_kept_pool
    monkeypatch.delenv("OPENBLAS_NUM_THREADS", raising=False)
    pool = _parallel.shared_pool(2)
    seen = [f.result() for f in _parallel.submit_all(pool, os.getenv,
                                                     ["OPENBLAS_NUM_THREADS"] * 4)]
    assert seen == ["1"] * 4 and "OPENBLAS_NUM_THREADS" not in os.environ


def _live_pool_in_child(queue):
    from angd_np import _parallel

    queue.put(_parallel.live_pool())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_a_forked_child_does_not_use_its_parents_pool(no_kept_pool):
    import multiprocessing

    _parallel = no_kept_pool
    _parallel.shared_pool(2)
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_live_pool_in_child, args=(queue,))
    child.start()
    seen = queue.get(timeout=60)
    child.join(timeout=60)
    assert seen == 0 and child.exitcode == 0  # the child has no pool; the parent keeps its
    assert _parallel.live_pool() == 2


_SOLVE_TWICE = """
import os, sys
import numpy as np
import angd_np as an
from angd_np import _parallel

if __name__ == "__main__":
    problem = an.Scenario.preset("paper").draw(4, rng=0)
    a = an.solve(problem, "angd-fcn", rng=1, iters=4, hidden=4, workers=2)
    pool = _parallel._pool[0]
    b = an.solve(problem, "angd-fcn", rng=1, iters=4, hidden=4, workers=2)
    assert _parallel._pool[0] is pool and np.array_equal(a.W, b.W)
    print(" ".join(str(pid) for pid in pool._processes))
"""


def test_a_script_that_solves_twice_exits_cleanly_and_leaves_no_worker(tmp_path):
    """The kept pool is shut down at interpreter exit: the script ends by itself, its
    workers with it."""
    import os
    import subprocess
    import sys
    import time

    script = tmp_path / "solve_twice.py"
    script.write_text(_SOLVE_TWICE)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, cwd=os.getcwd(),
                          env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stderr
    assert "Error" not in done.stderr and "leaked" not in done.stderr, done.stderr
    pids = [int(p) for p in done.stdout.split()]
    assert len(pids) == 2
    time.sleep(0.2)
    for pid in pids:  # gone (a pid reused this fast by an unrelated process is unlikely)
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_threads_one_as_the_runner_passes_means_no_pool(no_kept_pool):
    from angd_np.solvers.angd import POOL_MIN_WORK, POOL_WARM_WORK, SETUP_WORK, _processes

    iters = 20 - SETUP_WORK  # a chain's work (20): its iterations and its set-up
    big = POOL_MIN_WORK // 20  # instances that pay for starting a pool
    assert _processes(ANGDOptions(threads=1), big, iters) == 1
    assert _processes(ANGDOptions(threads=2), big, iters) == 2
    small = max(POOL_WARM_WORK // 20, 2 * ANGDOptions().chunk)  # enough work, a chunk each
    assert _processes(ANGDOptions(threads=2), small, iters) == 1  # no pool to reuse
    assert _processes(ANGDOptions(workers=3, threads=1), 10, iters) == 3  # explicit
    assert _processes(ANGDOptions(workers=2), 1, iters) == 1  # one instance: here
    assert _processes(ANGDOptions(workers=1, threads=2), big, iters) == 1
    no_kept_pool.shared_pool(2)
    assert _processes(ANGDOptions(threads=2), small, iters) == 2  # a kept pool is reused
    assert _processes(ANGDOptions(threads=2), small - 1, iters) == 1  # a chunk short
    assert _processes(ANGDOptions(threads=2), small, 1) == 1  # too little work
    assert _processes(ANGDOptions(threads=2), 4, iters) == 1  # few instances, little work
    assert _processes(ANGDOptions(threads=2), 4, iters, P=20 * 33_088) == 2  # larger network
    no_kept_pool.close_pools()
    assert _processes(ANGDOptions(threads=2), 4, 300, P=12 * 33_088) == 1  # no pool to reuse
    assert _processes(ANGDOptions(threads=2), 10, 300, P=12 * 33_088) == 2  # worth starting
    assert _processes(ANGDOptions(threads=3), small, iters) == 1  # not of that size


# -- pilot ------------------------------------------------------------------------------------
@pytest.mark.parametrize("preset", ["balanced", "paper"])
def test_the_pilot_goes_on_from_the_better_of_the_zf_and_sensing_beam_chains(preset):
    """pilot=P is, by definition: P iterations from ZF and P from the sensing beam (the same
    network draw), then the requested iterations from the chain with the higher best CSBF."""
    problem = Scenario.preset(preset, n_tx=10).draw(6, rng=2)
    # hidden 128: a width-16 network climbs slower; headroom=None: the pilot's own pick
    options = dict(variant="tuned", iters=15, headroom=None)
    seeds = [11, 12, 13, 14, 15, 16]
    res = an.solve(problem, "angd-fcn", rng=seeds, pilot=100, **options)
    # (the pilot's chains run without the stopping rule: their 100 iterations are all run)
    chains = [an.solve(problem, "angd-fcn", rng=seeds, init=W0, pilot=0,
                       **{**options, "iters": 100, "tol": None})
              for W0 in (zf_precoder(problem), sensing_beam(problem))]
    beam_better = chains[1].csbf > chains[0].csbf
    state = {k: np.where(beam_better.reshape((-1,) + (1,) * (v.ndim - 1)), chains[1].state[k],
                         chains[0].state[k]) if k != "method" else v
             for k, v in chains[0].state.items()}
    went_on = an.solve(problem, "angd-fcn", state=state, pilot=0, **options)
    np.testing.assert_array_equal(res.W, went_on.W)
    np.testing.assert_array_equal(res.history, went_on.history)
    assert res.history.shape[-1] == 15 and (res.nit == 15).all()  # the pilot is not counted
    assert (res.csbf >= np.maximum(chains[0].csbf, chains[1].csbf)).all()
    # in the sensing-dominated paper scenario the beam wins, in the balanced one ZF does
    assert beam_better.all() if preset == "paper" else not beam_better.any()


def test_the_pilot_without_targets_is_the_zf_chain_and_needs_m_at_least_k():
    problem = Scenario.preset("balanced", n_tx=6).draw(2, rng=4)
    problem = problem.with_(A=problem.A[..., :0], target_angles_rad=None)
    res = an.solve(problem, "angd-fcn", rng=[1, 2], hidden=8, iters=6, pilot=4)
    zf_chain = an.solve(problem, "angd-fcn", rng=[1, 2], hidden=8, iters=4, init="zf")
    went_on = an.solve(problem, "angd-fcn", state=zf_chain.state, hidden=8, iters=6)
    np.testing.assert_array_equal(res.W, went_on.W)
    wide = Scenario(n_tx=2, n_users=3).draw(1, rng=0)
    with pytest.raises(ValueError, match="pilot.*M >= K"):
        an.solve(wide, "angd-fcn", rng=0, iters=2, pilot=2)


def _trapped(trials):
    """Balanced, M = 10, 36 dBm: the sensing-beam chain leads after 100 pilot iterations and
    serves no user; the ZF chain overtakes it later (studies/angd_speed)."""
    return Scenario.preset("balanced", n_tx=10, p_max_dbm=36.0).draw_trials(5, trials)


def _streams(trials):
    return [an.trial_generator(5, t, 2) for t in trials]


def test_pilot_extend_continues_both_chains_exactly_and_escapes_the_high_power_trap():
    from angd_np.objective import rates

    trials = (0, 2)
    problem = _trapped(trials)
    options = dict(variant="tuned", iters=10, tol=None, headroom=None)
    plain = an.solve(problem, "angd-fcn", rng=_streams(trials), **options)
    extended = an.solve(problem, "angd-fcn", rng=_streams(trials), pilot_extend=1, **options)
    assert (rates(plain.W, problem).min(axis=1) == 0).all()  # the trap: a user dropped
    assert (rates(extended.W, problem).min(axis=1) > 1).all()  # every user served
    assert (extended.csbf > plain.csbf).all()
    # By definition: both chains run 2 x 100 iterations (a continued chain is the longer
    # chain), then the better one goes on. (init="zf" is the pilot's ZF start bit for bit;
    # the array zf_precoder(problem) may be projected onto the power ball, a rounding apart.)
    chains = [an.solve(problem, "angd-fcn", rng=_streams(trials), init=W0, pilot=0,
                       **{**options, "iters": 200})
              for W0 in ("zf", sensing_beam(problem))]
    assert (chains[0].csbf > chains[1].csbf).all()
    went_on = an.solve(problem, "angd-fcn", state=chains[0].state, pilot=0, **options)
    np.testing.assert_array_equal(extended.W, went_on.W)
    np.testing.assert_array_equal(extended.history, went_on.history)


def test_pilot_extend_in_a_batch_equals_alone_whatever_the_others_do():
    """Instances extended and not extended side by side (at 32.5 dBm the beam chain leads
    on some instances only): each as it is alone."""
    problem = Scenario.preset("balanced", n_tx=10, p_max_dbm=32.5).draw_trials(5, range(4))
    seeds = [31, 32, 33, 34]
    options = dict(variant="tuned", iters=5, pilot_extend=2, headroom=None)
    batch = an.solve(problem, "angd-fcn", rng=seeds, chunk=1, **options)
    for i in range(4):
        alone = an.solve(problem[i:i + 1], "angd-fcn", rng=[seeds[i]], **options)
        np.testing.assert_array_equal(alone.W[0], batch.W[i])
    plain = an.solve(problem, "angd-fcn", rng=seeds, **{**options, "pilot_extend": 0})
    moved = np.any(plain.W != batch.W, axis=(1, 2))
    assert moved.any() and not moved.all()  # extended and not extended side by side


# -- headroom ---------------------------------------------------------------------------------
def _three_regimes(n=6):
    """Balanced, M = 10, 36 dBm, and thresholds between the instances' headroom q, so that
    two instances run the beam's chain alone, two both chains, two ZF's alone."""
    from angd_np.solvers.linear import beam_headroom

    problem = _trapped(range(n))
    q = np.sort(beam_headroom(problem))
    return problem, (float(q[1]), float(q[3]))


def _chain(problem, seeds, W0, options, iters):
    """One chain of ``iters`` iterations from W0 (no pilot): the chains headroom runs."""
    return an.solve(problem, "angd-fcn", rng=seeds, init=W0,
                    **{**options, "iters": iters, "headroom": None, "pilot": 0})


def test_headroom_runs_the_chains_it_names_and_keeps_the_better():
    """By definition: q <= lo the beam's chain, q > hi ZF's, both in between and the better
    kept (ZF's on a tie); a chain is pilot + iters iterations, its history the last iters."""
    from angd_np.solvers.linear import beam_headroom

    problem, headroom = _three_regimes()
    seeds = [41, 42, 43, 44, 45, 46]
    options = dict(variant="tuned", hidden=8, pilot=5, iters=10, tol=None)
    res = an.solve(problem, "angd-fcn", rng=seeds, headroom=headroom, **options)
    zf_chain = _chain(problem, seeds, "zf", options, 15)
    beam_chain = _chain(problem, seeds, sensing_beam(problem), options, 15)
    q = beam_headroom(problem)
    lo, hi = headroom
    kept = np.where(q <= lo, 1, np.where(q > hi, 0, (beam_chain.csbf > zf_chain.csbf) * 1))
    for i in range(6):
        chain = (zf_chain, beam_chain)[kept[i]]
        np.testing.assert_array_equal(res.W[i], chain.W[i], err_msg=f"instance {i}")
        np.testing.assert_array_equal(res.history[i], chain.history[i, 5:])
        for key in ("net_params", "adam_m", "adam_t", "best_f"):
            np.testing.assert_array_equal(res.state[key][i], chain.state[key][i])
    assert (res.nit == 10).all() and res.history.shape == (6, 10)
    assert ((q <= lo).sum(), (q > hi).sum()) == (2, 2)


def test_headroom_in_a_batch_equals_alone_and_is_deterministic():
    problem, headroom = _three_regimes()
    seeds = [51, 52, 53, 54, 55, 56]
    options = dict(variant="tuned", hidden=8, pilot=4, iters=6, headroom=headroom)
    batch = an.solve(problem, "angd-fcn", rng=seeds, chunk=1, **options)
    pooled = an.solve(problem, "angd-fcn", rng=seeds, chunk=2, workers=2, **options)
    np.testing.assert_array_equal(batch.W, pooled.W)
    for i in range(6):
        alone = an.solve(problem[i:i + 1], "angd-fcn", rng=[seeds[i]], **options)
        np.testing.assert_array_equal(alone.W[0], batch.W[i])
        np.testing.assert_array_equal(alone.state["net_params"][0],
                                      batch.state["net_params"][i])


def test_an_instances_two_chains_draw_its_network_once(monkeypatch):
    """Both chains of an instance start from the same network: in one task the second loads
    the first's draw instead of drawing it again (the result is the separate draws', the
    test above); rows whose streams would draw other numbers still draw."""
    import copy

    from angd_np.solvers import _angd_engine, _angd_nets

    problem, headroom = _three_regimes()
    draws = []
    real = _angd_nets.init_from_stream
    monkeypatch.setattr(_angd_nets, "init_from_stream",
                        lambda *a: draws.append(1) or real(*a))
    an.solve(problem, "angd-fcn", rng=list(range(6)), variant="tuned", hidden=8, pilot=2,
             iters=2, headroom=headroom, workers=1)
    assert len(draws) == 6  # 8 chains, 2 instances with both: 6 draws

    g = np.random.default_rng(5).spawn(1)[0]
    twin = copy.deepcopy(g)
    assert _angd_engine.draw_key(g) == _angd_engine.draw_key(twin)
    g.spawn(3)  # what a draw does to its stream: the next draw differs, and so does the key
    assert _angd_engine.draw_key(g) != _angd_engine.draw_key(twin)
    assert _angd_engine.draw_key(object()) is None


def test_step_input_shows_the_network_its_previous_output_and_keeps_it_in_the_state():
    """The first step sees y = 0; the state's net_out is the last output; a state without it
    (written without step_input) is refused by name, and the option changes the result."""
    problem = Scenario.preset("balanced").draw(3, rng=2)
    options = dict(variant="tuned", hidden=8, iters=6, pilot=0, init="zf", workers=1)
    res = angd_fcn(problem, rng=4, step_input=0.5, **options)
    assert res.state["net_out"].shape == (3, 2 * 16 * 2)
    assert res.state["net_out"].dtype == np.float32  # the variant's network precision
    assert np.abs(res.state["net_out"]).max() > 0
    plain = angd_fcn(problem, rng=4, step_input=0.0, **options)
    assert "net_out" not in plain.state
    assert not np.array_equal(res.W, plain.W)
    with pytest.raises(ValueError, match="net_out"):
        angd_fcn(problem, state=plain.state,  # the tuned FCN has step_input
                 **{k: v for k, v in options.items() if k not in ("pilot", "init")})


def test_headroom_state_continues_the_kept_chain_exactly():
    """10 + 10 iterations: the second call goes on from the chain the first kept (its state),
    bit for bit that chain's 5 + 10 + 10 iterations; where one chain runs, the two calls are
    the 20-iteration call."""
    from angd_np.solvers.linear import beam_headroom

    problem, headroom = _three_regimes()
    seeds = [61, 62, 63, 64, 65, 66]
    options = dict(variant="tuned", hidden=8, pilot=5, tol=None, headroom=headroom)
    first = an.solve(problem, "angd-fcn", rng=seeds, iters=10, **options)
    second = an.solve(problem, "angd-fcn", state=first.state, iters=10, **options)
    starts = ("zf", sensing_beam(problem))
    short = [_chain(problem, seeds, W0, options, 15) for W0 in starts]
    long = [_chain(problem, seeds, W0, options, 25) for W0 in starts]
    for i in range(6):
        kept = [c for c in range(2) if np.array_equal(short[c].state["net_params"][i],
                                                      first.state["net_params"][i])]
        assert kept, f"instance {i}: the first call's network is no chain's"
        np.testing.assert_array_equal(second.W[i], long[kept[0]].W[i])
        np.testing.assert_array_equal(second.history[i], long[kept[0]].history[i, 15:])
    whole = an.solve(problem, "angd-fcn", rng=seeds, iters=20, **options)
    q = beam_headroom(problem)
    solo = (q <= headroom[0]) | (q > headroom[1])
    np.testing.assert_array_equal(second.W[solo], whole.W[solo])
    np.testing.assert_array_equal(np.concatenate([first.history, second.history], axis=1)[solo],
                                  whole.history[solo])


def test_the_tuned_preset_escapes_the_high_power_trap():
    """Balanced, M = 10, 36 dBm (q ~ 0.13-0.18 > 0.1): ZF's chain alone, which serves every
    user and ends above the chain the pilot would pick (the beam's, a user dropped)."""
    from angd_np.objective import rates

    trials = (0, 2)
    problem = _trapped(trials)
    options = dict(variant="tuned", iters=60, tol=None)
    tuned = an.solve(problem, "angd-fcn", rng=_streams(trials), **options)
    picked = an.solve(problem, "angd-fcn", rng=_streams(trials), headroom=None, **options)
    assert (rates(picked.W, problem).min(axis=1) == 0).all()  # the trap
    assert (rates(tuned.W, problem).min(axis=1) > 1).all()
    assert (tuned.csbf > picked.csbf).all()


def _drifted(n=4):
    """The paper scenario one frame after the targets moved 2°: a chain carried from the
    previous frame's sensing beam is below this frame's beam (studies/angd_tracking)."""
    seq = Scenario.preset("paper", n_tx=8).sequence(n, 2, rho=0.99, target_drift_deg=2.0,
                                                    rng=7)
    return seq.frame(0), seq.frame(1)


def test_check_starts_returns_the_better_start_and_keeps_the_chain_and_its_network():
    first, problem = _drifted()
    options = dict(variant="tuned", iters=5, pilot=5)
    # As track() carries a state to the next frame (best point re-evaluated on it).
    carried = _angd_common.restart_state(an.solve(first, "angd-fcn", rng=3, **options).state,
                                         problem)
    plain = an.solve(problem, "angd-fcn", state=carried, **options)
    checked = an.solve(problem, "angd-fcn", state=carried, check_starts=True, **options)
    starts = np.stack([csbf(zf_precoder(problem), problem), csbf(sensing_beam(problem),
                                                                problem)])
    np.testing.assert_array_equal(checked.csbf, np.maximum(plain.csbf, starts.max(axis=0)))
    switched = starts.max(axis=0) > plain.csbf
    assert switched.any()  # the beam beats the carried chain here
    beam = sensing_beam(problem)
    np.testing.assert_array_equal(checked.W[switched], beam[switched])
    np.testing.assert_array_equal(checked.state["best_W"][switched], beam[switched])
    np.testing.assert_array_equal(checked.W[~switched], plain.W[~switched])
    # The chain goes on from its own last iterate: a start that wins only while the chain
    # climbs must not pull it into the start's basin.
    np.testing.assert_array_equal(checked.state["W"], plain.state["W"])
    # No iteration is spent on the check; the network and Adam's moments are the chain's.
    np.testing.assert_array_equal(checked.history, plain.history)
    np.testing.assert_array_equal(checked.nit, plain.nit)
    for key in ("net_params", "adam_m", "adam_v", "adam_t"):
        np.testing.assert_array_equal(checked.state[key], plain.state[key], err_msg=key)
    # Deterministic, and an instance's result is the same alone as in the batch.
    again = an.solve(problem, "angd-fcn", state=carried, check_starts=True, **options)
    np.testing.assert_array_equal(again.W, checked.W)
    alone = an.solve(problem[1:2], "angd-fcn", check_starts=True, **options,
                     state={k: v[1:2] if np.ndim(v) else v for k, v in carried.items()})
    np.testing.assert_array_equal(alone.W[0], checked.W[1])


def test_check_starts_continuation_is_exact_where_no_start_is_better():
    """Balanced scenario: the chain beats ZF and the beam, so 10 + 10 iterations with the
    check are the 20-iteration run with it, bit for bit."""
    problem = Scenario.preset("balanced", n_tx=8).draw(3, rng=2)
    # headroom=None: the pilot's pick, whose 5 + 10 iterations beat both starts here
    options = dict(variant="tuned", pilot=5, tol=None, check_starts=True, headroom=None)
    whole = an.solve(problem, "angd-fcn", rng=4, iters=20, **options)
    part = an.solve(problem, "angd-fcn", rng=4, iters=10, **options)
    assert (part.csbf > csbf(zf_precoder(problem), problem)).all()
    assert (part.csbf > csbf(sensing_beam(problem), problem)).all()
    went_on = an.solve(problem, "angd-fcn", state=part.state, iters=10, **options)
    np.testing.assert_array_equal(went_on.W, whole.W)
    np.testing.assert_array_equal(np.concatenate([part.history, went_on.history], axis=1),
                                  whole.history)
    for key in whole.state:
        np.testing.assert_array_equal(went_on.state[key], whole.state[key], err_msg=key)


def test_headroom_with_a_stopping_rule_runs_the_pilot_apart_and_the_same_chains():
    """Without a stopping rule the main run takes the pilot's iterations (one engine set-up);
    with one, the pilot runs first, as for the pilot's pick. A rule that never fires leaves
    the same chains: the same W and history."""
    problem, headroom = _three_regimes()
    seeds = [71, 72, 73, 74, 75, 76]
    options = dict(variant="tuned", hidden=8, pilot=5, iters=10, headroom=headroom)
    fused = an.solve(problem, "angd-fcn", rng=seeds, **options)
    apart = an.solve(problem, "angd-fcn", rng=seeds, tol=1e-15, patience=1000, **options)
    np.testing.assert_array_equal(fused.W, apart.W)
    np.testing.assert_array_equal(fused.history, apart.history)
    np.testing.assert_array_equal(fused.nit, apart.nit)
