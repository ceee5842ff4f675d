import json

import numpy as np
import pytest

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.runner import check_scheduler, plan_tasks, run_chunk, share_tasks
from angd_np.experiments.store import read_csv

FAST = "zf,mmse"


def _rows_without_time(path):
    """results.csv as a list of tuples, without the columns whose names say time."""
    rows = read_csv(path)
    keep = [c for c in rows[0] if "time" not in c]
    return [tuple(r[c] for c in keep) for r in rows]


def _config(figure="fig3", **kw):
    kw = {"trials": 5, "methods": FAST, "chunk_size": 2, **kw}
    return make_config(figure, **kw)


def test_figure_run_writes_every_documented_file_and_column(tmp_path):
    configs = [_config("fig2"), _config("fig3"), _config("runtime"), _config("tradeoff")]
    run_figures(configs, tmp_path)
    for name in ("fig2", "fig3", "runtime", "tradeoff"):
        folder = tmp_path / name
        for file in ("results.csv", "summary.csv", "meta.json", f"{name}.png", f"{name}.pdf"):
            assert (folder / file).stat().st_size > 0, (name, file)
        results = read_csv(folder / "results.csv")
        assert {"trial", "x", "method", "sum_rate", "sensing", "csbf", "time_s",
                "gap"} <= set(results[0])
        spec_x = make_config(name).spec.x_values
        assert len(results) == len(spec_x) * 2 * min(5, make_config(name).spec.trials(5))
        summary = read_csv(folder / "summary.csv")
        for metric in ("sum_rate", "sensing", "csbf", "time_s"):
            assert f"{metric}_mean" in summary[0] and f"{metric}_ci95" in summary[0]
        meta = json.loads((folder / "meta.json").read_text())
        assert meta["seed"] == 0 and meta["versions"]["numpy"] == np.__version__
        assert meta["finished"] is not None
    pattern = read_csv(tmp_path / "fig2" / "pattern.csv")
    assert len(pattern) == 2 * 2 * 181  # x-values, methods, 1-degree grid over +-90


def test_results_are_sorted_by_x_method_trial(tmp_path):
    run_figures([_config("fig2")], tmp_path, plot=False)
    rows = read_csv(tmp_path / "fig2" / "results.csv")
    xs = [int(r["x"]) for r in rows]
    assert xs == sorted(xs)
    assert [r["method"] for r in rows[:10]] == ["zf"] * 5 + ["mmse"] * 5
    assert [int(r["trial"]) for r in rows[:5]] == list(range(5))


def test_resume_after_interrupt_gives_exactly_the_uninterrupted_rows(tmp_path):
    config = _config(trials=6)
    run_figures([config], tmp_path / "whole", plot=False)

    seen = []

    def interrupt_after_three(key):
        seen.append(key)
        if len(seen) == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_figures([config], tmp_path / "cut", plot=False, on_chunk=interrupt_after_three)
    assert len(list((tmp_path / "cut" / "fig3" / "chunks").glob("*.csv"))) == 3
    assert not (tmp_path / "cut" / "fig3" / "results.csv").exists()

    recomputed = []
    run_figures([config], tmp_path / "cut", plot=False, on_chunk=recomputed.append)
    assert not set(recomputed) & set(seen)  # finished chunks are never recomputed
    resumed = _rows_without_time(tmp_path / "cut" / "fig3" / "results.csv")
    assert resumed == _rows_without_time(tmp_path / "whole" / "fig3" / "results.csv")
    keys = [(r[0], r[1], r[2]) for r in resumed]
    assert len(keys) == len(set(keys))


def _files_without_time(folder):
    """Every merged CSV of a figure folder, time columns left out."""
    return {path.name: _rows_without_time(path) for path in sorted(folder.glob("*.csv"))
            if path.name != "summary.csv"}


def test_figures_that_solve_the_same_chunks_solve_them_once_with_the_same_files(tmp_path):
    """Fig. 2 is Fig. 3 at M = 16 and 8 with beampatterns; the convergence figure is Fig. 3 at
    M = 16 with histories: run together, each shared chunk is solved once, and every figure's
    files are those of running it alone."""
    names = ("fig2", "fig3", "convergence")
    configs = [_config(name, trials=8, methods="zf,pgd", iters=20) for name in names]
    tasks = [t for c in configs for t in plan_tasks(c)[0]]
    shared = share_tasks(tasks)
    fig2 = [t for t in tasks if t["figure"] == "fig2"]
    # Every fig2 chunk is also a fig3 chunk; the convergence chunks are fig3's at M = 16.
    conv = [t for t in tasks if t["figure"] == "convergence"]
    assert len(shared) == len(tasks) - len(fig2) - len(conv)
    also = {(a["figure"], a["key"]) for t in shared for a in t["also"]}
    assert {("fig3", t["key"]) for t in tasks if t["figure"] == "fig3" and t["x"] in (8, 16)
            } <= also
    keys = []
    run_figures(configs, tmp_path / "together", plot=False, on_chunk=keys.append)
    assert sorted(keys) == sorted(t["key"] for t in tasks)  # every chunk of every figure
    curves = {"fig2": {"pattern.csv"}, "fig3": set(), "convergence": {"history.csv"}}
    for name, config in zip(names, configs, strict=True):
        run_figures([config], tmp_path / name, plot=False)
        alone = _files_without_time(tmp_path / name / name)
        assert set(alone) == {"results.csv"} | curves[name], alone.keys()
        assert _files_without_time(tmp_path / "together" / name) == alone, name


