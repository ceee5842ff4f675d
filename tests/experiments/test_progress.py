"""Progress: a bar on a terminal, plain lines elsewhere; weights, not chunk counts, drive it."""

import io

import pytest

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.progress import Progress, _clock


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_off_a_terminal_it_prints_a_plain_line_every_tenth_of_the_work():
    stream = io.StringIO()
    bar = Progress(100.0, 40, "fig3", stream=stream)
    for _ in range(40):
        bar.update(2.5)
    bar.close()
    lines = stream.getvalue().splitlines()
    assert "\r" not in stream.getvalue() and "[" not in stream.getvalue()
    percents = [int(line.split("%")[0].split()[-1]) for line in lines]
    assert percents == list(range(10, 101, 10))
    assert lines[-1].endswith("done")


def test_off_a_terminal_a_slow_run_prints_after_thirty_seconds(monkeypatch):
    stream = io.StringIO()
    bar = Progress(1000.0, 1000, "fig3", stream=stream)
    bar.update(1.0)  # 0.1%: no line yet
    assert stream.getvalue() == ""
    monkeypatch.setattr(bar, "_last_draw", bar._last_draw - Progress.LINE_SECONDS)
    bar.update(1.0)  # still 0.2%, but 30 s since the last line
    assert "  0% 2/1000 chunks" in stream.getvalue()


def test_quiet_when_disabled():
    stream = _Terminal()
    bar = Progress(10.0, 2, "fig3", stream=stream, enabled=False)
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


def test_runner_progress_plain_off_a_terminal_bar_when_forced_quiet_when_off(tmp_path, capsys):
    config = make_config("fig3", trials=2, methods="zf", chunk_size=1)
    run_figures([config], tmp_path / "plain", plot=False)  # stderr is captured: not a tty
    err = capsys.readouterr().err
    assert "fig3 100%" in err and "[" not in err
    run_figures([config], tmp_path / "forced", plot=False, progress=True)
    err = capsys.readouterr().err
    assert "fig3 [" in err and "100%" in err
    run_figures([config], tmp_path / "quiet", plot=False, progress=False)
    assert capsys.readouterr().err == ""


class _Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_each_solvers_measured_rate_corrects_its_predicted_cost(monkeypatch):
    """Specs predict 1 unit per chunk for both solvers; "slow" takes 10 s a chunk, "fast" 1 s.
    Once one chunk of each has ended, percentage and ETA follow the measured times."""
    import angd_np.experiments.progress as progress

    clock = _Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    bar = Progress(8.0, 8, "fig", stream=io.StringIO(), enabled=False,
                   kinds={"slow": 4.0, "fast": 4.0}, workers=1)
    for kind, seconds in [("slow", 10.0), ("fast", 1.0), ("slow", 10.0)]:
        clock.now += seconds
        bar.update(1.0, seconds, kind, worker=1)
    frac, left = bar.estimate()
    # 21 s done; left: 2 slow x 10 s + 3 fast x 1 s = 23 s, on one worker.
    assert left == pytest.approx(23.0) and frac == pytest.approx(21 / 44)
    # A chunk in flight for 4 s counts as done time, and no longer as time left.
    clock.now += 4.0
    frac, left = bar.estimate()
    assert left == pytest.approx(19.0) and frac == pytest.approx(25 / 44)


def test_two_workers_share_the_time_left(monkeypatch):
    import angd_np.experiments.progress as progress

    clock = _Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    bar = Progress(10.0, 10, "fig", stream=io.StringIO(), enabled=False, workers=2)
    clock.now += 5.0
    bar.update(1.0, 5.0, None, worker="a")  # both started at 0; b still running (5 s so far)
    frac, left = bar.estimate()
    # done: 5 + 5 in flight; left: 9 chunks x 5 s - 5 s in flight = 40 s over 2 workers.
    assert frac == pytest.approx(10 / 50) and left == pytest.approx(20.0)


def test_a_fixed_cost_per_chunk_is_fitted_so_cheap_chunks_at_the_end_are_not_free(monkeypatch):
    """Each chunk costs 2 s plus 1 s per unit of weight: after chunks of weights 8 and 4, the
    four chunks of weight 1 left take 4 x 3 s, not the 4 x 1.5 s a proportional rate says."""
    import angd_np.experiments.progress as progress

    clock = _Clock()
    monkeypatch.setattr(progress.time, "monotonic", clock)
    bar = Progress(16.0, 6, "fig", stream=io.StringIO(), enabled=False,
                   kinds={"s": (16.0, 6)}, workers=1)
    for weight in (8.0, 4.0):
        clock.now += 2.0 + weight
        bar.update(weight, 2.0 + weight, "s", worker=1)
    assert bar.estimate()[1] == pytest.approx(12.0)


def test_without_measured_seconds_the_time_left_is_in_proportion_to_the_weights():
    """update(weight) alone: the weights stand in for the work, and the time left is the
    elapsed time scaled by the weight left over the weight done (not weights read as s)."""
    import io

    from angd_np.experiments.progress import Progress

    bar = Progress(300, 10, stream=io.StringIO(), enabled=False)
    bar.start -= 6.0  # 6 s ago
    for _ in range(5):
        bar.update(20.0)  # 100 of 300 done
    frac, left = bar.estimate()
    assert abs(frac - 1 / 3) < 1e-12
    assert 11.9 < left < 12.5  # 6 s for a third: 12 s for the rest
