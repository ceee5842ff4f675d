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

Batches. Every instance is solved on its own, one after another, by the lean loop of
``_angd_engine`` (its docstring counts the calls of an iteration): a network's parameters
and moments (~0.5-1 MB) fill the cache already, so stepping many networks together does not
pay (measured: B instances in lock-step would be at most 1.1-1.2x faster at the
presets' width; ``studies/angd_speed/lockstep.py``). A batch is cut
into chunks of ``chunk`` instances, solved in this process on one thread, or by ``workers``
processes of a pool that lives across calls (``_parallel.shared_pool``: started by the first
call that needs it, reused by the next ones, shut down at interpreter exit). No threads:
each NumPy call holds the GIL for its overhead, and two threads in this process were
measured no faster than one (within the noise, or 1.4x slower at 8 instances:
``studies/angd_speed``, table "Before"). Instance i's initial W and network come from its
own random streams and its loop never sees another instance, so its result is the same, bit
for bit, alone or in a batch of any size, chunking or number of processes.

Precision. ``net_dtype="float32"`` runs the update networks (parameters, Adam moments,
forward and backward passes) in float32, as PyTorch does by default; the objective, W,
the projection and every reported number stay float64.

Variants. ``variant="paper"`` (default) is the paper's configuration, ``variant="tuned"``
ours; each is an :class:`ANGDOptions` instance (``VARIANTS[variant][network]``, whose
comment says where each value comes from), and options given explicitly replace their
fields. Every option is described once, in :class:`ANGDOptions`.

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
import numbers
import os
import time
import warnings

import numpy as np

from .. import _parallel
from .._validate import check_int
from . import _angd_adam
from ._angd_engine import empty_rows, solve_chunk
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
    rename_options,
)
from .spec import SolverSpec, linear_work

__all__ = ["angd", "angd_fcn", "angd_cnn", "ANGDOptions", "VARIANTS", "DEFAULT_CHUNK",
           "SPECS"]

#: Instances per chunk: the unit of work handed to a worker process. Results do not depend
#: on it; small chunks balance the load at the end of a batch, and 8 keeps a task's returned
#: state (8 networks with their moments, 6 MB in float64) small.
DEFAULT_CHUNK = 8

#: Instance-iterations (pilot chains included) from which ``workers=None`` starts a process
#: pool: starting one (spawn: Python, NumPy, angd_np) costs ~0.3-0.5 s, ~3000 iterations'
#: worth on one core, which a batch of this size repays on two cores.
POOL_MIN_WORK = 20_000
#: Instance-iterations from which ``workers=None`` uses a pool already started (by an earlier
#: call), if the batch also fills a chunk for every process: a task's round trip costs about
#: a millisecond, ~20 iterations. Measured at (16, 2) (``studies/angd_speed``, section 1): a
#: warm pool of 2 is faster than this process from 16 instances at every chain length from 2
#: iterations (work 144 with the set-up, below), and slower at 4 and 8 instances even of 50.
POOL_WARM_WORK = 200
#: A chain's set-up (its network drawn, the channel metric, buffers loaded: ~0.45 ms at
#: (16, 2) in the tuned preset) in iterations (~75 µs there), counted in a call's work: a
#: batch of short chains is mostly set-up.
SETUP_WORK = 6
#: Below a full chunk per process, a warm pool serves a batch from this much work: measured
#: slower than this process at 4 and 8 instances of up to 50 iterations at (16, 2) (work up to
#: 456), faster for larger networks' chains (section 1 of ``studies/angd_speed``).
POOL_WARM_FEW = 1_000
#: Parameters of the tuned FCN at (16, 2) (before ``step_input``), where the thresholds above
#: were measured: a larger network's iteration counts as P / P_REF of them (an iteration's time
#: grows with P once the call overhead is paid: ~8x at (64, 8)'s 12x the parameters).
P_REF = 33_088

