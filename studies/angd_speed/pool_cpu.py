"""CPU time of a batch solved in this process against the same batch on the kept pool.

On a machine shared with other jobs, wall time says how the scheduler shared the cores, not
what a batch costs; CPU time does. For n instances of tuned ANGD-FCN (balanced, M = 16,
K = 2, ``tol=None`` so that both runs do the same iterations), interleaved: ``workers=1``
(this process's CPU time) and ``workers=2`` on the pool kept from a first call (this
process's CPU time plus the workers', read from /proc: Linux only; the pool's workers are
this process's child processes).

    PYTHONPATH=. python studies/angd_speed/pool_cpu.py --n 24 --reps 3
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import time

import angd_np as an


def cpu_of(pids):
    """User + system CPU seconds of the processes ``pids`` so far."""
    tick = os.sysconf("SC_CLK_TCK")
    return sum(sum(int(x) for x in open(f"/proc/{pid}/stat").read().split()[13:15])
               for pid in pids) / tick


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=24)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    problem = an.Scenario.preset("balanced").draw_trials(0, range(args.n))

    def run(**kw):
        t, c = time.perf_counter(), time.process_time()
        an.solve(problem, "angd-fcn", variant="tuned", tol=None, return_state=False,
                 rng=[an.trial_generator(0, i, 2) for i in range(args.n)], **kw)
        return time.perf_counter() - t, time.process_time() - c

    run(workers=2)  # starts the pool
    pids = [p.pid for p in multiprocessing.active_children()]
    rows = []
    for _ in range(args.reps):
        wall1, cpu1 = run(workers=1)
        before = cpu_of(pids)
        wall2, main2 = run(workers=2)
        rows.append((wall1, cpu1, wall2, main2 + cpu_of(pids) - before))
        print(f"w=1: wall {wall1:.2f} s, CPU {cpu1:.2f} s | w=2 (kept pool): wall {wall2:.2f} s, "
              f"CPU (this process + workers) {rows[-1][3]:.2f} s; load "
              f"{os.getloadavg()[0]:.1f}", flush=True)
    med = [statistics.median(r[i] for r in rows) for i in range(4)]
    print(f"n = {args.n}, {os.cpu_count()} cores, medians per instance: w=1 wall "
          f"{1000 * med[0] / args.n:.1f} ms, CPU {1000 * med[1] / args.n:.1f} ms; w=2 wall "
          f"{1000 * med[2] / args.n:.1f} ms, CPU {1000 * med[3] / args.n:.1f} ms; CPU ratio "
          f"w=2 / w=1 {statistics.median(r[3] / r[1] for r in rows):.2f}")


if __name__ == "__main__":
    main()
