"""Unit conversions: exact anchors and round trips."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from angd_np.units import db_to_lin, dbm_to_watt, lin_to_db, watt_to_dbm


def test_known_anchors():
    assert dbm_to_watt(30.0) == pytest.approx(1.0, rel=1e-15)
    assert dbm_to_watt(-80.0) == pytest.approx(1e-11, rel=1e-12)
    assert db_to_lin(-30.0) == pytest.approx(1e-3, rel=1e-15)
    assert lin_to_db(0.0) == -np.inf


@given(st.lists(st.floats(-200, 200), min_size=1, max_size=20))
def test_db_and_dbm_round_trips_are_exact_to_rounding(values):
    x = np.array(values)
    np.testing.assert_allclose(lin_to_db(db_to_lin(x)), x, atol=1e-12)
    np.testing.assert_allclose(watt_to_dbm(dbm_to_watt(x)), x, atol=1e-12)
    assert db_to_lin(x).dtype == np.float64


def test_negative_power_ratio_is_rejected():
    with pytest.raises(ValueError, match="x must be >= 0"):
        lin_to_db([-1.0])
