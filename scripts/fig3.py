"""Paper Fig. 3: sum rate against the number of antennas M (4 to 16).

Same as ``angd-np figure fig3 [options]``; every option of that command works here, e.g.
``python scripts/fig3.py --trials 1000 --workers 2 --out results``. Writes
results/fig3/{results.csv,summary.csv,meta.json,fig3.png,fig3.pdf}; re-running resumes.
"""

import sys

from angd_np.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["figure", "fig3", *sys.argv[1:]]))
