"""Figures are specs: a figure registered at run time is a name of ``angd-np figure``, is run,
stored and drawn with no other file changed (the README's "How to add a figure")."""

import io
import json

import pytest

from angd_np.cli import main
from angd_np.experiments import FIGURES, FigureSpec, read_csv, register_figure, unregister_figure
from angd_np.experiments.figures import draw_tradeoff


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


def test_every_builtin_figure_names_its_own_plot_function():
    assert FIGURES["tradeoff"].plot is draw_tradeoff
    assert {spec.curves for spec in FIGURES.values()} == {None, "pattern", "history"}
