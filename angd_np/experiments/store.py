"""The results folder of one figure: chunk files written atomically, merged into CSVs.

Layout of ``DIR/NAME/``::

    meta.json            configuration (its identity decides what may be resumed), versions
    chunks/KEY.csv       rows of one finished chunk (one x-value, one method, a trial block)
    chunks/KEY.npy       its curves (beampattern per angle, or CSBF per iteration), if any
    results.csv          all rows, sorted by x, method, trial; with the optimality gap
    summary.csv          per (x, method): n, and per metric its mean and 95% CI half-width
    pattern.csv / history.csv   per (x, method, angle or iteration): mean and CI half-width

Why chunk files: a chunk is written to a temporary file, flushed to disk and renamed into
``chunks/``; a rename is atomic, so a chunk file is either complete or absent. An interrupted
run loses at most the chunks in flight, and resuming only computes the chunks whose files are
missing. The merged CSVs are rebuilt from the chunk files, in a fixed order, so an interrupted
and resumed run writes byte-identical files to an uninterrupted one (except time columns).
Floats are written with ``repr``, which round-trips float64 exactly.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import re
import shutil
from pathlib import Path

import numpy as np

from ..solvers.result import optimality_gap

__all__ = ["Store", "atomic_write", "ci_halfwidth", "t_quantile_975", "read_csv"]

#: Per-trial columns of results.csv, in order. Only ``time_s`` may differ between runs.
COLUMNS = ("x", "method", "trial", "sum_rate", "sensing", "csbf", "gap", "nit", "success",
           "time_s")
#: Metrics summarised in summary.csv.
METRICS = ("sum_rate", "sensing", "csbf", "gap", "nit", "time_s")
_CHUNK_COLUMNS = ("trial", "sum_rate", "sensing", "csbf", "nit", "success", "time_s")


def atomic_write(path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def t_quantile_975(dof: int) -> float:
    """The 97.5% quantile of Student's t with ``dof`` degrees of freedom (no scipy needed).

    A table (6 digits) up to 7 degrees of freedom; above, the Cornish-Fisher expansion around
    the normal quantile (Abramowitz & Stegun 26.7.5), within 1.1e-5 relative from dof = 8.
    """
    if dof < 1:
        return math.nan
    if dof <= len(_T_TABLE):
        return _T_TABLE[dof - 1]
    z, n = 1.959963984540054, float(dof)
    g1 = (z**3 + z) / 4
    g2 = (5 * z**5 + 16 * z**3 + 3 * z) / 96
    g3 = (3 * z**7 + 19 * z**5 + 17 * z**3 - 15 * z) / 384
    g4 = (79 * z**9 + 776 * z**7 + 1482 * z**5 - 1920 * z**3 - 945 * z) / 92160
    return z + g1 / n + g2 / n**2 + g3 / n**3 + g4 / n**4


_T_TABLE = (12.706205, 4.302653, 3.182446, 2.776445, 2.570582, 2.446912, 2.364624)


def ci_halfwidth(values, axis=0) -> np.ndarray:
    """Half-width of the 95% confidence interval of the mean (Student t), NaN for n < 2."""
    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis]
    if n < 2:
        return np.full(np.delete(values.shape, axis), np.nan)
    return t_quantile_975(n - 1) * values.std(axis=axis, ddof=1) / math.sqrt(n)


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    value = float(value)
    return "" if math.isnan(value) else repr(value)


def _csv_bytes(header, rows) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue().encode()


def read_csv(path) -> list[dict]:
    """Rows of a CSV file as dicts of strings."""
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


class Store:
    """The folder ``DIR/NAME`` of one figure run.

    Parameters
    ----------
    folder : path-like
        Created if missing.
    """

    def __init__(self, folder):
        self.folder = Path(folder)
        self.chunks = self.folder / "chunks"

    # -- configuration ---------------------------------------------------------------------
    def prepare(self, identity: dict, *, fresh: bool = False) -> list[str]:
        """Make the folder ready for a run of ``identity``; returns the methods whose stored
        results were discarded.

        If only some methods differ (their options, or the values of their preset, changed;
        or they are no longer run), their chunks are deleted and the others kept: they run
        again, nothing else does. Raises ValueError if anything else differs (scenario,
        seed, x-values, ...) and ``fresh`` is False; with ``fresh`` all results are deleted.
        """
        meta = self.read_meta()
        has_chunks = self.chunks.is_dir() and any(self.chunks.iterdir())
        stale = []
        if fresh:
            self.clear()
        elif meta is not None and meta.get("identity") != identity:
            old = meta.get("identity", {})
            changed = sorted(k for k in set(identity) | set(old)
                             if identity.get(k) != old.get(k))
            if changed != ["methods"]:
                raise ValueError(
                    f"{self.folder} holds results of a different configuration (changed: "
                    f"{', '.join(changed)}); pass --fresh to discard them or choose another "
                    "--out")
            stale = sorted(m for m, call in old["methods"].items()
                           if identity["methods"].get(m) != call)
            self.discard(stale)
        elif meta is None and has_chunks:
            raise ValueError(f"{self.folder}/chunks has results but no meta.json; pass --fresh "
                             "to discard them or choose another --out")
        self.chunks.mkdir(parents=True, exist_ok=True)
        # A writer killed between open() and os.replace() leaves its temporary file behind;
        # it never counts as a chunk (done() reads *.csv only), so it is just litter.
        for leftover in self.chunks.glob(".*.tmp"):
            leftover.unlink(missing_ok=True)
        return stale

    def discard(self, methods) -> None:
        """Delete the stored chunks of ``methods`` (keys ``xNN-METHOD-START-STOP``)."""
        if not methods or not self.chunks.is_dir():
            return
        pattern = re.compile(rf"x\d+-({'|'.join(map(re.escape, methods))})-\d+-\d+")
        for path in self.chunks.iterdir():
            if pattern.fullmatch(path.name.split(".")[0]):
                path.unlink()

    def clear(self) -> None:
        """Delete this run's files (only the ones this module writes)."""
        if self.chunks.is_dir():
            shutil.rmtree(self.chunks)
        for name in ("meta.json", "results.csv", "summary.csv", "pattern.csv", "history.csv",
                     "frames.csv"):
            (self.folder / name).unlink(missing_ok=True)
        for path in self.folder.glob(f"{self.folder.name}.*"):
            if path.suffix in (".png", ".pdf"):
                path.unlink()

    def read_meta(self) -> dict | None:
        path = self.folder / "meta.json"
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def write_meta(self, meta: dict) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write(self.folder / "meta.json", (json.dumps(meta, indent=2) + "\n").encode())

    # -- chunks ------------------------------------------------------------------------------
    def done(self) -> set[str]:
        """Keys of the chunks already on disk."""
        if not self.chunks.is_dir():
            return set()
        return {p.stem for p in self.chunks.glob("*.csv") if not p.name.startswith(".")}

    def write_chunk(self, key: str, rows: dict, curves=None) -> None:
        """Store one finished chunk; the CSV is written last, so its presence means complete.

        ``rows`` maps each of ``trial, sum_rate, sensing, csbf, nit, success, time_s`` to an
        array of shape (n,); ``curves`` is an array of shape (n, L) or None.
        """
        if curves is not None:
            buf = io.BytesIO()
            np.save(buf, np.asarray(curves, dtype=np.float64))
            atomic_write(self.chunks / f"{key}.npy", buf.getvalue())
        columns = [np.asarray(rows[c]) for c in _CHUNK_COLUMNS]
        body = [[_fmt(col[i]) for col in columns] for i in range(len(columns[0]))]
        atomic_write(self.chunks / f"{key}.csv", _csv_bytes(_CHUNK_COLUMNS, body))

    def read_chunk(self, key: str):
        """(rows as dict of arrays, curves or None) of a stored chunk."""
        table = read_csv(self.chunks / f"{key}.csv")
        rows = {c: np.array([float(r[c]) for r in table]) for c in _CHUNK_COLUMNS}
        rows["trial"] = rows["trial"].astype(np.int64)
        rows["nit"] = rows["nit"].astype(np.int64)
        rows["success"] = rows["success"].astype(bool)
        npy = self.chunks / f"{key}.npy"
        return rows, (np.load(npy) if npy.exists() else None)

    # -- merged outputs ----------------------------------------------------------------------
    def merge(self, plan, adjust=None, pool_x=False) -> dict:
        """Build results.csv, summary.csv and the curve summary from the chunks of ``plan``.

        Parameters
        ----------
        plan : list of (x, method, [chunk keys]) in output order
            Chunks absent from ``plan`` (e.g. from a larger earlier ``--trials``) are ignored.
        adjust : callable, optional
            ``adjust(data)`` may change the per-trial columns (e.g. the gaps of a frames
            figure, :mod:`.framed`) before the CSVs are written.
        pool_x : bool
            Trial i is the same instance at every x (a sweep over budgets, not over the
            scenario): its best-known value is the best over all x.

        Returns
        -------
        dict (x, method) -> dict of per-trial arrays (with "curves" when there are any)
        """
        data = {}
        for x, method, keys in plan:
            parts = [self.read_chunk(k) for k in keys]
            cols = {c: np.concatenate([p[0][c] for p in parts]) for c in _CHUNK_COLUMNS}
            order = np.argsort(cols["trial"], kind="stable")
            cols = {c: v[order] for c, v in cols.items()}
            curves = [p[1] for p in parts]
            if all(c is not None for c in curves):
                width = max(c.shape[1] for c in curves)
                # Histories of different lengths: the iterate stays at its last value.
                curves = [np.pad(c, ((0, 0), (0, width - c.shape[1])), mode="edge")
                          for c in curves]
                cols["curves"] = np.concatenate(curves)[order]
            data[(x, method)] = cols
        self._add_gaps(data, pool_x)
        if adjust is not None:
            adjust(data)
        body = []
        for (x, method), cols in data.items():
            for i in range(len(cols["trial"])):
                body.append([_fmt(x), method] + [_fmt(cols[c][i]) for c in COLUMNS[2:]])
        atomic_write(self.folder / "results.csv", _csv_bytes(COLUMNS, body))
        self._write_summary(data)
        return data

    @staticmethod
    def _add_gaps(data, pool_x=False) -> None:
        """gap = (f_best - f) / |f_best| per trial where the reference solved the same trial.

        f_best is the best-known optimum of that trial: the reference solver's value, or any
        other method's if one did better (a multi-start local search can miss a narrow optimum
        that CCPA finds; the best known is then CCPA's, and no gap is ever negative).
        """
        best = {}  # x (None when pooled) -> {trial: f_best}
        for (x, method), cols in data.items():
            if method == "reference":
                table = best.setdefault(None if pool_x else x, {})
                for t, f in zip(cols["trial"].tolist(), cols["csbf"].tolist(), strict=True):
                    table[t] = max(f, table.get(t, -math.inf))
        for (x, _method), cols in data.items():
            table = best.get(None if pool_x else x)
            if table is not None:
                for t, f in zip(cols["trial"].tolist(), cols["csbf"].tolist(), strict=True):
                    if t in table and f > table[t]:
                        table[t] = f
        for (x, _method), cols in data.items():
            f_best = best.get(None if pool_x else x, {})
            f_ref = np.array([f_best.get(t, np.nan) for t in cols["trial"].tolist()])
            cols["gap"] = optimality_gap(cols["csbf"], f_ref)

    def _write_summary(self, data) -> None:
        header = ["x", "method", "n"] + [f"{m}_{s}" for m in METRICS for s in ("mean", "ci95")]
        body = []
        for (x, method), cols in data.items():
            row = [_fmt(x), method, str(len(cols["trial"]))]
            for m in METRICS:
                v = np.asarray(cols[m], dtype=np.float64)
                v = v[~np.isnan(v)]
                row += [_fmt(v.mean()) if v.size else "", _fmt(ci_halfwidth(v)) if v.size else ""]
            body.append(row)
        atomic_write(self.folder / "summary.csv", _csv_bytes(header, body))

    def write_curves(self, name: str, index_name: str, index, data) -> None:
        """``name``.csv with columns x, method, ``index_name``, mean, ci95 (curves per trial)."""
        body = []
        for (x, method), cols in data.items():
            curves = cols.get("curves")
            if curves is None:
                continue
            mean, hw = curves.mean(axis=0), ci_halfwidth(curves)
            for j, idx in enumerate(index[: curves.shape[1]]):
                body.append([_fmt(x), method, _fmt(idx), _fmt(mean[j]), _fmt(hw[j])])
        atomic_write(self.folder / f"{name}.csv",
                     _csv_bytes(("x", "method", index_name, "mean", "ci95"), body))
