"""The reference solver: strong (never beaten), feasible, correct gradient, batched L-BFGS."""

import sys

import numpy as np
import pytest

import angd_np as an
from angd_np import Scenario, csbf, power
from angd_np.solvers import SOLVERS
from angd_np.solvers.linear import sensing_beam
from angd_np.solvers.reference import _batched_lbfgs, _sphere_objective, reference

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
    ref = reference(problem, rng=0, W0=list(others.values()))
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


def test_sphere_objective_gradient_matches_finite_differences(rng):
    problem = Scenario.preset("balanced", n_tx=5, n_users=2).draw(3, rng)
    scale = np.array([50.0, 60.0, 70.0])
    fun = _sphere_objective(problem, (5, 2), scale)
    x = rng.standard_normal((3, 20))
    d = rng.standard_normal((3, 20))
    _, g = fun(x, np.arange(3))
    h = 1e-6
    fd = (fun(x + h * d, np.arange(3))[0] - fun(x - h * d, np.arange(3))[0]) / (2 * h)
    np.testing.assert_allclose(fd, np.einsum("bd,bd->b", g, d), rtol=1e-5, atol=1e-9)


def test_batched_lbfgs_solves_rows_of_differently_conditioned_quadratics(rng):
    # f_b(x) = 1/2 sum_i c_bi (x_i - t_bi)^2 with condition numbers up to 1e6.
    c = np.stack([np.ones(6), np.logspace(0, 3, 6), np.logspace(0, 6, 6)])
    t = rng.standard_normal((3, 6))

    def fun(x, idx):
        r = x - t[idx]
        return 0.5 * (c[idx] * r**2).sum(axis=1), c[idx] * r

    x, f, nit = _batched_lbfgs(fun, np.zeros((3, 6)), ftol=1e-15, gtol=1e-12)
    np.testing.assert_allclose(x, t, atol=1e-6)
    assert nit[0] <= nit[2]


def _masked_lbfgs(fun, x, *, memory=40, maxiter=3000, ftol=1e-12, gtol=1e-9, patience=5):
    """Naive twin of _batched_lbfgs: every iteration works on all B rows and a mask says
    which still run (the solver's code before it dropped stopped rows)."""
    def dot(a, b):
        return np.einsum("bd,bd->b", a, b)

    B, d = x.shape
    S, Y, rho = np.zeros((B, memory, d)), np.zeros((B, memory, d)), np.zeros((B, memory))
    f, g = fun(x, np.arange(B))
    active, calm, nit = np.ones(B, bool), np.zeros(B, int), np.zeros(B, int)
    head = 0
    for _ in range(maxiter):
        if not active.any():
            break
        newest_first = [(head - 1 - i) % memory for i in range(memory)]
        q, alpha = g.copy(), np.zeros((B, memory))
        for i in newest_first:
            alpha[:, i] = rho[:, i] * dot(S[:, i], q)
            q -= alpha[:, i, None] * Y[:, i]
        last = newest_first[0]
        yy = dot(Y[:, last], Y[:, last])
        has_pair = (rho[:, last] > 0) & (yy > 0)
        gnorm = np.linalg.norm(g, axis=1)
        gamma = np.where(has_pair, dot(S[:, last], Y[:, last]) / np.where(has_pair, yy, 1.0),
                         1.0 / np.maximum(gnorm, 1e-300))
        r = gamma[:, None] * q
        for i in reversed(newest_first):
            r += (alpha[:, i] - rho[:, i] * dot(Y[:, i], r))[:, None] * S[:, i]
        p = -r
        uphill = dot(g, p) >= 0
        p[uphill] = -g[uphill] / np.maximum(gnorm[uphill], 1e-300)[:, None]
        slope = dot(g, p)
        step, accepted = np.ones(B), ~active
        x_new, f_new, g_new = x.copy(), f.copy(), g.copy()
        for _ in range(40):
            idx = np.flatnonzero(~accepted)
            if idx.size == 0:
                break
            xt = x[idx] + step[idx, None] * p[idx]
            ft, gt = fun(xt, idx)
            ok = ft <= f[idx] + 1e-4 * step[idx] * slope[idx]
            x_new[idx[ok]], f_new[idx[ok]], g_new[idx[ok]] = xt[ok], ft[ok], gt[ok]
            accepted[idx[ok]] = True
            step[idx[~ok]] *= 0.5
        s, yv = x_new - x, g_new - g
        sy = dot(s, yv)
        curved = active & accepted & (
            sy > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(yv, axis=1))
        S[curved, head], Y[curved, head], rho[curved, head] = s[curved], yv[curved], 1 / sy[
            curved]
        rho[~curved, head] = 0.0
        head = (head + 1) % memory
        small = (f - f_new) <= ftol * np.maximum(np.abs(f), 1.0)
        calm = np.where(active & small, calm + 1, 0)
        nit[active] += 1
        x, f, g = x_new, f_new, g_new
        flat = np.linalg.norm(g, axis=1) <= gtol * (1.0 + np.abs(f))
        active &= ~((calm >= patience) | flat | ~accepted)
    return x, f, nit


