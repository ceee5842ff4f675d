"""The controls: projected gradient ascent and projected Adam on W."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import angd_np as an
from angd_np import Scenario, csbf, csbf_and_grad, power, project_power
from angd_np.solvers import iterative as _angd_common
from angd_np.solvers.ascent import adam, pgd


def _naive_pgd(problem, W, iters, eta, normalized):
    """The textbook loop, one instance at a time, with the package's projection."""
    out = []
    for i in range(W.shape[0]):
        Wi, hist = W[i], []
        sub = problem[i]
        best_f, best_W = csbf(Wi, sub), Wi
        for _ in range(iters):
            G = an.csbf_grad(Wi, sub)
            if normalized:
                G = np.sqrt(problem.p_max) * G / np.linalg.norm(G)
            Wi = project_power(Wi + eta * G, problem.p_max)
            f = csbf(Wi, sub)
            hist.append(f)
            if f > best_f:
                best_f, best_W = f, Wi
        out.append((best_W, np.array(hist)))
    return out


@pytest.mark.parametrize("step,eta", [("raw", 1.0), ("raw", 1e-3), ("normalized", 0.05)])
def test_pgd_matches_a_naive_loop_over_instances(step, eta):
    problem = Scenario.preset("balanced").draw(3, rng=0)
    res = pgd(problem, rng=4, iters=15, eta_w=eta, step=step)
    W0 = _angd_common.initial_W("random", problem, _angd_common.instance_streams(4, 3))
    for i, (W, hist) in enumerate(_naive_pgd(problem, W0, 15, eta, step == "normalized")):
        np.testing.assert_allclose(res.history[i], hist, rtol=1e-10)
        np.testing.assert_allclose(res.W[i], W, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("solver", [pgd, adam])
def test_iterates_are_feasible_and_the_best_is_returned(solver, monkeypatch):
    seen = []
    original = _angd_common.BestTracker.update

    def spy(self, t, V, f):
        seen.append(np.array(V))
        return original(self, t, V, f)

    monkeypatch.setattr(_angd_common.BestTracker, "update", spy)
    problem = Scenario.preset("paper").draw(4, rng=1)
    res = solver(problem, rng=2, iters=30)
    assert len(seen) == 30
    assert all(np.all(power(V) <= problem.p_max * (1 + 1e-12)) for V in seen)
    W0 = _angd_common.initial_W("random", problem, _angd_common.instance_streams(2, 4))
    best = np.maximum(csbf(W0, problem), np.nanmax(res.history, axis=1))
    np.testing.assert_allclose(res.csbf, best, rtol=1e-12)


def test_adam_takes_the_published_first_step():
    """Step 1 of Adam moves every entry by lr along sign(G) (bias-corrected m/sqrt(v))."""
    problem = Scenario.preset("balanced").draw(1, rng=3)
    W0 = 0.3 * an.solve(problem, "zf").W  # inside the ball: the projection does nothing
    res = adam(problem, rng=0, iters=1, lr=1e-3, init=W0, eps=1e-30)
    _, G = csbf_and_grad(W0, problem)
    lr = 1e-3 * np.sqrt(problem.p_max / 32)
    expected = W0 + lr * G / np.abs(G)
    np.testing.assert_allclose(res.history[:, 0], csbf(expected, problem), rtol=1e-12)


@given(seed=st.integers(0, 2**16), n=st.integers(1, 4))
def test_results_do_not_depend_on_the_batch(seed, n):
    problem = Scenario.preset("balanced").draw(n, rng=seed)
    seeds = [seed + i for i in range(n)]
    for solver in (pgd, adam):
        batch = solver(problem, rng=seeds, iters=8)
        alone = solver(problem[n - 1:n], rng=[seeds[-1]], iters=8)
        np.testing.assert_allclose(alone.W[0], batch.W[-1], rtol=1e-10, atol=0)


def test_ascent_improves_on_the_start_and_is_deterministic():
    problem = Scenario.preset("balanced").draw(6, rng=5)
    W0 = _angd_common.initial_W("random", problem, _angd_common.instance_streams(1, 6))
    f0 = csbf(W0, problem)
    for solver, opts in ((pgd, dict(step="normalized", eta_w=0.02)), (adam, dict(lr=0.01))):
        a = solver(problem, rng=1, iters=40, **opts)
        b = solver(problem, rng=1, iters=40, **opts)
        np.testing.assert_array_equal(a.W, b.W)
        assert np.all(a.csbf >= f0) and np.median(a.csbf) > 1.1 * np.median(f0)


def test_zero_forcing_start_is_never_returned_worse():
    problem = Scenario.preset("balanced").draw(3, rng=5)
    zf = an.solve(problem, "zf")
    for solver in (pgd, adam):
        res = solver(problem, iters=10, init="zf")
        assert np.all(res.csbf >= zf.csbf * (1 - 1e-12))


@pytest.mark.parametrize("M", [1, 5])
def test_a_single_user_without_sensing_reaches_the_matched_filter_rate(M):
    # K = 1, omega = 0: (P1) is max log2(1 + |h^H w|^2 / sigma^2) over ||w||^2 <= p, whose
    # optimum is w = sqrt(p) h / ||h|| (Cauchy-Schwarz): rate log2(1 + p ||h||^2 / sigma^2).
    problem = Scenario(n_tx=M, n_users=1, user_angles_deg=(0.0,), omega=0.0).draw(3, rng=0)
    h2 = np.sum(np.abs(problem.H[..., 0]) ** 2, axis=-1)
    optimum = np.log2(1.0 + problem.p_max * h2 / problem.noise_var)
    for method in ("pgd", "adam"):
        res = an.solve(problem, method, rng=0, iters=100)
        assert np.all(res.sum_rate <= optimum * (1 + 1e-12)), method  # nothing beats it
        np.testing.assert_allclose(res.csbf, csbf(res.W, problem), rtol=1e-12)
        tol = 1e-9 if method == "pgd" else 0.05  # Adam's per-entry steps stall near it
        np.testing.assert_allclose(res.sum_rate, optimum, rtol=tol, err_msg=method)


def test_as_many_users_as_antennas_keeps_the_zero_forcing_start_or_better():
    problem = Scenario(n_tx=3, n_users=3, user_angles_deg=(0.0, 1.0, 2.0), omega=30.0).draw(
        2, rng=0)
    zf = an.solve(problem, "zf")  # the square channel's inverse, at full power
    for method in ("pgd", "adam"):
        res = an.solve(problem, method, iters=20, init="zf")
        assert np.all(res.csbf >= zf.csbf * (1 - 1e-12)), method
        assert np.all(res.power <= problem.p_max * (1 + 1e-12))


def test_early_stop_and_batch_axes():
    problem = Scenario.preset("balanced").draw(4, rng=0)
    grid = problem.with_(H=problem.H.reshape(2, 2, 16, 2))
    res = pgd(grid, rng=0, iters=200, eta_w=1e-9, tol=1e-3, patience=3)
    assert res.W.shape == (2, 2, 16, 2) and res.history.shape == (2, 2, 200)
    assert np.all(res.nit == 3) and np.all(np.isnan(res.history[..., 3:]))
    assert "stopped early" in res.message


@pytest.mark.parametrize("solver,options,error,match", [
    (pgd, dict(step="newton"), ValueError, "step"),
    (pgd, dict(eta_w=0.0), ValueError, "eta_w"),
    (pgd, dict(iters=-3), ValueError, "iters"),
    (pgd, dict(momentum=0.9), TypeError, "momentum"),
    (adam, dict(lr=-1.0), ValueError, "lr"),
    (adam, dict(betas=(1.0, 0.9)), ValueError, "betas"),
    (adam, dict(init="mmse"), ValueError, "init"),
    (adam, dict(patience=0), ValueError, "patience"),
])
def test_bad_options_are_rejected_with_a_message_naming_them(solver, options, error, match):
    problem = Scenario.preset("balanced").draw(1, rng=0)
    with pytest.raises(error, match=match):
        solver(problem, iters=options.pop("iters", 2), **options)
