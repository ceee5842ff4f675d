"""The solver registry: one SolverSpec per solver, and everything else derived from the specs.

The round trip below is the README's "How to add a solver": a toy solver registered at run
time, with no other file changed, is solved by ``angd-np solve``, stored by ``angd-np figure``
and tabled by ``angd-np report``.
"""

import io
import json
import time

import numpy as np
import pytest

import angd_np as an
from angd_np import solvers
from angd_np.cli import main
from angd_np.experiments import read_csv
from angd_np.experiments.plotstyle import style
from angd_np.solvers import Result, SolverSpec, register, unregister
from angd_np.solvers.linear import sensing_beam
from angd_np.solvers.options import SolverOptions


def beam(problem, *, rng=None, **options):
    """Toy solver: all power in the best sensing beam (no options)."""
    SolverOptions.resolve("beam", None, options)
    t0 = time.perf_counter()
    return Result.from_W(problem, sensing_beam(problem), method="beam",
                         time_s=time.perf_counter() - t0, message="closed form")


@pytest.fixture
def toy():
    spec = register(SolverSpec("beam", beam, label="Sensing beam", cost=0.02,
                               style=dict(color="#bcbd22", marker="h")))
    try:
        yield spec
    finally:
        unregister("beam")


def test_a_registered_toy_solver_goes_through_solve_figure_and_report(toy, tmp_path):
    problem = an.Scenario.preset("balanced").draw(3, rng=1)
    res = an.solve(problem, "beam")
    assert "beam" in an.SOLVERS and np.all(res.success)
    np.testing.assert_allclose(res.csbf, an.csbf(sensing_beam(problem), problem))

    out = io.StringIO()
    assert main(["solve", "--methods", "zf,beam", "--json"], stdout=out) == 0
    methods = [r["method"] for r in json.loads(out.getvalue())["results"]]
    assert methods == ["zf", "beam"]

    folder = tmp_path / "runs"
    assert main(["figure", "fig3", "--methods", "zf,beam", "--trials", "2", "--out",
                 str(folder)], stdout=io.StringIO()) == 0
    rows = read_csv(folder / "fig3" / "results.csv")
    assert {r["method"] for r in rows} == {"zf", "beam"}
    assert sum(r["method"] == "beam" for r in rows) == 2 * 7  # 2 trials x 7 values of M
    assert main(["report", "--out", str(folder)], stdout=io.StringIO()) == 0
    report = (folder / "REPORT.md").read_text()
    assert "Sensing beam" in report and "| ZF |" in report


def test_the_solve_command_lists_every_registered_solver_by_default(toy):
    out = io.StringIO()
    assert main(["solve", "--methods", "zf,beam", "--json"], stdout=out) == 0
    from angd_np.cli import build_parser

    assert "beam" in build_parser().parse_args(["solve"]).methods.split(",")


def test_style_and_variants_come_from_the_spec(toy):
    assert style("beam")["color"] == "#bcbd22" and style("beam")["label"] == "Sensing beam"
    tuned = style("angd-fcn-tuned")
    assert tuned["linestyle"] == "--" and tuned["color"] == style("angd-fcn")["color"]
    assert solvers.method_call("angd-cnn-tuned", iters=7) == (
        "angd-cnn", {"variant": "tuned", "iters": 7})
    assert solvers.method_call("zf", iters=7) == ("zf", {})  # not iterative: no iters


def test_register_refuses_duplicates_and_bad_specs(toy):
    with pytest.raises(ValueError, match="registered already"):
        register(SolverSpec("beam", beam))
    with pytest.raises(ValueError, match="name must be"):
        SolverSpec("Bad Name", beam)
    with pytest.raises(TypeError, match="solve must be callable"):
        SolverSpec("ok", 3)
    with pytest.raises(ValueError, match="would add method names"):
        register(SolverSpec("angd", beam, variants=("x", "fcn")))
    with pytest.raises(ValueError, match="method must be one of"):
        an.solve(an.Scenario().draw(1, rng=0), "nope")


