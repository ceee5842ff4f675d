"""The reproduction script end to end, at a size that runs in seconds."""

import importlib.util
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


def _load(name):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_reproduce_paper_writes_every_figure_the_report_and_the_readme_copies(tmp_path):
    pytest.importorskip("matplotlib")
    from angd_np.experiments import FIGURES

    reproduce = _load("reproduce_paper").reproduce
    out, figs = tmp_path / "out", tmp_path / "figs"
    status = reproduce(["--out", str(out), "--presets", "balanced", "--trials", "2",
                        "--methods", "zf,mmse", "--figures-dir", str(figs)])
    assert status == 0
    for name in FIGURES:
        assert (out / "balanced" / name / "results.csv").stat().st_size > 0
        assert (figs / f"balanced-{name}.png").read_bytes()[:4] == b"\x89PNG"
    report = (figs / "balanced-REPORT.md").read_text()
    assert report == (out / "balanced" / "REPORT.md").read_text() and "ZF" in report


def test_reproduce_paper_passes_bad_input_through_as_exit_2(tmp_path):
    reproduce = _load("reproduce_paper").reproduce
    assert reproduce(["--out", str(tmp_path), "--presets", "paper", "--trials", "0"]) == 2
