"""Unit conversions at the edges of the package.

Inside the package every power is in linear watts and every angle in radians. Decibels,
dBm and degrees appear only in names ending ``_db``, ``_dbm`` and ``_deg``, and are converted
here. All functions are vectorised (any array shape) and return float64.

Power ratios use 10·log10 (a power, not an amplitude): 30 dBm = 1 W, -80 dBm = 1e-11 W.
"""

from __future__ import annotations

import numpy as np

__all__ = ["db_to_lin", "lin_to_db", "dbm_to_watt", "watt_to_dbm", "deg_to_rad", "rad_to_deg"]


def db_to_lin(x_db):
    """Power ratio in dB -> linear ratio, 10**(x_db / 10)."""
    return np.power(10.0, np.asarray(x_db, dtype=np.float64) / 10.0)


def lin_to_db(x):
    """Linear power ratio -> dB, 10·log10(x). Zero maps to -inf, negative input is an error."""
    x = np.asarray(x, dtype=np.float64)
    if np.any(x < 0):
        raise ValueError(f"lin_to_db: x must be >= 0 (a power ratio), got min {x.min()!r}")
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(x)


def dbm_to_watt(p_dbm):
    """Power in dBm -> watts: 30 dBm = 1 W."""
    return db_to_lin(np.asarray(p_dbm, dtype=np.float64) - 30.0)


def watt_to_dbm(p_w):
    """Power in watts -> dBm."""
    return lin_to_db(p_w) + 30.0


def deg_to_rad(angle_deg):
    """Degrees -> radians (float64)."""
    return np.deg2rad(np.asarray(angle_deg, dtype=np.float64))


def rad_to_deg(angle_rad):
    """Radians -> degrees (float64)."""
    return np.rad2deg(np.asarray(angle_rad, dtype=np.float64))
