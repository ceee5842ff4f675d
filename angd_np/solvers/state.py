"""The continuable state of an iterative solver: what it records, and how it is checked.

Every iterative solver returns ``Result.state`` (layout in :mod:`angd_np.solvers.iterative`)
and accepts it back as ``state=``. A state also records, per instance, a fingerprint of the
problem it was written on (:func:`fingerprint`: H, A, noise_var, p_max, omega). When it is
passed back, :func:`check_state` compares the fingerprints instance by instance:

- same instance: the run goes on exactly (250 + 250 iterations are the 500-iteration run,
  bit for bit), after checking that the state is consistent (its best f is the CSBF of its
  best W there, its W are feasible there, its counters make sense);
- another instance (another problem of the same size, the next frame of a sequence): what
  the solver learned is kept (last iterate, networks, moments), but its best iterate is only a
  candidate: W and the best W are projected onto this problem's power ball, the best f is
  re-evaluated *on this problem*, and the early-stopping counters and failure flag start
  afresh. The best iterate returned is then the best on this problem, never a value carried
  from another one. :func:`angd_np.track` carries states from frame to frame this way.

A state written before fingerprints existed (no ``fingerprint`` key) is treated as coming
from another problem. Non-finite or inconsistent fields are refused by name.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..objective import csbf, power, project_power

__all__ = ["fingerprint", "check_state", "common_keys"]

#: Relative tolerance of the consistency checks (best f against f(best W), power against
#: p_max): far above round-off, far below any real difference.
_RTOL = 1e-9


def common_keys(core) -> dict:
    """Keys every iterative solver's state holds: name -> (shape of one instance, dtype)."""
    return {"W": (core, np.complex128), "best_W": (core, np.complex128),
            "best_f": ((), np.float64), "ref_f": ((), np.float64), "since": ((), np.int64),
            "active": ((), np.bool_), "failed": ((), np.bool_)}


def fingerprint(problem) -> np.ndarray:
    """Per-instance fingerprint of a flattened problem, shape (n,), uint64.

    The first 8 bytes of BLAKE2b over instance i's H, A (its own, or the shared one),
    noise_var, p_max and omega as float64/complex128 bytes: equal for the same instance,
    different (but for a 2^-64 chance) for any other.
    """
    n = problem.H.shape[0]
    scalars = np.array([problem.noise_var, problem.p_max, problem.omega], dtype="<f8")
    tail = scalars.tobytes()
    shared = None if problem.A.ndim == 3 else np.ascontiguousarray(problem.A, "<c16").tobytes()
    out = np.empty(n, dtype=np.uint64)
    for i in range(n):
        h = hashlib.blake2b(digest_size=8)
        h.update(np.ascontiguousarray(problem.H[i], "<c16").tobytes())
        h.update(shared if shared is not None
                 else np.ascontiguousarray(problem.A[i], "<c16").tobytes())
        h.update(tail)
        out[i] = np.frombuffer(h.digest(), dtype="<u8")[0]
    return out


def _read(state, method, n, core, shapes):
    """The state's arrays, shape- and dtype-checked, flattened to n instances (copies)."""
    if not hasattr(state, "keys") or not hasattr(state, "__getitem__"):
        raise TypeError(f"state must be a mapping of arrays (a Result.state or np.load of one), "
                        f"got {type(state).__name__}")
    if "method" not in state.keys():
        raise ValueError(f"state must hold a 'method' key (a Result.state of {method}), got "
                         f"keys {sorted(map(str, state.keys()))}")
    written_by = np.asarray(state["method"])
    if written_by.dtype.kind != "U" or written_by.ndim != 0 or str(written_by) != method:
        raise ValueError(f"state was written by {str(written_by)[:40]!r}, not {method!r}: a "
                         "solver can only continue its own state")
    spec = {**common_keys(tuple(core)), **(shapes or {})}
    missing = [k for k in spec if k not in state.keys()]
    if missing:
        raise ValueError(f"state is missing keys {missing}; {method} needs {list(spec)}")
    if "fingerprint" in state.keys():
        spec["fingerprint"] = ((), np.uint64)
    out = {"method": method}
    for key, (tail, dtype) in spec.items():
        try:
            a = np.asarray(state[key])
        except Exception:
            raise TypeError(f"state[{key!r}] must be an array, got "
                            f"{type(state[key]).__name__}") from None
        tail = tuple(tail)
        lead = a.ndim - len(tail)
        if lead < 0 or a.shape[lead:] != tail or int(np.prod(a.shape[:lead])) != n:
            raise ValueError(f"state[{key!r}] must hold {n} instances of shape {tail} (this "
                             f"problem's size and batch, these options), got shape {a.shape}")
        if a.dtype != np.dtype(dtype):
            raise ValueError(f"state[{key!r}] must have dtype {np.dtype(dtype)}, got {a.dtype}")
        if key in ("W", "best_W") and not np.all(np.isfinite(a)):
            raise ValueError(f"state[{key!r}] must be finite, got NaN or inf entries")
        out[key] = np.array(a.reshape((n,) + tail))
    return out


