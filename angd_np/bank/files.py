"""Bank files by path or by shipped name: :func:`load` and :func:`shipped`.

Kept apart from the package's ``__init__`` so that :mod:`.score` can load a bank named by
the user without importing its own package (no import circle).
"""

from __future__ import annotations

import os
from pathlib import Path

from .format import Bank

__all__ = ["SHIPPED", "shipped", "load"]

#: Names of the banks shipped with the package (``angd_np/data/bank-NAME.npz`` and ``.mat``).
SHIPPED = ("paper-m10", "paper-m16", "balanced-m10", "balanced-m16")
_DATA = Path(__file__).resolve().parent.parent / "data"


def shipped(name: str, suffix: str = ".npz") -> Path:
    """Path of a shipped bank file, e.g. ``shipped("paper-m10", ".mat")``."""
    if name not in SHIPPED:
        raise ValueError(f"name must be one of the shipped banks {list(SHIPPED)}, got {name!r}")
    if suffix not in (".npz", ".mat"):
        raise ValueError(f"suffix must be '.npz' or '.mat', got {suffix!r}")
    return _DATA / f"bank-{name}{suffix}"


def load(path) -> Bank:
    """Read a bank from a ``.npz`` or ``.mat`` path, or a shipped one by name (``SHIPPED``).

    The file is checked against the schema and both hashes; anything malformed raises a
    ValueError whose one-line message names the file and the problem.
    """
    if isinstance(path, str) and path in SHIPPED:
        path = shipped(path)
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or pathlib.Path, got {type(path).__name__}")
    if Path(path).suffix.lower() not in (".npz", ".mat"):
        raise ValueError(f"bank must be a .npz or .mat file or a shipped bank "
                         f"({', '.join(SHIPPED)}), got {str(path)!r}")
    return Bank.read(path)
