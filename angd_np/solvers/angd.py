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
the exact gradient through the projection into the network, is in ``_angd_step.py``.

Batches. B instances step together, each with its own network (``n_nets``), in chunks of
``chunk`` instances so that a chunk's parameters, gradients and Adam moments stay in cache;
chunks run on ``threads`` threads (NumPy releases the GIL inside its kernels). Instance i's
initial W and network come from its own random streams, so its result is the same whether
it is solved alone or in a batch of any size or chunking.

Presets. ``preset="paper"`` (default) is the paper's configuration: T = 500,
:math:`\eta_W = 1`, :math:`\eta_\varphi = 10^{-4}`, the raw gradient as input and the raw
network output as the update. ``preset="tuned"`` is the configuration that
``scripts/angd_study.py`` measured best on 200 instances of each scenario preset (gradient
scaled to unit RMS, a step of η_W = 0.1 times ||W_t||/sqrt(MK) per unit of output, a zero
output layer at the start, η_φ = 1e-3, hidden width 128; see the README for the table).
Presets are :class:`ANGDOptions` instances (``PRESETS[preset][network]``); options given
explicitly replace their fields.

State. ``Result.state`` holds, besides the keys every iterative solver writes
(:mod:`.iterative`: ``W``, ``best_W``, ``best_f``, ``ref_f``, ``since``, ``active``,
``failed``, ``method``), ANGD's own, one row per instance (P = parameters of one network):

============== ==================== ===================================================
key            shape, dtype         meaning
============== ==================== ===================================================
``net_params`` (n, P) float64       the network's parameters, layer by layer, each
                                    array flattened row-major (``Sequential.params``)
``adam_m``     (n, P) float64       Adam's first moment as kept, m / (1 - β1)
``adam_v``     (n, P) float64       Adam's second moment as kept, v / (1 - β2)
``adam_t``     (n,) int64           Adam steps taken (bias corrections)
============== ==================== ===================================================

