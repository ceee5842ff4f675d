import io
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from angd_np.cli import main


def _run(argv, capsys):
    out = io.StringIO()
    code = main(argv, stdout=out)
    return code, out.getvalue(), capsys.readouterr().err


@pytest.mark.parametrize("argv", [
    ["solve", "--methods", "zf,nope"],
    ["solve", "--n-tx", "2", "--n-users", "3"],
    ["solve", "--n-tx", "0"],
    ["figure", "fig9"],
    ["figure", "fig3", "--trials", "0"],
    ["figure", "fig3", "--trials", "-5"],
    ["figure", "fig3", "--methods", "zf,warp-drive"],
    ["figure", "fig3", "--out", "/proc/angd-np-cannot-write-here"],
    ["figure", "fig3", "--scheduler", "not an address"],
    ["report", "--out", "/nonexistent/folder"],
    ["frobnicate"],
])
def test_bad_input_exits_2_with_one_line_and_no_traceback(argv, capsys, tmp_path):
    if argv[0] == "figure" and "--out" not in argv:
        argv = [*argv, "--out", str(tmp_path)]
    code, _, err = _run(argv, capsys)
    assert code == 2
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err and "error" in err


def test_bad_input_in_a_real_process_prints_no_traceback():
    proc = subprocess.run([sys.executable, "-m", "angd_np", "figure", "fig3", "--trials", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


@pytest.mark.parametrize("command", ["solve", "figure", "report", "bench"])
def test_every_subcommand_has_help_with_examples(command, capsys):
    code = main([command, "--help"])
    assert code == 0
    assert "examples:" in capsys.readouterr().out  # argparse prints help to sys.stdout


def test_help_text_contains_examples():
    proc = subprocess.run([sys.executable, "-m", "angd_np", "figure", "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "examples:" in proc.stdout and "--scheduler" in proc.stdout


def test_solve_prints_one_table_row_per_method(capsys):
    code, out, _ = _run(["solve", "--methods", "zf,mmse", "--n-tx", "8"], capsys)
    assert code == 0
    rows = [line.split()[0] for line in out.splitlines()[3:]]
    assert rows == ["zf", "mmse"]


def test_solve_json_is_parseable_and_matches_the_table_numbers(capsys):
    code, out, _ = _run(["solve", "--methods", "zf", "--json", "--seed", "4"], capsys)
    assert code == 0
    data = json.loads(out)
    assert data["seed"] == 4 and data["results"][0]["method"] == "zf"
    assert data["results"][0]["sum_rate"] > 0


def test_figure_then_report_writes_report_with_the_paper_claims(tmp_path, capsys):
    code, out, _ = _run(["figure", "fig3", "--trials", "3", "--methods", "zf,mmse",
                         "--out", str(tmp_path)], capsys)
    assert code == 0 and "fig3.png" in out
    code, out, _ = _run(["report", "--out", str(tmp_path)], capsys)
    assert code == 0
    text = (tmp_path / "REPORT.md").read_text()
    assert "+5.96%" in text and "ZF and MMSE perform identically" in text


@pytest.mark.parametrize("workers", ["1", "2"])
def test_ctrl_c_exits_130_with_the_resume_hint(tmp_path, workers):
    pytest.importorskip("cvxpy")
    cmd = [sys.executable, "-m", "angd_np", "figure", "fig3", "--methods", "ccpa",
           "--trials", "200", "--chunk-size", "1", "--workers", workers, "--out", str(tmp_path)]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    chunks = tmp_path / "fig3" / "chunks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not list(chunks.glob("*.csv")):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "same command again to resume" in err and "Traceback" not in err
    assert list(chunks.glob("*.csv"))
