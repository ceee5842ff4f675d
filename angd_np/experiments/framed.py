"""Figures over frame sequences (``tracking``, ``budget``): each trial is a sequence tracked
frame by frame (:func:`angd_np.track`) instead of one instance solved once.

A figure spec with ``frames`` set (e.g. ``{"n_frames": 40, "rho": 0.99,
"target_drift_deg": 0.2, "iters_per_frame": 50, "burn_in": 20}``) runs this way; its
``x_field`` may be one of those keys (``rho`` for ``tracking``, ``iters_per_frame`` for
``budget``). Method names may end in ``:w`` or ``:none`` for what a frame carries over
(``angd-fcn-tuned:none`` is the paper's cold start per frame; plain names carry everything).

What is stored, per (x, method, trial): in results.csv the means over the frames after the
burn-in (sum rate, sensing, CSBF, time per frame; ``nit`` summed over frames) and as ``gap``
the median per-frame gap after the burn-in; in ``frames.csv`` per (x, method, frame) the
median and 90th percentile over trials of the per-frame gap, each frame's gap measured
against the best value any method (the warm-started reference included) reached on that
frame of that trial.
"""

from __future__ import annotations

import numpy as np

from ..solvers import method_call, optimality_gap
from ..tracking import CARRY
from .store import _csv_bytes, _fmt, atomic_write

__all__ = ["split_carry", "frame_call", "track_chunk", "adjust_gaps", "write_frames",
           "FRAME_KEYS"]

#: What a ``frames`` dict may hold, and what an x-value of such a figure may set.
FRAME_KEYS = ("n_frames", "rho", "target_drift_deg", "iters_per_frame", "burn_in")


def split_carry(name: str) -> tuple[str, str]:
    """``"angd-fcn-tuned:w"`` -> (``"angd-fcn-tuned"``, ``"w"``); no suffix: carry "all"."""
    base, sep, carry = name.partition(":")
    carry = carry if sep else "all"
    if carry not in CARRY:
        raise ValueError(f"method must be NAME or NAME:CARRY with CARRY one of "
                         f"{list(CARRY)}, got {name!r}")
    return base, carry


def frame_call(name: str) -> tuple[str, dict]:
    """The solver and options of a method name in a frames figure (carry included)."""
    base, carry = split_carry(name)
    solver, options = method_call(base)
    return solver, {**options, "carry": carry}


def track_chunk(task, scenario, trials, solver_spec):
    """Track the sequences of ``trials``; returns (rows, per-frame CSBF (n, F))."""
    from .. import track
    from ..system import trial_generator

    params = task["frames"]
    seed = task["seed"]
    sequence = scenario.sequence(
        len(trials), params["n_frames"], rho=params["rho"],
        target_drift_deg=params["target_drift_deg"],
        rng=[trial_generator(seed, int(t), 0) for t in trials])
    options = dict(task["options"])
    if task.get("one_thread") and solver_spec.threads:
        options["threads"] = 1
    res = track(sequence, solver_spec.name, iters_per_frame=params["iters_per_frame"],
                rng=[trial_generator(seed, int(t), 1) for t in trials], **options)
    after = slice(params["burn_in"], None)
    rows = {"trial": trials, "sum_rate": res.sum_rate[:, after].mean(axis=1),
            "sensing": res.sensing[:, after].mean(axis=1),
            "csbf": res.csbf[:, after].mean(axis=1), "nit": res.nit.sum(axis=1),
            "success": res.success.all(axis=1), "time_s": res.time_s.mean(axis=1)}
    return rows, res.csbf


def _frame_gaps(data):
    """(x, method) -> per-frame gaps (n, F) against the best of every method per frame."""
    best = {}
    for (x, _method), cols in data.items():
        table = best.setdefault(x, {})
        for t, f in zip(cols["trial"].tolist(), cols["curves"], strict=True):
            table[t] = f if t not in table else np.maximum(table[t], f)
    return {(x, m): optimality_gap(cols["curves"],
                                   np.stack([best[x][t] for t in cols["trial"].tolist()]))
            for (x, m), cols in data.items()}


def adjust_gaps(data, burn_in: int) -> None:
    """Set each trial's ``gap`` to its median per-frame gap after the burn-in."""
    for key, gaps in _frame_gaps(data).items():
        data[key]["gap"] = np.median(gaps[:, burn_in:], axis=1)
        data[key]["frame_gaps"] = gaps


def write_frames(folder, data) -> None:
    """``frames.csv``: x, method, frame, median and p90 of the per-frame gap, mean CSBF."""
    body = []
    for (x, method), cols in data.items():
        gaps = cols["frame_gaps"]
        med, p90 = np.median(gaps, axis=0), np.percentile(gaps, 90, axis=0)
        mean_f = cols["curves"].mean(axis=0)
        for j in range(gaps.shape[1]):
            body.append([_fmt(x), method, str(j), _fmt(med[j]), _fmt(p90[j]), _fmt(mean_f[j])])
    atomic_write(folder / "frames.csv", _csv_bytes(
        ("x", "method", "frame", "gap_median", "gap_p90", "csbf_mean"), body))
