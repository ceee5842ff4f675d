"""The bank file: its fields, their shapes and units, the hashes, and ``.npz`` / ``.mat`` I/O.

One schema (:data:`SCHEMA`) describes every field once: its kind and its shape in terms of the
sizes N (instances), M (antennas), K (users), T (targets) and S (solvers run). Writing and
reading both go through it, so the ``.npz`` and the ``.mat`` file hold the same names, and a
file read back is checked field by field (kind, shape, consistent sizes, both hashes) before
anything trusts it.

``.mat`` specifics (``scipy.io``, MAT version 5, which MATLAB's and Octave's ``-v7`` read and
write): complex arrays are MATLAB complex; scalars load as 1x1 and vectors as 1xN, which
:func:`load` reshapes back; a vector of strings is a space-padded char matrix (MATLAB:
``strtrim(best_method(n, :))``); booleans are uint8 (MATLAB: ``logical(flagged)``).

Hashes (sha256, hex), over canonical bytes, never over the file (zip and MAT containers carry
timestamps and compression choices):

- ``instance_sha256`` covers ``H``, ``A``, ``noise_var``, ``p_max``, ``omega`` and
  ``scenario``: the problem a candidate is scored on. Those regenerate in milliseconds from
  the bank's ``command`` (preset, seed, instance count, scenario overrides).
- ``bank_sha256`` covers every field except itself: the problem, the best-known answer and
  the certificate. :func:`load` refuses a file whose content no longer matches it.

For each covered field, in schema order, the hash reads the line ``name:kind:shape`` (shape as
comma-separated sizes) and then the value: numbers as little-endian C-order bytes (complex128,
float64, int64, bool as one byte), strings as UTF-8 (a vector of strings as its JSON list).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["Bank", "SCHEMA", "INSTANCE_FIELDS", "instance_sha256", "bank_sha256"]

# name -> (kind, shape in named sizes, description). Order matters: it is the hash order.
SCHEMA = {
    "H": ("complex", ("N", "M", "K"), "channels, column k of H[n] is h_k (sqrt(W) per sqrt(W))"),
    "A": ("complex", ("N", "M", "T"), "target steering vectors, column t of A[n] is a(theta_t)"),
    "noise_var": ("float", (), "noise power sigma^2, watts"),
    "p_max": ("float", (), "transmit power budget, watts"),
    "omega": ("float", (), "CSBF weight of the sensing term"),
    "scenario": ("str", (), "the Scenario's fields as JSON (dBm, degrees, metres)"),
    "preset": ("str", (), "the Scenario preset the bank was made from"),
    "seed": ("int", (), "seed: instance n is trial trials[n] of this seed"),
    "trials": ("int", ("N",), "trial indices (channel stream 0, solver stream 1)"),
    "command": ("str", (), "the command that regenerates this bank"),
    "options": ("str", (), "solver options the bank was made with, JSON"),
    "W_best": ("complex", ("N", "M", "K"), "best-known precoder, ||W||_F^2 <= p_max"),
    "f_best": ("float", ("N",), "CSBF of W_best, eq. (7a)"),
    "best_method": ("str", ("N",), "the solver whose (polished) result is W_best"),
    "methods": ("str", ("S",), "the solvers run on every instance"),
    "f_methods": ("float", ("N", "S"), "each solver's own CSBF"),
    "f_local": ("float", ("N", "S"), "CSBF of the local optimum each solver's result leads to"),
    "stationarity": ("float", ("N",), "||tangential gradient|| / ||gradient|| at W_best"),
    "stationarity_threshold": ("float", (), "the certified bound on stationarity"),
    "spread": ("float", ("N",), "(f_best - min f_local) / |f_best|"),
    "spread_tolerance": ("float", (), "starts agree when spread <= this"),
    "n_agree": ("int", ("N",), "solvers whose local optimum is within tolerance of f_best"),
    "flagged": ("bool", ("N",), "f_best unconfirmed: reference_gap > tol or n_agree < 2"),
    "reference_gap": ("float", ("N",), "(f_best - f of the reference solver) / |f_best|"),
    "version": ("str", (), "angd_np version that made the bank"),
    "instance_sha256": ("str", (), "hash of H, A, noise_var, p_max, omega, scenario"),
    "bank_sha256": ("str", (), "hash of every other field"),
}
INSTANCE_FIELDS = ("H", "A", "noise_var", "p_max", "omega", "scenario")

_DTYPES = {"complex": np.complex128, "float": np.float64, "int": np.int64, "bool": np.bool_}
_SCALAR_TYPES = {"float": float, "int": int, "str": str}


@dataclasses.dataclass(frozen=True, eq=False)
class Bank:
    """Certified instances with their best-known precoders (see :mod:`angd_np.bank`).

    Every field of :data:`SCHEMA` is an attribute: arrays as NumPy arrays of the schema's
    dtype and shape, scalars as Python ``float``, ``int`` or ``str``. Build one with
    :func:`angd_np.bank.make` or :func:`angd_np.bank.load`.
    """

    H: np.ndarray
    A: np.ndarray
    noise_var: float
    p_max: float
    omega: float
    scenario: str
    preset: str
    seed: int
    trials: np.ndarray
    command: str
    options: str
    W_best: np.ndarray
    f_best: np.ndarray
    best_method: np.ndarray
    methods: np.ndarray
    f_methods: np.ndarray
    f_local: np.ndarray
    stationarity: np.ndarray
    stationarity_threshold: float
    spread: np.ndarray
    spread_tolerance: float
    n_agree: np.ndarray
    flagged: np.ndarray
    reference_gap: np.ndarray
    version: str
    instance_sha256: str
    bank_sha256: str

    def __post_init__(self):
        sizes = {}
        for name, (kind, dims, _) in SCHEMA.items():
            value = _normalise(getattr(self, name), name, kind, dims, sizes)
            object.__setattr__(self, name, value)

    # -- derived --------------------------------------------------------------------------
    @property
    def n_instances(self) -> int:
        return self.H.shape[0]

    @property
    def n_tx(self) -> int:
        return self.H.shape[1]

    @property
    def n_users(self) -> int:
        return self.H.shape[2]

    def problem(self):
        """The instances as a :class:`~angd_np.Problem` (H of shape (N, M, K))."""
        from ..system import Problem

        return Problem(H=self.H, A=self.A, noise_var=self.noise_var, p_max=self.p_max,
                       omega=self.omega)

    def to_scenario(self):
        """The :class:`~angd_np.Scenario` the instances were drawn from."""
        from ..system import Scenario

        return Scenario(**json.loads(self.scenario))

    def arrays(self) -> dict:
        """Every field as a NumPy array (what the files hold), in schema order."""
        out = {}
        for name, (kind, _, _) in SCHEMA.items():
            value = getattr(self, name)
            out[name] = np.asarray(value) if kind != "str" else np.asarray(value, dtype=str)
        return out

    def check_hashes(self) -> None:
        """ValueError if a hash does not match the content (a corrupted or edited bank)."""
        for name, fn in (("instance_sha256", instance_sha256), ("bank_sha256", bank_sha256)):
            if fn(self) != getattr(self, name):
                raise ValueError(f"bank: {name} does not match the bank's content (the file "
                                 "was changed after it was made); regenerate it with its "
                                 f"command: {self.command}")

    # -- files ----------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write to ``path``: ``.npz`` (compressed, no pickle) or ``.mat`` (needs scipy).

        The file is written next to its destination and renamed into place, so an
        interrupted save never leaves half a bank.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".npz", ".mat"):
            raise ValueError(f"path must end in .npz or .mat, got {str(path)!r}")
        arrays = self.arrays()
        if suffix == ".mat":
            savemat = _import_scipy_io().savemat
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
        os.close(fd)
        umask = os.umask(0)  # mkstemp makes the file private; give it the usual mode
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        try:
            if suffix == ".npz":
                np.savez_compressed(tmp, **arrays)
            else:
                arrays = {k: (v.astype(np.uint8) if v.dtype == bool else v)
                          for k, v in arrays.items()}
                savemat(tmp, arrays, do_compression=True, oned_as="row")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def read(cls, path) -> Bank:
        """Read a bank written by :meth:`save`; ValueError (one line) for anything malformed."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".npz", ".mat"):
            raise ValueError(f"bank must be a .npz or .mat file, got {str(path)!r}")
        raw = _read_mat(path, "bank") if suffix == ".mat" else _read_npz(path, "bank")
        missing = [name for name in SCHEMA if name not in raw]
        if missing:
            listed = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more"
                                               if len(missing) > 5 else "")
            raise ValueError(f"bank: {str(path)!r} lacks the fields {listed} (is it a bank "
                             "made by angd-np bank?)")
        fields = {}
        for name, (kind, dims, _) in SCHEMA.items():
            fields[name] = _from_file(raw[name], name, kind, dims, suffix == ".mat")
        bank = cls(**fields)
        bank.check_hashes()
        return bank