``solve(problem, "angd-fcn", state=res.state)`` goes on from there: 250 iterations and 250
more are the 500-iteration run bit for bit (same chunking), with the histories concatenated
and the best iterate the best of both parts.
"""

from __future__ import annotations

import dataclasses
import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validate import check_int
from ._angd_step import run_chunk
from .iterative import BestTracker, check_state, finish, flatten_problem, initial_W, \
    instance_streams
from .options import IterativeOptions, check_betas, check_choice, check_real, check_unknown
from .spec import SolverSpec

__all__ = ["angd", "angd_fcn", "angd_cnn", "ANGDOptions", "PRESETS", "DEFAULT_CHUNK",
           "SPECS"]

#: Instances per chunk, measured with ``python scripts/bench.py angd`` (2-core EPYC, hidden
#: 128): chunks of 1, 2, 4 run at 3.5, 4.6, 6.7 instances/s (per-call overhead, and two
#: threads fighting for the GIL over small arrays); 8 to 64 all gave 10-11 instances/s. 8 is
#: the smallest of that plateau, which keeps a batch's memory small (1000 instances: 69 MB).
#: A later run of the same benchmark, on a slower day of the machine, gave 8.6, 9.4 and 11.1
#: instances/s for chunks of 8, 16 and 32: a larger chunk may pay; not re-tuned yet.
DEFAULT_CHUNK = 8

_INPUT_SCALES = ("raw", "rms")
_OUTPUT_SCALES = ("none", "power", "w")
_NET_INITS = ("he", "torch")
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
    chunk : int
        Instances stepped together per chunk (cache-sized; default ``DEFAULT_CHUNK``).
    threads : int or None
        Threads running chunks in parallel (None: ``os.cpu_count()``).
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
    chunk: int = DEFAULT_CHUNK
    threads: int | None = None

    def __post_init__(self):
        super().__post_init__()
        self._set("eta_w", check_real(self.eta_w, "eta_w"))
        self._set("eta_phi", check_real(self.eta_phi, "eta_phi", allow_zero=True))
        self._set("betas", check_betas(self.betas))
        for name in ("hidden", "channels", "kernel_size", "chunk"):
            self._set(name, check_int(getattr(self, name), name, minimum=1))
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
        if not isinstance(self.zero_last, (bool, np.bool_)):
            raise TypeError(f"zero_last must be True or False, got {self.zero_last!r}")
        self._set("zero_last", bool(self.zero_last))
        if self.threads is not None:
            self._set("threads", check_int(self.threads, "threads", minimum=1))

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
#: PyTorch implementation would get) are our choices. "tuned": the best configuration of
#: ``scripts/angd_study.py`` (``scripts/angd_study_results.md``); the CNN reuses the FCN's
#: scaling, step and learning rate.
_PAPER = ANGDOptions(iters=500, eta_w=1.0, eta_phi=1e-4, input_scale="raw",
                     output_scale="none", net_init="torch")
_TUNED = dataclasses.replace(_PAPER, eta_w=0.1, eta_phi=1e-3, input_scale="rms",
                             output_scale="w", zero_last=True)
PRESETS = {
    "paper": {"fcn": _PAPER, "cnn": _PAPER},
    "tuned": {"fcn": _TUNED, "cnn": _TUNED},
}


def _state_shapes(opts, network, M, K):
    """ANGD's own state keys: name -> (shape of one instance, dtype)."""
    from ._angd_step import n_params

    P = n_params(network, M, K, opts)
    return {"net_params": ((P,), np.float64), "adam_m": ((P,), np.float64),
            "adam_v": ((P,), np.float64), "adam_t": ((), np.int64)}


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
        ``net_init``, ``zero_last``, ``init``, ``tol``, ``patience``, ``chunk``,
        ``threads``.

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
    threads = opts.threads if opts.threads is not None else (os.cpu_count() or 1)
    flat = flatten_problem(problem)
    n, (M, K) = flat.n_instances, flat.H.shape[-2:]
    if state is None:
        streams = instance_streams(rng, n)
        W0 = initial_W(opts.init, flat, streams)
        net_streams, saved = [s[1] for s in streams], None
    else:
        saved = check_state(state, method, n, (M, K), _state_shapes(opts, network, M, K))
        W0, net_streams = saved["W"], None
    # Each chunk returns its part of the results and of the state; they are joined below.
    bounds = [(i, min(i + opts.chunk, n)) for i in range(0, n, opts.chunk)]

    def solve_chunk(bound):
        lo, hi = bound
        part_saved = None if saved is None else {k: v[lo:hi] for k, v in saved.items()
                                                 if k != "method"}
        part_streams = None if net_streams is None else net_streams[lo:hi]
        return run_chunk(flat[lo:hi], W0[lo:hi], part_streams, network, opts, part_saved)

    workers = min(threads, len(bounds))
    if workers == 1:
        parts = [solve_chunk(bound) for bound in bounds]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(solve_chunk, bounds))
    joined = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    tracker = BestTracker(joined["best_W"], joined["best_f"], opts.iters, opts.tol,
                          opts.patience, state=joined)
    tracker.history[...], tracker.nit[...] = joined["history"], joined["nit"]
    own = {k: joined[k] for k in ("W", "net_params", "adam_m", "adam_v", "adam_t")}
    return finish(problem, flat, tracker, method, t0, joined["failed"], state=own)


def angd_fcn(problem, *, rng=None, preset="paper", state=None, **options):
    """ANGD with the paper's FCN (registered as ``"angd-fcn"``); see :func:`angd`."""
    return angd(problem, network="fcn", rng=rng, preset=preset, state=state, **options)


def angd_cnn(problem, *, rng=None, preset="paper", state=None, **options):
    """ANGD with the paper's CNN (registered as ``"angd-cnn"``); see :func:`angd`."""
    return angd(problem, network="cnn", rng=rng, preset=preset, state=state, **options)


SPECS = (
    SolverSpec("angd-fcn", angd_fcn, label="ANGD-FCN", iterative=True, presets=("paper", "tuned"),
               cost=3.0, threads=True, options=ANGDOptions,
               style=dict(color="#2ca02c", marker="^")),
    SolverSpec("angd-cnn", angd_cnn, label="ANGD-CNN", iterative=True, presets=("paper", "tuned"),
               cost=6.0, threads=True, options=ANGDOptions,
               style=dict(color="#9467bd", marker="v")),
)
