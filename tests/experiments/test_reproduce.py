"""angd_np.experiments.reproduce and `angd-np reproduce`: the main job at a tiny size."""

import io
import re

import pytest

from angd_np.cli import main
from angd_np.experiments import FIGURES, reproduce


def test_cli_reproduce_runs_every_figure_and_writes_a_report_per_preset(tmp_path):
    pytest.importorskip("matplotlib")
    out, stdout = tmp_path / "results", io.StringIO()
    status = main(["reproduce", "--out", str(out), "--presets", "paper,balanced", "--trials",
                   "2", "--methods", "zf", "--workers", "1"], stdout=stdout)
    assert status == 0
    for preset in ("paper", "balanced"):
        for name in FIGURES:
            assert (out / preset / name / "results.csv").stat().st_size > 0
        report = (out / preset / "REPORT.md").read_text()
        assert f"preset {preset}" in report
        assert f"{preset}: {out / preset / 'REPORT.md'}" in stdout.getvalue()
        # the run's wall time, workers and BLAS, and no date; `angd-np report` keeps them
        head = report.split("\n\n")[1]
        assert "ran this preset's figures in" in head and "with 1 worker process " in head
        assert not re.search(r"\b20\d\d-\d\d-\d\d\b", report)
        assert main(["report", "--out", str(out / preset)], stdout=io.StringIO()) == 0
        assert (out / preset / "REPORT.md").read_text() == report


def test_reproduce_resumes_instead_of_recomputing(tmp_path):
    pytest.importorskip("matplotlib")
    options = dict(presets="balanced", trials=2, methods="zf", workers=1)
    first = reproduce(tmp_path, **options)["balanced"]
    csv = tmp_path / "balanced" / "fig3" / "results.csv"
    before = csv.read_text()
    again = reproduce(tmp_path, **options)["balanced"]
    assert again == first and csv.read_text() == before


@pytest.mark.parametrize("argv", [["--presets", "paper,nosuch"], ["--presets", ""],
                                  ["--trials", "0"], ["--methods", "nosuch"],
                                  ["--workers", "0"]])
def test_cli_reproduce_refuses_bad_input_with_exit_2_before_running(tmp_path, argv, capsys):
    assert main(["reproduce", "--out", str(tmp_path / "r"), *argv]) == 2
    assert "error" in capsys.readouterr().err
    assert not (tmp_path / "r" / "paper").exists()


def test_reproduce_names_the_argument_it_refuses(tmp_path):
    with pytest.raises(ValueError, match="presets"):
        reproduce(tmp_path, presets=("paper", "fig3"))
    with pytest.raises(TypeError, match="workers"):
        reproduce(tmp_path, workers=1.5)
