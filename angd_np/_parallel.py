"""Worker processes that do not oversubscribe the cores.

Every process pool of the package (the Monte Carlo runner's, ANGD's own) runs one process
per core, each with BLAS on one thread: the matrices are small, and N processes of one
thread beat N processes of N threads fighting over N cores. BLAS libraries read their thread
count once, when the worker process imports NumPy, so the variables must be set while the
pool starts its workers (:func:`one_blas_thread_env`).

In the calling process itself (a solve that runs here),
:func:`one_blas_thread` holds the BLAS libraries already loaded to one thread for the
duration, through threadpoolctl when it is installed (it comes with the ``cvx`` extra). Why it
matters even for one solve on an idle machine: OpenBLAS threads a gemv above 9,216 entries
(its ``interface/gemv.c``: 2304 × GEMM_MULTITHREAD_THRESHOLD, 4 by default) and a rank-one
update above 8,192 (measured, ``_angd_adam.GER_PIECE``), and waking its threads costs more
than it saves at ANGD's sizes (one float32 paper-preset solve: 43.4-45.6 ms with BLAS free,
40.4-40.9 ms held to one thread, ``benchmarks/angd_blas_threads.py``).
"""

from __future__ import annotations

import atexit
import contextlib
import os
import sys

__all__ = ["BLAS_ENV", "one_blas_thread_env", "one_blas_thread", "blas_held", "shared_pool",
           "submit_all", "live_pool", "close_pools"]

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


_held = 0  # > 0 while one_blas_thread() holds this process's BLAS to one thread
_controller = [None, None]  # (threadpoolctl controller, the BLAS modules it was built after)


def _blas_controller():
    """A threadpoolctl controller that knows every BLAS loaded now, or None without it.

    A controller lists the libraries loaded when it is built, so it is rebuilt once scipy's
    BLAS (a second OpenBLAS) has been imported since; building one costs ~0.6 ms.
    """
    try:
        import threadpoolctl
    except ImportError:
        return None
    key = "scipy.linalg.blas" in sys.modules
    if _controller[0] is None or _controller[1] != key:
        _controller[:] = [threadpoolctl.ThreadpoolController(), key]
    return _controller[0]


@contextlib.contextmanager
def one_blas_thread():
    """Hold the BLAS libraries loaded in this process to one thread while the block runs.

    Yields True when they are held (threadpoolctl installed), False otherwise (a no-op).
    Load the libraries first (import scipy's BLAS before entering, if it will be used): a
    library loaded inside the block is not held. While held, :func:`blas_held` is True.
    """
    global _held
    controller = _blas_controller()
    if controller is None:
        yield False
        return
    with controller.limit(limits=1):  # BLAS and OpenMP alike
        _held += 1
        try:
            yield True
        finally:
            _held -= 1


def blas_held() -> bool:
    """True inside :func:`one_blas_thread` (when it could hold BLAS to one thread)."""
    return _held > 0


# --- A process pool that lives across calls ---------------------------------------------------
#
# Starting spawn workers (Python, NumPy, angd_np, scipy's BLAS) costs ~0.3-0.5 s a call, more
# than a batch of ten ANGD instances takes on one core; a pool kept between calls pays it once
# (studies/angd_speed). At most one pool is kept (a request for another size replaces it), it
# is shut down at interpreter exit, and a forked child never touches its parent's workers.

_pool = [None, None, 0]  # [executor, pid of the process that started it, its worker count]


def live_pool():
    """The worker count of the pool this process keeps (0: none alive)."""
    pool, pid, size = _pool
    if pool is None or pid != os.getpid() or getattr(pool, "_broken", False):
        return 0
    return size


def shared_pool(processes: int, initializer=None):
    """A ``ProcessPoolExecutor`` of ``processes`` spawn workers, kept for later calls.

    The first call starts it (each worker with BLAS on one thread); later calls with the same
    count get the same pool back. Another count shuts the kept pool down and starts a new
    one. The pool is shut down at interpreter exit (:func:`close_pools`).

    Parameters
    ----------
    processes : int
        Worker processes, >= 1.
    initializer : callable, optional
        Run once in each worker when it starts (picklable, e.g. a module-level function).
    """
    if live_pool() == processes:
        return _pool[0]
    close_pools()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn, as the Monte Carlo runner: no fork of a process that may hold threads.
    pool = ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("spawn"),
                               initializer=initializer)
    _pool[:] = [pool, os.getpid(), processes]
    return pool


def submit_all(pool, fn, items):
    """Futures of ``fn(item)`` for each item, submitted with the BLAS variables at one
    thread: a spawn pool starts its workers when tasks arrive, and a worker's BLAS reads
    its thread count from the environment it is started with."""
    with one_blas_thread_env():
        return [pool.submit(fn, item) for item in items]


def close_pools(wait: bool = True):
    """Shut down the pool this process keeps, if any (its workers exit; registered with
    ``atexit``). A forked child only forgets its parent's pool: the workers are not its."""
    pool, pid, _ = _pool
    _pool[:] = [None, None, 0]
    if pool is not None and pid == os.getpid():
        pool.shutdown(wait=wait, cancel_futures=True)


atexit.register(close_pools)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _pool.__setitem__(slice(None), [None, None, 0]))
