"""Reproduce everything: every figure for both presets, then a REPORT.md per preset.

    python scripts/reproduce_paper.py --trials 20            # a few minutes on 2 cores
    python scripts/reproduce_paper.py                        # 100 trials
    python scripts/reproduce_paper.py --trials 1000          # the paper's 10^3
    python scripts/reproduce_paper.py --figures-dir docs/figures   # + the docs' PNGs

The same as ``angd-np reproduce`` (``--help`` lists every option): it writes
``OUT/PRESET/NAME/`` for each figure and ``OUT/PRESET/REPORT.md``, with one worker process
per core unless ``--workers`` or ``--scheduler`` is given (results do not depend on the
number of workers). Interrupted? Run the same command again: finished chunks are kept.
From Python: ``angd_np.experiments.reproduce``.
"""

import sys

from angd_np.cli import main as cli_main


def main(argv=None) -> int:
    """Run ``angd-np reproduce`` with ``argv`` (default: this script's arguments)."""
    return cli_main(["reproduce", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    raise SystemExit(main())
