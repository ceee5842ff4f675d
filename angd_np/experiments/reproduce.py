"""The main job: every figure and a REPORT.md for each scenario preset.

``angd-np reproduce`` and ``scripts/reproduce_paper.py`` call :func:`reproduce`. For each
preset it runs (or resumes) every registered figure into ``OUT/PRESET/NAME/`` and writes
``OUT/PRESET/REPORT.md``; with ``figures_dir`` it also copies each plot as
``PRESET-NAME.png`` and the report as ``PRESET-REPORT.md`` (the layout of ``docs/figures``).
Results never depend on the number of workers, so the default of one process per core
changes only the time.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

from .._validate import check_int
from .configs import FIGURES, make_config
from .report import RUN_FILE, write_report
from .runner import run_figures
from .store import atomic_write

#: The scenario presets the main job runs, in order.
PRESETS = ("paper", "balanced")


def _names(value, name, accepted) -> list:
    """A comma-separated string or a sequence of names, each one of ``accepted``."""
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else list(value)
    names = list(dict.fromkeys(n for n in names if n))
    bad = [n for n in names if n not in accepted]
    if not names or bad:
        raise ValueError(f"{name} must be a non-empty list of {list(accepted)}, got {value!r}")
    return names


def blas_name() -> str:
    """The BLAS NumPy calls, as threadpoolctl reports it ("unknown" without it)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown"
    libs = [f"{i.get('internal_api', '?')} {i.get('version') or ''}".strip()
            for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(dict.fromkeys(libs)) or "unknown"


def reproduce(out="results", *, presets=PRESETS, trials=100, seed=0, workers=None,
              scheduler=None, methods=None, iters=None, reference_trials=None, chunk_size=25,
              fresh=False, figures_dir=None, progress=None) -> dict:
    """Run every figure for each preset, write each preset's report, optionally copy them.

    Parameters
    ----------
    out : path-like
        Results folder; preset P goes to ``out/P/`` (figure folders and ``REPORT.md``).
    presets : str or sequence of str
        Scenario presets, e.g. ``"paper,balanced"`` or ``("balanced",)``.
    trials : int
        Monte Carlo trials per point (the paper used 1000).
    seed : int
        Seed of the run; trial i of every figure depends on (seed, i) only.
    workers : int, optional
        Processes on this machine (default: one per core). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a dask.distributed scheduler (needs ``angd_np[dist]``).
    methods : str, optional
        Comma-separated methods instead of each figure's own.
    iters : int, optional
        Iterations T of the gradient methods (default: each method's own).
    reference_trials : int, optional
        Solve only the first N trials with the reference solver as well.
    chunk_size : int
        Trials solved as one batch and stored as one file.
    fresh : bool
        Discard results of a different configuration instead of refusing them.
    figures_dir : path-like, optional
        Copy every plot here as ``PRESET-NAME.png`` and the report as ``PRESET-REPORT.md``.
    progress : bool, optional
        Force the progress display on or off (default: a bar on a terminal, lines off it).

    Returns
    -------
    dict
        Preset name -> Path of its ``REPORT.md``.

    Raises
    ------
    ValueError
        A bad option (checked before anything runs) or a changed configuration without
        ``fresh``.
    KeyboardInterrupt
        Propagated after the finished chunks are stored; the same call resumes.
    """
    presets = _names(presets, "presets", PRESETS)
    if workers is None:
        workers = os.cpu_count() or 1
    workers = check_int(workers, "workers", minimum=1)
    configs = {p: [make_config(name, preset=p, seed=seed, trials=trials, methods=methods,
                               iters=iters, chunk_size=chunk_size,
                               reference_trials=reference_trials) for name in FIGURES]
               for p in presets}
    reports = {}
    for preset, preset_configs in configs.items():
        folder = Path(out) / preset
        start = time.perf_counter()
        run_figures(preset_configs, folder, workers=workers, scheduler=scheduler, fresh=fresh,
                    progress=progress)
        run = {"trials": trials, "wall_s": round(time.perf_counter() - start, 1),
               "where": (f"on the dask cluster at {scheduler}" if scheduler is not None
                         else f"with {workers} worker process{'es' if workers != 1 else ''}"),
               "blas": blas_name()}
        atomic_write(folder / RUN_FILE, json.dumps(run, indent=1).encode())
        reports[preset] = write_report(folder)
        if figures_dir is not None:
            target = Path(figures_dir)
            target.mkdir(parents=True, exist_ok=True)
            for name in FIGURES:
                png = folder / name / f"{name}.png"
                if png.exists():
                    shutil.copyfile(png, target / f"{preset}-{name}.png")
            shutil.copyfile(reports[preset], target / f"{preset}-REPORT.md")
    return reports
