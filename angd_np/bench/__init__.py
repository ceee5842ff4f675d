"""Benchmarks behind ``angd-np bench`` and ``benchmarks/bench.py``.

Each section is a module with ``run(quick: bool) -> list[dict]`` (rows of measurements) and
``format_rows(rows) -> str``. Timings are medians of repeats on this machine; they are printed
with the core count and never asserted in tests.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys

import numpy as np

__all__ = ["SECTIONS", "run"]

SECTIONS = ("nn", "objective", "angd", "baselines", "tracking", "runner")


def header() -> str:
    """One line naming the machine: cores, Python, NumPy."""
    return (f"# machine: {os.cpu_count()} cores, {platform.machine()}, Python "
            f"{platform.python_version()}, NumPy {np.__version__}")


def run(sections=None, *, quick=False, stream=None) -> int:
    """Run the named sections (all by default) and write their tables to ``stream``."""
    stream = sys.stdout if stream is None else stream
    sections = list(SECTIONS if not sections else sections)
    unknown = [s for s in sections if s not in SECTIONS]
    if unknown:
        raise ValueError(f"sections must be among {list(SECTIONS)}, got {unknown}")
    stream.write(header() + "\n")
    for name in sections:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"{__name__}.{name}":
                stream.write(f"\n## {name}: not available\n")
                continue
            raise
        stream.write(f"\n## {name}\n")
        stream.flush()
        rows = module.run(quick=quick)
        stream.write(module.format_rows(rows) + "\n")
        stream.flush()
    return 0
