"""Scoring anyone's precoders against a bank: feasibility, CSBF, sum rate, sensing, gap.

Candidate files
---------------
``W`` of the bank's N instances, M antennas and K users, complex (a real array is read as
complex with zero imaginary part), in one of these files:

- ``.npz`` with an array named ``W``: ``np.savez("mine.npz", W=W)``
- ``.npy`` holding the array: ``np.save("mine.npy", W)`` (PyTorch: ``W.detach().numpy()``)
- ``.mat`` (MATLAB/Octave ``save('mine.mat', 'W', '-v7')``; v7.3/HDF5 is not read) with a
  variable ``W``.

and in one of these layouts (any file type):

- (N, M, K): ``W[n]`` is instance n's precoder, the bank's own layout;
- (M, K, N): MATLAB's natural ``W(:, :, n)``;
- (M, K) when N = 1 (MATLAB drops a trailing singleton axis).

When N = M = K both 3-D layouts fit and (N, M, K) is assumed. Column k of instance n's
precoder is w_k, in sqrt(watts): the power is ``||W[n]||_F^2`` watts.

Write W in double precision. A complex64 W (PyTorch's default) scaled to full power in
single precision misses p_max by ~1e-7 relative, far beyond the 1e-9 tolerance, and about
half its instances then count as infeasible: cast to complex128 and rescale first.

Feasible means ``||W[n]||_F^2 <= p_max (1 + 1e-9)``; the gap is ``(f_best - f) / |f_best|``
(negative: better than our best-known value; tell us).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np

from ..objective import csbf, power, sensing_gain, sum_rate
from .files import load
from .format import Bank, _read_mat, _read_npz

__all__ = ["Score", "FEASIBILITY_TOLERANCE", "read_candidate", "arrange", "verify",
           "format_score"]

#: A precoder is feasible when ||W||_F^2 <= p_max (1 + FEASIBILITY_TOLERANCE).
FEASIBILITY_TOLERANCE = 1e-9


@dataclasses.dataclass(frozen=True)
class Score:
    """Per-instance scores of candidate precoders on a bank.

    Attributes
    ----------
    csbf, sum_rate, sensing : ndarray of float64, shape (N,)
        f(W) (eq. 7a), bit/s/Hz, and the sensing gain in watts.
    gap : ndarray of float64, shape (N,)
        ``(f_best - csbf) / |f_best|``.
    feasible : ndarray of bool, shape (N,)
    power : ndarray of float64, shape (N,)
        ``||W[n]||_F^2`` in watts.
    p_max : float
    layout : str
        The layout the candidate was read in, e.g. ``"(N, M, K)"``.
    dtype : str
        The candidate's own dtype (scores are computed in complex128 whatever it was).
    """

    csbf: np.ndarray
    sum_rate: np.ndarray
    sensing: np.ndarray
    gap: np.ndarray
    feasible: np.ndarray
    power: np.ndarray
    p_max: float
    layout: str
    dtype: str = "complex128"

    @property
    def single_precision(self) -> bool:
        """The candidate came in single (or half) precision: see the module docstring."""
        return self.dtype in ("complex64", "float32", "float16")

    @property
    def infeasible(self) -> np.ndarray:
        """Indices of the infeasible instances, shape (n_infeasible,)."""
        return np.flatnonzero(~self.feasible)

    def summary(self) -> dict:
        """Counts, and means / medians over the feasible instances (NaN if none is)."""
        ok = self.feasible
        stats = {}
        for name in ("gap", "csbf", "sum_rate", "sensing"):
            values = getattr(self, name)[ok]
            stats[f"{name}_mean"] = float(values.mean()) if ok.any() else float("nan")
            stats[f"{name}_median"] = float(np.median(values)) if ok.any() else float("nan")
        stats["gap_max"] = float(self.gap[ok].max()) if ok.any() else float("nan")
        return {"instances": int(ok.size), "feasible": int(ok.sum()),
                "infeasible": self.infeasible.tolist(),
                "better_than_best": int(np.count_nonzero(ok & (self.gap < 0))), **stats}


def read_candidate(path) -> np.ndarray:
    """The raw array ``W`` of a candidate file (.npz key W, .npy, or .mat variable W)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        data = _read_mat(path, "candidate")
    elif suffix in (".npz", ".npy"):
        data = _read_npz(path, "candidate")
    else:
        raise ValueError(f"candidate must be a .npz, .npy or .mat file, got {str(path)!r}")
    if suffix == ".npy":
        return data[""]
    if "W" not in data:
        how = "np.savez(path, W=W)" if suffix == ".npz" else "save(path, 'W', '-v7')"
        names = sorted(data)
        found = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "") or "none"
        raise ValueError(f"candidate: {str(path)!r} has no array named W (it has {found}); "
                         f"write it with {how}")
    return data["W"]


