"""Reproduce everything: all figures, then REPORT.md.

    python scripts/reproduce_paper.py                        # 100 trials, a few minutes
    python scripts/reproduce_paper.py --trials 1000 --workers 2 --out results-1000   # the paper's

Every option of ``angd-np figure`` works (--preset, --seed, --scheduler, --fresh, ...).
Interrupted? Run the same command again: finished chunks are kept.
"""

import argparse
import sys

from angd_np.cli import main

if __name__ == "__main__":
    finder = argparse.ArgumentParser(add_help=False)
    finder.add_argument("--out", default="results")
    out = finder.parse_known_args(sys.argv[1:])[0].out
    status = main(["figure", "all", *sys.argv[1:]])
    if status == 0:
        status = main(["report", "--out", out])
    raise SystemExit(status)
