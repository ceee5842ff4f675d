"""Benchmark: ANGD at the paper's size (M = 16, K = 2, N = 4, T = 500, hidden 128).

Rows, for float64 and float32 update networks (``net_dtype``):

- ``single``: one instance solved alone, in this process (median of repeats, after a
  warm-up), the embedded use case;
- ``batch``: many instances in one call, on one process per core (``workers=None``: the
  default for a batch this size), without the state (``return_state=False``), in instances
  per second, pool start-up included;
- ``pgd``, ``adam``: the controls on the same batch, for scale;
- ``rss ...``: peak resident memory of a single solve and of a batch, each measured in a
  fresh Python process (its VmHWM, or ``resource.getrusage`` where /proc is missing), NumPy
  and the package included; for a batch also the largest worker's peak and the bound
  parent + workers × largest worker on the peak of their sum.

The JAX peer (``benchmarks/jax_peer.py``, jax installed by hand) times the same algorithm
beside these, interleaved in one run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np

from ..solvers import solve
from ..system import Scenario

_SIZE = dict(iters=500, hidden=128)
_DTYPES = ("float64", "float32")

# Linux keeps in ru_maxrss the high-water mark of the process image replaced by exec, i.e.
# of the forking parent (this benchmark, tens of MB), so the child reads the peak of its own
# address space, VmHWM, from /proc when it can, and getrusage otherwise. RUSAGE_CHILDREN
# gives the largest peak among the worker processes it waited for.
_RSS_SCRIPT = """
import json, os, resource, sys
import angd_np as an
n, dtype, keep = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
if n:
    problem = an.Scenario.preset("paper").draw(n, rng=0)
    an.solve(problem, "angd-fcn", rng=1, iters=500, hidden=128, net_dtype=dtype,
             return_state=keep)
try:
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"self": kib, "child": child}))
"""


def _peak_rss_mb(n_instances: int, dtype="float64", keep_state=False) -> dict:
    """Peak RSS (MB) of a fresh Python that imports angd_np and solves ``n_instances``."""
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(n_instances), dtype,
                          "1" if keep_state else "0"],
                         capture_output=True, text=True, check=True)
    kib = json.loads(out.stdout.strip().splitlines()[-1])
    return {k: v / 1024.0 for k, v in kib.items()}  # KiB -> MiB


def _time_solve(problem, method, repeats, **options):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        solve(problem, method, rng=1, **options)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(quick: bool = False) -> list[dict]:
    """Measure the rows described in the module docstring (``quick``: smaller batches)."""
    cores = os.cpu_count() or 1
    rows = []
    scenario = Scenario.preset("paper")
    one = scenario.draw(1, rng=0)
    n = 64 if quick else 1000
    batch = scenario.draw(n, rng=0)
    for dtype in _DTYPES:
        solve(one, "angd-fcn", rng=1, iters=20, hidden=128, net_dtype=dtype)  # warm-up
        t = _time_solve(one, "angd-fcn", 3 if quick else 7, net_dtype=dtype, **_SIZE)
        rows.append(dict(case=f"single {dtype}", instances=1, processes=1, seconds=t,
                         ms_per_instance=1e3 * t, instances_per_s=1.0 / t))
    for dtype in _DTYPES:
        t = _time_solve(batch, "angd-fcn", 1, net_dtype=dtype, return_state=False, **_SIZE)
        rows.append(dict(case=f"batch {dtype}", instances=n, processes=cores, seconds=t,
                         ms_per_instance=1e3 * t / n, instances_per_s=n / t))
    for method in ("pgd", "adam"):
        t = _time_solve(batch, method, 1, iters=500)
        rows.append(dict(case=method, instances=n, processes=1, seconds=t,
                         ms_per_instance=1e3 * t / n, instances_per_s=n / t))
    rows.append(dict(case="rss import only", instances=0, **_rss_cells(_peak_rss_mb(0), 0)))
    for dtype in _DTYPES:
        for count in (1, n):
            workers = cores if count > 1 else 0
            rows.append(dict(case=f"rss solve {count} {dtype}", instances=count,
                             **_rss_cells(_peak_rss_mb(count, dtype), workers)))
    rows.append(dict(case=f"rss solve {n} float64, with state", instances=n,
                     **_rss_cells(_peak_rss_mb(n, "float64", keep_state=True), cores)))
    return rows


def _rss_cells(rss, workers):
    total = rss["self"] + workers * rss["child"]
    return dict(peak_rss_mb=rss["self"], worker_rss_mb=rss["child"] if workers else None,
                total_rss_mb=total)


def format_rows(rows) -> str:
    lines = ["| case | instances | processes | seconds | ms per instance | instances/s "
             "| peak RSS (MB) | largest worker (MB) | parent + workers (MB) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['instances']} | {_cell(r, 'processes', 'd')} | "
                     f"{_cell(r, 'seconds', '.3f')} | {_cell(r, 'ms_per_instance', '.1f')} | "
                     f"{_cell(r, 'instances_per_s', '.1f')} | {_cell(r, 'peak_rss_mb', '.1f')} |"
                     f" {_cell(r, 'worker_rss_mb', '.1f')} | {_cell(r, 'total_rss_mb', '.1f')} |")
    return "\n".join(lines)


def _cell(row, key, fmt):
    return format(row[key], fmt) if row.get(key) is not None else ""
