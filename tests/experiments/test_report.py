"""REPORT.md arithmetic and wording: the paired gain, its interval, the verdicts, the gaps."""

import math

import numpy as np
import pytest

from angd_np.experiments import make_config, run_figures
from angd_np.experiments.report import _gain_verdict, paired_gain, write_report


def test_paired_gain_is_the_ratio_of_means_minus_one(rng):
    x = rng.uniform(1, 2, 50)
    y = x * rng.uniform(0.9, 1.2, 50)
    gain, lo, hi = paired_gain(y, x)
    assert gain == pytest.approx(y.mean() / x.mean() - 1, rel=1e-12)
    assert lo < gain < hi


def test_paired_gain_interval_covers_the_true_ratio_about_95_percent_of_the_time():
    # Paired samples with a known ratio of means: E[y] / E[x] = 1.1 exactly.
    rng = np.random.default_rng(20261128)
    hits, reps = 0, 600
    for _ in range(reps):
        x = rng.gamma(4.0, 1.0, 40)
        y = 1.1 * x + rng.normal(0.0, 0.8, 40)
        _, lo, hi = paired_gain(y, x)
        hits += lo <= 0.1 <= hi
    assert 0.92 <= hits / reps <= 0.98


def test_paired_gain_of_one_pair_has_no_interval():
    gain, lo, hi = paired_gain([3.0], [2.0])
    assert gain == pytest.approx(0.5) and math.isnan(lo) and math.isnan(hi)


@pytest.mark.parametrize(("lo", "hi", "word"), [
    (0.05, 0.07, "**Reproduced**"),       # the paper's +5.96% inside
    (0.01, 0.03, "**Direction only**"),   # better than CCPA, by less
    (-0.8, -0.7, "**Not reproduced**: CCPA beats"),
    (-0.01, 0.02, "contains zero"),
])
def test_each_verdict_follows_from_the_interval(lo, hi, word):
    assert word in _gain_verdict("angd-fcn", 5.96, (lo + hi) / 2, lo, hi)


def test_gap_column_names_how_many_trials_it_covers(tmp_path):
    pytest.importorskip("scipy")
    config = make_config("fig3", trials=4, reference_trials=2, methods="zf,mmse,reference",
                         chunk_size=2)
    run_figures([config], tmp_path, plot=False, progress=False)
    text = write_report(tmp_path).read_text()
    assert "gap to best known (2 trials)" in text
    zf_row = next(line for line in text.splitlines() if line.startswith("| ZF |"))
    gap = zf_row.split("|")[5].split("±")[0]
    assert float(gap) > 0  # a gap over the 2 trials, as a number, not "n/a"


def test_gaps_print_with_three_significant_digits_and_the_sum_rate_beside_ccpa(tmp_path):
    """A gap of 1.5e-6 must not print as "0.00%"; the sum rate against CCPA's is beside it."""
    from angd_np.experiments.report import _gap

    assert _gap(1.53e-6) == "1.53e-06" and _gap(0.0123456) == "0.0123"
    assert _gap(float("nan")) == "n/a"
    pytest.importorskip("cvxpy")
    config = make_config("fig3", trials=3, methods="zf,ccpa,reference", chunk_size=3)
    run_figures([config], tmp_path, plot=False, progress=False)
    text = write_report(tmp_path).read_text()
    header = next(line for line in text.splitlines() if "sum rate vs CCPA" in line)
    assert "gap to best known" in header
    zf_row = next(line for line in text.splitlines() if line.startswith("| ZF |"))
    cells = [c.strip() for c in zf_row.split("|")]
    assert float(cells[5].split("±")[0]) >= 0
    assert cells[6].endswith("%]") and cells[6].startswith(("+", "-"))  # ZF vs CCPA, with CI
    ccpa_row = next(line for line in text.splitlines() if line.startswith("| CCPA |"))
    assert ccpa_row.split("|")[6].strip() == "—"
