"""The Monte Carlo runner: (trial x x-value x method) work in chunks, on 1..N processes or dask.

Work unit
---------
A *chunk* is one x-value, one method and a block of consecutive trials (``chunk_size``, 25 by
default). It is solved as one batch (ANGD and the gradient methods are much faster per instance
in a batch) and stored as one file. Trial i of a run with seed s always gets the channel of
``trial_generator(s, i, 0)`` and solver randomness from ``trial_generator(s, i, 1)``; chunk
boundaries depend only on ``chunk_size``. So a chunk's numbers are the same whichever process,
machine or order computes it, and any number of workers gives identical files. For the same
reason a chunk that several figures of one run need (Fig. 2 is Fig. 3 at M = 16 and 8) is
solved once and stored in each (:func:`share_tasks`).

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
import json
import os
import re
import signal
import sys
import time
from pathlib import Path

import numpy as np

from .. import __version__, solvers
from .._parallel import one_blas_thread, one_blas_thread_env
from ..system import Scenario, trial_generator
from .configs import RunConfig
from .curves import CURVES, PATTERN_GRID_DEG
from .framed import adjust_gaps, track_chunk, write_frames
from .progress import Progress
from .store import Store

__all__ = ["run_figures", "plan_tasks", "share_tasks", "run_chunk", "check_scheduler",
           "PATTERN_GRID_DEG", "versions"]

_SCHEDULER_RE = re.compile(r"^(?:(?:tcp|tls|inproc|ucx|ws|wss)://)?[A-Za-z0-9_.\-\[\]:/]*[A-Za-z0-9\]]$")


# -- one chunk ------------------------------------------------------------------------------
def plan_tasks(config: RunConfig) -> tuple[list[dict], list]:
    """All chunks of a run, and the merge plan ``[(x, method, [keys])]`` in output order.

    Each task is a plain dict (picklable) holding everything :func:`run_chunk` needs, the
    solver's spec included (so a solver registered at run time also runs in worker processes
    and on a cluster, as long as its function can be imported there).
    """
    spec, size = config.spec, config.chunk_size
    tasks, plan, seen = [], [], {}
    for xi, x in enumerate(spec.x_values):
        scenario = dataclasses.asdict(config.scenario(x))
        for method, (solver, options) in config.calls_at(x).items():
            solver_spec = solvers.solver_spec(solver)
            n = config.method_trials(method)
            keys = []
            for start, stop in [(s, min(s + size, n)) for s in range(0, n, size)]:
                task = {
                    "figure": config.figure, "key": f"x{xi:02d}-{method}-{start:06d}-{stop:06d}",
                    "x": x, "method": method, "solver": solver, "spec": solver_spec,
                    "options": options, "scenario": scenario, "seed": config.seed,
                    "start": start, "stop": stop, "curves": spec.curves,
                    "frames": config.frame_params(x),
                    "weight": (stop - start) * _cost(solver_spec, options,
                                                     config.frame_params(x))
                    * size_factor(scenario["n_tx"], scenario["n_users"]),
                }
                # The same chunk at another x (the reference at every iterations-per-frame of
                # the budget figure): solved once, its stored rows read at every x.
                signature = _signature(task)
                if signature not in seen:
                    seen[signature] = task["key"]
                    tasks.append(task)
                keys.append(seen[signature])
            plan.append((x, method, keys))
    plan.sort(key=lambda item: item[0])  # by x; methods keep their configured order
    return tasks, plan


def _signature(task: dict) -> str:
    """What decides a chunk's rows: two chunks with equal signatures have equal rows.

    A solver that is not iterative ignores a sequence's ``iters_per_frame``
    (:func:`angd_np.track`), so it is left out of that solver's signature.
    """
    frames = task["frames"]
    if frames is not None and not task["spec"].iterative:
        frames = {k: v for k, v in frames.items() if k != "iters_per_frame"}
    return json.dumps([task["solver"], task["options"], task["scenario"], frames, task["seed"],
                       task["start"], task["stop"], task["curves"]], sort_keys=True,
                      default=repr)


def share_tasks(tasks: list) -> list:
    """The tasks with each chunk that other figures also need solved once.

    Two figures often solve the same instances with the same options: the paper's Fig. 2 is
    Fig. 3 at M = 16 and 8 with a beampattern per trial, and the trade-off at the preset's
    omega and the convergence figure are Fig. 3 at M = 16 on its first trials. A chunk's
    rows depend only on its signature without the curves (``_signature``), so the first
    task of each such group solves it for all: it gets ``"also"``, a list of ``{"figure",
    "key", "curves"}`` of the others, which :func:`run_chunk` answers with the same rows and
    each figure's own curves. The stored files are those of solving each figure apart (up to
    ``time_s``, which is then the shared solve's). Sequences (``frames``) are never shared.
    Order is kept (the first task of a group stands where it stood).
    """
    first, out = {}, []
    for task in tasks:
        if task.get("frames") is not None:
            out.append(task)
            continue
        signature = _signature(dict(task, curves=None))
        if signature not in first:
            first[signature] = dict(task, also=[])
            out.append(first[signature])
        else:
            first[signature]["also"].append(
                {"figure": task["figure"], "key": task["key"], "curves": task["curves"]})
    return out


def _check_extra(solver_spec) -> None:
    """ImportError naming the extra when a solver's optional dependency is not installed."""
    from .._extras import require_extra

    if solver_spec.extra:
        require_extra(solver_spec.extra, solver_spec.name)


