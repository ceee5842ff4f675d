"""Regenerate the shipped banks: 100 instances of each preset at M = 10 and M = 16.

    python scripts/make_bank.py                 # all four, into angd_np/data/
    python scripts/make_bank.py --only paper-m10

Each bank is exactly ``angd-np bank --preset P --instances 100 --seed 0 --n-tx M --out
angd_np/data/bank-P-mM.npz --mat angd_np/data/bank-P-mM.mat`` (the command is stored in the
file, and ``tests/test_bank.py`` checks that it regenerates the same instances).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from angd_np.bank import SHIPPED, shipped
from angd_np.cli import main

INSTANCES, SEED = 100, 0


def command(name: str) -> list[str]:
    """The ``angd-np bank`` arguments of one shipped bank."""
    preset, m = name.split("-m")
    return ["bank", "--preset", preset, "--instances", str(INSTANCES), "--seed", str(SEED),
            "--n-tx", m, "--out", str(shipped(name)), "--mat", str(shipped(name, ".mat"))]


def run(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=SHIPPED, default=list(SHIPPED),
                        help="which banks (default: all four)")
    args = parser.parse_args(argv)
    for name in args.only:
        argv = command(name)
        print(f"$ angd-np {' '.join(argv)}", flush=True)
        t0 = time.perf_counter()
        status = main(argv)
        if status:
            return status
        sizes = ", ".join(f"{p.name} {p.stat().st_size / 1024:.0f} KiB"
                          for p in (shipped(name), shipped(name, ".mat")))
        print(f"{name}: {time.perf_counter() - t0:.0f} s; {sizes}", flush=True)
    total = sum(Path(shipped(n, s)).stat().st_size for n in SHIPPED for s in (".npz", ".mat")
                if Path(shipped(n, s)).exists())
    print(f"shipped banks: {total / 1024:.0f} KiB in all")
    return 0


if __name__ == "__main__":
    sys.exit(run())
