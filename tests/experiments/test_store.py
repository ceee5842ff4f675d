import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np.experiments.store import Store, ci_halfwidth, read_csv, t_quantile_975


@pytest.mark.parametrize("dof", [1, 2, 3, 4, 5, 7, 10, 24, 49, 99, 999])
def test_t_quantile_matches_scipy(dof):
    stats = pytest.importorskip("scipy.stats")
    assert t_quantile_975(dof) == pytest.approx(stats.t.ppf(0.975, dof), rel=2e-4)


def test_ci_halfwidth_is_t_times_standard_error(rng):
    x = rng.normal(size=30)
    expected = t_quantile_975(29) * x.std(ddof=1) / np.sqrt(30)
    assert ci_halfwidth(x) == pytest.approx(expected)
    assert np.isnan(ci_halfwidth(x[:1]))


def _rows(values, trials):
    n = len(trials)
    return {"trial": np.asarray(trials), "sum_rate": values, "sensing": values * 2,
            "csbf": values * 3, "nit": np.arange(n), "success": np.ones(n, bool),
            "time_s": np.full(n, 0.5)}


@given(st.lists(st.floats(-1e12, 1e12, allow_nan=False, allow_subnormal=True), min_size=1,
                max_size=8))
def test_chunk_round_trips_float64_exactly(tmp_path_factory, values):
    store = Store(tmp_path_factory.mktemp("s"))
    store.prepare({"a": 1})
    values = np.array(values)
    curves = np.outer(values, [1.0, 1 / 3])
    store.write_chunk("k", _rows(values, range(len(values))), curves)
    rows, back = store.read_chunk("k")
    assert np.array_equal(rows["sum_rate"], values)
    assert np.array_equal(rows["csbf"], values * 3)
    assert np.array_equal(back, curves)
    assert store.done() == {"k"}


def test_merge_sorts_trials_and_fills_gap_from_reference(tmp_path):
    store = Store(tmp_path / "f")
    store.prepare({"a": 1})
    store.write_chunk("b", _rows(np.array([3.0, 4.0]), [2, 3]))
    store.write_chunk("a", _rows(np.array([1.0, 2.0]), [0, 1]))
    store.write_chunk("r", _rows(np.array([2.0, 2.0, 8.0, 8.0]), [0, 1, 2, 3]))
    store.merge([(4, "zf", ["b", "a"]), (4, "reference", ["r"])])
    rows = read_csv(tmp_path / "f" / "results.csv")
    assert [int(r["trial"]) for r in rows] == [0, 1, 2, 3, 0, 1, 2, 3]
    # csbf = 3 * value: gaps (6 - 3)/6, (6 - 6)/6, (24 - 9)/24, (24 - 12)/24
    assert [float(r["gap"]) for r in rows[:4]] == pytest.approx([0.5, 0.0, 0.625, 0.5])
    summary = read_csv(tmp_path / "f" / "summary.csv")
    assert summary[0]["method"] == "zf" and summary[0]["n"] == "4"
    assert float(summary[0]["sum_rate_mean"]) == pytest.approx(2.5)


def test_prepare_refuses_a_changed_identity_unless_fresh(tmp_path):
    store = Store(tmp_path / "f")
    store.prepare({"seed": 0})
    store.write_meta({"identity": {"seed": 0}})
    store.write_chunk("k", _rows(np.array([1.0]), [0]))
    with pytest.raises(ValueError, match="seed"):
        store.prepare({"seed": 1})
    store.prepare({"seed": 1}, fresh=True)
    assert store.done() == set()