def arrange(W, n, M, K, name="W") -> tuple[np.ndarray, str]:
    """W in any accepted layout (module docstring) -> (complex128 (N, M, K), layout name)."""
    try:
        arr = np.asarray(W)
    except Exception:
        raise TypeError(f"{name} must be an array of numbers, got {type(W).__name__}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.shape == (n, M, K):
        out, layout = arr, "(N, M, K)"
    elif arr.shape == (M, K, n):
        out, layout = np.moveaxis(arr, -1, 0), "(M, K, N)"
    elif n == 1 and arr.shape == (M, K):
        out, layout = arr[None], "(M, K)"
    else:
        accepted = f"({n}, {M}, {K}) or ({M}, {K}, {n})" + (f" or ({M}, {K})" if n == 1 else "")
        raise ValueError(f"{name} must have shape {accepted} (N instances, M antennas, K users "
                         f"of the bank), got shape {arr.shape}")
    out = np.ascontiguousarray(out, dtype=np.complex128)
    bad = ~np.isfinite(out).all(axis=(-2, -1))
    if bad.any():
        raise ValueError(f"{name} must be finite, got NaN or inf entries in "
                         f"{np.count_nonzero(bad)} instance(s), first instance "
                         f"{int(np.flatnonzero(bad)[0])}")
    return out, layout


def verify(bank, W) -> Score:
    """Score candidate precoders on every instance of a bank.

    Parameters
    ----------
    bank : Bank, or a path or shipped name (:func:`angd_np.bank.load`)
    W : array_like or path
        The candidate, shape (N, M, K) or another accepted layout (module docstring), or a
        .npz / .npy / .mat file holding it.

    Returns
    -------
    Score
    """
    if not isinstance(bank, Bank):
        bank = load(bank)
    if isinstance(W, (str, os.PathLike)):
        W = read_candidate(W)
    dtype = str(getattr(W, "dtype", np.asarray(W).dtype))
    W, layout = arrange(W, bank.n_instances, bank.n_tx, bank.n_users)
    problem = bank.problem()
    f = csbf(W, problem)
    pw = power(W)
    return Score(csbf=f, sum_rate=sum_rate(W, problem), sensing=sensing_gain(W, problem),
                 gap=(bank.f_best - f) / np.abs(bank.f_best),
                 feasible=pw <= bank.p_max * (1.0 + FEASIBILITY_TOLERANCE), power=pw,
                 p_max=bank.p_max, layout=layout, dtype=dtype)


def format_score(score: Score, bank: Bank, *, title: str = "") -> str:
    """The per-instance table and summary ``angd-np verify`` prints."""
    lines = []
    if title:
        lines.append(title)
    head = (f"{'n':>4}  {'feasible':>8}  {'power/p_max':>11}  {'CSBF':>13}  "
            f"{'f_best':>13}  {'gap':>10}  {'sum rate':>9}  {'sensing W':>9}")
    lines += [head, "-" * len(head)]
    for n in range(score.csbf.size):
        lines.append(
            f"{n:>4}  {'yes' if score.feasible[n] else 'NO':>8}  "
            f"{score.power[n] / score.p_max:>11.9f}  {score.csbf[n]:>13.7g}  "
            f"{bank.f_best[n]:>13.7g}  {100 * score.gap[n]:>9.4f}%  "
            f"{score.sum_rate[n]:>9.3f}  {score.sensing[n]:>9.4g}")
    s = score.summary()
    lines.append(f"summary: {s['feasible']} of {s['instances']} feasible "
                 f"(||W||_F^2 <= p_max (1 + {FEASIBILITY_TOLERANCE:g}))")
    if s["feasible"]:
        lines.append(
            f"  over the feasible ones: gap to f_best mean {100 * s['gap_mean']:.4f}%, "
            f"median {100 * s['gap_median']:.4f}%, max {100 * s['gap_max']:.4f}%; "
            f"{s['better_than_best']} better than f_best")
        lines.append(f"  mean CSBF {s['csbf_mean']:.7g}, mean sum rate "
                     f"{s['sum_rate_mean']:.4f} bit/s/Hz, mean sensing gain "
                     f"{s['sensing_mean']:.5g} W")
    if s["infeasible"]:
        lines.append(f"infeasible instances: {', '.join(map(str, s['infeasible']))}")
        if score.single_precision:
            lines.append(f"note: W is {score.dtype}, whose rounding (~1e-7) can exceed the "
                         "1e-9 tolerance: cast it to complex128 and rescale it to p_max")
    return "\n".join(lines) + "\n"