@pytest.mark.parametrize("maxiter", [3000, 40])
def test_batched_lbfgs_matches_its_masked_twin_while_rows_stop(rng, maxiter):
    # Rows stop at different iterations (and, at maxiter = 40, three never stop), so the
    # working set shrinks while the others run; each row must still follow its own path.
    c = np.stack([np.logspace(0, e, 8) for e in (0, 1, 2, 3, 4, 5)])
    t = rng.standard_normal(c.shape)

    def fun(x, idx):
        r = x - t[idx]
        return 0.5 * (c[idx] * r**2).sum(axis=1), c[idx] * r

    x0 = rng.standard_normal(c.shape)
    x, f, nit = _batched_lbfgs(fun, x0, maxiter=maxiter, ftol=1e-15, gtol=1e-12)
    x_twin, f_twin, nit_twin = _masked_lbfgs(fun, x0, maxiter=maxiter, ftol=1e-15, gtol=1e-12)
    assert len(set(nit.tolist())) > 2 and nit.max() <= maxiter
    np.testing.assert_array_equal(nit, nit_twin)
    np.testing.assert_array_equal(x, x_twin)
    np.testing.assert_array_equal(f, f_twin)


def test_batched_lbfgs_matches_its_masked_twin_on_the_sphere_objective():
    problem = Scenario.preset("balanced", n_tx=6).draw(8, 1)
    x0 = np.random.default_rng(2).standard_normal((8, 24))
    fun = _sphere_objective(problem, (6, 2), np.full(8, 30.0))
    x, f, nit = _batched_lbfgs(fun, x0)  # stops after 270 to 742 iterations
    x_twin, f_twin, nit_twin = _masked_lbfgs(fun, x0)
    assert len(set(nit.tolist())) > 2
    np.testing.assert_array_equal(nit, nit_twin)
    np.testing.assert_array_equal(x, x_twin)
    np.testing.assert_array_equal(f, f_twin)


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


def test_reference_rejects_bad_w0_and_unknown_options():
    problem = Scenario(n_tx=4).draw(2, 0)
    with pytest.raises(ValueError, match="W0"):
        reference(problem, W0=np.zeros((3, 4, 2)))
    with pytest.raises(TypeError, match="iters"):
        reference(problem, iters=5)
    with pytest.raises(ValueError, match="memory"):
        reference(problem, memory=0)


def test_a_longer_memory_reaches_the_same_optimum_in_fewer_iterations():
    problem = Scenario.preset("balanced", n_tx=6).draw(4, 3)
    short = reference(problem, rng=1, memory=10)
    long = reference(problem, rng=1)  # memory 40
    np.testing.assert_allclose(long.csbf, short.csbf, rtol=1e-8)
    assert long.nit.sum() < short.nit.sum()


def test_missing_scipy_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"angd_np\[cvx\]"):
        an.solve(Scenario(n_tx=4).draw(1, 0), "reference")