def test_an_interrupt_between_the_figures_of_a_shared_chunk_resumes_exactly(tmp_path):
    configs = [_config(name, trials=2) for name in ("fig2", "fig3")]
    run_figures(configs, tmp_path / "whole", plot=False)

    def interrupt(key):
        raise KeyboardInterrupt  # after the first figure's copy of the first chunk

    with pytest.raises(KeyboardInterrupt):
        run_figures(configs, tmp_path / "cut", plot=False, on_chunk=interrupt)
    stored = list((tmp_path / "cut").glob("*/chunks/*.csv"))
    assert len(stored) == 1
    run_figures(configs, tmp_path / "cut", plot=False)
    for name in ("fig2", "fig3"):
        assert (_files_without_time(tmp_path / "cut" / name)
                == _files_without_time(tmp_path / "whole" / name))


def test_one_and_two_workers_give_identical_rows(tmp_path):
    config = _config(trials=4)
    run_figures([config], tmp_path / "w1", plot=False, workers=1)
    run_figures([config], tmp_path / "w2", plot=False, workers=2)
    assert (_rows_without_time(tmp_path / "w1" / "fig3" / "results.csv")
            == _rows_without_time(tmp_path / "w2" / "fig3" / "results.csv"))


def test_ccpa_rows_do_not_depend_on_the_number_of_workers(tmp_path):
    """Workers solve different sequences of instances: a solver that carries state from one
    instance to the next (a warm-started convex solver did) gives different rows."""
    config = _config("fig4", trials=3, methods="zf,ccpa", chunk_size=1)
    run_figures([config], tmp_path / "w1", plot=False, workers=1)
    run_figures([config], tmp_path / "w2", plot=False, workers=2)
    assert (_rows_without_time(tmp_path / "w1" / "fig4" / "results.csv")
            == _rows_without_time(tmp_path / "w2" / "fig4" / "results.csv"))


def test_dask_local_cluster_gives_the_same_rows(tmp_path):
    distributed = pytest.importorskip("distributed")
    config = _config("fig2", trials=3)
    run_figures([config], tmp_path / "local", plot=False)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        run_figures([config], tmp_path / "dask", plot=False, scheduler=cluster.scheduler_address)
    assert (_rows_without_time(tmp_path / "local" / "fig2" / "results.csv")
            == _rows_without_time(tmp_path / "dask" / "fig2" / "results.csv"))


def test_changed_configuration_is_refused_unless_fresh(tmp_path):
    run_figures([_config()], tmp_path, plot=False)
    with pytest.raises(ValueError, match="different configuration.*--fresh"):
        run_figures([_config(seed=1)], tmp_path, plot=False)
    run_figures([_config(seed=1)], tmp_path, plot=False, fresh=True)
    assert json.loads((tmp_path / "fig3" / "meta.json").read_text())["seed"] == 1


def test_more_trials_extend_a_run_without_recomputing(tmp_path):
    run_figures([_config(trials=4)], tmp_path, plot=False)
    computed = []
    run_figures([_config(trials=6)], tmp_path, plot=False, on_chunk=computed.append)
    assert computed and all(k.endswith("-000004-000006") for k in computed)
    run_figures([_config(trials=6)], tmp_path / "direct", plot=False)
    assert (_rows_without_time(tmp_path / "fig3" / "results.csv")
            == _rows_without_time(tmp_path / "direct" / "fig3" / "results.csv"))


def test_a_trial_does_not_depend_on_its_chunk():
    tasks, _ = plan_tasks(_config(trials=4, chunk_size=4))
    single, _ = plan_tasks(_config(trials=4, chunk_size=1))
    whole = run_chunk(tasks[0])["rows"]
    last = run_chunk(single[3])["rows"]
    assert whole["trial"][3] == last["trial"][0] == 3
    np.testing.assert_allclose(whole["sum_rate"][3], last["sum_rate"][0], rtol=1e-12)


@pytest.mark.parametrize("address", ["not an address", "tcp://", "", "http://x y:1"])
def test_malformed_scheduler_address_is_rejected(address):
    with pytest.raises(ValueError, match="scheduler"):
        check_scheduler(address)


