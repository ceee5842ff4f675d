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


def test_an_unknown_preset_exits_2_naming_every_scenario_preset(capsys):
    from angd_np.system import PRESETS

    code, _, err = _run(["solve", "--preset", "nope"], capsys)
    assert code == 2
    assert all(repr(name) in err for name in PRESETS), err


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
    code, table, _ = _run(["solve", "--methods", "zf", "--seed", "4"], capsys)
    row = table.splitlines()[3].split()  # method, sum rate, sensing, CSBF, ...
    assert row[0] == "zf"
    for column, key in ((1, "sum_rate"), (2, "sensing"), (3, "csbf")):
        assert float(row[column]) == pytest.approx(data["results"][0][key], rel=1e-4)


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
    args = ["figure", "fig3", "--methods", "ccpa", "--trials", "200", "--chunk-size", "1",
            "--workers", workers, "--out", str(tmp_path)]
    # A shell that starts CI in the background (no job control) ignores SIGINT, and the child
    # would inherit that: the child installs Python's KeyboardInterrupt handler itself, as an
    # interactive `angd-np` would have it.
    start = ("import signal, sys, runpy; "
             "signal.signal(signal.SIGINT, signal.default_int_handler); "
             f"sys.argv = ['angd-np', *{args!r}]; runpy.run_module('angd_np', run_name='__main__')")
    proc = subprocess.Popen([sys.executable, "-c", start], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    chunks = tmp_path / "fig3" / "chunks"
    # Interrupt the run itself, not the start-up.
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not list(chunks.glob("*.csv")):
        time.sleep(0.1)
    assert list(chunks.glob("*.csv")), "the run wrote no chunk within 240 s"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert "same command again to resume" in err and "Traceback" not in err
    assert list(chunks.glob("*.csv"))


def test_a_killed_run_resumes_to_exactly_the_rows_of_an_uninterrupted_one(tmp_path):
    # SIGKILL: no Python cleanup runs, so only the atomic chunk writes protect the results.
    pytest.importorskip("cvxpy")
    args = ["figure", "fig3", "--methods", "zf,ccpa", "--trials", "4", "--chunk-size", "1"]
    cmd = [sys.executable, "-m", "angd_np", *args]
    cut = tmp_path / "cut"
    proc = subprocess.Popen([*cmd, "--out", str(cut)], stderr=subprocess.DEVNULL)
    chunks = cut / "fig3" / "chunks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(chunks.glob("*ccpa*.csv"))) < 2:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    done_before = {p.name: p.read_bytes() for p in chunks.glob("*.csv")}
    assert done_before and not (cut / "fig3" / "results.csv").exists()

    assert subprocess.run([*cmd, "--out", str(cut)], capture_output=True).returncode == 0
    assert main([*args, "--out", str(tmp_path / "whole")], stdout=io.StringIO()) == 0
    for name, data in done_before.items():  # finished chunks were kept, not recomputed
        assert (chunks / name).read_bytes() == data
    from angd_np.experiments.store import read_csv

    def rows(folder):
        table = read_csv(folder / "fig3" / "results.csv")
        return [tuple(v for k, v in r.items() if "time" not in k) for r in table]

    assert not list(chunks.glob(".*.tmp"))  # a killed writer's temporary file is cleared
    resumed = rows(cut)
    assert resumed == rows(tmp_path / "whole")
    assert len({r[:3] for r in resumed}) == len(resumed)  # no duplicated (x, method, trial)


@pytest.mark.parametrize("argv, flag", [
    (["solve", "--p-max-dbm", "1e6", "--methods", "zf"], "--p-max-dbm"),
    (["solve", "--p-max-dbm=-1e6", "--methods", "zf"], "--p-max-dbm"),
    (["solve", "--omega", "1e300", "--methods", "zf,pgd", "--iters", "2"], "--omega"),
    (["bank", "--omega", "1e300", "--instances", "2", "--methods", "zf", "--out", "b.npz"],
     "--omega"),
    (["bank", "--noise-dbm=-5000", "--instances", "2", "--methods", "zf", "--out", "b.npz"],
     "--noise-dbm"),
])
def test_out_of_range_numbers_are_refused_in_one_line_before_solving(argv, flag, capsys,
                                                                      tmp_path):
    argv = [str(tmp_path / a) if a == "b.npz" else a for a in argv]
    code, out, err = _run(argv, capsys)
    assert code == 2 and out == ""  # nothing solved, no bank progress printed
    assert len(err.splitlines()) == 1 and err.startswith(f"angd-np {argv[0]}: error: {flag}")
    assert "Warning" not in err and "float64" in err
    assert not (tmp_path / "b.npz").exists()


def test_a_numerical_warning_inside_a_command_becomes_its_one_line(capsys):
    import numpy as np

    from angd_np import solvers
    from angd_np.solvers import Result, SolverSpec

    def overflowing(problem, *, rng=None):
        W = np.ones(problem.H.shape, dtype=complex) * np.sqrt(problem.p_max / 32)
        np.float64(1e308) * 10.0  # what an overflowing solver would meet
        return Result.from_W(problem, W, method="overflowing", time_s=0.0)

    solvers.register(SolverSpec("overflowing", overflowing))
    try:
        code, out, err = _run(["solve", "--methods", "zf,overflowing"], capsys)
    finally:
        solvers.unregister("overflowing")
    assert code == 2 and len(err.splitlines()) == 1
    assert "overflow encountered" in err and "float64's range" in err
    assert out == ""  # no table before the error (zf's row was computed, then held back)
