"""Curves a figure stores per trial besides the scalar metrics, by kind.

A figure spec names a kind (``FigureSpec.curves``); the runner calls its ``compute`` on each
chunk's result and the store merges the curves into ``NAME.csv`` (mean and 95% band per
(x, method, axis value)) with the axis from ``axis_values``:

- ``pattern``: the beampattern a^H W W^H a on a 1-degree grid over ±90° (fig2), watts;
- ``history``: the CSBF after each iteration of an iterative solver (convergence), with the
  NaN padding after an early stop filled by the last value (the iterate stays where it
  stopped).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from ..objective import beampattern
from ..system import ula_steering
from ..units import deg_to_rad

__all__ = ["CurveKind", "CURVES", "PATTERN_GRID_DEG"]

#: Angles of the fig2 beampattern, degrees (1-degree steps over +-90).
PATTERN_GRID_DEG = np.linspace(-90.0, 90.0, 181)


@dataclasses.dataclass(frozen=True)
class CurveKind:
    """One kind of per-trial curve.

    Attributes
    ----------
    name : str
        File stem of the merged curves (``pattern.csv``) and the value of ``FigureSpec.curves``.
    axis : str
        Name of the axis column in the CSV.
    compute : callable
        ``compute(result, scenario, solver_spec) -> ndarray (n, L) or None``.
    axis_values : callable
        ``axis_values(longest) -> ndarray (L,)`` given the longest stored curve.
    """

    name: str
    axis: str
    compute: Callable
    axis_values: Callable


def _pattern(result, scenario, solver_spec):
    grid = ula_steering(deg_to_rad(PATTERN_GRID_DEG), scenario.n_tx)
    return beampattern(result.W, grid)


def fill_forward(history: np.ndarray) -> np.ndarray:
    """Replace the NaN padding after an early stop by the last finite value."""
    h = np.array(history, dtype=np.float64)
    for j in range(1, h.shape[-1]):
        gap = np.isnan(h[..., j])
        h[..., j][gap] = h[..., j - 1][gap]
    return h


def _history(result, scenario, solver_spec):
    if not solver_spec.iterative or result.history is None:
        return None
    return fill_forward(result.history)


CURVES = {kind.name: kind for kind in (
    CurveKind("pattern", "angle_deg", _pattern, lambda longest: PATTERN_GRID_DEG),
    CurveKind("history", "iteration", _history, lambda longest: np.arange(1, longest + 1)),
)}