@pytest.mark.parametrize("method", list(solvers.SPECS))
def test_success_is_a_bool_array_for_every_registered_solver(method):
    flat = an.Scenario.preset("balanced", n_tx=4).draw(2, rng=3)
    problem = flat.with_(H=flat.H.reshape(2, 1, 4, 2), user_angles_rad=None)
    options = {"iters": 3} if solvers.SPECS[method].iterative else {}
    if method == "ccpa":
        options = {"iters": 2, "randomizations": 2}
    res = an.solve(problem, method, rng=0, **options)
    assert res.success.dtype == np.bool_ and res.success.shape == (2, 1)
    assert res.W.shape == (2, 1, 4, 2)
    assert (res.state is not None) == solvers.SPECS[method].iterative


def test_renamed_option_still_works_with_a_deprecation_warning():
    import dataclasses
    import warnings

    from angd_np.solvers.options import SolverOptions

    @dataclasses.dataclass(frozen=True)
    class Opts(SolverOptions):
        renamed = {"maxiter": "iters"}
        iters: int = 3

    with pytest.warns(DeprecationWarning, match="'maxiter' is renamed 'iters'"):
        assert Opts.resolve("toy", None, {"maxiter": 7}).iters == 7
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Opts.resolve("toy", None, {"iters": 5}).iters == 5
    with pytest.raises(TypeError, match="both 'maxiter' and its new name 'iters'"):
        Opts.resolve("toy", None, {"maxiter": 7, "iters": 5})


@pytest.mark.parametrize("bad", [0, 1, "yes", None])
def test_boolean_options_refuse_non_booleans_by_name(bad):
    with pytest.raises(TypeError, match="keep_memory must be True or False"):
        an.solve(an.Scenario().draw(1, rng=0), "lbfgs", iters=2, keep_memory=bad)


def test_old_spec_function_warns_and_returns_the_solver_spec():
    from angd_np import solvers

    with pytest.warns(DeprecationWarning, match="solver_spec"):
        old = solvers.spec("pgd")
    assert old is solvers.solver_spec("pgd")


def test_the_old_option_name_preset_still_selects_the_variant_with_a_warning():
    problem = an.Scenario.preset("balanced", n_tx=4).draw(1, rng=0)
    new = an.solve(problem, "angd-fcn", rng=0, variant="tuned", iters=3, hidden=4, pilot=0)
    with pytest.warns(DeprecationWarning, match="'preset' is renamed 'variant'"):
        old = an.solve(problem, "angd-fcn", rng=0, preset="tuned", iters=3, hidden=4, pilot=0)
    np.testing.assert_array_equal(old.W, new.W)
    with pytest.raises(TypeError, match="both 'preset' and its new name 'variant'"):
        an.solve(problem, "angd-fcn", preset="tuned", variant="tuned", iters=3)
    with pytest.warns(DeprecationWarning, match="variants="):
        spec = SolverSpec("old-style", lambda problem, **kw: None, presets=("a", "b"))
    assert spec.variants == ("a", "b") and list(spec.methods()) == ["old-style", "old-style-b"]


def test_old_option_names_warn_at_the_users_line_under_default_filters(tmp_path):
    """Python shows a DeprecationWarning by default only where it points into __main__: the
    warning must name the user's line, not a frame inside the package."""
    import os
    import subprocess
    import sys

    script = tmp_path / "old_names.py"
    script.write_text(
        "import angd_np as an\n"
        "p = an.Scenario.preset('paper', n_tx=4).draw(1, rng=0)\n"
        "an.solve(p, 'angd-fcn', preset='tuned', iters=2, pilot=0)\n"
        "an.solve(p, 'lbfgs', iters=2, max_backtracks=3)\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env={**env, "PYTHONPATH": os.getcwd()})
    assert done.returncode == 0, done.stderr
    assert "old_names.py:3: DeprecationWarning: angd-fcn(): option 'preset'" in done.stderr
    assert "old_names.py:4: DeprecationWarning: lbfgs(): option 'max_backtracks'" in done.stderr