def test_iterative_methods_agree_across_workers_and_store_histories(tmp_path):
    config = _config("convergence", trials=12, methods="pgd,angd-fcn,zf", iters=5)
    run_figures([config], tmp_path / "w1", workers=1)
    run_figures([config], tmp_path / "w2", workers=2, plot=False)
    for name in ("results.csv", "history.csv"):
        assert (_rows_without_time(tmp_path / "w1" / "convergence" / name)
                == _rows_without_time(tmp_path / "w2" / "convergence" / name))
    history = read_csv(tmp_path / "w1" / "convergence" / "history.csv")
    assert {r["method"] for r in history} == {"pgd", "angd-fcn"}  # zf has no iterations
    assert [int(r["iteration"]) for r in history if r["method"] == "pgd"] == [1, 2, 3, 4, 5]
    assert (tmp_path / "w1" / "convergence" / "convergence.png").exists()


def test_reference_runs_only_on_the_first_reference_trials():
    config = make_config("fig3", trials=60, methods="zf,reference", reference_trials=10)
    tasks, plan = plan_tasks(config)
    ref = [t for t in tasks if t["method"] == "reference"]
    zf = [t for t in tasks if t["method"] == "zf"]
    assert {(t["start"], t["stop"]) for t in ref} == {(0, 10)}
    assert max(t["stop"] for t in zf) == 60
    assert len(plan) == 2 * len(config.spec.x_values)


def test_by_default_the_reference_runs_on_every_trial_so_every_row_has_a_gap():
    config = make_config("fig3", trials=60, methods="zf,reference")
    tasks, _ = plan_tasks(config)
    ref_stops = {t["stop"] for t in tasks if t["method"] == "reference"}
    assert max(ref_stops) == 60 and config.method_trials("reference") == 60
    # The runtime figure keeps its own cap (its reference would cost seconds per instance).
    runtime = make_config("runtime", trials=60, methods="zf,reference")
    assert runtime.method_trials("reference") == runtime.spec.reference_cap


def test_a_missing_extra_fails_before_the_run_naming_the_extra(tmp_path, monkeypatch):
    from importlib import metadata

    from angd_np.experiments import runner

    real = metadata.version

    def version(name):
        if name == "cvxpy":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)
    with pytest.raises(ImportError, match=r"ccpa needs cvxpy: pip install 'angd_np\[cvx\]'"):
        runner.run_figures([_config(methods="zf,ccpa")], tmp_path, plot=False)
    assert not (tmp_path / "fig3" / "chunks").exists()


def test_a_method_whose_preset_values_changed_runs_again_and_nothing_else(tmp_path):
    config = _config(methods="zf,mmse,pgd")
    run_figures([config], tmp_path, plot=False)
    # The folder as an older version would have left it, with other pgd defaults.
    meta_path = tmp_path / "fig3" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["identity"]["methods"]["pgd"]["resolved"]["eta_w"] = 123.0
    meta_path.write_text(json.dumps(meta))
    computed = []
    run_figures([config], tmp_path, plot=False, on_chunk=computed.append)
    assert computed and all("-pgd-" in key for key in computed)
    assert len(computed) == len(plan_tasks(config)[0]) // 3  # every pgd chunk, nothing else
    run_figures([config], tmp_path / "direct", plot=False)
    assert (_rows_without_time(tmp_path / "fig3" / "results.csv")
            == _rows_without_time(tmp_path / "direct" / "fig3" / "results.csv"))
    # A method no longer run is dropped with its chunks.
    run_figures([_config(methods="zf,mmse")], tmp_path, plot=False)
    assert not list((tmp_path / "fig3" / "chunks").glob("*-pgd-*"))
    assert {r["method"] for r in read_csv(tmp_path / "fig3" / "results.csv")} == {"zf", "mmse"}


def test_the_run_identity_holds_the_values_of_a_preset():
    from angd_np.solvers.angd import VARIANTS

    identity = make_config("fig3", methods="angd-fcn-tuned,zf").identity()
    resolved = identity["methods"]["angd-fcn-tuned"]["resolved"]
    tuned = VARIANTS["tuned"]["fcn"]
    assert (resolved["eta_phi"], resolved["init"], resolved["iters"]) == (
        tuned.eta_phi, tuned.init, tuned.iters)
    assert "workers" not in resolved and identity["methods"]["zf"]["resolved"] is None


def test_a_chunks_predicted_weight_grows_with_the_instance_size():
    """The progress's weights count the size (M, K): the same solver and budget weigh
    size_factor(64, 8) / size_factor(16, 2) = 8.5 times more at (64, 8) than at (16, 2)."""
    from angd_np.experiments.runner import size_factor

    small = plan_tasks(make_config("quality-time", trials=1000, methods="lbfgs"))[0]
    large = plan_tasks(make_config("quality-time-64", trials=1000, methods="lbfgs"))[0]
    w_small = {t["x"]: t["weight"] / (t["stop"] - t["start"]) for t in small}
    w_large = {t["x"]: t["weight"] / (t["stop"] - t["start"]) for t in large}
    assert size_factor(16, 2) == 1.0 and size_factor(64, 8) == 8.5
    for level, w in w_small.items():
        assert w_large[level] == pytest.approx(8.5 * w)
