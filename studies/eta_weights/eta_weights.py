"""How well the progress's chunk weights predict a chunk's time, with and without the size
factor (``angd_np.experiments.runner.size_factor``).

For every stored chunk of a finished run (``--out``, a preset's folder of
``angd-np reproduce``), the chunk's solver time (the sum of its rows' ``time_s``) is divided by
its predicted weight, once as the runner plans it now and once without the size factor.
Per solver, the standard deviation of log(seconds / weight) says how far one chunk's time is
from what its weight predicts: the ETA fits one rate per solver, so the smaller, the better.
Sequences (tracking, budget) are left out (their weights sum frames).

    python studies/eta_weights/eta_weights.py --out results-1000/paper --preset paper
"""

from __future__ import annotations

import argparse
import csv
import math
import statistics
from collections import defaultdict
from pathlib import Path

from angd_np.experiments import FIGURES, make_config
from angd_np.experiments.runner import plan_tasks, size_factor


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="a preset's folder of a finished run")
    ap.add_argument("--preset", required=True)
    ap.add_argument("--trials", type=int, default=1000, help="the run's --trials")
    args = ap.parse_args(argv)
    logs = defaultdict(lambda: ([], []))
    for name in FIGURES:
        tasks, _ = plan_tasks(make_config(name, preset=args.preset, trials=args.trials))
        for task in tasks:
            path = Path(args.out) / name / "chunks" / f"{task['key']}.csv"
            if task.get("frames") is not None or not path.exists():
                continue
            with open(path, newline="") as fh:
                seconds = sum(float(row["time_s"]) for row in csv.DictReader(fh))
            if seconds <= 0:
                continue
            new = task["weight"]
            old = new / size_factor(task["scenario"]["n_tx"], task["scenario"]["n_users"])
            logs[task["solver"]][0].append(math.log(seconds / old))
            logs[task["solver"]][1].append(math.log(seconds / new))
    print("| solver | chunks | spread without the size factor | with it |\n|---|---|---|---|")
    for solver, (old, new) in sorted(logs.items()):
        if len(old) > 1:
            print(f"| {solver} | {len(old)} | {statistics.pstdev(old):.2f} | "
                  f"{statistics.pstdev(new):.2f} |")


if __name__ == "__main__":
    main()