# -- hashing -------------------------------------------------------------------------------
def _digest(bank_or_arrays, names) -> str:
    h = hashlib.sha256()
    for name in names:
        kind, _, _ = SCHEMA[name]
        value = (bank_or_arrays[name] if isinstance(bank_or_arrays, dict)
                 else getattr(bank_or_arrays, name))
        if kind == "str":
            arr = np.asarray(value, dtype=str)
            data = json.dumps(arr.tolist(), ensure_ascii=False).encode() if arr.ndim else \
                str(value).encode()
        else:
            arr = np.asarray(value, dtype=_DTYPES[kind])
            data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
        shape = ",".join(str(s) for s in arr.shape)
        h.update(f"{name}:{kind}:{shape}\n".encode())
        h.update(data)
    return h.hexdigest()


def instance_sha256(bank) -> str:
    """sha256 of the instance fields (``INSTANCE_FIELDS``) of a Bank or a dict of them."""
    return _digest(bank, INSTANCE_FIELDS)


def bank_sha256(bank) -> str:
    """sha256 of every schema field except ``bank_sha256``."""
    return _digest(bank, [n for n in SCHEMA if n != "bank_sha256"])


# -- validation and file reading -----------------------------------------------------------
def _normalise(value, name, kind, dims, sizes):
    """Cast one field to its schema type and check its shape against the sizes seen so far."""
    if not dims and kind in _SCALAR_TYPES:
        arr = np.asarray(value)
        if arr.size != 1:
            raise ValueError(f"bank field {name} must be a single {kind}, got shape {arr.shape}")
        if kind != "str" and arr.dtype.kind not in "biuf":
            raise TypeError(f"bank field {name} must be a real number, got dtype {arr.dtype}")
        item = arr.reshape(()).item()
        if kind == "str":
            if not isinstance(item, str):
                raise TypeError(f"bank field {name} must be a string, got {type(item).__name__}")
            return item
        if kind == "int" and (isinstance(item, bool) or not float(item).is_integer()):
            raise TypeError(f"bank field {name} must be an integer, got {item!r}")
        return _SCALAR_TYPES[kind](item)
    if kind == "str":
        arr = np.asarray(value, dtype=str)
    else:
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufc":
            raise TypeError(f"bank field {name} must be numeric, got dtype {arr.dtype}")
        if kind != "complex" and arr.dtype.kind == "c":
            raise TypeError(f"bank field {name} must be real ({kind}), got complex values")
        arr = np.ascontiguousarray(arr, dtype=_DTYPES[kind])
    if arr.ndim != len(dims):
        raise ValueError(f"bank field {name} must have shape ({', '.join(dims)}), got "
                         f"shape {arr.shape}")
    for dim, size in zip(dims, arr.shape, strict=True):
        if sizes.setdefault(dim, size) != size:
            raise ValueError(f"bank field {name} has {dim} = {size} but other fields have "
                             f"{dim} = {sizes[dim]} (shape {arr.shape}, expected "
                             f"({', '.join(dims)}))")
    if kind in ("complex", "float") and not np.all(np.isfinite(arr)):
        raise ValueError(f"bank field {name} must be finite, got "
                         f"{np.count_nonzero(~np.isfinite(arr))} NaN or inf entries")
    arr.setflags(write=False)
    return arr


