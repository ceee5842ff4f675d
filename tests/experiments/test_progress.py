"""The progress bar: quiet unless stderr is a terminal; weights, not chunk counts, drive it."""

import io

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.progress import Progress, _clock


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_quiet_when_the_stream_is_not_a_terminal():
    stream = io.StringIO()
    bar = Progress(10.0, 2, "fig3", stream=stream)
    bar.update(5.0)
    bar.update(5.0)
    bar.close()
    assert stream.getvalue() == ""


def test_on_a_terminal_it_draws_percent_chunks_and_finishes_with_done():
    stream = _Terminal()
    bar = Progress(4.0, 2, "fig3", stream=stream)
    assert "ETA --:--" in stream.getvalue() and "  0%" in stream.getvalue()
    bar.update(3.0)  # 3 of 4 units of work in one of two chunks: 75%, not 50%
    assert " 75% 1/2 chunks" in bar.line() and "ETA " in bar.line()
    bar.update(1.0)
    bar.close()
    out = stream.getvalue()
    assert out.endswith("\n") and "100% 2/2 chunks" in out and "done" in out


def test_clock_format():
    assert _clock(59.6) == "1:00" and _clock(3725) == "1:02:05"


def test_runner_progress_goes_to_stderr_only_when_forced(tmp_path, capsys):
    config = make_config("fig3", trials=2, methods="zf", chunk_size=1)
    run_figures([config], tmp_path / "quiet", plot=False)  # stderr is captured: not a tty
    assert capsys.readouterr().err == ""
    run_figures([config], tmp_path / "forced", plot=False, progress=True)
    err = capsys.readouterr().err
    assert "fig3 [" in err and "100%" in err
