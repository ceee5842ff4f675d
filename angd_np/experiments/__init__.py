"""Monte Carlo experiments: the paper's Figs. 2-4 and our additions, resumable and parallel.

- :mod:`.configs`  what each figure sweeps, which methods it runs, how it is drawn
- :mod:`.curves`   the per-trial curves a figure may store (beampattern, history)
- :mod:`.runner`   chunks of trials on 1..N processes or a dask cluster
- :mod:`.store`    the results folder: atomic chunk files, merged CSVs
- :mod:`.figures`  plots drawn from the stored CSVs (matplotlib, headless)
- :mod:`.report`   REPORT.md: our numbers beside the paper's claims
- :mod:`.reproduce` the main job: every figure and a report per preset

Nothing here is imported by ``import angd_np``; matplotlib and dask load only when used.
"""

from .configs import (
    ALL_METHODS,
    FIGURES,
    PAPER_METHODS,
    FigureSpec,
    RunConfig,
    make_config,
    register_figure,
    unregister_figure,
)
from .reproduce import reproduce
from .runner import run_figures
from .store import read_csv

__all__ = ["FIGURES", "FigureSpec", "PAPER_METHODS", "ALL_METHODS", "RunConfig", "make_config",
           "register_figure", "unregister_figure", "run_figures", "read_csv", "reproduce"]
