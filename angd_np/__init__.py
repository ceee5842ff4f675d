"""angd_np: adaptive neural gradient descent (ANGD) for ISAC precoding, in pure NumPy.

A base station with M antennas serves K users and illuminates N radar targets with one
precoder W (shape (M, K)), trading the sum rate against the beampattern gain through the
capacity-sensing balance function (CSBF) of Zargari, Galappaththige and Tellambura.

Quick start::

    import angd_np as an
    problem = an.Scenario.preset("balanced").draw(8, rng=0)   # 8 instances
    result = an.solve(problem, "zf")
    result.sum_rate, result.sensing, result.csbf

Only NumPy is imported here; scipy, cvxpy, matplotlib and dask load inside the functions
that need them.
"""

from . import nn
from .objective import (
    beampattern,
    csbf,
    csbf_and_grad,
    csbf_grad,
    power,
    project_power,
    project_power_backward,
    rates,
    sensing_gain,
    sinr,
    sum_rate,
)
from .sequence import ProblemSequence
from .solvers import SOLVERS, Result, solve
from .system import PRESETS, Problem, Scenario, path_loss, trial_generator, ula_steering
from .tracking import TrackResult, track
from .units import db_to_lin, dbm_to_watt, deg_to_rad, lin_to_db, rad_to_deg, watt_to_dbm

__version__ = "0.2.0"

__all__ = [
    "__version__",
    "nn",
    "Scenario",
    "Problem",
    "PRESETS",
    "ula_steering",
    "path_loss",
    "trial_generator",
    "sinr",
    "rates",
    "sum_rate",
    "beampattern",
    "sensing_gain",
    "csbf",
    "csbf_grad",
    "csbf_and_grad",
    "power",
    "project_power",
    "project_power_backward",
    "solve",
    "SOLVERS",
    "Result",
    "ProblemSequence",
    "track",
    "TrackResult",
    "db_to_lin",
    "lin_to_db",
    "dbm_to_watt",
    "watt_to_dbm",
    "deg_to_rad",
    "rad_to_deg",
]
