r"""The reference solver's L-BFGS memory: time per instance and best f, memory 10 against more.

    python studies/reference_memory/reference_memory.py \
        # 50 instances per scenario
    python studies/reference_memory/reference_memory.py --instances 100 --memories 10,20,40,80

For each preset and a few (M, p_max) scenarios it solves the same instances with every memory
size (one process, BLAS on one thread) and prints, against the first memory size, the time
per instance and the relative difference of the reference's best f: how many instances end
better or worse by more than 1e-9 relative, and the extremes. The reference maximises f, so
"better" means a higher best-known optimum.
"""

import argparse
import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from angd_np import Scenario
from angd_np.solvers import solve

SCENARIOS = ((6, 30.0), (10, 24.0), (10, 36.0), (16, 30.0))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=50)
    parser.add_argument("--memories", default="10,40")
    parser.add_argument("--presets", default="paper,balanced")
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args(argv)
    memories = [int(m) for m in args.memories.split(",")]
    print(f"# {os.cpu_count()} cores; load {os.getloadavg()}; {args.instances} instances per "
          f"scenario; differences against memory {memories[0]}")
    print("| preset | M | p_max (dBm) | memory | ms per instance | L-BFGS iterations | "
          "better / worse (> 1e-9) | min / max relative difference |")
    print("|---|---:|---:|---:|---:|---:|---|---|")
    with threadpool_limits(1, user_api="blas"):  # as the package holds in-process solves
        for preset in args.presets.split(","):
            for M, p in SCENARIOS:
                problem = Scenario.preset(preset, n_tx=M, p_max_dbm=p).draw(
                    args.instances, np.random.default_rng(args.seed))
                base = None
                for memory in memories:
                    t0 = time.perf_counter()
                    res = solve(problem, "reference", rng=1, memory=memory)
                    ms = 1e3 * (time.perf_counter() - t0) / args.instances
                    base = res.csbf if base is None else base
                    rel = (res.csbf - base) / np.abs(base)
                    print(f"| {preset} | {M} | {p:g} | {memory} | {ms:.1f} | "
                          f"{res.nit.mean():.0f} | {(rel > 1e-9).sum()} / {(rel < -1e-9).sum()} "
                          f"| {rel.min():.1e} / {rel.max():.1e} |", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
