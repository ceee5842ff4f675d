"""A new iterative solver with a two-start pilot, registered from this test only: solve, track
and a figure run work, and the runner's predicted cost counts its pilot. Nothing outside this
file knows it (the generic layers ask its spec: ``work`` and ``carry_options``)."""

import dataclasses
import functools
import time

import numpy as np
import pytest

import angd_np as an
from angd_np import solvers
from angd_np.experiments import make_config, run_figures
from angd_np.experiments.runner import plan_tasks, size_factor
from angd_np.experiments.store import read_csv
from angd_np.objective import csbf_and_grad, project_power
from angd_np.solvers import iterative as it
from angd_np.solvers.options import SolverOptions
from angd_np.solvers.spec import SolverSpec, linear_work


@dataclasses.dataclass(frozen=True)
class ToyOptions(SolverOptions):
    iters: int = 20
    pilot: int = 3  # two starts of ``pilot`` steps each; the better one goes on
    step: float = 0.05
    init: object = "random"
    tol: float | None = None
    patience: int = 50


def _ascend(flat, W, steps, step):
    """``steps`` normalised gradient steps (the iterates and their f)."""
    out = []
    for _ in range(steps):
        f, G = csbf_and_grad(W, flat)
        norm = np.sqrt(np.sum(np.abs(G) ** 2, axis=(-2, -1)))[:, None, None]
        W = project_power(W + step * np.sqrt(flat.p_max) * G / np.maximum(norm, 1e-300),
                          flat.p_max)
        out.append((W, csbf_and_grad(W, flat)[0]))
    return out


def toy(problem, *, rng=None, state=None, **options):
    t0 = time.perf_counter()
    opts = ToyOptions.resolve("toy", None, options)
    flat = it.flatten_problem(problem)
    n, core = flat.n_instances, flat.H.shape[-2:]
    if state is None:
        if opts.pilot and not isinstance(opts.init, str):
            raise ValueError("toy: a pilot would replace the given init; pass pilot=0")
        streams = it.instance_streams(rng, n)
        W = it.initial_W(opts.init, flat, streams)
        if opts.pilot:
            other = it.initial_W("random", flat, [(s[1], s[0]) for s in streams])
            a, b = _ascend(flat, W, opts.pilot, opts.step)[-1], \
                _ascend(flat, other, opts.pilot, opts.step)[-1]
            W = np.where((a[1] >= b[1])[:, None, None], a[0], b[0])
        saved, failed = None, np.zeros(n, dtype=bool)
    else:
        saved = it.check_state(state, "toy", n, core, problem=flat)
        W, failed = saved["W"], saved["failed"]
    tracker = it.BestTracker(W, csbf_and_grad(W, flat)[0], opts.iters, opts.tol, opts.patience,
                          state=saved)
    last = W
    for t, (V, f) in enumerate(_ascend(flat, W, opts.iters if tracker.active.any() else 0,
                                       opts.step)):
        tracker.update(t, V, f)
        last = V
    return it.finish(problem, flat, tracker, "toy", t0, failed, state={"W": last.copy()})


TOY = SolverSpec("toy", toy, label="Toy", iterative=True, cost=1.0, options=ToyOptions,
                 style=dict(color="#000000", marker="."),
                 work=functools.partial(linear_work, {"iters": 1, "pilot": 2}),
                 carry_options={"pilot": 0})


@pytest.fixture
def registered():
    solvers.register(TOY)
    yield TOY
    solvers.unregister("toy")


def test_the_toy_solves_and_continues_its_state(registered):
    problem = an.Scenario.preset("balanced", n_tx=4).draw(3, rng=0)
    whole = an.solve(problem, "toy", rng=1, iters=12)
    part = an.solve(problem, "toy", rng=1, iters=6)
    again = an.solve(problem, "toy", iters=6, state=part.state)
    np.testing.assert_array_equal(again.W, whole.W)
    assert np.all(whole.csbf >= np.nanmax(whole.history, axis=-1))


@pytest.mark.parametrize("carry", ["all", "w", "none"])
def test_track_carries_the_toy_without_its_pilot(registered, carry):
    seq = an.Scenario.preset("balanced", n_tx=4).sequence(2, 3, rho=0.9, rng=0)
    # carry="w" passes the previous W as init: only the spec's carry_options (pilot=0) keep
    # the toy from refusing it, as ANGD's pilot would replace the carried start.
    res = an.track(seq, "toy", iters_per_frame=5, carry=carry, rng=2)
    assert res.csbf.shape == (2, 3) and np.all(np.isfinite(res.csbf))
    assert np.all(res.nit == 5)
    with pytest.raises(ValueError, match="a pilot would replace"):
        an.solve(seq.frame(1), "toy", iters=5, init=res.W[:, 0])


def test_a_figure_run_of_the_toy_counts_its_pilot_in_the_predicted_cost(registered, tmp_path):
    config = make_config("fig3", trials=2, methods="toy,zf", chunk_size=2, iters=10)
    tasks, _ = plan_tasks(config)
    toy_tasks = [t for t in tasks if t["solver"] == "toy"]
    # Each trial: cost x (iters + 2 x pilot) / 500 with the toy's pilot of 3, times the
    # size factor of its M (fig3 sweeps M at K = 2).
    for task in toy_tasks:
        assert task["weight"] == pytest.approx(2 * 1.0 * (10 + 2 * 3) / 500 * size_factor(
            task["scenario"]["n_tx"], 2))
    first = plan_tasks(make_config("fig3", trials=2, methods="toy", chunk_size=2,
                                   iters=10))[0][0]
    piloted = first["weight"] / size_factor(first["scenario"]["n_tx"], 2)
    assert piloted > 2 * 10 / 500  # the pilot is counted, not only iters
    run_figures([config], tmp_path, plot=False)
    rows = [r for r in read_csv(tmp_path / "fig3" / "results.csv") if r["method"] == "toy"]
    assert len(rows) == 2 * len(config.spec.x_values)
    assert all(float(r["nit"]) == 10 for r in rows)
