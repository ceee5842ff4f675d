"""Reproduce everything: every figure for both presets, then a REPORT.md per preset.

    python scripts/reproduce_paper.py --trials 20            # a few minutes on 2 cores
    python scripts/reproduce_paper.py                        # 100 trials
    python scripts/reproduce_paper.py --trials 1000          # the paper's 10^3
    python scripts/reproduce_paper.py --figures-dir docs/figures   # + the README PNGs

Writes ``OUT/PRESET/NAME/`` for each figure (see ``angd-np figure --help``) and
``OUT/PRESET/REPORT.md``. Every other option of ``angd-np figure`` is passed through
(--seed, --scheduler, --fresh, --methods, --iters, ...). Unlike ``angd-np figure``, whose
default is one process, this script uses one worker process per core unless ``--workers`` or
``--scheduler`` is given (results do not depend on the number of workers). Interrupted? Run
the same command again: finished chunks are kept.
"""

import argparse
import os
import shutil
import sys
from pathlib import Path

from angd_np.cli import main
from angd_np.experiments import FIGURES


def reproduce(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="results", help="results folder (default: results)")
    parser.add_argument("--presets", default="paper,balanced",
                        help="comma-separated presets (default: paper,balanced)")
    parser.add_argument("--figures-dir", default=None,
                        help="copy every PNG here as PRESET-NAME.png and the report as "
                        "PRESET-REPORT.md (the README's figures and results)")
    args, passthrough = parser.parse_known_args(argv)
    if not any(a.split("=")[0] in ("--workers", "--scheduler") for a in passthrough):
        passthrough += ["--workers", str(os.cpu_count() or 1)]
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        out = Path(args.out) / preset
        status = main(["figure", "all", "--preset", preset, "--out", str(out), *passthrough])
        if status == 0:
            status = main(["report", "--out", str(out)])
        if status != 0:
            return status
        if args.figures_dir:
            target = Path(args.figures_dir)
            target.mkdir(parents=True, exist_ok=True)
            for name in FIGURES:
                png = out / name / f"{name}.png"
                if png.exists():
                    shutil.copyfile(png, target / f"{preset}-{name}.png")
            shutil.copyfile(out / "REPORT.md", target / f"{preset}-REPORT.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(reproduce(sys.argv[1:]))
