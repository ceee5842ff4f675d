"""Solving a sequence of frames: the precoder follows the channels, frame by frame.

:func:`track` solves frame 0 of every sequence, then frame 1 starting from what frame 0
left, and so on. What carries over (``carry``) is the point of learning while solving:

- ``"all"`` (iterative solvers): the last W *and* the solver's state (ANGD's networks and
  their Adam moments; Adam's moments), through ``Result.state``: the update network learned
  on frame t keeps serving frame t + 1. With ρ = 0 (independent frames) this is online
  meta-learning of the update rule across instances.
- ``"w"``: the last W only, with a fresh network / fresh moments each frame.
- ``"none"``: every frame cold, as the paper solves its snapshots.

Non-iterative solvers: ZF and MMSE are closed form per frame; CCPA adds the previous frame's
W to its SCA starts and the reference adds the previous frame's optimum to its starts (their
specs' ``warm``), unless ``carry="none"``, so every frame has a best-known value.

On an unchanged channel (ρ = 1, no drift) ``carry="all"`` is exactly one longer run: two
frames of 250 iterations give the history and final state of 500 iterations, bit for bit.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ._validate import as_generators, check_int
from .sequence import ProblemSequence
from .solvers import method_call, optimality_gap, solver_spec
from .solvers.result import check_reference

__all__ = ["track", "TrackResult", "CARRY"]

CARRY = ("all", "w", "none")


@dataclasses.dataclass
class TrackResult:
    """Per-frame outcome of :func:`track` on n sequences of F frames.

    Attributes
    ----------
    W : ndarray of complex128, shape (n, F, M, K)
        The precoder returned for each frame (the best iterate of that frame's solve).
    csbf, sum_rate, sensing : ndarray of float64, shape (n, F)
        f(W), the sum rate (bit/s/Hz) and the sensing gain (W) per frame.
    nit : ndarray of int64, shape (n, F)
        Iterations per frame.
    time_s : ndarray of float64, shape (n, F)
        Wall-clock seconds per frame and sequence (a batch shares its time evenly).
    success : ndarray of bool, shape (n, F)
    method : str
    options : dict
        The options every frame was solved with (besides ``iters``, ``state`` and starts);
        frames that continue a carried state or W also take the solver spec's
        ``carry_options`` not given here (ANGD: no pilot, ``check_starts``).
    carry : str
    state : dict or None
        The last frame's ``Result.state`` (iterative solvers), to track further.
    """

    W: np.ndarray
    csbf: np.ndarray
    sum_rate: np.ndarray
    sensing: np.ndarray
    nit: np.ndarray
    time_s: np.ndarray
    success: np.ndarray
    method: str
    options: dict
    carry: str
    state: dict | None = None

    def gap(self, reference) -> np.ndarray:
        """Per-frame optimality gap (n, F) against a TrackResult or an array of f.

        ``reference`` must hold one f per sequence and frame, shape (n, F) exactly (no
        broadcasting: a reference of another run's shape is refused by name).
        """
        return optimality_gap(self.csbf, check_reference(reference, self.csbf.shape))


def track(sequence, method: str, *, iters_per_frame=None, carry="all", rng=None,
          **options) -> TrackResult:
    """Solve every frame of every sequence, each frame starting from the previous one.

    Parameters
    ----------
    sequence : ProblemSequence
        n sequences of F frames (:meth:`angd_np.Scenario.sequence`).
    method : str
        A registered method name (``"angd-fcn"``, ``"angd-fcn-tuned"``, ``"pgd"``, ``"zf"``...).
    iters_per_frame : int, optional
        Iterations per frame of an iterative solver (required for those; ignored by the
        others).
    carry : {"all", "w", "none"}
        What frame t + 1 takes from frame t (module docstring).
    rng : Generator, int, None or a sequence of n of them
        Sequence i's randomness (initial W, networks, randomisation) comes from its own
        generator; frame t uses the t-th child of it, so a sequence tracked alone gives the
        same numbers as in a batch.
    **options
        The method's options (``variant=...`` too); they override the spec's
        ``track_options``.
    """
    if not isinstance(sequence, ProblemSequence):
        raise TypeError(f"sequence must be an angd_np.sequence.ProblemSequence (from "
                        f"Scenario.sequence), got {type(sequence).__name__}")
    if carry not in CARRY:
        raise ValueError(f"carry must be one of {list(CARRY)}, got {carry!r}")
    name, variant = method_call(method)
    spec = solver_spec(name)
    opts = {**spec.track_options, **variant, **options}
    owned = ("state", "iters") if spec.iterative else ("state",)
    if any(k in opts for k in owned):
        raise TypeError(f"track() sets {' and '.join(reversed(owned))} itself (iters from "
                        f"iters_per_frame); got {sorted(k for k in owned if k in opts)}")
    if spec.iterative:
        if iters_per_frame is None:
            raise TypeError(f"{method} is iterative: track() needs iters_per_frame (an int "
                            ">= 1)")
        iters_per_frame = check_int(iters_per_frame, "iters_per_frame", minimum=1)
    n, F = sequence.n_sequences, sequence.n_frames
    frame_rngs = [g.spawn(F) for g in as_generators(rng, n)]
    parts, previous = [], None
    for t in range(F):
        problem = sequence.frame(t)
        kwargs = dict(opts)
        if spec.iterative:
            kwargs["iters"] = iters_per_frame
            if previous is not None and carry != "none":
                # The solver's own state check re-evaluates the carried best on this frame
                # (angd_np.solvers.state): the same path as solve(..., state=...).
                if carry == "all":
                    kwargs["state"] = previous.state
                else:
                    kwargs["init"] = previous.state["W"]
                # The spec's options for a carried frame (e.g. no pilot to replace the carried
                # start), unless the caller gave that option explicitly.
                kwargs.update({k: v for k, v in spec.carry_options.items() if k not in options})
        elif previous is not None and carry != "none" and spec.warm is not None:
            kwargs = spec.warm(previous.W, kwargs)
        previous = spec.solve(problem, rng=[r[t] for r in frame_rngs], **kwargs)
        parts.append(previous)

    def stack(field):
        return np.stack([getattr(p, field) for p in parts], axis=1)

    return TrackResult(
        W=stack("W"), csbf=stack("csbf"), sum_rate=stack("sum_rate"),
        sensing=stack("sensing"), nit=stack("nit"), time_s=stack("time_s"),
        success=stack("success"), method=method, options=opts, carry=carry,
        state=previous.state,
    )
