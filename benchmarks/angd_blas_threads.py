"""One ANGD solve with BLAS free to thread against held to one thread, alternated.

    python benchmarks/angd_blas_threads.py [--dtype float32] [--solves 11] [--rounds 2]

A solve that runs in the calling process holds every BLAS library loaded there to one thread
(``angd_np._parallel.one_blas_thread``, through threadpoolctl). "free" is the same solve with
the hold disabled, as without threadpoolctl: OpenBLAS then threads the larger products and the
Adam kernel cuts its BLAS calls into single-thread pieces (``_angd_adam.blas_may_thread``).
Both run in this process, alternately, so that a busy machine slows both alike. Prints the
median time of one ANGD-FCN paper-preset solve (M = 16, K = 2, T = 500) per round and mode.
Run it without ``OPENBLAS_NUM_THREADS`` set (else BLAS is on one thread either way).
"""

import argparse
import os
import statistics
import time

from _swap import swapped

import angd_np as an
from angd_np import _parallel


def _solve_ms(problem, dtype, solves):
    times = []
    for _ in range(solves):
        t0 = time.perf_counter()
        an.solve(problem, "angd-fcn", rng=1, threads=1, net_dtype=dtype)
        times.append(time.perf_counter() - t0)
    return 1e3 * statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--solves", type=int, default=11)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    if _parallel._blas_controller() is None:
        print("threadpoolctl is not installed: BLAS cannot be held here (pip install "
              "threadpoolctl); nothing to compare")
        return 0
    problem = an.Scenario.preset("paper").draw(1, rng=0)
    real = _parallel._blas_controller
    print(f"# {os.cpu_count()} cores; OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}; {args.dtype} networks")
    for r in range(args.rounds):
        row = {}
        for mode in ("free", "held"):
            with swapped(_parallel, "_blas_controller",
                         (lambda: None) if mode == "free" else real):
                _solve_ms(problem, args.dtype, 1)  # warm-up (the kernels, the controller)
                row[mode] = _solve_ms(problem, args.dtype, args.solves)
        print(f"round {r + 1}: free {row['free']:.1f} ms, held {row['held']:.1f} ms "
              f"({row['free'] / row['held']:.2f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