def size_factor(n_tx: int, n_users: int) -> float:
    """How much an instance of size (M, K) costs against one at (16, 2), for the progress's
    weights: (1 + MK/32)/2, i.e. a fixed part (the NumPy calls of an iteration) and a part
    that grows with the number of variables MK (1 at (16, 2), 2.5 at (32, 4), 8.5 at
    (64, 8)). Without it every size weighed the same and the ETA of a run that ends with
    its large instances came out too low. On the paper preset's 10³-trial run it narrows
    the spread of a chunk's seconds per weight for every iterative solver
    (``studies/eta_weights``)."""
    return 0.5 * (1.0 + n_tx * n_users / 32.0)


def _cost(solver_spec, options, frames) -> float:
    """Predicted time of one trial, in the specs' units (an instance at T = 500): the spec's
    ``cost`` times its ``work`` under the resolved options over 500 iterations; for a
    sequence, summed over its frames as :func:`angd_np.track` solves them (the spec's
    ``track_options``, ``iters_per_frame``, and ``carry_options`` after the first frame)."""

    def one(opts):
        resolved = solvers.resolved_options(solver_spec.name, opts)
        return solver_spec.cost * solver_spec.work_of(opts if resolved is None else resolved) / 500

    if frames is None:
        return one(options)
    carry = options.get("carry", "all")
    first = {**solver_spec.track_options,
             **{k: v for k, v in options.items() if k != "carry"}}
    if not solver_spec.iterative:
        return frames["n_frames"] * one(first)
    first["iters"] = frames["iters_per_frame"]
    # As track(): the spec's carry options, unless the caller gave that option.
    later = first if carry == "none" else {
        **first, **{k: v for k, v in solver_spec.carry_options.items() if k not in options}}
    return one(first) + (frames["n_frames"] - 1) * one(later)


def run_chunk(task: dict) -> dict:
    """Solve one chunk; returns ``{"key", "figure", "rows", "curves", "also", "weight",
    "seconds", "kind", "worker"}`` (its measured wall time, solver and process, for the
    progress; ``also``: the same rows for the chunks of other figures, each with its own
    curves, see :func:`share_tasks`)."""
    t0 = time.perf_counter()
    timing = {"weight": task["weight"], "kind": task["solver"], "worker": os.getpid()}
    with one_blas_thread():
        scenario = Scenario(**task["scenario"])
        trials = np.arange(task["start"], task["stop"])
        problem = None if task.get("frames") else scenario.draw_trials(task["seed"], trials)
        rngs = [trial_generator(task["seed"], int(t), 1) for t in trials]
        options = dict(task["options"])
        solver_spec = task["spec"]
        if solver_spec.name not in solvers.SPECS:  # registered at run time in the parent
            solvers.register(solver_spec)
        if task.get("frames") is not None:  # a sequence per trial, tracked frame by frame
            rows, curves = track_chunk(task, scenario, trials, solver_spec)
            return {"key": task["key"], "figure": task["figure"], "rows": rows,
                    "curves": curves, **timing, "seconds": time.perf_counter() - t0}
        if task.get("one_thread") and solver_spec.threads:
            # The runner already runs one chunk per core; inner threads would oversubscribe.
            options["threads"] = 1
        if solver_spec.options is not None and "return_state" in solver_spec.options.names():
            options["return_state"] = False  # rows are stored, states are not: save memory
        res = solver_spec.solve(problem, rng=rngs, **options)

        def curves_of(name):
            kind = CURVES.get(name)
            return None if kind is None else kind.compute(res, scenario, solver_spec)

        curves = curves_of(task["curves"])
        also = [dict(other, curves=curves_of(other["curves"]))
                for other in task.get("also", ())]
    rows = {"trial": trials, "sum_rate": res.sum_rate, "sensing": res.sensing,
            "csbf": res.csbf, "nit": res.nit, "success": res.success, "time_s": res.time_s}
    return {"key": task["key"], "figure": task["figure"], "rows": rows, "curves": curves,
            "also": also, **timing, "seconds": time.perf_counter() - t0}


