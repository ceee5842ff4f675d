"""The Monte Carlo runner: (trial x x-value x method) work in chunks, on 1..N processes or dask.

Work unit
---------
A *chunk* is one x-value, one method and a block of consecutive trials (``chunk_size``, 25 by
default). It is solved as one batch (ANGD and the gradient methods are much faster per instance
in a batch) and stored as one file. Trial i of a run with seed s always gets the channel of
``trial_generator(s, i, 0)`` and solver randomness from ``trial_generator(s, i, 1)``; chunk
boundaries depend only on ``chunk_size``. So a chunk's numbers are the same whichever process,
machine or order computes it, and any number of workers gives identical files.

Backends
--------
- ``workers=1``: in this process.
- ``workers=N``: a ``concurrent.futures.ProcessPoolExecutor`` (spawn context). Each worker pins
  BLAS to one thread (the matrices are small; N processes of one thread beat oversubscription)
  and ignores Ctrl-C so that only the parent handles it.
- ``scheduler="tcp://host:8786"``: the same chunks on a dask.distributed cluster.

Only the parent writes files, chunk by chunk, as results arrive (see :mod:`.store`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import os
import re
import signal
import sys
from pathlib import Path

import numpy as np

from .. import __version__
from ..objective import beampattern
from ..solvers import SOLVERS, solve
from ..system import Scenario, trial_generator, ula_steering
from ..units import deg_to_rad
from .configs import ITERATIVE, RunConfig
from .progress import Progress
from .store import Store

__all__ = ["run_figures", "plan_tasks", "run_chunk", "check_scheduler", "PATTERN_GRID_DEG",
           "versions"]

#: Angles of the fig2 beampattern, degrees (1-degree steps over +-90).
PATTERN_GRID_DEG = np.linspace(-90.0, 90.0, 181)

#: Rough relative cost of one instance, for the ETA and for starting long chunks first.
_COST = {"zf": 0.02, "mmse": 0.02, "pgd": 1.0, "adam": 1.0, "angd-fcn": 3.0, "angd-cnn": 6.0,
         "ccpa": 30.0, "reference": 30.0}
#: Solvers with their own thread pool (option ``threads``; results do not depend on it).
_THREADED = ("angd-fcn", "angd-cnn")
_BLAS_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
             "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")
_SCHEDULER_RE = re.compile(r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:/]*[A-Za-z0-9\]]$")


# -- one chunk ------------------------------------------------------------------------------
def plan_tasks(config: RunConfig) -> tuple[list[dict], list]:
    """All chunks of a run, and the merge plan ``[(x, method, [keys])]`` in output order.

    Each task is a plain dict (picklable, JSON-able) holding everything :func:`run_chunk`
    needs, so it can be shipped to another process or machine.
    """
    spec, size = config.spec, config.chunk_size
    tasks, plan = [], []
    for xi, x in enumerate(spec.x_values):
        scenario = dataclasses.asdict(config.scenario(x))
        for method, (solver, options) in config.calls().items():
            n = config.method_trials(method)
            keys = []
            for start, stop in [(s, min(s + size, n)) for s in range(0, n, size)]:
                key = f"x{xi:02d}-{method}-{start:06d}-{stop:06d}"
                keys.append(key)
                tasks.append({
                    "figure": config.figure, "key": key, "x": x, "method": method,
                    "solver": solver, "options": options, "scenario": scenario,
                    "seed": config.seed, "start": start, "stop": stop,
                    "curves": spec.curves,
                    "weight": _COST.get(solver, 1.0) * (stop - start),
                })
            plan.append((x, method, keys))
    plan.sort(key=lambda item: item[0])  # by x; methods keep their configured order
    return tasks, plan


_THREADPOOL_CONTROLLER = None


@contextlib.contextmanager
def _one_blas_thread():
    """Limit BLAS/OpenMP to one thread (threadpoolctl if installed, else a no-op)."""
    global _THREADPOOL_CONTROLLER
    try:
        import threadpoolctl
    except ImportError:
        yield
        return
    if _THREADPOOL_CONTROLLER is None:
        _THREADPOOL_CONTROLLER = threadpoolctl.ThreadpoolController()
    with _THREADPOOL_CONTROLLER.limit(limits=1):
        yield


def _fill_forward(history: np.ndarray) -> np.ndarray:
    """Replace the NaN padding after an early stop by the last finite value (the iterate
    stays where it stopped)."""
    h = np.array(history, dtype=np.float64)
    for j in range(1, h.shape[-1]):
        gap = np.isnan(h[..., j])
        h[..., j][gap] = h[..., j - 1][gap]
    return h


def run_chunk(task: dict) -> dict:
    """Solve one chunk; returns ``{"key", "figure", "rows", "curves", "weight"}``."""
    with _one_blas_thread():
        scenario = Scenario(**task["scenario"])
        trials = np.arange(task["start"], task["stop"])
        problem = scenario.draw_trials(task["seed"], trials)
        rngs = [trial_generator(task["seed"], int(t), 1) for t in trials]
        options = dict(task["options"])
        if task.get("one_thread") and task["solver"] in _THREADED:
            # The runner already runs one chunk per core; inner threads would oversubscribe.
            options["threads"] = 1
        res = solve(problem, task["solver"], rng=rngs, **options)
        curves = None
        if task["curves"] == "pattern":
            grid = ula_steering(deg_to_rad(PATTERN_GRID_DEG), scenario.n_tx)
            curves = beampattern(res.W, grid)
        elif (task["curves"] == "history" and task["solver"] in ITERATIVE
              and res.history is not None):
            curves = _fill_forward(res.history)
    rows = {"trial": trials, "sum_rate": res.sum_rate, "sensing": res.sensing,
            "csbf": res.csbf, "nit": res.nit,
            "success": np.ones(len(trials), bool) if res.success is None else res.success,
            "time_s": res.time_s}
    return {"key": task["key"], "figure": task["figure"], "rows": rows, "curves": curves,
            "weight": task["weight"]}


# -- backends --------------------------------------------------------------------------------
def _worker_init():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ImportError):
        import threadpoolctl

        threadpoolctl.threadpool_limits(1)


@contextlib.contextmanager
def _blas_env():
    """Set the BLAS thread variables while worker processes start (they read them at import)."""
    saved = {k: os.environ.get(k) for k in _BLAS_ENV}
    os.environ.update({k: "1" for k in _BLAS_ENV})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _serial(tasks):
    for task in tasks:
        yield run_chunk(task)


def _pool(tasks, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with _blas_env():
        pool = ProcessPoolExecutor(workers, mp_context=context, initializer=_worker_init)
        futures = [pool.submit(run_chunk, t) for t in tasks]
    try:
        for future in as_completed(futures):
            yield future.result()
    except BaseException:
        # Ctrl-C, a failed chunk or the consumer stopping: do not wait for chunks in flight.
        # The worker list is taken first: shutdown() sets the pool's _processes to None.
        processes = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        raise
    pool.shutdown()


def check_scheduler(address: str) -> str:
    """Validate the form of a dask scheduler address (``tcp://host:port`` or ``host:port``)."""
    if not isinstance(address, str) or not _SCHEDULER_RE.match(address) or (
            "://" not in address and ":" not in address):
        raise ValueError(f"scheduler must be an address like tcp://host:8786, got {address!r}")
    return address


def connect(address: str, timeout_s: float = 10.0):
    """A ``distributed.Client`` connected to ``address``."""
    check_scheduler(address)
    try:
        import distributed
    except ImportError:
        raise ImportError(
            "--scheduler needs dask.distributed: pip install 'angd_np[dist]'") from None
    try:
        return distributed.Client(address, timeout=f"{timeout_s}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        raise ValueError(f"scheduler: could not connect to {address!r} ({exc})") from None


def _dask(tasks, client):
    import distributed

    futures = [client.submit(run_chunk, t, pure=False) for t in tasks]
    try:
        for future in distributed.as_completed(futures, loop=client.loop):
            yield future.result()
    except BaseException:
        client.cancel(futures)
        raise


# -- a whole run ------------------------------------------------------------------------------
def versions() -> dict:
    """Versions of Python, angd_np and the libraries that can change the numbers."""
    from importlib import metadata

    out = {"python": sys.version.split()[0], "angd_np": __version__}
    for name in ("numpy", "scipy", "cvxpy", "clarabel", "scs", "matplotlib", "dask",
                 "distributed", "threadpoolctl"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def run_figures(configs, out, *, workers: int = 1, scheduler: str | None = None,
                fresh: bool = False, plot: bool = True, progress: bool | None = None,
                on_chunk=None) -> dict:
    """Run (or resume) figure runs into ``out/NAME/`` and write their CSVs and plots.

    Parameters
    ----------
    configs : list of RunConfig
    out : path-like
        Parent folder; each figure gets ``out/NAME``.
    workers : int
        Processes (1: this process). Ignored with ``scheduler``.
    scheduler : str, optional
        Address of a dask.distributed scheduler.
    fresh : bool
        Discard earlier results in the figure folders instead of refusing a changed
        configuration.
    plot : bool
        Draw NAME.png and NAME.pdf (needs matplotlib).
    progress : bool, optional
        Force the progress bar on or off (default: only when stderr is a terminal).
    on_chunk : callable, optional
        Called with each finished chunk's key after it is stored (tests use it to interrupt).

    Returns
    -------
    dict name -> Path of the figure folder.

    Raises
    ------
    ValueError
        A changed configuration without ``fresh``, or a bad scheduler address.
    KeyboardInterrupt
        Propagated after the finished chunks are safely stored.
    """
    client = connect(scheduler) if scheduler else None
    try:
        return _run(configs, Path(out), workers, client, fresh, plot, progress, on_chunk)
    finally:
        if client is not None:
            client.close()


def _run(configs, out, workers, client, fresh, plot, progress, on_chunk):
    for config in configs:  # a missing optional dependency fails now, not mid-run
        for solver, _ in config.calls().values():
            SOLVERS[solver]
    stores, plans, pending, left = {}, {}, [], {}
    for config in configs:
        store = Store(out / config.figure)
        identity = config.identity()
        store.prepare(identity, fresh=fresh)
        store.write_meta(_meta(config, identity, finished=None))
        tasks, plan = plan_tasks(config)
        done = store.done()
        todo = [t for t in tasks if t["key"] not in done]
        stores[config.figure], plans[config.figure] = store, plan
        left[config.figure] = len(todo)
        pending += todo
    # Longest first: the expensive chunks do not end up alone at the tail of the run.
    pending.sort(key=lambda t: -t["weight"])
    bar = Progress(sum(t["weight"] for t in pending), len(pending),
                   label=" ".join(c.figure for c in configs), enabled=progress)

    def finish(config):
        _finalize(stores[config.figure], plans[config.figure], config, plot)

    by_name = {c.figure: c for c in configs}
    for config in configs:
        if left[config.figure] == 0:
            finish(config)
    if client is not None or (workers > 1 and len(pending) > 1):
        pending = [dict(t, one_thread=True) for t in pending]
    if client is not None:
        results = _dask(pending, client)
    elif workers > 1 and len(pending) > 1:
        results = _pool(pending, min(workers, len(pending)))
    else:
        results = _serial(pending)
    try:
        for result in results:
            stores[result["figure"]].write_chunk(result["key"], result["rows"], result["curves"])
            bar.update(result["weight"])
            if on_chunk is not None:
                on_chunk(result["key"])
            left[result["figure"]] -= 1
            if left[result["figure"]] == 0:
                finish(by_name[result["figure"]])
    finally:
        results.close()
        bar.close()
    return {name: store.folder for name, store in stores.items()}


def _meta(config, identity, finished):
    return {
        "figure": config.figure,
        "title": config.spec.title,
        "preset": config.preset,
        "seed": config.seed,
        "trials": config.n_trials,
        "requested_trials": config.trials,
        "reference_trials": config.method_trials("reference"),
        "methods": list(config.methods),
        "iters": config.iters,
        "chunk_size": config.chunk_size,
        "x_field": config.spec.x_field,
        "x_values": list(config.spec.x_values),
        "identity": identity,
        "versions": versions(),
        "cpu_count": os.cpu_count(),
        "finished": finished,
    }


def _finalize(store, plan, config, plot):
    """Merge the chunks into the CSVs, plot, and mark the run finished in meta.json."""
    data = store.merge(plan)
    if config.spec.curves == "pattern":
        store.write_curves("pattern", "angle_deg", PATTERN_GRID_DEG, data)
    elif config.spec.curves == "history":
        longest = max((c["curves"].shape[1] for c in data.values() if "curves" in c), default=0)
        store.write_curves("history", "iteration", np.arange(1, longest + 1), data)
    if plot:
        from .figures import plot_figure

        plot_figure(config.figure, store.folder)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    store.write_meta(_meta(config, config.identity(), finished=now))
