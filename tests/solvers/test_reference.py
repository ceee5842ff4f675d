"""The reference solver: strong (never beaten), feasible, batched L-BFGS, renamed options."""

import sys

import numpy as np
import pytest

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.solvers import SOLVERS, sphere
from angd_np.solvers.linear import sensing_beam
from angd_np.solvers.reference import _converge, _objective, reference

from .test_ccpa import PRESETS, solved


def _other_results(problem, out):
    """Results of every other solver that is available, on the same instances."""
    results = {name: out[name].W for name in ("zf", "mmse", "ccpa")}
    results["beam"] = sensing_beam(problem)
    for name in ("pgd", "adam"):
        try:
            results[name] = SOLVERS[name](problem, rng=0).W
        except (ModuleNotFoundError, ImportError):  # written by another issue
            continue
    return results


@pytest.mark.parametrize("preset", PRESETS)
def test_reference_given_the_others_as_starts_is_never_beaten(preset):
    problem, out = solved(preset)
    others = _other_results(problem, out)
    ref = reference(problem, rng=0, init=list(others.values()))
    for name, W in others.items():
        f = csbf(W, problem)
        assert np.all(ref.csbf >= f - 1e-12 * np.abs(f)), name


@pytest.mark.parametrize("preset", PRESETS)
def test_reference_alone_beats_every_closed_form_point(preset):
    problem, out = solved(preset)
    ref = out["reference"]
    for f in (out["zf"].csbf, out["mmse"].csbf, out["beam"]):
        assert np.all(ref.csbf >= f)
    np.testing.assert_allclose(power(ref.W), problem.p_max, rtol=1e-12)
    assert np.all(np.isfinite(ref.W))


def test_the_objective_is_minus_f_over_the_scale_with_its_gradient(rng):
    problem = Scenario.preset("balanced", n_tx=5, n_users=2).draw(3, rng)
    scale = np.array([50.0, 60.0, 70.0])
    fun = _objective(problem, scale)
    x = rng.standard_normal((3, 20))
    phi, g, _ = fun(x, np.arange(3))
    f, grad, _ = sphere.value_and_grad(x, problem)
    np.testing.assert_allclose(phi, -f / scale, rtol=1e-15)
    np.testing.assert_allclose(g, -grad / scale[:, None], rtol=1e-14)
    sub, g_sub, _ = fun(x[[2]], np.array([2]))  # a row picks its own instance and scale
    assert sub[0] == phi[2] and np.array_equal(g_sub[0], g[2])


def _quadratics(c, t):
    def fun(x, idx):
        idx = np.arange(len(c)) if idx is None else idx
        r = x - t[idx]
        return 0.5 * (c[idx] * r**2).sum(axis=1), c[idx] * r, None
    return fun


def test_converge_solves_rows_of_differently_conditioned_quadratics(rng):
    # f_b(x) = 1/2 sum_i c_bi (x_i - t_bi)^2 with condition numbers up to 1e6.
    c = np.stack([np.ones(6), np.logspace(0, 3, 6), np.logspace(0, 6, 6)])
    t = rng.standard_normal((3, 6))
    x, f, nit = _converge(_quadratics(c, t), np.zeros((3, 6)), ftol=1e-15, gtol=1e-12)
    np.testing.assert_allclose(x, t, atol=1e-6)
    assert nit[0] <= nit[2]


@pytest.mark.parametrize("iters", [3000, 20])
def test_converge_gives_each_row_its_own_path_while_rows_stop(rng, iters):
    # Rows stop at different iterations (and, at iters = 20, some never stop), so the working
    # set shrinks while the others run; each row must still follow the path it has alone.
    c = np.stack([np.logspace(0, e, 8) for e in (0, 1, 2, 3, 4, 5)])
    t = rng.standard_normal(c.shape)
    x0 = rng.standard_normal(c.shape)
    x, f, nit = _converge(_quadratics(c, t), x0, iters=iters, ftol=1e-15, gtol=1e-12)
    assert len(set(nit.tolist())) > 2 and nit.max() <= iters
    for i in range(len(c)):
        xi, fi, ni = _converge(_quadratics(c[i:i + 1], t[i:i + 1]), x0[i:i + 1], iters=iters,
                               ftol=1e-15, gtol=1e-12)
        assert ni[0] == nit[i]
        np.testing.assert_array_equal(xi[0], x[i])
        assert fi[0] == f[i]


