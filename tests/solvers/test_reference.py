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


def test_reference_rejects_bad_w0_and_unknown_options():
    problem = Scenario(n_tx=4).draw(2, 0)
    with pytest.raises(ValueError, match="W0"):
        reference(problem, W0=np.zeros((3, 4, 2)))
    with pytest.raises(TypeError, match="iters"):
        reference(problem, iters=5)


def test_missing_scipy_raises_import_error_naming_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "scipy.optimize", None)
    with pytest.raises(ImportError, match=r"angd_np\[cvx\]"):
        an.solve(Scenario(n_tx=4).draw(1, 0), "reference")
