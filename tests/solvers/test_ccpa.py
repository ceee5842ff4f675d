"""CCPA (SDR + SCA with cvxpy): feasibility, bounds, agreement with the reference, failures,
and its direct Clarabel path against the cvxpy path (its naive twin)."""

import functools
import sys

import numpy as np
import pytest

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.solvers import ccpa as ccpa_module
from angd_np.solvers.ccpa import ccpa
from angd_np.solvers.linear import sensing_beam

PRESETS = ("paper", "balanced")


@functools.lru_cache(maxsize=None)
def solved(preset, n_tx=8, n=6, seed=4):
    """A small batch and its CCPA, ZF, MMSE and reference results (shared with the
    reference tests, computed once per test session)."""
    problem = Scenario.preset(preset, n_tx=n_tx).draw(n, seed)
    out = {name: an.solve(problem, name, rng=seed) for name in ("ccpa", "zf", "mmse")}
    out["reference"] = an.solve(problem, "reference", rng=seed)
    out["beam"] = csbf(sensing_beam(problem), problem)
    return problem, out


@pytest.mark.parametrize("preset", PRESETS)
def test_ccpa_returns_finite_feasible_full_power_precoders(preset):
    problem, out = solved(preset)
    r = out["ccpa"]
    assert np.all(np.isfinite(r.W)) and r.success.all()
    assert np.all(power(r.W) <= problem.p_max * (1 + 1e-9))
    np.testing.assert_allclose(r.csbf, csbf(r.W, problem))
    assert np.all(r.nit >= 1) and r.history.shape[:-1] == r.csbf.shape


@pytest.mark.parametrize("preset", PRESETS)
def test_ccpa_is_at_least_zf_and_the_best_single_beam(preset):
    _, out = solved(preset)
    f = out["ccpa"].csbf
    assert np.all(f >= out["zf"].csbf) and np.all(f >= out["beam"])


@pytest.mark.parametrize("preset", PRESETS)
def test_relaxed_value_bounds_the_recovered_rank_one_value_up_to_solver_accuracy(preset):
    _, out = solved(preset)
    r = out["ccpa"]
    # The SDPs are solved to ~1e-8 relative accuracy, hence the small slack.
    assert np.all(r.extra["relaxed"] >= r.csbf - 1e-6 * np.abs(r.csbf))


@pytest.mark.parametrize("preset", PRESETS)
def test_ccpa_agrees_with_the_reference_within_one_percent(preset):
    _, out = solved(preset)
    gap = out["reference"].gap(out["ccpa"].csbf)  # (f_ccpa - f_ref) / |f_ref|
    assert np.all(np.abs(gap) <= 0.01), gap


def test_an_instance_gets_the_same_result_alone_or_in_a_batch():
    problem = Scenario.preset("balanced", n_tx=6).draw(3, 1)
    streams = [np.random.default_rng(s) for s in (10, 11, 12)]
    whole = ccpa(problem, rng=streams, randomizations=8)
    alone = ccpa(problem[1:2], rng=[np.random.default_rng(11)], randomizations=8)
    np.testing.assert_allclose(alone.W[0], whole.W[1], rtol=1e-9, atol=1e-12)


def test_more_users_than_antennas_still_solves_from_the_sensing_beam():
    problem = Scenario.preset("balanced", n_tx=2, n_users=3).draw(1, 0)
    r = ccpa(problem, rng=0)
    assert r.success.all() and power(r.W)[0] <= problem.p_max * (1 + 1e-9)
    assert r.csbf[0] >= csbf(sensing_beam(problem), problem)[0]


def test_a_forced_solver_failure_is_reported_and_never_returns_nan():
    problem = Scenario.preset("balanced", n_tx=6).draw(2, 0)
    # One interior-point iteration, no fallback: no convex step is ever accepted.
    r = ccpa(problem, rng=0, solver_options={"max_iter": 1}, fallback=None)
    assert not r.success.any()
    assert "2 of 2 instance(s) failed" in r.message
    assert np.all(np.isfinite(r.W)) and np.all(power(r.W) <= problem.p_max * (1 + 1e-9))
    # The fallback (SCS) rescues the same failures.
    rescued = ccpa(problem[:1], rng=0, solver_options={"max_iter": 1}, iters=2)
    assert rescued.success.all() and rescued.nit[0] >= 1


