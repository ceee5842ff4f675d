"""Where the time of an ``angd-np reproduce`` run went: wall time against solver time.

    python benchmarks/run_time.py results-1000/paper results-1000/balanced

For each preset folder of a finished run: the wall time (``reproduce.json``) and the solver
time, the per-instance ``time_s`` of every stored chunk summed by solver family. Two rules
make the sum the work that was done:

- a chunk that several figures share (``experiments.runner.share_tasks``) is stored in each
  with the same rows, ``time_s`` included: chunk files with the same bytes count once;
- a tracked sequence's row holds its mean time per frame (``experiments.framed``): it counts
  times the sequence's frames.

The last column is twice the wall time over the solver time: what the two worker processes'
time holds besides the solvers' (spawning, drawing the instances, storing, merging, plotting)
and the idle cores at the end.
"""

import argparse
import collections
import csv
import hashlib
import json
import os
import re
from pathlib import Path

FAMILIES = (("ANGD", "angd-"), ("CCPA", "ccpa"), ("reference", "reference"))


def family(method):
    return next((name for name, prefix in FAMILIES if method.startswith(prefix)), "other")


def solver_seconds(folder):
    """{family: seconds} over the chunk files under ``folder`` (module docstring)."""
    seen, out = set(), collections.Counter()
    for meta_file in sorted(Path(folder).glob("*/meta.json")):
        meta = json.loads(meta_file.read_text())
        frames = meta["identity"].get("frames")
        for chunk in sorted((meta_file.parent / "chunks").glob("*.csv")):
            data = chunk.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            xi, method = re.match(r"x(\d+)-(.+)-\d{6}-\d{6}$", chunk.stem).groups()
            per_row = frames[int(xi)]["n_frames"] if frames else 1
            rows = csv.DictReader(data.decode().splitlines())
            out[family(method)] += per_row * sum(float(r["time_s"]) for r in rows)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folders", nargs="+", help="preset folders of a reproduce run")
    args = ap.parse_args()
    print(f"# {os.cpu_count()} cores")
    print("| preset | wall time | solver time: ANGD's variants / CCPA / reference / other / "
          "all (min) | 2 x wall / solver time |")
    print("|---|---:|---|---:|")
    for folder in args.folders:
        run = json.loads((Path(folder) / "reproduce.json").read_text())
        wall = run["wall_s"]
        sec = solver_seconds(folder)
        parts = [sec[name] / 60 for name, _ in FAMILIES] + [sec["other"] / 60]
        total = sum(parts)
        print(f"| `{Path(folder).name}` | {int(wall // 60)} min {int(wall % 60)} s | "
              f"{' / '.join(f'{p:.1f}' for p in parts)} / {total:.1f} | "
              f"{2 * wall / 60 / total:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