def _from_file(arr, name, kind, dims, from_mat):
    """Undo what a container did to one field (MATLAB's 1x1 scalars, 1xN rows, padding)."""
    arr = np.asarray(arr)
    if kind == "str":
        if arr.dtype.kind != "U":
            raise TypeError(f"bank field {name} must hold text, got dtype {arr.dtype}")
        if from_mat:
            arr = np.char.rstrip(arr)  # char matrices are padded with spaces
            if not dims:
                arr = arr.reshape(-1)[:1]
        if not dims:
            return arr.reshape(-1)[0] if arr.size == 1 else arr
        return arr.reshape(-1) if len(dims) == 1 else arr
    if from_mat:
        if not dims:
            return arr.reshape(-1)
        if len(dims) == 1:
            return arr.reshape(-1)
    return arr


def _import_scipy_io():
    try:
        import scipy.io
    except ImportError as exc:
        raise ImportError("reading and writing .mat files needs scipy: "
                          "pip install 'angd_np[cvx]'") from exc
    return scipy.io


def _read_npz(path, what) -> dict:
    """Every array of an .npz (or the one array of an .npy, as ``{"": arr}``), no pickle."""
    try:
        data = np.load(path, allow_pickle=False)
        if isinstance(data, np.ndarray):
            return {"": data}
        with data:
            return {k: data[k] for k in data.files}
    except Exception as exc:  # anything a damaged or foreign file raises, incl. zlib.error
        # NumPy reads unknown bytes as a pickle and suggests allow_pickle: we never do that.
        reason = ("not a NumPy file, or one holding pickled objects, which are never loaded"
                  if "pickle" in str(exc) else _reason(exc))
        raise ValueError(f"{what}: cannot read {str(path)!r} as a NumPy .npz/.npy file "
                         f"({reason})") from None


def _read_mat(path, what) -> dict:
    """Every variable of a MAT v4/v5 file (MATLAB/Octave ``save -v7``)."""
    sio = _import_scipy_io()
    try:
        data = sio.loadmat(path, chars_as_strings=True)
    except NotImplementedError:  # scipy's message for MAT v7.3 (HDF5)
        raise ValueError(f"{what}: {str(path)!r} is a MATLAB v7.3 (HDF5) file; save it "
                         "with save(..., '-v7')") from None
    except Exception as exc:  # anything a damaged or foreign file raises
        raise ValueError(f"{what}: cannot read {str(path)!r} as a .mat file ({_reason(exc)})"
                         ) from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _reason(exc) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text and text[0] else type(exc).__name__
