"""Monte Carlo experiments: the paper's Figs. 2-4 and our additions, resumable and parallel.

- :mod:`.configs`  what each figure sweeps and which methods it runs
- :mod:`.runner`   chunks of trials on 1..N processes or a dask cluster
- :mod:`.store`    the results folder: atomic chunk files, merged CSVs
- :mod:`.figures`  plots drawn from the stored CSVs (matplotlib, headless)
- :mod:`.report`   REPORT.md: our numbers beside the paper's claims

Nothing here is imported by ``import angd_np``; matplotlib and dask load only when used.
"""

from .configs import ALL_METHODS, FIGURES, PAPER_METHODS, RunConfig, make_config
from .runner import run_figures

__all__ = ["FIGURES", "PAPER_METHODS", "ALL_METHODS", "RunConfig", "make_config", "run_figures"]
