"""Benchmark: ANGD-FCN at the paper's size (M = 16, K = 2, N = 4, T = 500, hidden 128).

Rows:

- ``single``: one instance solved alone (median of repeats, after a warm-up), the embedded
  use case;
- ``batch``: many instances in one call, chunked and threaded as by default, in instances
  per second;
- ``chunk=c``: the batch throughput for other chunk sizes (how ``DEFAULT_CHUNK`` was chosen);
- ``pgd``, ``adam``: the controls on the same batch, for scale;
- ``rss ...``: peak resident memory of a single solve and of a batch, each measured in a
  fresh Python process (its VmHWM, or ``resource.getrusage`` where /proc is missing), NumPy
  and the package included.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import numpy as np

from ..solvers import solve
from ..solvers.angd import DEFAULT_CHUNK
from ..system import Scenario

_SIZE = dict(iters=500, hidden=128)

# Linux keeps in ru_maxrss the high-water mark of the process image replaced by exec, i.e.
# of the forking parent (this benchmark, tens of MB), so the child reads the peak of its own
# address space, VmHWM, from /proc when it can, and getrusage otherwise.
_RSS_SCRIPT = """
import resource, sys
import angd_np as an
n = int(sys.argv[1])
if n:
    problem = an.Scenario.preset("paper").draw(n, rng=0)
    an.solve(problem, "angd-fcn", rng=1, iters=500, hidden=128)
try:
    with open("/proc/self/status") as fh:
        kib = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(kib)
"""


def _peak_rss_mb(n_instances: int) -> float:
    """Peak RSS (MB) of a fresh Python that imports angd_np and solves ``n_instances``."""
    out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(n_instances)],
                         capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0  # KiB -> MiB


def _time_solve(problem, method, repeats, **options):
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        solve(problem, method, rng=1, **options)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run(quick: bool = False) -> list[dict]:
    """Measure the rows described in the module docstring (``quick``: smaller batches)."""
    threads = os.cpu_count() or 1
    rows = []
    scenario = Scenario.preset("paper")
    one = scenario.draw(1, rng=0)
    solve(one, "angd-fcn", rng=1, iters=20, hidden=128)  # warm-up (imports, allocator)
    t = _time_solve(one, "angd-fcn", 3 if quick else 7, **_SIZE)
    rows.append(dict(case="single", instances=1, chunk=1, threads=1, seconds=t,
                     ms_per_instance=1e3 * t, instances_per_s=1.0 / t))
    n = 64 if quick else 1000
    batch = scenario.draw(n, rng=0)
    t = _time_solve(batch, "angd-fcn", 1, **_SIZE)
    rows.append(dict(case="batch", instances=n, chunk=DEFAULT_CHUNK, threads=threads,
                     seconds=t, ms_per_instance=1e3 * t / n, instances_per_s=n / t))
    if not quick:
        sweep = scenario.draw(64, rng=0)
        for chunk in (1, 2, 4, 16, 32):
            t = _time_solve(sweep, "angd-fcn", 1, chunk=chunk, **_SIZE)
            rows.append(dict(case=f"chunk={chunk}", instances=64, chunk=chunk, threads=threads,
                             seconds=t, ms_per_instance=1e3 * t / 64, instances_per_s=64 / t))
    for method in ("pgd", "adam"):
        t = _time_solve(batch, method, 1, iters=500)
        rows.append(dict(case=method, instances=n, chunk=n, threads=1, seconds=t,
                         ms_per_instance=1e3 * t / n, instances_per_s=n / t))
    for count in (0, 1, n):
        label = "rss import only" if count == 0 else f"rss solve {count}"
        rows.append(dict(case=label, instances=count, peak_rss_mb=_peak_rss_mb(count)))
    return rows


def format_rows(rows) -> str:
    lines = ["| case | instances | chunk | threads | seconds | ms per instance | instances/s "
             "| peak RSS (MB) |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['case']} | {r['instances']} | {_cell(r, 'chunk', 'd')} | "
                     f"{_cell(r, 'threads', 'd')} | {_cell(r, 'seconds', '.3f')} | "
                     f"{_cell(r, 'ms_per_instance', '.1f')} | "
                     f"{_cell(r, 'instances_per_s', '.1f')} | {_cell(r, 'peak_rss_mb', '.1f')} |")
    return "\n".join(lines)


def _cell(row, key, fmt):
    return format(row[key], fmt) if key in row else ""
