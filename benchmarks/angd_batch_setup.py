"""What a batch of short ANGD chains costs per instance in this process: mostly set-up.

    python benchmarks/angd_batch_setup.py [--rounds 3]

Tuned ANGD at 2 iterations (``pilot=1, iters=1``: what the paper scenario's held-out
instances need, their start being at the target already), one batch per call solved in this
process (``workers=1``, BLAS held to one thread), ``return_state=False``; trials 0..n-1 of
seed 7 at (16, 2), (32, 4) and (64, 8) in both presets. What is timed is the chains' set-up:
the start the rate headroom picks (and both chains where it calls for both), each chain's
network draw, the channel metric, the buffers. Median ms per instance over ``--rounds``
calls. To compare two versions of the package, run this script under each (``PYTHONPATH``)
alternately: the numbers of one run are only comparable with another's on the same machine
and load.
"""

import argparse
import os
import statistics
import time

import numpy as np

import angd_np as an
from angd_np.solvers.linear import beam_headroom

SIZES = ((16, 2, 100), (32, 4, 40), (64, 8, 10))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    # (A solve in this process holds BLAS to one thread itself, through threadpoolctl.)
    print(f"# {os.cpu_count()} cores; numpy {np.__version__}, angd_np {an.__version__}; "
          f"load {os.getloadavg()[0]:.1f}")
    print("| preset | (M, K) | instances | chains | method | ms per instance |")
    print("|---|---|---:|---:|---|---:|")
    for preset in ("paper", "balanced"):
        for M, K, n in SIZES:
            problem = an.Scenario.preset(preset, n_tx=M, n_users=K).draw_trials(7, range(n))
            q = beam_headroom(problem)
            chains = int(n + ((q > 0.01) & (q <= 0.1)).sum())  # the tuned preset's headroom
            for method in ("angd-fcn", "angd-cnn") if M <= 16 else ("angd-fcn",):
                opts = dict(variant="tuned", pilot=1, iters=1, workers=1, return_state=False)
                an.solve(problem[:2], method, rng=0, **opts)  # imports, kernels
                times = []
                for _ in range(args.rounds):
                    rngs = [an.trial_generator(7, t, 2) for t in range(n)]
                    t0 = time.perf_counter()
                    an.solve(problem, method, rng=rngs, **opts)
                    times.append(1e3 * (time.perf_counter() - t0) / n)
                print(f"| {preset} | ({M}, {K}) | {n} | {chains} | {method} | "
                      f"{statistics.median(times):.3f} |", flush=True)


if __name__ == "__main__":
    main()
