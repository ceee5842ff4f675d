"""scripts/gradient_tour.py: its numbers must tell right from wrong conventions unambiguously."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import angd_np as an

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gradient_tour.py"


@pytest.fixture(scope="module")
def tour():
    spec = importlib.util.spec_from_file_location("gradient_tour", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(params=[(p, s) for p in ("paper", "balanced") for s in (0, 1, 2)],
                ids=lambda ps: f"{ps[0]}-seed{ps[1]}")
def instance(tour, request):
    """(f, W, G = df/dW*, rng) at a random precoder of one preset, seeded."""
    preset, seed = request.param
    rng = np.random.default_rng(seed)
    problem, W = tour.random_instance(preset, rng)
    return (lambda X: float(an.csbf(X, problem))), W, an.csbf_grad(W, problem), rng


def test_right_convention_below_1e_8_and_every_wrong_one_at_least_half(tour, instance):
    f, W, G, rng = instance
    errors = tour.convention_errors(f, W, tour.candidates(G), rng)
    right, *wrong = errors.values()
    assert right < 1e-8
    assert len(wrong) == 3 and min(wrong) >= 0.5
    assert errors["2G          (PyTorch .grad)"] == pytest.approx(1.0, abs=1e-6)


def test_taylor_slopes_are_2_for_the_right_gradient_and_1_for_wrong_ones(tour, instance):
    f, W, G, rng = instance
    steps, remainders, slopes = tour.taylor_slopes(
        f, W, {"right": G, "2G": 2 * G, "conj": G.conj()}, rng)
    assert steps.max() == pytest.approx(tour.TAYLOR_RANGE[1] * np.linalg.norm(W))
    assert abs(slopes["right"] - 2) < 0.1
    assert abs(slopes["2G"] - 1) < 0.1 and abs(slopes["conj"] - 1) < 0.1
    assert np.all(remainders["right"] < remainders["2G"])


def test_taylor_slope_of_a_function_with_known_gradient(tour):
    # f(W) = ||W||^2 has df/dW* = W exactly and second-order remainder h^2 ||D||^2 = h^2.
    rng = np.random.default_rng(5)
    W = tour.random_complex((3, 2), rng)
    steps, rem, slopes = tour.taylor_slopes(lambda X: float(np.vdot(X, X).real), W,
                                            {"W": W}, rng)
    assert np.allclose(rem["W"], steps**2, rtol=1e-2)
    assert slopes["W"] == pytest.approx(2.0, abs=1e-3)


def test_main_prints_every_step_for_both_presets(tour, capsys):
    tour.main(seed=0)
    out = capsys.readouterr().out
    assert out.count("=== preset") == 2
    for step in ("Step 2", "Step 3", "Step 4"):
        assert out.count(step) == 2
    assert "nan" not in out.lower()