_INPUT_SCALES = ("raw", "rms")
_OUTPUT_SCALES = ("none", "power", "w")
_NET_INITS = ("he", "torch")
_NET_DTYPES = ("float64", "float32")
_ADAM_KERNELS = ("auto", "blas", "numpy")
_SIZE_SCALES = ("none", "sqrt")
_PRECONDITIONS = ("none", "channel")
#: The options that shape one network only; the other network's are refused.
_ARCH = {"fcn": ("hidden", "step_input"), "cnn": ("channels", "kernel_size")}


def _check_headroom(value):
    """(lo, hi) as two floats with 0 <= lo <= hi (inf allowed), or ValueError/TypeError."""
    accepted = "None or a pair (lo, hi) of numbers with 0 <= lo <= hi"
    if (isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) != 2
            or any(isinstance(v, bool) or not isinstance(v, numbers.Real) for v in value)):
        raise TypeError(f"headroom must be {accepted}, got {value!r}")
    lo, hi = (float(v) for v in value)
    if not (0.0 <= lo <= hi) or math.isnan(hi):
        raise ValueError(f"headroom must be {accepted}, got {value!r}")
    return (lo, hi)


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
    precondition : {"none", "channel"}
        "none" (the paper): the network sees the gradient and its output is the update.
        "channel": both pass through a fixed per-instance metric of the channel, S_j =
        (I + p_max/(Kσ²) H_{-j} H_{-j}^H)^{-1/2} on column j (``_angd_engine.
        channel_metric``): ANGD in coordinates where leaking a beam towards another user is
        no stiffer than the rest, which plain steps at high SNR are not.
    pilot : int
        0 (the paper): start from ``init``. P > 0: run P iterations from zero forcing and P
        from the sensing beam (``linear.sensing_beam``; ZF alone when there is no target),
        each chain with the instance's network draw, and go on from the chain with the
        better CSBF (its iterate, network, moments and best point): two starts stepped
        together, the better kept. ``init`` is then not used; the pilot's iterations are not
        in ``history`` or ``nit``, its best point is in the result. Why: the balanced
        scenario's optimum lies near ZF and the sensing beam is a trap there (a user
        dropped), while in the paper's sensing-dominated scenario it is the other way round.
    headroom : (float, float) or None
        None (default): the pilot picks its chain as above. (lo, hi) with 0 <= lo <= hi: the
        chain is chosen before any iteration, per instance, by the users' rate headroom q
        (``linear.beam_headroom``: no precoder's CSBF exceeds the sensing beam's by more
        than the fraction q): q <= lo, the sensing-beam chain alone; q > hi, the ZF chain
        alone; in between, both chains through the whole run (P + T iterations each) and the
        better kept. Only with ``pilot`` > 0 (P is then just the first iterations of a
        chain); with ``pilot=0`` (a carried frame of ``track``) it has no effect. Why: the
        beam serves one user, and the chain started there never serves the others (their
        columns are zero, and so are their gradients and, with ``zero_last``, the network's
        outputs for them), so where the rates matter it is a trap that the pilot's pick at P
        iterations cannot see at high power, where the beam leads early and the ZF chain
        overtakes it later (balanced, M = 10, 36 dBm); where q is small it is within q of
        the optimum. One chain instead of two also costs 5/6 of the pilot's time
        (``studies/angd_speed``).
    pilot_extend : int
        0 (default): the pilot is ``pilot`` iterations. E > 0: up to E more blocks of
        ``pilot`` iterations for both chains, on each instance where the sensing-beam chain
        leads but the ZF chain, at the rate it closed in over the last block, would catch up
        within the next one (lead <= closing). Its price: in the paper scenario the rule
        extends too (the ZF chain closes in fast at first) without changing the result, 3-4x
        the time; ``headroom`` is the rule the ``tuned`` preset uses instead (the two are
        exclusive). A block continues a chain exactly (its state), so a pilot extended once
        is the 2P-iteration chain.
    check_starts : bool
        False (default): the result is the chain's best iterate. True: after the
        iterations, zero forcing and the sensing beam of this problem (the pilot's starts;
        ZF only when M >= K, the beam only with targets) are evaluated, and where one has a
        higher CSBF than the chain's best it is returned and becomes the state's best point
        (the chain goes on from its own last iterate, with its network and moments; a
        start that won only because the chain was still climbing would otherwise pull the
        chain into the start's basin): two CSBF evaluations, no iteration, not in
        ``history`` or ``nit``. Why: frame by frame
        (``angd_np.track``), a carried chain follows its own basin, and in the paper's
        sensing-dominated scenario the principal eigenvector of A A^H (where the optimum
        lies) turns by a few degrees per frame as the targets drift, and by up to 90° where
        its two largest eigenvalues cross, faster than a chain of 50 iterations follows;
        the frame's beam is within ~1e-6 of its optimum there, while in the balanced
        scenario it rarely beats the chain (``studies/angd_tracking``).
    step_input : float
        0 (the paper; default): the FCN sees the (scaled) gradient. κ > 0 (FCN only): it also
        sees κ times its own previous output as the projection scaled it, c_{t-1} y_{t-1}
        (the last step, in the units of the output scale and the channel metric; zero before
        the first step), as learned optimisers feed a network the last update: the input
        has 4MK entries instead of 2MK, and the state keeps c y in ``net_out`` (so a
        continuation is exact). Why: with the last step in view the network learns momentum
        and step length along its own trajectory: in the balanced scenario the ``tuned``
        chain reaches a median gap of 1e-3 in 200-300 iterations instead of 300-500
        (``studies/angd_speed``, section 2b). Without the factor c the output it feeds back
        grows without bound where the projection cuts every step, and a carried chain
        diverges after a few hundred iterations.
    adam_kernel : {"auto", "blas", "numpy"}
        How Adam updates the moments of the dense layers (``_angd_adam``): "blas" by
        rank-one BLAS updates in place (scipy's ``?ger``; ~9 µs less per iteration),
        "numpy" with NumPy alone; "auto" (default) "blas" when scipy is installed. The
        two agree up to rounding in the last bits (as two BLAS libraries do).
    net_dtype : {"float64", "float32"}
        Precision of the update networks and their Adam moments (the objective, W and every
        reported number are float64 either way). Both variants use float32 (``VARIANTS``).
    chunk : int
        Instances per task handed to a worker process (default ``DEFAULT_CHUNK``).
    workers : int or None
        Processes solving a batch (1: this process), from a pool kept across calls
        (``_parallel.shared_pool``). None: one per core allowed by ``threads`` when the
        batch is large enough to pay for starting them (``POOL_MIN_WORK``) or a pool of that
        size is already running (``POOL_WARM_WORK`` with at least ``chunk`` instances per
        process, else ``POOL_WARM_FEW``), else this process. The work counted is instances ×
        (iterations + ``SETUP_WORK``), pilot chains included, times P / ``P_REF`` for a
        network of P > ``P_REF`` parameters.
    threads : int or None
        The most cores this call may use (None: ``os.cpu_count()``). ``threads=1`` (what the
        Monte Carlo runner passes inside its own worker processes) means one core: no pool.
        A batch solved in this process runs on one thread whatever this is.
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
    precondition: str = "none"
    pilot: int = 0
    headroom: tuple | None = None
    pilot_extend: int = 0
    check_starts: bool = False
    step_input: float = 0.0
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
        self._set("pilot_extend", check_int(self.pilot_extend, "pilot_extend", minimum=0))
        if self.headroom is not None:
            self._set("headroom", _check_headroom(self.headroom))
            if self.pilot_extend:
                raise ValueError(f"headroom and pilot_extend are exclusive (two rules for the "
                                 f"same choice of chain); got headroom={self.headroom!r} and "
                                 f"pilot_extend={self.pilot_extend!r}: set one to None / 0")
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
        check_choice(self.size_scale, "size_scale", _SIZE_SCALES)
        check_choice(self.precondition, "precondition", _PRECONDITIONS)
        self._set("step_input", check_real(self.step_input, "step_input", allow_zero=True))
        for name in ("zero_last", "check_starts", "return_state"):
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


#: Option values of each variant, per network. "paper": the paper's §VI numbers, its raw
#: gradient input and raw output; the hidden width (which the paper leaves open; 128 measured
#: best of 32/64/128) and the network initialisation (PyTorch's default, as a PyTorch
#: implementation would get) are our choices. "tuned": the input scaling, output scaling,
#: step, zero output layer, start, learning rates and channel metric chosen on tuning
#: instances and checked on held-out ones (``studies/angd_tuning/``), the two starts
#: (``studies/angd_pilot/``) and the choice between them by the rate headroom
#: (``studies/angd_speed/``, section 3), and the FCN's view of its previous output (section
#: 2b); the CNN uses the same values but that one. Both variants run float32 networks: the
#: paired gap difference float32 - float64 was within float64's own run-to-run spread, at
#: 1.7-2.1x the speed (``studies/float32_networks/``).
_PAPER = ANGDOptions(iters=500, eta_w=1.0, eta_phi=1e-4, input_scale="raw",
                     output_scale="none", net_init="torch", net_dtype="float32")
#: No stopping rule (``tol=None``): tol = 1e-7, patience = 100 kept every gap at M = 16 but
#: stopped plateaued chains at M = 4 and 20 dBm (balanced) after ~100 iterations with gaps of
#: 2.6e-3 to 4.6e-3 where the full budget reached ~1e-4 (``studies/angd_speed``).
#: ``headroom=(0.01, 0.1)``: the beam's chain alone where the rates can add at most 1% to
#: its CSBF (the paper scenario from 24 dBm on: q = 0.0002-0.008), ZF's alone above 10%
#: (the balanced scenario up to 36 dBm: q >= 0.127), both in between (balanced at 40 dBm,
#: paper at 20 dBm, q = 0.06-0.08 and 0.013-0.017): set on tuning instances, never worse
#: than picking after the pilot on 1,008 held-out ones (``studies/angd_speed``).
_TUNED = dataclasses.replace(_PAPER, eta_w=0.03, eta_phi=2.4e-4, input_scale="rms",
                             output_scale="w", zero_last=True, init="zf", iters=400,
                             size_scale="sqrt", precondition="channel", pilot=100,
                             headroom=(0.01, 0.1))
#: The FCN also sees its previous output (``step_input=0.5``): in the balanced scenario its
#: chain reaches a median gap of 1e-3 in 200-300 iterations instead of 300-500, and over the
#: figures' sweeps (both scenarios, 48 instances a point) its mean gap was at most the
#: preset's without it at every point (largest 7.1e-4 against 1.5e-3); carried over frames,
#: its median per-frame gap was 2.0e-5 against 1.1e-4 (balanced) and the same (paper)
#: (``studies/angd_speed``, section 2b). The CNN has no such input.
_TUNED_FCN = dataclasses.replace(_TUNED, step_input=0.5)
VARIANTS = {
    "paper": {"fcn": _PAPER, "cnn": _PAPER},
    "tuned": {"fcn": _TUNED_FCN, "cnn": _TUNED},
}


def __getattr__(name):
    if name == "PRESETS":  # the old name of VARIANTS
        warnings.warn("angd_np.solvers.angd.PRESETS is renamed VARIANTS; the old name will be "
                      "removed in the next version", DeprecationWarning, stacklevel=2)
        return VARIANTS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _variant(method, variant, options) -> str:
    """The variant a call asks for (default "paper"), popping ``preset``, its old name."""
    given = {} if variant is None else {"variant": variant}
    if "preset" in options:
        given["preset"] = options.pop("preset")
    variant = rename_options(method, given, {"preset": "variant"})
    return check_choice(variant.get("variant", "paper"), "variant", tuple(VARIANTS))


def _state_shapes(opts, network, M, K):
    """ANGD's own state keys: name -> (shape of one instance, dtype)."""
    P = (n_params(network, M, K, opts.hidden, opts.channels, opts.kernel_size,
                  opts.step_input),)
    dt = np.dtype(opts.net_dtype)
    shapes = {"net_params": (P, dt), "adam_m": (P, dt), "adam_v": (P, dt),
              "adam_t": ((), np.int64)}
    if opts.step_input:
        shapes["net_out"] = ((2 * M * K,), dt)
    return shapes


def _processes(opts, n, iters, P=P_REF):
    """Worker processes for ``n`` chains of ``iters`` iterations each of a network of ``P``
    parameters (1: this process)."""
    cores = opts.threads if opts.threads is not None else (os.cpu_count() or 1)
    work = n * (iters + SETUP_WORK) * max(1.0, P / P_REF)
    if opts.workers is not None:
        processes = opts.workers
    elif cores > 1 and (work >= POOL_MIN_WORK or (
            _parallel.live_pool() == cores and work >= POOL_WARM_WORK
            and (n >= cores * opts.chunk or work >= POOL_WARM_FEW))):
        processes = cores
    else:
        processes = 1
    return processes if n > 1 else 1


def _worker_start():
    """Run once in each pool worker as it starts: load the engine and the optimiser's BLAS
    kernels, so that the first chunk a worker gets does not pay for the imports."""
    for dtype in _NET_DTYPES:
        _angd_adam.blas_kernels(np.dtype(dtype))


def _run_tasks(tasks, processes):
    """solve_chunk over the tasks, yielding the parts in task order as they come: in the
    kept process pool, or here on one thread."""
    if processes > 1:
        from concurrent.futures.process import BrokenProcessPool

        pool = _parallel.shared_pool(processes, initializer=_worker_start)
        futures = _parallel.submit_all(pool, solve_chunk, tasks)
        try:
            for future in futures:
                yield future.result()
        except BrokenProcessPool as exc:
            _parallel.close_pools(wait=False)
            raise RuntimeError(
                "ANGD's worker processes died (a spawned process imports the calling script "
                "again: is its code under `if __name__ == '__main__':`? Code piped on stdin "
                "cannot be spawned). Pass workers=1 to solve in this process.") from exc
        except BaseException:
            # Ctrl-C, a failed chunk or the consumer stopping: drop the chunks not started,
            # so that the kept pool is free for the next call.
            for future in futures:
                future.cancel()
            raise
    else:
        # BLAS held to one thread (at these sizes OpenBLAS's threads cost more than they
        # save: ``_parallel``). The optimiser's BLAS is loaded first, so that it is held too.
        opts = tasks[0]["opts"] if tasks else None
        if opts is not None and opts.adam_kernel != "numpy":
            _angd_adam.blas_kernels(np.dtype(opts.net_dtype))
        with _parallel.one_blas_thread():
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


def _solve(flat, network, opts, W0s, streams, processes, saved=None):
    """The engine on every instance from each start in ``W0s`` (fresh networks drawn from
    ``streams[s]``, or the state rows ``saved`` for a single start), in one batch of tasks
    on ``processes`` processes; the parts joined along the instance axis, start after
    start."""
    n = flat.n_instances
    here, total = processes == 1, n * len(W0s)
    # Chunking does not change any result. Over processes: small chunks, a small batch spread
    # over every process. Here: one task per start, which fills its rows of the joined
    # arrays in place (no copy of the parts, no engine set-up per chunk).
    chunk = n if here else min(opts.chunk, math.ceil(total / processes))
    if here:
        M, K = flat.H.shape[-2:]
        joined = empty_rows(total, M, K, opts,
                            n_params(network, M, K, opts.hidden, opts.channels, opts.kernel_size,
                                     opts.step_input))
    tasks = []
    for j, (W0, net_streams) in enumerate(zip(W0s, streams, strict=True)):
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
            if here:
                task["out"] = {k: v[j * n + lo:j * n + hi] for k, v in joined.items()}
            tasks.append(task)
    if here:
        for _ in _run_tasks(tasks, 1):
            pass
        return joined
    return _join(_run_tasks(tasks, processes), total)


#: The state rows a continuation reads (``saved``): every state key but W and method.
_SAVED_KEYS = ("best_W", "best_f", "ref_f", "since", "active", "failed", "net_params",
               "adam_m", "adam_v", "adam_t")


def _saved_keys(joined):
    """The state rows of ``joined`` a continuation reads: ``_SAVED_KEYS``, and ``net_out``
    with ``step_input``."""
    return _SAVED_KEYS + (("net_out",) if "net_out" in joined else ())


def _pilot(flat, network, opts, net_streams, processes):
    """``(rows, W, saved, streams)``: the chains to go on from after ``opts.pilot``
    iterations, one row each: ``rows[r]`` the instance of row r, ``W`` its last iterate,
    ``saved`` its state (``streams`` None).

    Without ``headroom``: one row per instance, in order, the chain from ZF or from the
    sensing beam whose best CSBF is higher (ZF on a tie). With ``headroom``: the chains the
    instance's rate headroom calls for (``ANGDOptions.headroom``), in instance order, ZF's
    row first; an instance with two rows keeps the better after the main run
    (:func:`_pick`). Nothing is then decided by the pilot's iterations, so without a
    stopping rule they are left to the main run, which runs ``pilot + iters`` from the
    starts (``W`` the starts, ``saved`` None, ``streams`` each row's network stream): the
    same chains bit for bit, one engine set-up instead of two.
    """
    from .linear import _headroom_of, sensing_beam, zf_precoder

    M, K = flat.H.shape[-2:]
    if K > M:
        raise ValueError(f"pilot > 0 starts a chain from zero forcing, which needs M >= K; "
                         f"got M = {M}, K = {K} (pass pilot=0)")
    n = flat.n_instances
    starts = [zf_precoder(flat)]
    if flat.n_targets:
        starts.append(sensing_beam(flat))
    pilot_opts = dataclasses.replace(opts, iters=opts.pilot, tol=None, return_state=True)
    if len(starts) == 2 and opts.headroom is not None:
        lo, hi = opts.headroom
        q = _headroom_of(flat, starts[1])
        q = np.where(np.isnan(q), np.inf, q)  # no bound: ZF's chain (and the beam's if hi = inf)
        zf_rows, beam_rows = np.flatnonzero(q > lo), np.flatnonzero(q <= hi)
        # Rows in instance order, ZF's first where an instance has both (a stable sort).
        order = np.argsort(np.concatenate([zf_rows, beam_rows]), kind="stable")
        rows = np.concatenate([zf_rows, beam_rows])[order]
        W0 = np.concatenate([starts[0][zf_rows], starts[1][beam_rows]])[order]
        # Every chain draws its instance's network from the same stream: two chains of an
        # instance differ only in W_0. The streams are this call's own (spawned children), so
        # an instance's first chain takes its stream and only a second chain a copy, made now,
        # before the first draws (a copy costs ~40 µs, a tenth of a short chain's set-up).
        streams, seen = [], set()
        for i in rows.tolist():
            streams.append(copy.deepcopy(net_streams[i]) if i in seen else net_streams[i])
            seen.add(i)
        if opts.tol is None:  # the main run takes the pilot's iterations (docstring)
            return rows, W0, None, streams
        joined = _solve(flat[rows], network, pilot_opts, [W0], [streams], processes)
        return rows, joined["W"], {k: joined[k] for k in _saved_keys(joined)}, None
    # Each start's chains draw from the same streams: the first start takes them, the others
    # copies made before any draw.
    streams = [list(net_streams)] + [[copy.deepcopy(g) for g in net_streams]
                                     for _ in starts[1:]]
    joined = _solve(flat, network, pilot_opts, starts, streams, processes)
    if len(starts) == 2 and opts.pilot_extend:
        _extend(flat, network, pilot_opts, joined, starts, opts.pilot_extend, processes)
    best_f = joined["best_f"].reshape(len(starts), n)
    pick = np.argmax(best_f, axis=0) * n + np.arange(n)  # first maximum: ZF on a tie
    return (np.arange(n), joined["W"][pick], {k: joined[k][pick] for k in _saved_keys(joined)},
            None)


def _pick(joined, rows, n):
    """The rows of ``joined`` (one per chain, ``rows[r]`` its instance), one per instance:
    the chain with the higher best CSBF, the first (ZF's) on a tie or when both failed."""
    if rows.size == n:
        return joined
    f = joined["best_f"]
    pick = np.full(n, -1)
    for r, i in enumerate(rows.tolist()):
        p = pick[i]
        if p < 0 or f[r] > f[p] or (np.isnan(f[p]) and not np.isnan(f[r])):
            pick[i] = r
    return {key: value[pick] for key, value in joined.items()}


def _extend(flat, network, pilot_opts, joined, starts, blocks, processes):
    """Continue both pilot chains (rows [ZF; beam] of ``joined``, in place) by blocks of
    ``pilot`` iterations on the instances where the beam chain leads by no more than the ZF
    chain closed in over the last block (``pilot_extend``)."""
    from ..objective import csbf

    n = flat.n_instances
    before = np.concatenate([csbf(W0, flat) for W0 in starts]).reshape(2, n)
    open_ = np.ones(n, bool)
    for _ in range(blocks):
        best = joined["best_f"].reshape(2, n)
        lead = best[1] - best[0]
        closing = (best[0] - before[0]) - (best[1] - before[1])
        open_ &= (lead > 0) & (closing >= lead)
        go = np.flatnonzero(open_)
        if not go.size:
            return
        rows = np.concatenate([go, n + go])
        before = best.copy()
        part = _solve(flat[np.concatenate([go, go])], network, pilot_opts,
                      [joined["W"][rows]], [None], processes,
                      {k: joined[k][rows] for k in _saved_keys(joined)})
        for key in ("W", *_saved_keys(joined)):
            joined[key][rows] = part[key]


def _check_starts(flat, joined):
    """Where ZF or the sensing beam beats a chain's best CSBF, make it the chain's best point,
    in place in ``joined`` (``check_starts``). The chain's last iterate stays: a start that
    wins only because the chain is still climbing (a few iterations on a new frame) would
    otherwise pull the chain into the start's basin (the balanced scenario's dropped user)."""
    from ..objective import csbf
    from .linear import sensing_beam, zf_precoder

    M, K = flat.H.shape[-2:]
    starts = ([zf_precoder(flat)] if K <= M else []) + (
        [sensing_beam(flat)] if flat.n_targets else [])
    for W0 in starts:
        f = csbf(W0, flat)
        better = f > joined["best_f"]
        joined["best_W"][better] = W0[better]
        joined["best_f"][better] = f[better]
        joined["since"][better] = 0


def angd(problem, *, network="fcn", rng=None, variant=None, state=None, **options):
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
    variant : {"paper", "tuned"}, default "paper"
        Defaults of every option (``VARIANTS``); explicit options override them.
        ``preset`` is its old name (DeprecationWarning; removed in the next version).
    state : dict, optional
        A ``Result.state`` of the same method on the same instances (or ``np.load`` of one
        saved with ``np.savez``): go on from its last iterate, networks and Adam moments.
        ``rng`` and ``init`` are then not used.
    **options
        The fields of :class:`ANGDOptions` (described there).

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
    method = f"angd-{network}"
    variant = _variant(method, variant, options)
    opts = ANGDOptions.resolve(method, VARIANTS[variant][network], options)
    flat = flatten_problem(problem)
    n, (M, K) = flat.n_instances, flat.H.shape[-2:]
    # One decision for the whole call (pilot chains included), so that a pool is started
    # for all of it or not at all.
    processes = _processes(opts, n, opts.iters + (2 * opts.pilot if state is None else 0),
                           n_params(network, M, K, opts.hidden, opts.channels,
                                    opts.kernel_size, opts.step_input))
    rows = None
    if state is None:
        streams = instance_streams(rng, n)
        net_streams = [s[1] for s in streams]
        if opts.pilot:
            rows, W0, saved, chain_streams = _pilot(flat, network, opts, net_streams,
                                                    processes)
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
    if rows is not None and saved is None:  # ``headroom``: chains of pilot + iters from W0
        whole = dataclasses.replace(opts, iters=opts.pilot + opts.iters)
        joined = _solve(flat[rows], network, whole, [W0], [chain_streams], processes)
        joined["history"] = joined["history"][:, opts.pilot:]  # the pilot's are not counted
        joined["nit"] = np.maximum(joined["nit"] - opts.pilot, 0)
        joined = _pick(joined, rows, n)
    elif rows is None or rows.size == n:  # one chain per instance, in order
        joined = _solve(flat, network, opts, [W0], [net_streams if saved is None else None],
                        processes, saved)
    else:  # two chains for some instances (``headroom``): both go on, the better is kept
        joined = _pick(_solve(flat[rows], network, opts, [W0], [None], processes, saved),
                       rows, n)
    if opts.check_starts:
        _check_starts(flat, joined)
    tracker = BestTracker(joined["best_W"], joined["best_f"], opts.iters, opts.tol,
                          opts.patience, state=joined)
    tracker.history[...], tracker.nit[...] = joined["history"], joined["nit"]
    own = None
    if opts.return_state:
        own = {k: joined[k] for k in ("W", "net_params", "adam_m", "adam_v", "adam_t",
                                      "net_out") if k in joined}
    return finish(problem, flat, tracker, method, t0, joined["failed"], state=own)


def angd_fcn(problem, *, rng=None, variant=None, state=None, **options):
    """ANGD with the paper's FCN (registered as ``"angd-fcn"``); see :func:`angd`."""
    return angd(problem, network="fcn", rng=rng, variant=variant, state=state, **options)


def angd_cnn(problem, *, rng=None, variant=None, state=None, **options):
    """ANGD with the paper's CNN (registered as ``"angd-cnn"``); see :func:`angd`."""
    return angd(problem, network="cnn", rng=rng, variant=variant, state=state, **options)


def _resolve(network, options):
    """The ANGDOptions of a call with ``options`` (its variant applied), for run identities."""
    options, method = dict(options), f"angd-{network}"
    variant = _variant(method, options.pop("variant", None), options)
    return ANGDOptions.resolve(method, VARIANTS[variant][network], options)


SPECS = (
    SolverSpec("angd-fcn", angd_fcn, label="ANGD-FCN", iterative=True, variants=("paper", "tuned"),
               cost=3.0, threads=True, options=ANGDOptions,
               style=dict(color="#2ca02c", marker="^"), resolve=functools.partial(_resolve, "fcn"),
               work=functools.partial(linear_work, {"iters": 1, "pilot": 2}),
               carry_options={"pilot": 0, "check_starts": True}),
    SolverSpec("angd-cnn", angd_cnn, label="ANGD-CNN", iterative=True, variants=("paper", "tuned"),
               cost=6.0, threads=True, options=ANGDOptions,
               style=dict(color="#9467bd", marker="v"), resolve=functools.partial(_resolve, "cnn"),
               work=functools.partial(linear_work, {"iters": 1, "pilot": 2}),
               carry_options={"pilot": 0, "check_starts": True}),
)