# -- backends --------------------------------------------------------------------------------
def _worker_init():
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ImportError):
        import threadpoolctl

        threadpoolctl.threadpool_limits(1)


def _serial(tasks):
    for task in tasks:
        yield run_chunk(task)


def _pool(tasks, workers):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with one_blas_thread_env():
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
    for config in configs:  # an unknown method or a missing extra fails now, not mid-run
        for solver, _ in config.calls().values():
            _check_extra(solvers.solver_spec(solver))
    stores, plans, pending, left = {}, {}, [], {}
    for config in configs:
        store = Store(out / config.figure)
        identity = config.identity()
        stale = store.prepare(identity, fresh=fresh)
        if stale:
            print(f"{config.figure}: {', '.join(stale)} changed since the stored results "
                  "(options or preset values); running them again", file=sys.stderr)
        store.write_meta(_meta(config, identity, finished=None))
        tasks, plan = plan_tasks(config)
        done = store.done()
        todo = [t for t in tasks if t["key"] not in done]
        stores[config.figure], plans[config.figure] = store, plan
        left[config.figure] = len(todo)
        pending += todo
    pending = share_tasks(pending)
    # Longest first: the expensive chunks do not end up alone at the tail of the run. But one
    # chunk of each solver goes first (the longest of each, longest first), so that the
    # progress has measured every solver's rate early instead of trusting its spec's cost.
    pending.sort(key=lambda t: -t["weight"])
    firsts = {}
    for i, t in enumerate(pending):
        firsts.setdefault(t["solver"], i)
    probes = set(firsts.values())
    order = sorted(probes) + [i for i in range(len(pending)) if i not in probes]
    pending = [pending[i] for i in order]
    kinds = {}
    for t in pending:
        w, count = kinds.get(t["solver"], (0.0, 0))
        kinds[t["solver"]] = (w + t["weight"], count + 1)
    parallel = 1 if client is None and workers <= 1 else (
        sum(client.nthreads().values()) if client is not None else workers)
    bar = Progress(sum(w for w, _ in kinds.values()), len(pending),
                   label=" ".join(c.figure for c in configs), enabled=progress, kinds=kinds,
                   workers=min(parallel, max(len(pending), 1)))

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
            bar.update(result["weight"], result.get("seconds"), result.get("kind"),
                       result.get("worker"))
            for part in [result, *result.get("also", ())]:
                stores[part["figure"]].write_chunk(part["key"], result["rows"], part["curves"])
                if on_chunk is not None:
                    on_chunk(part["key"])
                left[part["figure"]] -= 1
                if left[part["figure"]] == 0:
                    finish(by_name[part["figure"]])
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
    frames = config.spec.frames
    data = store.merge(plan, adjust=None if frames is None else
                       (lambda d: adjust_gaps(d, frames["burn_in"])),
                       pool_x=config.spec.same_instances)
    if frames is not None:
        write_frames(store.folder, data)
    kind = CURVES.get(config.spec.curves)
    if kind is not None:
        longest = max((c["curves"].shape[1] for c in data.values() if "curves" in c), default=0)
        store.write_curves(kind.name, kind.axis, kind.axis_values(longest), data)
    if plot:
        from .figures import plot_figure

        plot_figure(config.spec, store.folder)
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    store.write_meta(_meta(config, config.identity(), finished=now))