@pytest.mark.parametrize("options, error, match", [
    ({"solver": "NO_SUCH_SOLVER"}, ValueError, "NO_SUCH_SOLVER"),
    ({"fallback": "NOPE"}, ValueError, "fallback"),
    ({"iters": 0}, ValueError, "iters"),
    ({"maxiter": 3}, TypeError, "maxiter"),
    ({"init": "random"}, ValueError, "init"),
    ({"tol": -1.0}, ValueError, "tol"),
    ({"solver_options": 3}, TypeError, "solver_options"),
    ({"direct": "yes"}, TypeError, "direct"),
    ({"direct": 1}, TypeError, "direct"),
])
def test_bad_options_raise_errors_naming_them(options, error, match):
    problem = Scenario(n_tx=4).draw(1, 0)
    with pytest.raises(error, match=match):
        ccpa(problem, **options)


def test_missing_cvxpy_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "cvxpy", None)  # makes `import cvxpy` fail
    problem = Scenario(n_tx=4).draw(1, 0)
    with pytest.raises(ImportError, match=r"angd_np\[cvx\]"):
        an.solve(problem, "ccpa")


def test_result_does_not_depend_on_what_the_process_solved_before():
    """Monte Carlo workers solve different instance sequences: CCPA must not carry solver
    state (warm starts, cached scalings) from one instance to the next."""
    from angd_np import Scenario, solve

    p = Scenario.preset("balanced", n_tx=6).draw(3, rng=11)
    first = solve(p[2:3], "ccpa", rng=[np.random.default_rng(2)])
    solve(p[0:2], "ccpa", rng=[np.random.default_rng(0), np.random.default_rng(1)])
    again = solve(p[2:3], "ccpa", rng=[np.random.default_rng(2)])
    np.testing.assert_array_equal(first.W, again.W)


# -- the direct Clarabel path against the cvxpy path ----------------------------------------

def _count_solves(monkeypatch):
    """Counters of the direct and the cvxpy solves that ccpa makes from now on."""
    calls = {"direct": 0, "cvxpy": 0}
    direct, via_cvxpy = ccpa_module.DirectProgram.solve, ccpa_module._SCAModel._solve_cvxpy

    def count_direct(self, *args):
        calls["direct"] += 1
        return direct(self, *args)

    def count_cvxpy(self, *args):
        calls["cvxpy"] += 1
        return via_cvxpy(self, *args)

    monkeypatch.setattr(ccpa_module.DirectProgram, "solve", count_direct)
    monkeypatch.setattr(ccpa_module._SCAModel, "_solve_cvxpy", count_cvxpy)
    return calls


@pytest.mark.parametrize("preset", PRESETS)
def test_direct_clarabel_path_gives_the_cvxpy_path_results(preset, monkeypatch):
    """Clarabel sees the same data either way, so the results agree (bit for bit with the
    cvxpy version this was written against; 1e-9 is the contract)."""
    problem = Scenario.preset(preset).draw_trials(2026, range(4))
    calls = _count_solves(monkeypatch)
    via_cvxpy = ccpa(problem, rng=7, direct=False)
    assert calls == {"direct": 0, "cvxpy": int(via_cvxpy.nit.sum())}
    direct = ccpa(problem, rng=7)
    assert calls["direct"] == direct.nit.sum() and "direct Clarabel" not in direct.message
    np.testing.assert_allclose(direct.csbf, via_cvxpy.csbf, rtol=1e-9, atol=0)
    np.testing.assert_allclose(direct.extra["relaxed"], via_cvxpy.extra["relaxed"],
                               rtol=1e-9, atol=0)
    np.testing.assert_array_equal(direct.nit, via_cvxpy.nit)
    assert direct.message == via_cvxpy.message


def test_direct_data_are_cvxpys_problem_data_bit_for_bit():
    """The conic data the direct path builds equal cvxpy's get_problem_data at new values."""
    cp = pytest.importorskip("cvxpy")
    from cvxpy import settings as s

    from angd_np.solvers._ccpa_direct import _pack

    model = ccpa_module._SCAModel(cp, 4, 3)
    program = model.direct()
    assert program is not None, model._direct
    rng = np.random.default_rng(5)
    G = rng.standard_normal((4, 3)) + 1j * rng.standard_normal((4, 3))
    B = G @ np.conj(G.T)
    X = np.stack([np.outer(g, np.conj(g)) / 3 for g in G.T])
    values = model._values(G, B, X, 1e3, 30.0, 10.0)
    for p, v in zip(model.params, values, strict=False):
        p.value = v
    data = model.problem.get_problem_data(cp.CLARABEL, solver_opts={})[0]
    q, A, b = program._data(_pack(values))
    np.testing.assert_array_equal(q, data[s.C])
    np.testing.assert_array_equal(b, data[s.B])
    np.testing.assert_array_equal(A.indptr, data[s.A].indptr)
    np.testing.assert_array_equal(A.indices, data[s.A].indices)
    np.testing.assert_array_equal(A.data, data[s.A].data)


