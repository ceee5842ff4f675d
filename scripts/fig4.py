"""Paper Fig. 4: sum rate against transmit power (20 to 40 dBm) at M = 10.

Same as ``angd-np figure fig4 [options]``; every option of that command works here, e.g.
``python scripts/fig4.py --trials 1000 --workers 2 --out results``. Writes
results/fig4/{results.csv,summary.csv,meta.json,fig4.png,fig4.pdf}; re-running resumes.
"""

import sys

from angd_np.cli import main

if __name__ == "__main__":
    raise SystemExit(main(["figure", "fig4", *sys.argv[1:]]))
