"""Figures are specs: a figure registered at run time is a name of ``angd-np figure``, is run,
stored and drawn with no other file changed (the README's "How to add a figure")."""

import io
import json

import pytest

from angd_np.cli import main
from angd_np.experiments import (
    FIGURES,
    FigureSpec,
    make_config,
    read_csv,
    register_figure,
    unregister_figure,
)


@pytest.fixture
def toy_figure():
    spec = register_figure(FigureSpec(
        "toy-power", "p_max_dbm", (20.0, 30.0), "p_max (dBm)", ("zf", "mmse"),
        base={"n_tx": 4}, title="Toy: sum rate against power", trial_fraction=0.5))
    try:
        yield spec
    finally:
        unregister_figure("toy-power")


def test_a_registered_figure_runs_stores_and_plots_through_the_cli(toy_figure, tmp_path):
    out = io.StringIO()
    assert main(["figure", "toy-power", "--trials", "4", "--out", str(tmp_path)],
                stdout=out) == 0
    folder = tmp_path / "toy-power"
    rows = read_csv(folder / "results.csv")
    assert len(rows) == 2 * 2 * 2  # 2 powers x 2 methods x (4 trials x 0.5)
    assert {r["x"] for r in rows} == {"20.0", "30.0"}
    meta = json.loads((folder / "meta.json").read_text())
    assert meta["title"] == "Toy: sum rate against power" and meta["trials"] == 2
    assert (folder / "toy-power.png").stat().st_size > 0 and "toy-power.png" in out.getvalue()


def test_figure_all_includes_registered_figures_and_names_are_unique(toy_figure):
    from angd_np.cli import build_parser

    assert "toy-power" in FIGURES
    args = build_parser().parse_args(["figure", "toy-power"])
    assert args.names == ["toy-power"]
    with pytest.raises(ValueError, match="exists already"):
        register_figure(toy_figure)
    with pytest.raises(ValueError, match="curves must be one of"):
        FigureSpec("x", "n_tx", (4,), "M", ("zf",), curves="nope")


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_builtin_figure_resolves_its_methods_and_sets_its_x_at_every_value(name):
    config = make_config(name, preset="balanced")
    identity = config.identity()  # resolves every method's options, builds every scenario
    spec = config.spec
    assert set(identity["methods"]) == set(spec.methods)
    for x, scenario, fields in zip(spec.x_values, identity["scenarios"],
                                   map(spec.scenario_fields, spec.x_values), strict=True):
        assert scenario["name"] == "balanced"
        assert all(scenario[k] == v for k, v in fields.items())
        if spec.x_field in scenario:
            assert scenario[spec.x_field] == x
        elif spec.frames is not None:
            assert config.frame_params(x)[spec.x_field] == x
        else:
            assert spec.x_options is not None  # x sets solver options, not the scenario
