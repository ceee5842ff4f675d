"""quality-time: each method at several budgets, gaps against the best of the trial at any
budget; and the report's sections for our figures beyond the paper."""

import numpy as np

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.configs import ITERS_LEVELS, budget_options
from angd_np.experiments.report import write_report
from angd_np.experiments.store import read_csv


def test_budget_levels_come_from_the_specs():
    config = make_config("quality-time", methods="pgd,ccpa,zf,angd-fcn-tuned")
    for level, iters in enumerate(ITERS_LEVELS):
        calls = config.calls_at(level)
        assert calls["pgd"] == ("pgd", {"iters": iters})
        assert calls["angd-fcn-tuned"] == ("angd-fcn", {"variant": "tuned", "iters": iters})
        assert calls["zf"] == ("zf", {})
        assert calls["ccpa"][1] == budget_options("ccpa", level)
    assert config.scenario(3).n_tx == 16 and config.scenario(0).n_users == 2
    assert make_config("quality-time-64").scenario(0).n_users == 8


def test_gaps_are_pooled_over_budgets_and_the_report_tables_them(tmp_path):
    config = make_config("quality-time", methods="zf,pgd,reference", trials=40,
                         preset="balanced")
    assert config.n_trials == 2
    run_figures([config], tmp_path)
    rows = read_csv(tmp_path / "quality-time" / "results.csv")
    assert len(rows) == 6 * 3 * 2
    for trial in ("0", "1"):
        gaps = [float(r["gap"]) for r in rows if r["trial"] == trial]
        f = [float(r["csbf"]) for r in rows if r["trial"] == trial]
        assert min(gaps) == 0.0 and np.all(np.array(gaps) >= 0)
        np.testing.assert_allclose(max(f) * (1 - np.array(gaps)), f, rtol=1e-12)
    report = write_report(tmp_path).read_text()
    assert "## Quality against time (quality-time: M = 16, K = 2, 2 trials)" in report
    assert "| PGD |" in report and "level 5" in report


def test_a_figure_whose_x_sets_solver_options_needs_only_its_spec():
    from angd_np.experiments import FigureSpec, register_figure, unregister_figure

    def iters_at(solver, x):
        return {"iters": 10 * (x + 1)} if solver == "pgd" else {}

    register_figure(FigureSpec("iters-sweep", "level", (0, 2), "level", ("zf", "pgd"),
                               base={"n_tx": 6}, x_options=iters_at))
    try:
        config = make_config("iters-sweep", trials=2)
        assert config.calls_at(2) == {"zf": ("zf", {}), "pgd": ("pgd", {"iters": 30})}
        assert config.scenario(0) == config.scenario(2)  # x changes no instance
        assert config.scenario(0).n_tx == 6
        assert config.identity()["budgets"][1]["pgd"] == {"iters": 30}
        assert config.spec.same_instances
    finally:
        unregister_figure("iters-sweep")
