"""The user tools in scripts/ run as the docs say, at a size that runs in seconds."""

import importlib.util
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_scripts_holds_the_user_tools_only():
    assert sorted(p.name for p in (ROOT / "scripts").glob("*.py")) == [
        "gradient_tour.py", "headline_table.py", "make_bank.py", "reproduce_paper.py"]


def test_reproduce_paper_writes_every_figure_the_report_and_the_docs_copies(tmp_path):
    pytest.importorskip("matplotlib")
    from angd_np.experiments import FIGURES

    main = _load("reproduce_paper").main
    out, figs = tmp_path / "out", tmp_path / "figs"
    status = main(["--out", str(out), "--presets", "balanced", "--trials", "2",
                   "--methods", "zf,mmse", "--figures-dir", str(figs)])
    assert status == 0
    for name in FIGURES:
        assert (out / "balanced" / name / "results.csv").stat().st_size > 0
        assert (figs / f"balanced-{name}.png").read_bytes()[:4] == b"\x89PNG"
    report = (figs / "balanced-REPORT.md").read_text()
    assert report == (out / "balanced" / "REPORT.md").read_text() and "ZF" in report


def test_reproduce_paper_passes_bad_input_through_as_exit_2(tmp_path):
    main = _load("reproduce_paper").main
    assert main(["--out", str(tmp_path), "--presets", "paper", "--trials", "0"]) == 2


def test_reproduce_paper_help_lists_every_option_of_the_command(capsys):
    assert _load("reproduce_paper").main(["--help"]) == 0
    text = capsys.readouterr().out
    for option in ("--trials", "--presets", "--out", "--workers", "--scheduler", "--seed",
                   "--methods", "--iters", "--fresh", "--figures-dir", "--chunk-size",
                   "--reference-trials"):
        assert option in text, option


def test_studies_use_the_public_api_only():
    """No sys.path edits and no private module or name of angd_np in any study script."""
    private = re.compile(r"angd_np(\.\w+)*\._\w|from angd_np[\w.]* import .*\b_\w")
    scripts = sorted((ROOT / "studies").rglob("*.py"))
    assert len(scripts) >= 6
    for script in scripts:
        text = script.read_text()
        assert "sys.path" not in text, script
        assert not private.search(text), (script, private.search(text))
        assert (script.parent / "README.md").is_file(), script.parent