def test_solvers_and_options_the_direct_path_cannot_honour_go_through_cvxpy(monkeypatch):
    problem = Scenario.preset("balanced", n_tx=6).draw(1, 0)
    calls = _count_solves(monkeypatch)
    scs = ccpa(problem, rng=0, solver="SCS", iters=2)
    assert scs.success.all() and calls == {"direct": 0, "cvxpy": int(scs.nit.sum())}
    calls.update(direct=0, cvxpy=0)
    # Not a Clarabel setting but a keyword of cvxpy's solve(): cvxpy must handle it.
    via_cvxpy = ccpa(problem, rng=0, iters=2, solver_options={"ignore_dpp": False})
    assert via_cvxpy.success.all() and calls["direct"] == 0
    calls.update(direct=0, cvxpy=0)
    # A plain Clarabel setting is honoured directly, with the same result.
    direct = ccpa(problem, rng=0, iters=2, solver_options={"tol_gap_rel": 1e-8})
    assert calls == {"direct": int(direct.nit.sum()), "cvxpy": 0}
    np.testing.assert_allclose(direct.csbf, via_cvxpy.csbf, rtol=1e-9)


def test_a_failed_direct_solve_falls_back_to_scs_through_cvxpy(monkeypatch):
    problem = Scenario.preset("balanced", n_tx=6).draw(1, 0)
    calls = _count_solves(monkeypatch)
    r = ccpa(problem, rng=0, solver_options={"max_iter": 1}, iters=2)
    assert r.success.all() and calls["direct"] >= 1 and calls["cvxpy"] == calls["direct"]
    failed = ccpa(problem, rng=0, solver_options={"max_iter": 1}, fallback=None)
    reference = ccpa(problem, rng=0, solver_options={"max_iter": 1}, fallback=None,
                     direct=False)
    assert not failed.success.any() and failed.message == reference.message


def test_the_old_option_name_max_iters_still_works_with_a_deprecation_warning():
    problem = Scenario.preset("balanced", n_tx=4).draw(1, 0)
    with pytest.warns(DeprecationWarning, match="'max_iters' is renamed 'iters'"):
        old = ccpa(problem, rng=0, max_iters=2, randomizations=2)
    new = ccpa(problem, rng=0, iters=2, randomizations=2)
    np.testing.assert_array_equal(old.W, new.W)
    assert old.history.shape == (1, 2)


def test_a_rank_deficient_channel_is_solved_on_its_own_merits():
    problem = Scenario.preset("balanced", n_tx=4).draw(3, 0)
    H = problem.H.copy()
    H[1, :, 1] = 2.0 * H[1, :, 0]  # instance 1: ZF undefined, the sensing start remains
    alone = [ccpa(problem[j:j + 1], rng=[np.random.default_rng(j)], iters=3, randomizations=2)
             for j in (0, 2)]
    res = ccpa(problem.with_(H=H), rng=[np.random.default_rng(j) for j in range(3)], iters=3,
               randomizations=2)
    assert res.success.all() and np.all(np.isfinite(res.csbf))
    for j, one in zip((0, 2), alone, strict=True):  # the rest of the batch is unaffected
        np.testing.assert_array_equal(res.W[j], one.W[0])
    assert "ccpa: 1 instance(s) with a degenerate channel (first: 1)" in res.message


def test_an_instance_with_no_start_alone_fails_naming_ccpa():
    problem = Scenario.preset("balanced", n_tx=4).draw(2, 0)
    H = problem.H.copy()
    H[0] = 0.0  # no ZF start exists, and only ZF is asked for
    res = ccpa(problem.with_(H=H), rng=0, init="zf", iters=2, randomizations=2)
    assert res.success.tolist() == [False, True]
    assert np.all(res.W[0] == 0) and np.isfinite(res.csbf[1])
    assert "ccpa:" in res.message and "1 with no start at all (success=False" in res.message
