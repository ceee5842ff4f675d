"""Worker processes that do not oversubscribe the cores.

Every process pool of the package (the Monte Carlo runner's, ANGD's own) runs one process
per core, each with BLAS on one thread: the matrices are small, and N processes of one
thread beat N processes of N threads fighting over N cores. BLAS libraries read their thread
count once, when the worker process imports NumPy, so the variables must be set while the
pool starts its workers (:func:`one_blas_thread_env`).
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["BLAS_ENV", "one_blas_thread_env"]

#: The environment variables through which BLAS/OpenMP libraries take their thread count.
BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
            "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


@contextlib.contextmanager
def one_blas_thread_env():
    """Set the BLAS thread variables to 1 while worker processes start, then restore them."""
    saved = {k: os.environ.get(k) for k in BLAS_ENV}
    os.environ.update({k: "1" for k in BLAS_ENV})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
