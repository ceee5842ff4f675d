"""Paper Fig. 2: beampattern over +-90 degrees for M = 16 and M = 8.

Same as ``angd-np figure fig2 [options]``; every option of that command works here, e.g.
``python scripts/fig2.py --trials 1000 --workers 2 --out results``. Writes
results/fig2/{results.csv,summary.csv,meta.json,fig2.png,fig2.pdf}; re-running resumes.
"""

import sys

from angd_np.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["figure", "fig2", *sys.argv[1:]]))
