"""Figures over frame sequences (tracking, budget): stored, resumed and plotted like the others."""

import numpy as np
import pytest

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.framed import split_carry
from angd_np.experiments.runner import plan_tasks, run_chunk
from angd_np.experiments.store import read_csv

from .test_runner import _rows_without_time

METHODS = "zf,pgd,pgd:none"


def _config(figure="tracking", **kw):
    return make_config(figure, **{"trials": 8, "methods": METHODS, "chunk_size": 1,
                                  "iters": 3, "preset": "balanced", **kw})


def test_tracking_writes_per_frame_gaps_against_the_best_per_frame(tmp_path):
    config = _config()
    assert config.n_trials == 2
    run_figures([config], tmp_path)
    folder = tmp_path / "tracking"
    frames = read_csv(folder / "frames.csv")
    assert len(frames) == 4 * 3 * 40  # rho values x methods x frames
    gaps = np.array([[float(r["gap_median"]), float(r["gap_p90"])] for r in frames])
    assert np.all(gaps >= 0) and np.all(gaps[:, 1] >= gaps[:, 0])
    # the best known per frame is some method's value: a gap of exactly 0 occurs
    assert gaps[:, 0].min() == 0.0
    results = read_csv(folder / "results.csv")
    assert len(results) == 4 * 3 * 2 and all(r["gap"] != "" for r in results)
    assert {r["method"] for r in results} == {"zf", "pgd", "pgd:none"}
    assert (folder / "tracking.png").stat().st_size > 0


def test_a_frames_figure_resumes_to_exactly_the_uninterrupted_rows(tmp_path):
    config = _config()
    run_figures([config], tmp_path / "whole", plot=False)
    seen = []

    def interrupt(key):
        seen.append(key)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_figures([config], tmp_path / "cut", plot=False, on_chunk=interrupt)
    again = []
    run_figures([config], tmp_path / "cut", plot=False, on_chunk=again.append)
    assert not set(again) & set(seen)
    for name in ("results.csv", "frames.csv"):
        assert _rows_without_time(tmp_path / "cut" / "tracking" / name) == \
            _rows_without_time(tmp_path / "whole" / "tracking" / name)


def test_budget_sweeps_iterations_per_frame(tmp_path):
    config = _config("budget", trials=10, iters=None, methods="zf,adam")
    assert [p["iters_per_frame"] for p in map(config.frame_params, config.spec.x_values)] \
        == [5, 10, 20, 50, 100, 200, 500]
    small = make_config("budget", trials=10, methods="zf,adam", preset="balanced")
    assert small.identity() != make_config("budget", trials=10, methods="zf,pgd").identity()


def test_budget_solves_a_method_that_ignores_iterations_per_frame_once(tmp_path):
    # ZF's frames do not depend on the iterations per frame: one chunk per trial range serves
    # every x, while adam is solved at each of the 7 x-values.
    config = _config("budget", trials=20, iters=None, methods="zf,adam")
    tasks, plan = plan_tasks(config)
    by_method = {}
    for task in tasks:
        by_method.setdefault(task["method"], []).append(task["x"])
    assert by_method["zf"] == [5] * 2 and by_method["adam"] == [5] * 2 + [10] * 2 + [
        20] * 2 + [50] * 2 + [100] * 2 + [200] * 2 + [500] * 2
    zf_keys = [keys for x, method, keys in plan if method == "zf"]
    assert len(zf_keys) == 7 and all(k == zf_keys[0] for k in zf_keys)
    run_figures([config], tmp_path, plot=False)
    rows = read_csv(tmp_path / "budget" / "results.csv")
    zf = {}
    for r in rows:
        if r["method"] == "zf":
            zf.setdefault(r["x"], []).append((r["trial"], r["csbf"], r["sum_rate"]))
    assert len(zf) == 7 and len({tuple(v) for v in zf.values()}) == 1
    # ... and they are what the chunk solved with the last x's frames computes
    first = next(t for t in tasks if t["method"] == "zf")
    solo = run_chunk({**first, "frames": config.frame_params(500)})
    assert solo["rows"]["csbf"].tolist() == [float(v[1]) for v in zf["500"][:1]]


def test_carry_suffixes_are_checked():
    assert split_carry("angd-fcn-tuned:none") == ("angd-fcn-tuned", "none")
    assert split_carry("pgd") == ("pgd", "all")
    with pytest.raises(ValueError, match="NAME:CARRY"):
        split_carry("pgd:sometimes")
    with pytest.raises(ValueError, match="method must be"):
        make_config("tracking", methods="nope:w")
    with pytest.raises(ValueError, match="method must be one of"):
        make_config("fig3", methods="pgd:w")  # carry is for frames figures only
