"""Benchmarks of angd_np: ``python benchmarks/bench.py [--quick] [SECTION ...]``.

Sections: nn, objective, angd, baselines, tracking, runner (all by default). Prints the
machine's core count first; the README records the numbers with this command.
"""

import argparse

from angd_np.bench import SECTIONS, run

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sections", nargs="*", choices=[[], *SECTIONS], metavar="SECTION",
                        help=f"any of {', '.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="fewer sizes and repeats")
    args = parser.parse_args()
    raise SystemExit(run(args.sections, quick=args.quick))
