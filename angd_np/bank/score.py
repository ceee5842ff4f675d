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

When N = M = K both 3-D layouts fit the shape: the candidate is then refused as ambiguous
unless its layout is given (``layout="NMK"`` or ``"MKN"``; ``angd-np verify --layout``), never
guessed. Column k of instance n's precoder is w_k, in sqrt(watts): the power is
``||W[n]||_F^2`` watts.

Only ``W`` is read from a file: other arrays or variables beside it are never opened, and a
``W`` larger than the bank's W could be (32 bytes per entry, plus headers) is refused before
it is read (the size an ``.npz`` member or a ``.mat`` variable declares).

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
from .format import Bank

__all__ = ["Score", "FEASIBILITY_TOLERANCE", "LAYOUTS", "read_candidate", "arrange", "verify",
           "format_score", "json_safe"]

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


#: Layout names accepted by ``layout=`` (and ``angd-np verify --layout``).
LAYOUTS = {"NMK": "(N, M, K)", "MKN": "(M, K, N)"}

#: Largest W read from a file when the bank's size is not known, bytes.
MAX_CANDIDATE_BYTES = 1 << 28


def read_candidate(path, *, max_bytes: int = MAX_CANDIDATE_BYTES) -> np.ndarray:
    """The raw array ``W`` of a candidate file (.npz key W, .npy, or .mat variable W).

    Only ``W`` is opened; one that would take more than ``max_bytes`` in memory is refused
    before it is read. Never loads pickles.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".npz", ".npy", ".mat"):
        raise ValueError(f"candidate must be a .npz, .npy or .mat file, got {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"candidate: no such file {str(path)!r}")
    if suffix == ".mat":
        return _mat_member(path, max_bytes)
    if suffix == ".npy":
        _check_size(path.stat().st_size, max_bytes, path)
        return _npz_member(path, None, max_bytes)
    return _npz_member(path, "W", max_bytes)


def _check_size(nbytes, max_bytes, path):
    if nbytes > max_bytes:
        raise ValueError(f"candidate: W in {str(path)!r} takes {nbytes} bytes, more than a W "
                         f"of this bank could ({max_bytes}); not read")


def _npz_member(path, name, max_bytes) -> np.ndarray:
    """The array ``name`` of an .npz (or the .npy itself), checked for size before reading."""
    import zipfile

    try:
        if name is None:
            with open(path, "rb") as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        with zipfile.ZipFile(path) as z:
            names = [n[:-4] for n in z.namelist() if n.endswith(".npy")]
            if name not in names:
                found = ", ".join(sorted(names)[:8]) + (", ..." if len(names) > 8 else "")
                raise LookupError(found or "none")
            info = z.getinfo(f"{name}.npy")
            _check_size(info.file_size, max_bytes, path)
            with z.open(info) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
    except LookupError as exc:
        raise ValueError(f"candidate: {str(path)!r} has no array named W (it has {exc.args[0]}"
                         "); write it with np.savez(path, W=W)") from None
    except ValueError as exc:
        if str(exc).startswith("candidate:"):
            raise
        raise ValueError(f"candidate: cannot read W from {str(path)!r} ({_why(exc)})") from None
    except Exception as exc:  # anything a damaged or foreign file raises, incl. zlib.error
        raise ValueError(f"candidate: cannot read W from {str(path)!r} ({_why(exc)})") from None


def _why(exc) -> str:
    text = str(exc)
    if "pickle" in text:
        return "not a NumPy array, or one of objects, which are never loaded"
    return (text.strip().splitlines() or [type(exc).__name__])[0]


#: MATLAB classes a numeric W can have (``whosmat``).
_MAT_NUMERIC = ("double", "single", "int8", "uint8", "int16", "uint16", "int32", "uint32",
                "int64", "uint64", "logical")


def _mat_member(path, max_bytes) -> np.ndarray:
    """The variable W of a MAT v4/v5 file, its class and size checked before reading."""
    from .format import _import_scipy_io

    sio = _import_scipy_io()
    try:
        listing = {name: (shape, cls) for name, shape, cls in sio.whosmat(path)}
    except NotImplementedError:  # scipy's message for MAT v7.3 (HDF5)
        raise ValueError(f"candidate: {str(path)!r} is a MATLAB v7.3 (HDF5) file; save it "
                         "with save(..., '-v7')") from None
    except Exception as exc:
        raise ValueError(f"candidate: cannot read {str(path)!r} as a .mat file "
                         f"({_why(exc)})") from None
    if "W" not in listing:
        found = ", ".join(sorted(listing)[:8]) or "none"
        raise ValueError(f"candidate: {str(path)!r} has no variable W (it has {found}); write "
                         "it with save(path, 'W', '-v7')")
    shape, cls = listing["W"]
    if cls == "sparse":
        raise ValueError(f"candidate: W in {str(path)!r} is a sparse matrix; save it full: "
                         "W = full(W); save(path, 'W', '-v7')")
    if cls not in _MAT_NUMERIC:
        raise ValueError(f"candidate: W in {str(path)!r} is a MATLAB {cls}, not a numeric array")
    _check_size(int(np.prod(shape, dtype=np.int64)) * 16, max_bytes, path)
    try:
        return sio.loadmat(path, variable_names=["W"])["W"]
    except Exception as exc:
        raise ValueError(f"candidate: cannot read W from {str(path)!r} ({_why(exc)})") from None


def arrange(W, n, M, K, name="W", layout=None) -> tuple[np.ndarray, str]:
    """W in any accepted layout (module docstring) -> (complex128 (N, M, K), layout name).

    ``layout`` (``"NMK"`` or ``"MKN"``) says which 3-D layout W has; needed only when
    N = M = K, where the shape cannot tell.
    """
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"layout must be one of {list(LAYOUTS)} or None, got {layout!r}")
    if hasattr(W, "toarray") and not isinstance(W, np.ndarray):
        raise TypeError(f"{name} must be a dense array, got a sparse {type(W).__name__}: "
                        "pass W.toarray()")
    try:
        arr = np.asarray(W)
    except ValueError:
        raise ValueError(f"{name} must be an array of one shape, got a ragged "
                         f"{type(W).__name__} (instances of different sizes?)") from None
    except Exception:
        raise TypeError(f"{name} must be an array of numbers, got {type(W).__name__}") from None
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    fits = {"NMK": arr.shape == (n, M, K), "MKN": arr.shape == (M, K, n)}
    if layout is None and all(fits.values()):
        raise ValueError(f"{name} of shape {arr.shape} fits both (N, M, K) and (M, K, N) since "
                         f"N = M = K = {n}: give its layout (layout='NMK' or 'MKN'; angd-np "
                         "verify --layout)")
    if layout is not None and not fits[layout] and arr.ndim == 3:
        raise ValueError(f"{name} must have shape {(n, M, K) if layout == 'NMK' else (M, K, n)}"
                         f" in layout {LAYOUTS[layout]}, got shape {arr.shape}")
    if fits["NMK"] and layout in (None, "NMK"):
        out, layout = arr, "(N, M, K)"
    elif fits["MKN"]:
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


def verify(bank, W, *, layout=None) -> Score:
    """Score candidate precoders on every instance of a bank.

    Parameters
    ----------
    bank : Bank, or a path or shipped name (:func:`angd_np.bank.load`)
    W : array_like or path
        The candidate, shape (N, M, K) or another accepted layout (module docstring), or a
        .npz / .npy / .mat file holding it (only its ``W`` is read).
    layout : {"NMK", "MKN"}, optional
        W's layout; required only when N = M = K (module docstring).

    Returns
    -------
    Score
        A W so large that its power overflows is scored infeasible (its f may be inf or
        NaN), without a warning.
    """
    if not isinstance(bank, Bank):
        bank = load(bank)
    if isinstance(W, (str, os.PathLike)):
        W = read_candidate(W, max_bytes=32 * bank.W_best.size + (1 << 16))
    W_in = W
    W, layout = arrange(W, bank.n_instances, bank.n_tx, bank.n_users, layout=layout)
    dtype = str(getattr(W_in, "dtype", np.asarray(W_in).dtype))
    problem = bank.problem()
    with np.errstate(over="ignore", invalid="ignore"):  # overflow: infeasible, said below
        f = csbf(W, problem)
        pw = power(W)
        rate, sensing = sum_rate(W, problem), sensing_gain(W, problem)
        gap = (bank.f_best - f) / np.abs(bank.f_best)
    return Score(csbf=f, sum_rate=rate, sensing=sensing, gap=gap,
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


def json_safe(value):
    """``value`` with every non-finite float replaced by None, for strict JSON (``null``)."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
