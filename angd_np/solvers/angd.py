r"""Adaptive neural gradient descent (ANGD, the paper's Algorithm 1), learning while solving.

For each instance a fresh network :math:`\Phi_\varphi` (no pre-training) turns the gradient
:math:`G_t = \partial f/\partial W^*` into the update of the precoder, and is itself trained
by Adam, during the solve, to make the next CSBF value larger:

.. math::

    W_{t+1} = P\big(W_t + \eta_W\, \Phi_{\varphi_t}(\nabla f(W_t))\big)
    \quad \text{(eq. 9, Alg. 1 lines 4-6, projection eq. 11)}

.. math::

    \varphi_{t+1} = \varphi_t + \eta_\varphi\, \Lambda(\nabla_\varphi f(W_{t+1}))
    \quad \text{(eq. 10, Λ = Adam)}

and the best :math:`W` seen is returned (line 10). The maths of one iteration, including
the exact gradient through the projection into the network, is in ``_angd_engine.py``; the
networks' lean layout in ``_angd_nets.py``; Adam with scaled moments in ``_angd_adam.py``.

Batches. Every instance is solved on its own, one after another, by a lean loop of about
fifty NumPy calls per iteration: a network's parameters and moments (~0.5-1 MB) fill the
cache already, so stepping many networks together does not pay (measured on the prototype
of the design notes, and by the old batched engine: 10-11 instances/s on 2 cores against
this loop's ~20 in float64). A batch is
cut into chunks of ``chunk`` instances, which run on ``workers`` processes (a pool this
call starts and stops; each NumPy call holds the GIL for its overhead, so threads give
1.0-1.5× on 2 cores where processes give 2×), or on ``threads`` threads in this process.
Instance i's initial W and network come from its own random streams and its loop never
sees another instance, so its result is the same, bit for bit, alone or in a batch of any
size, chunking, number of processes or threads.

Precision. ``net_dtype="float32"`` runs the update networks (parameters, Adam moments,
forward and backward passes) in float32, as PyTorch does by default; the objective, W,
the projection and every reported number stay float64.

Presets. ``preset="paper"`` (default) is the paper's configuration: T = 500,
:math:`\eta_W = 1`, :math:`\eta_\varphi = 10^{-4}`, the raw gradient as input and the raw
network output as the update. ``preset="tuned"`` is our configuration (three studies, see
``PRESETS`` and the README's tables): the gradient scaled to unit RMS, a step of η_W = 0.03
times ||W_t||/sqrt(MK) per unit of output, a zero output layer at the start, hidden width
128, started from zero forcing, η_φ = 2.4e-4 and the paper's T = 500, with η_W and η_φ
multiplied by min(1, sqrt(32/MK)) (``size_scale="sqrt"``), and the network seeing and moving
W in the channel's metric (``precondition="channel"``, ``_angd_engine.channel_metric``).
Presets are :class:`ANGDOptions` instances (``PRESETS[preset][network]``); options given
explicitly replace their fields.

State. ``Result.state`` holds, besides the keys every iterative solver writes
(:mod:`.iterative`: ``W``, ``best_W``, ``best_f``, ``ref_f``, ``since``, ``active``,
``failed``, ``method``), ANGD's own, one row per instance (P = parameters of one network,
in the layout of ``_angd_nets``; dtype the ``net_dtype``):

============== ==================== ===================================================
key            shape, dtype         meaning
============== ==================== ===================================================
``net_params`` (n, P) net_dtype     the network's parameters (biases as weight rows)
``adam_m``     (n, P) net_dtype     Adam's first moment as kept: m_t / β1^j
``adam_v``     (n, P) net_dtype     Adam's second moment as kept: v_t / β2^j
``adam_t``     (n,) int64           Adam steps taken, t (j = steps since the last
                                    renormalisation, a function of t: ``_angd_adam``)
``step_scale`` (n,) float64         the step factor τ of ``accept="ascent"`` (1 else)
============== ==================== ===================================================

``solve(problem, "angd-fcn", state=res.state)`` goes on from there: 250 iterations and 250
more are the 500-iteration run bit for bit, with the histories concatenated and the best
iterate the best of both parts. ``return_state=False`` returns no state (Result.state is
None): it saves 3 P numbers per instance, 0.8 MB in float64 at the paper's size, which a
1000-instance batch feels.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._parallel import one_blas_thread, one_blas_thread_env
from .._validate import check_int
from . import _angd_adam
from ._angd_engine import solve_chunk
from ._angd_nets import n_params
from .iterative import (
    BestTracker,
    check_state,
    finish,
    flatten_problem,
    initial_W,
    instance_streams,
)
from .options import (
    IterativeOptions,
    check_betas,
    check_bool,
    check_choice,
    check_real,
    check_unknown,
)
from .spec import SolverSpec, linear_work

__all__ = ["angd", "angd_fcn", "angd_cnn", "ANGDOptions", "PRESETS", "DEFAULT_CHUNK",
           "SPECS"]

#: Instances per chunk: the unit of work handed to a process or thread. Results do not
#: depend on it; small chunks balance the load at the end of a batch, and 8 keeps a task's
#: returned state (8 networks with their moments, 6 MB in float64) small.
DEFAULT_CHUNK = 8

#: Instance-iterations below which ``workers=None`` solves in this process: starting a
#: process (spawn: Python, NumPy, angd_np) costs ~0.3-0.5 s, ~3000 iterations' worth.
POOL_MIN_WORK = 20_000

_INPUT_SCALES = ("raw", "rms")
_OUTPUT_SCALES = ("none", "power", "w")
_NET_INITS = ("he", "torch")
_NET_DTYPES = ("float64", "float32")
_ADAM_KERNELS = ("auto", "blas", "numpy")
_ACCEPT = ("always", "ascent")
_SIZE_SCALES = ("none", "sqrt")
_PRECONDITIONS = ("none", "channel")
#: The options that shape one network only; the other network's are refused.
_ARCH = {"fcn": ("hidden",), "cnn": ("channels", "kernel_size")}


@dataclasses.dataclass(frozen=True)
class ANGDOptions(IterativeOptions):
    """Options of :func:`angd` (and ``iters``, ``init``, ``tol``, ``patience``).

    Attributes
    ----------
    eta_w : float
        Step size η_W > 0 (paper: 1).
    eta_phi : float
        Adam learning rate η_φ >= 0 of the network (paper: 1e-4).
    betas : (float, float)
        Adam's decay rates.
    hidden : int
        Width of the FCN's two hidden layers (FCN only).
    channels, kernel_size : int
        Filters and kernel length of the CNN's convolutions (CNN only; paper 16 and 3).
    input_scale : {"raw", "rms"}
        Network input: the raw gradient (paper) or the gradient scaled to unit RMS.
    output_scale : {"none", "power", "w"} or float
        Multiplier of the network output: 1 (paper), sqrt(p_max / MK) (so an output of unit
        RMS is a step the size of the power ball), ||W_t||_F / sqrt(MK), or a number > 0.
    net_init : {"he", "torch"}
        Network initialisation (``angd_np.nn.fcn``).
    zero_last : bool
        Zero the output layer at the start: the first step is zero and the network learns
        its update from rest (default False, as the paper).
    size_scale : {"none", "sqrt"}
        "sqrt": η_W and η_φ are the values for M·K = 32 (M = 16, K = 2) and are multiplied by
        min(1, sqrt(32 / MK)) for an M×K problem (``_angd_engine.rates``): larger arrays and
        more users get proportionally smaller steps and a slower-learning network, what the
        quality study measured they need (README).
    gated : bool
        False (the paper): the network's output is the update. True: the update is
        x ⊙ Φ(x), the network's output gating each entry of its (scaled) gradient input, a
        learned per-entry step; an entry whose gradient is zero does not move.
    accept : {"always", "ascent"}
        "always" (the paper): every step is taken. "ascent": a step that would lower the
        CSBF is refused (W_t stays; the network still learns from the refused proposal)
        and halves a step factor τ (W_{t+1} = P(W_t + τ s_t Φ)); an accepted step grows τ
        by 1.25 up to 1. The iterates then never descend, so a start (ZF) is never lost.
    precondition : {"none", "channel"}
        "none" (the paper): the network sees the gradient and its output is the update.
        "channel": both pass through a fixed per-instance metric of the channel, S_j =
        (I + p_max/(Kσ²) H_{-j} H_{-j}^H)^{-1/2} on column j (``_angd_engine.
        channel_metric``): ANGD in coordinates where leaking a beam towards another user is
        no stiffer than the rest, which plain steps at high SNR are not.
    pilot : int
        0 (the paper): start from ``init``. P > 0: before the T iterations, run P from zero
        forcing and P from the sensing beam (``linear.sensing_beam``; ZF alone when there is
        no target), each chain with the instance's network draw, and go on from the chain
        with the better CSBF (its iterate, network, moments and best point): two starts
        stepped together, the better kept. ``init`` is then not used; the pilot's 2P
        iterations are not in ``history`` or ``nit``, its best point is in the result. Why:
        the balanced scenario's optimum lies near ZF and the sensing beam is a trap there
        (a user dropped), while in the paper's sensing-dominated scenario it is the other
        way round; 50 iterations tell them apart (README).
    adam_kernel : {"auto", "blas", "numpy"}
        How Adam updates the moments of the dense layers (``_angd_adam``): "blas" by
        rank-one BLAS updates in place (scipy's ``?ger``; ~9 µs less per iteration),
        "numpy" with NumPy alone; "auto" (default) "blas" when scipy is installed. The
        two agree up to rounding in the last bits (as two BLAS libraries do).
    net_dtype : {"float64", "float32"}
        Precision of the update networks and their Adam moments (the objective, W and every
        reported number are float64 either way). Both presets use float32 (``PRESETS``).
    chunk : int
        Instances per task handed to a process or thread (default ``DEFAULT_CHUNK``).
    workers : int or None
        Processes solving a batch. None: one per core allowed by ``threads`` when the batch
        is large enough to pay for starting them (``POOL_MIN_WORK``), else this process.
    threads : int or None
        The most cores this call may use (None: ``os.cpu_count()``); it is also the number
        of threads when the batch is solved in this process. ``threads=1`` (what the Monte
        Carlo runner passes inside its own worker processes) means one core: no pool, no
        threads.
    return_state : bool
        Return ``Result.state`` (default); False saves its memory (module docstring).
    """

    eta_w: float = 1.0
    eta_phi: float = 1e-4
    betas: tuple = (0.9, 0.999)
    hidden: int = 128
    channels: int = 16
    kernel_size: int = 3
    input_scale: str = "raw"
    output_scale: object = "none"
    net_init: str = "torch"
    zero_last: bool = False
    size_scale: str = "none"
    gated: bool = False
    accept: str = "always"
    precondition: str = "none"
    pilot: int = 0
    net_dtype: str = "float64"
    adam_kernel: str = "auto"
    chunk: int = DEFAULT_CHUNK
    workers: int | None = None
    threads: int | None = None
    return_state: bool = True

    def __post_init__(self):
        super().__post_init__()
        self._set("eta_w", check_real(self.eta_w, "eta_w"))
        self._set("eta_phi", check_real(self.eta_phi, "eta_phi", allow_zero=True))
        self._set("betas", check_betas(self.betas))
        for name in ("hidden", "channels", "kernel_size", "chunk"):
            self._set(name, check_int(getattr(self, name), name, minimum=1))
        self._set("pilot", check_int(self.pilot, "pilot", minimum=0))
        check_choice(self.input_scale, "input_scale", _INPUT_SCALES)
        out = self.output_scale
        if isinstance(out, str):
            check_choice(out, "output_scale", _OUTPUT_SCALES)
        else:
            try:
                self._set("output_scale", check_real(out, "output_scale"))
            except (TypeError, ValueError):
                raise ValueError(f"output_scale must be one of {list(_OUTPUT_SCALES)} or a "
                                 f"number > 0, got {out!r}") from None
        check_choice(self.net_init, "net_init", _NET_INITS)
        check_choice(self.net_dtype, "net_dtype", _NET_DTYPES)
        check_choice(self.adam_kernel, "adam_kernel", _ADAM_KERNELS)
        check_choice(self.accept, "accept", _ACCEPT)
        check_choice(self.size_scale, "size_scale", _SIZE_SCALES)
        check_choice(self.precondition, "precondition", _PRECONDITIONS)
        for name in ("zero_last", "gated", "return_state"):
            self._set(name, check_bool(getattr(self, name), name))
        for name in ("workers", "threads"):
            if getattr(self, name) is not None:
                self._set(name, check_int(getattr(self, name), name, minimum=1))

    @classmethod
    def names(cls, network=None) -> tuple:
        """The accepted option names; for ``network`` ("fcn", "cnn") without the other
        network's architecture options."""
        other = {n for net, arch in _ARCH.items() if net != network for n in arch}
        return tuple(n for n in super().names() if network is None or n not in other)

    @classmethod
    def resolve(cls, method, base=None, options=None):
        """As :meth:`SolverOptions.resolve`, refusing the other network's options
        (``method`` is ``"angd-fcn"`` or ``"angd-cnn"``)."""
        options = {} if options is None else dict(options)
        check_unknown(method, options, cls.names(method.removeprefix("angd-")))
        return dataclasses.replace(cls() if base is None else base, **options)


#: Option values of each preset, per network. "paper": the paper's §VI numbers, its raw
#: gradient input and raw output; the hidden width (which the paper leaves open; 128 measured
#: best of 32/64/128 in the study) and the network initialisation (PyTorch's default, as a
#: PyTorch implementation would get) are our choices. "tuned": the input scaling, output
#: scaling, step and zero output layer that ``scripts/angd_study.py`` measured best
#: (``scripts/angd_study_results.md``), then the start, budget and learning rate of
#: ``scripts/angd_quality_study.py`` (``scripts/angd_quality_study_results.md``): from ZF,
#: η_W = 0.03 at M·K = 32, scaled by sqrt(32 / MK) above (η_W = 0.1 and η_φ = 1e-3 before;
#: T = 1500 and η_φ = 1.2e-4 in session 4), then (session 5) the channel metric, with which
#: the paper's T = 500 and η_φ = 2.4e-4 suffice at every size studied; the CNN uses the same
#: values.
#: Both presets run float32 networks: on 200 held-out instances per scenario preset
#: (``scripts/angd_dtype_study.py``, results in ``scripts/angd_dtype_results.md``) the paired
#: gap difference float32 - float64 had a 95% interval containing 0 for every preset and
#: network but one (which favours float32 by 4e-6), and float32 moved f no more than
#: float64 itself moves when W_0 is perturbed by 1e-12; it is 1.7-2.1x faster per instance.
_PAPER = ANGDOptions(iters=500, eta_w=1.0, eta_phi=1e-4, input_scale="raw",
                     output_scale="none", net_init="torch", net_dtype="float32")
_TUNED = dataclasses.replace(_PAPER, eta_w=0.03, eta_phi=2.4e-4, input_scale="rms",
                             output_scale="w", zero_last=True, init="zf", iters=400,
                             size_scale="sqrt", precondition="channel", pilot=100)
PRESETS = {
    "paper": {"fcn": _PAPER, "cnn": _PAPER},
    "tuned": {"fcn": _TUNED, "cnn": _TUNED},
}


def _state_shapes(opts, network, M, K):
    """ANGD's own state keys: name -> (shape of one instance, dtype)."""
    P = (n_params(network, M, K, opts.hidden, opts.channels, opts.kernel_size),)
    dt = np.dtype(opts.net_dtype)
    return {"net_params": (P, dt), "adam_m": (P, dt), "adam_v": (P, dt),
            "adam_t": ((), np.int64), "step_scale": ((), np.float64)}


def _parallelism(opts, n, n_chunks):
    """(processes, threads) for a batch of n instances in ``n_chunks`` chunks."""
    cores = opts.threads if opts.threads is not None else (os.cpu_count() or 1)
    if opts.workers is not None:
        processes = opts.workers
    else:
        processes = cores if n * opts.iters >= POOL_MIN_WORK else 1
    processes = min(processes, n_chunks)
    return processes, (1 if processes > 1 else min(cores, n_chunks))


def _run_tasks(tasks, processes, threads):
    """solve_chunk over the tasks, yielding the parts in task order as they come: in a
    process pool, a thread pool, or here."""
    if processes > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        # spawn, as the Monte Carlo runner: no fork of a process that may hold threads. The
        # workers start when the tasks are submitted (map submits them all at once), so that
        # is done with the BLAS variables set.
        try:
            with one_blas_thread_env():
                pool = ProcessPoolExecutor(processes,
                                           mp_context=multiprocessing.get_context("spawn"))
                results = pool.map(solve_chunk, tasks)
            with pool:
                yield from results
        except BrokenProcessPool as exc:
            raise RuntimeError(
                "ANGD's worker processes died (a spawned process imports the calling script "
                "again: is its code under `if __name__ == '__main__':`? Code piped on stdin "
                "cannot be spawned). Pass workers=1 to solve in this process.") from exc
    else:
        # Here, on this process's threads: BLAS held to one thread (threads would only
        # oversubscribe, and at these sizes OpenBLAS's own cost more than they save). The
        # optimiser's BLAS is loaded first, so that it is held too.
        opts = tasks[0]["opts"] if tasks else None
        if opts is not None and opts.adam_kernel != "numpy":
            _angd_adam.blas_kernels(np.dtype(opts.net_dtype))
        with one_blas_thread():
            if threads > 1:
                with ThreadPoolExecutor(max_workers=threads) as pool:
                    yield from pool.map(solve_chunk, tasks)
            else:
                yield from map(solve_chunk, tasks)


def _join(parts, n):
    """The parts' arrays joined along the instance axis, each part dropped once copied (so
    that a batch's state is held once, not twice)."""
    joined, lo = {}, 0
    for part in parts:
        size = len(part["nit"])
        for key, value in part.items():
            if key not in joined:
                joined[key] = np.empty((n,) + value.shape[1:], value.dtype)
            joined[key][lo:lo + size] = value
        lo += size
    return joined


def _solve(flat, network, opts, W0s, streams, saved=None):
    """The engine on every instance from each start in ``W0s`` (fresh networks drawn from
    ``streams[s]``, or the state rows ``saved`` for a single start), in one batch of tasks;
    the parts joined along the instance axis, start after start."""
    n = flat.n_instances
    processes, threads = _parallelism(opts, n * len(W0s), math.ceil(n * len(W0s) / opts.chunk))
    # Spread a small batch over every process: chunking does not change any result.
    chunk = min(opts.chunk, math.ceil(n * len(W0s) / processes))
    tasks = []
    for W0, net_streams in zip(W0s, streams, strict=True):
        for lo in range(0, n, chunk):
            hi = min(lo + chunk, n)
            task = dict(network=network, opts=opts, H=flat.H[lo:hi],
                        A=flat.A if flat.A.ndim == 2 else flat.A[lo:hi],
                        noise_var=flat.noise_var, p_max=flat.p_max, omega=flat.omega,
                        W0=W0[lo:hi])
            if saved is None:
                task["streams"] = net_streams[lo:hi]
            else:
                task["saved"] = {k: v[lo:hi] for k, v in saved.items()}
            tasks.append(task)
    return _join(_run_tasks(tasks, processes, threads), n * len(W0s))


#: The state rows a continuation reads (``saved``): every state key but W and method.
_SAVED_KEYS = ("best_W", "best_f", "ref_f", "since", "active", "failed", "net_params",
               "adam_m", "adam_v", "adam_t", "step_scale")


def _pilot(flat, network, opts, net_streams):
    """(W, saved) to go on from after ``opts.pilot`` iterations from ZF and from the sensing
    beam, per instance the chain whose best CSBF is higher (ZF on a tie)."""
    from .linear import sensing_beam, zf_precoder

    M, K = flat.H.shape[-2:]
    if K > M:
        raise ValueError(f"pilot > 0 starts a chain from zero forcing, which needs M >= K; "
                         f"got M = {M}, K = {K} (pass pilot=0)")
    starts = [zf_precoder(flat)]
    if flat.n_targets:
        starts.append(sensing_beam(flat))
    # Every chain draws the instance's network from a copy of the same stream: the pilot's
    # chains differ only in W_0.
    streams = [[copy.deepcopy(g) for g in net_streams] for _ in starts]
    pilot_opts = dataclasses.replace(opts, iters=opts.pilot, tol=None, return_state=True)
    joined = _solve(flat, network, pilot_opts, starts, streams)
    n = flat.n_instances
    best_f = joined["best_f"].reshape(len(starts), n)
    pick = np.argmax(best_f, axis=0) * n + np.arange(n)  # first maximum: ZF on a tie
    return joined["W"][pick], {k: joined[k][pick] for k in _SAVED_KEYS}


def angd(problem, *, network="fcn", rng=None, preset="paper", state=None, **options):
    r"""Solve every instance of ``problem`` with ANGD (Algorithm 1), learning while solving.

    Parameters
    ----------
    problem : Problem
        A batch of instances, H of shape (..., M, K).
    network : {"fcn", "cnn"}
        The update network: the paper's FCN (two hidden ReLU layers of width ``hidden``) or
        its CNN (two Conv1d layers over the real and imaginary parts as two channels, §VI-4).
    rng : Generator, int, None or sequence of one per instance
        Source of each instance's initial W and network parameters.
    preset : {"paper", "tuned"}
        Defaults of every option (``PRESETS``); explicit options override them.
    state : dict, optional
        A ``Result.state`` of the same method on the same instances (or ``np.load`` of one
        saved with ``np.savez``): go on from its last iterate, networks and Adam moments.
        ``rng`` and ``init`` are then not used.
    **options
        See :class:`ANGDOptions`: ``iters``, ``eta_w``, ``eta_phi``, ``betas``, ``hidden``
        (FCN), ``channels`` and ``kernel_size`` (CNN), ``input_scale``, ``output_scale``,
        ``net_init``, ``zero_last``, ``size_scale``, ``gated``, ``accept``, ``precondition``,
        ``pilot``, ``net_dtype``,
        ``init``, ``tol``, ``patience``, ``chunk``, ``workers``, ``threads``,
        ``return_state``.

    Returns
    -------
    Result
        ``W`` the best iterate of each instance (W_0 included, and the state's best when
        continuing), feasible; ``history`` (..., T) f(W_{t+1}) per iteration of this call
        (NaN after an early stop); ``nit`` iterations of this call; ``time_s`` the batch's
        wall time shared evenly; ``state`` to continue (module docstring).
    """
    t0 = time.perf_counter()
    check_choice(network, "network", tuple(_ARCH))
    check_choice(preset, "preset", tuple(PRESETS))
    method = f"angd-{network}"
    opts = ANGDOptions.resolve(method, PRESETS[preset][network], options)
    flat = flatten_problem(problem)
    n, (M, K) = flat.n_instances, flat.H.shape[-2:]
    if state is None:
        streams = instance_streams(rng, n)
        net_streams = [s[1] for s in streams]
        if opts.pilot:
            W0, saved = _pilot(flat, network, opts, net_streams)
        else:
            W0, saved = initial_W(opts.init, flat, streams), None
    else:
        saved = check_state(state, method, n, (M, K), _state_shapes(opts, network, M, K),
                            problem=flat)
        W0 = saved.pop("W")
        saved.pop("method")
        if (saved["adam_t"] < 0).any():
            raise ValueError(f"state['adam_t'] must be step counts >= 0, got minimum "
                             f"{saved['adam_t'].min()}")
    joined = _solve(flat, network, opts, [W0], [net_streams if saved is None else None],
                    saved)
    tracker = BestTracker(joined["best_W"], joined["best_f"], opts.iters, opts.tol,
                          opts.patience, state=joined)
    tracker.history[...], tracker.nit[...] = joined["history"], joined["nit"]
    own = None
    if opts.return_state:
        own = {k: joined[k] for k in ("W", "net_params", "adam_m", "adam_v", "adam_t",
                                      "step_scale")}
    return finish(problem, flat, tracker, method, t0, joined["failed"], state=own)


def angd_fcn(problem, *, rng=None, preset="paper", state=None, **options):
    """ANGD with the paper's FCN (registered as ``"angd-fcn"``); see :func:`angd`."""
    return angd(problem, network="fcn", rng=rng, preset=preset, state=state, **options)


def angd_cnn(problem, *, rng=None, preset="paper", state=None, **options):
    """ANGD with the paper's CNN (registered as ``"angd-cnn"``); see :func:`angd`."""
    return angd(problem, network="cnn", rng=rng, preset=preset, state=state, **options)


def _resolve(network, options):
    """The ANGDOptions of a call with ``options`` (its preset applied), for run identities."""
    options = dict(options)
    preset = options.pop("preset", "paper")
    check_choice(preset, "preset", tuple(PRESETS))
    return ANGDOptions.resolve(f"angd-{network}", PRESETS[preset][network], options)


SPECS = (
    SolverSpec("angd-fcn", angd_fcn, label="ANGD-FCN", iterative=True, presets=("paper", "tuned"),
               cost=3.0, threads=True, options=ANGDOptions,
               style=dict(color="#2ca02c", marker="^"), resolve=functools.partial(_resolve, "fcn"),
               work=functools.partial(linear_work, {"iters": 1, "pilot": 2}),
               carry_options={"pilot": 0}),
    SolverSpec("angd-cnn", angd_cnn, label="ANGD-CNN", iterative=True, presets=("paper", "tuned"),
               cost=6.0, threads=True, options=ANGDOptions,
               style=dict(color="#9467bd", marker="v"), resolve=functools.partial(_resolve, "cnn"),
               work=functools.partial(linear_work, {"iters": 1, "pilot": 2}),
               carry_options={"pilot": 0}),
)