def test_converge_on_the_sphere_objective_matches_each_row_alone():
    problem = Scenario.preset("balanced", n_tx=6).draw(4, 1)
    x0 = np.random.default_rng(2).standard_normal((4, 24))
    scale = np.full(4, 30.0)
    x, f, nit = _converge(_objective(problem, scale), x0)
    assert len(set(nit.tolist())) > 1
    for i in (0, 3):
        xi, fi, ni = _converge(_objective(problem[i:i + 1], scale[i:i + 1]), x0[i:i + 1])
        assert ni[0] == nit[i] and fi[0] == f[i]
        np.testing.assert_array_equal(xi[0], x[i])


def test_reference_of_a_batch_equals_each_instance_solved_alone():
    # Bit for bit: the batched L-BFGS drops rows as they stop, and no row may notice.
    problem = Scenario.preset("balanced", n_tx=6).draw(3, 7)
    seeds = [3, 4, 5]
    batch = reference(problem, rng=seeds)
    for j in range(3):
        alone = reference(problem[j:j + 1], rng=seeds[j:j + 1])
        np.testing.assert_array_equal(alone.W[0], batch.W[j])
        assert alone.nit[0] == batch.nit[j]
        assert alone.extra["best_start"][0] == batch.extra["best_start"][j]


def test_reference_rejects_bad_starts_and_unknown_options():
    problem = Scenario(n_tx=4).draw(2, 0)
    with pytest.raises(ValueError, match="init"):
        reference(problem, init=np.zeros((3, 4, 2)))
    with pytest.raises(TypeError, match="maxiters"):
        reference(problem, maxiters=5)
    with pytest.raises(ValueError, match="memory"):
        reference(problem, memory=0)


def test_a_longer_memory_reaches_the_same_optimum_in_fewer_iterations():
    problem = Scenario.preset("balanced", n_tx=6).draw(4, 3)
    short = reference(problem, rng=1, memory=10)
    long = reference(problem, rng=1)  # memory 20
    np.testing.assert_allclose(long.csbf, short.csbf, rtol=1e-8)
    assert long.nit.sum() < short.nit.sum()


def test_missing_scipy_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"angd_np\[cvx\]"):
        an.solve(Scenario(n_tx=4).draw(1, 0), "reference")


def test_the_old_option_names_still_work_with_a_warning():
    problem = Scenario.preset("paper", n_tx=4).draw(2, 3)
    start = an.solve(problem, "zf").W
    new = reference(problem, rng=0, starts=0, iters=30, init=start)
    with pytest.warns(DeprecationWarning, match="'W0' is renamed 'init'"):
        with pytest.warns(DeprecationWarning, match="'maxiter' is renamed 'iters'"):
            old = reference(problem, rng=0, starts=0, maxiter=30, W0=start)
    np.testing.assert_array_equal(old.W, new.W)
    np.testing.assert_array_equal(old.nit, new.nit)


def test_a_rank_deficient_instance_does_not_stop_the_batch():
    """ZF and MMSE starts exist per instance: a channel with two equal columns gets the other
    starts, and every other instance is solved exactly as alone."""
    problem = Scenario.preset("balanced", n_tx=6).draw(3, rng=0)
    H = problem.H.copy()
    H[1, :, 1] = H[1, :, 0]
    degenerate = an.Problem(H, problem.A, problem.noise_var, problem.p_max, problem.omega)
    res = an.solve(degenerate, "reference", rng=0)
    assert res.success.all() and np.all(np.isfinite(res.csbf))
    beam = sensing_beam(degenerate)  # one of the starts the degenerate instance still has
    assert res.csbf[1] >= csbf(beam, degenerate)[1]
    alone = an.solve(degenerate[0:1], "reference", rng=0)
    np.testing.assert_array_equal(res.W[0], alone.W[0])


def test_no_start_at_all_is_refused_by_name():
    problem = an.Scenario(n_tx=2, n_users=3, target_angles_deg=()).draw(1, rng=0)
    with pytest.raises(ValueError, match="no start"):
        an.solve(problem, "reference", starts=0)