def _check_counters(s) -> None:
    """Refuse fields that contradict one another (whatever problem comes next)."""
    alive = ~s["failed"]
    # A failed instance may hold non-finite values (that is why it stopped); it runs no more.
    for key, value in s.items():
        if key == "method" or value.dtype.kind not in "fc":
            continue
        bad = alive & ~np.isfinite(value).reshape(len(alive), -1).all(axis=1)
        if bad.any():
            raise ValueError(f"state[{key!r}] must be finite for every instance that did not "
                             f"fail, got NaN or inf at instance {int(np.flatnonzero(bad)[0])}")
    if np.any(s["since"] < 0):
        raise ValueError(f"state['since'] must be iteration counts >= 0, got minimum "
                         f"{int(s['since'].min())}")
    both = s["active"] & s["failed"]
    if both.any():
        raise ValueError("state['active'] and state['failed'] are both True at instance "
                         f"{int(np.flatnonzero(both)[0])}: a failed instance is stopped")
    high = alive & (s["ref_f"] > s["best_f"] + _RTOL * np.abs(s["best_f"]))
    if high.any():
        raise ValueError("state['ref_f'] must not exceed state['best_f'] (it is the best f at "
                         f"an earlier gain), got more at instance {int(np.flatnonzero(high)[0])}")


def _check_same_problem(s, problem, same) -> None:
    """On the instances it was written on, the state's best must be what it says it is."""
    if not same.any():
        return
    idx = np.flatnonzero(same)
    p_max = problem.p_max * (1.0 + _RTOL)
    for key in ("W", "best_W"):
        over = power(s[key][idx]) > p_max
        if over.any():
            raise ValueError(f"state[{key!r}] exceeds this problem's p_max = {problem.p_max:g} "
                             f"W at instance {int(idx[over][0])}: not a state of this solver")
    alive = idx[~s["failed"][idx]]
    if alive.size:
        f = csbf(s["best_W"][alive], _rows(problem, alive))
        off = np.abs(f - s["best_f"][alive]) > _RTOL * np.abs(f) + 1e-300
        if off.any():
            i = int(alive[off][0])
            raise ValueError(f"state['best_f'] = {s['best_f'][i]!r} at instance {i} is not "
                             f"the CSBF of state['best_W'] there ({f[off][0]!r}): an edited "
                             "or mixed-up state")


def _rows(problem, idx):
    """The flattened problem restricted to the instances ``idx``."""
    A = problem.A[idx] if problem.A.ndim == 3 else problem.A
    return problem.with_(H=problem.H[idx], A=A, user_angles_rad=None)


def _rebase(s, problem, other) -> None:
    """Carry the instances ``other`` (written on another problem) over to this one."""
    if not other.any():
        return
    idx = np.flatnonzero(other)
    for key in ("W", "best_W"):  # only what this budget makes infeasible: the rest unchanged
        over = idx[power(s[key][idx]) > problem.p_max * (1.0 + _RTOL)]
        s[key][over] = project_power(s[key][over], problem.p_max)
    with np.errstate(all="ignore"):
        f = csbf(s["best_W"][idx], _rows(problem, idx))
    s["best_f"][idx] = f
    s["ref_f"][idx] = f
    s["since"][idx] = 0
    s["active"][idx] = True
    s["failed"][idx] = False


def check_state(state, method: str, n: int, core: tuple, shapes: dict | None = None, *,
                problem) -> dict:
    """Validate a solver state for this problem; flat arrays out, ready to go on from.

    Parameters
    ----------
    state : mapping of str to array_like
        A ``Result.state``, or what ``np.load`` gives back for one saved with ``np.savez``
        (any leading batch shape holding n instances is accepted).
    method : str
        The solver that is to continue; the state must have been written by it.
    n : int
        Instances of the problem being solved.
    core : (int, int)
        (M, K) of the problem.
    shapes : dict, optional
        The solver's own keys: name -> (shape of one instance, dtype), e.g.
        ``{"adam_m": ((M, K), np.complex128)}``.
    problem : Problem
        The problem being solved, flattened (H of shape (n, M, K)): instances the state was
        not written on have its best re-evaluated here (module docstring).

    Returns
    -------
    dict of ndarray with leading axis n (copies), plus ``"method"``; without
    ``"fingerprint"`` (:func:`~angd_np.solvers.iterative.finish` writes a fresh one).

    Raises
    ------
    TypeError
        ``state`` is not a mapping of arrays.
    ValueError
        Another solver's state, a missing key, an array whose shape or dtype does not fit
        this problem (another size or batch) or this solver's options (another network), a
        non-finite field, or fields that contradict one another or this problem.
    """
    s = _read(state, method, n, core, shapes)
    _check_counters(s)
    same = s.pop("fingerprint", np.zeros(n, dtype=np.uint64)) == fingerprint(problem)
    if "fingerprint" not in state.keys():
        same[:] = False
    _check_same_problem(s, problem, same)
    _rebase(s, problem, ~same)
    return s
