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
Options given explicitly override the preset.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from .._validate import check_int
from ._angd_step import run_chunk
from .iterative import BestTracker, finish, flatten_problem, initial_W, instance_streams
from .options import check_choice, check_real, check_unknown
from .spec import SolverSpec

__all__ = ["angd", "angd_fcn", "angd_cnn", "PRESETS", "DEFAULT_CHUNK"]

#: Instances per chunk, measured with ``python scripts/bench.py angd`` (2-core EPYC, hidden
#: 128): chunks of 1, 2, 4 run at 3.5, 4.6, 6.7 instances/s (per-call overhead, and two
#: threads fighting for the GIL over small arrays); 8 to 64 all gave 10-11 instances/s. 8 is
#: the smallest of that plateau, which keeps a batch's memory small (1000 instances: 69 MB).
#: A later run of the same benchmark, on a slower day of the machine, gave 8.6, 9.4 and 11.1
#: instances/s for chunks of 8, 16 and 32: a larger chunk may pay; not re-tuned yet.
DEFAULT_CHUNK = 8

_COMMON = dict(iters=500, eta_w=1.0, eta_phi=1e-4, betas=(0.9, 0.999), init="random",
               tol=None, patience=50, zero_last=False)

#: Option values of each preset, per network. "paper": the paper's §VI numbers, its raw
#: gradient input and raw output; the hidden width (which the paper leaves open; 128 measured
#: best of 32/64/128 in the study) and the network initialisation (PyTorch's default, as a
#: PyTorch implementation would get) are our choices. "tuned": the best configuration of
#: ``scripts/angd_study.py`` (``scripts/angd_study_results.md``); the CNN reuses the FCN's
#: scaling, step and learning rate.
PRESETS = {
    "paper": {
        "fcn": dict(_COMMON, hidden=128, input_scale="raw", output_scale="none",
                    net_init="torch"),
        "cnn": dict(_COMMON, channels=16, kernel_size=3, input_scale="raw",
                    output_scale="none", net_init="torch"),
    },
    "tuned": {
        "fcn": dict(_COMMON, hidden=128, eta_w=0.1, eta_phi=1e-3, input_scale="rms",
                    output_scale="w", net_init="torch", zero_last=True),
        "cnn": dict(_COMMON, channels=16, kernel_size=3, eta_w=0.1, eta_phi=1e-3,
                    input_scale="rms", output_scale="w", net_init="torch", zero_last=True),
    },
}

_INPUT_SCALES = ("raw", "rms")
_OUTPUT_SCALES = ("none", "power", "w")
_NET_INITS = ("he", "torch")
_ARCH = {"fcn": ("hidden",), "cnn": ("channels", "kernel_size")}


def _resolve(network, preset, options):
    """Preset values overridden by ``options``, validated; returns (cfg, run options)."""
    check_choice(network, "network", tuple(_ARCH))
    check_choice(preset, "preset", tuple(PRESETS))
    base = PRESETS[preset][network]
    allowed = set(base) | {"chunk", "threads"}
    check_unknown(f"angd-{network}", options, allowed)
    cfg = dict(base, **options)
    cfg["network"] = network
    cfg["iters"] = check_int(cfg["iters"], "iters", minimum=1)
    cfg["eta_w"] = check_real(cfg["eta_w"], "eta_w")
    cfg["eta_phi"] = check_real(cfg["eta_phi"], "eta_phi", allow_zero=True)
    if cfg["tol"] is not None:
        cfg["tol"] = check_real(cfg["tol"], "tol", allow_zero=True)
    cfg["patience"] = check_int(cfg["patience"], "patience", minimum=1)
    check_choice(cfg["input_scale"], "input_scale", _INPUT_SCALES)
    out = cfg["output_scale"]
    if isinstance(out, str):
        check_choice(out, "output_scale", _OUTPUT_SCALES)
    else:
        try:
            cfg["output_scale"] = check_real(out, "output_scale")
        except (TypeError, ValueError):
            raise ValueError(f"output_scale must be one of {list(_OUTPUT_SCALES)} or a number "
                             f"> 0, got {out!r}") from None
    check_choice(cfg["net_init"], "net_init", _NET_INITS)
    if not isinstance(cfg["zero_last"], (bool, np.bool_)):
        raise TypeError(f"zero_last must be True or False, got {cfg['zero_last']!r}")
    betas = cfg["betas"]
    if (not isinstance(betas, (tuple, list)) or len(betas) != 2
            or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas)):
        raise ValueError(f"betas must be a pair of numbers in [0, 1), got {betas!r}")
    cfg.setdefault("hidden", 128)
    cfg.setdefault("channels", 16)
    cfg.setdefault("kernel_size", 3)
    for name in ("hidden", "channels", "kernel_size"):
        cfg[name] = check_int(cfg[name], name, minimum=1)
    chunk = check_int(cfg.pop("chunk", DEFAULT_CHUNK), "chunk", minimum=1)
    threads = cfg.pop("threads", None)
    if threads is None:
        threads = os.cpu_count() or 1
    threads = check_int(threads, "threads", minimum=1)
    return cfg, chunk, threads


def angd(problem, *, network="fcn", rng=None, preset="paper", **options):
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
        Defaults of every option below (see ``PRESETS``); explicit options override them.
    **options
        iters : int
            T, the number of iterations (paper: 500).
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
            Multiplier of the network output: 1 (paper), sqrt(p_max / MK) (so an output of
            unit RMS is a step the size of the power ball), ||W_t||_F / sqrt(MK), or a number.
        net_init : {"he", "torch"}
            Network initialisation (``angd_np.nn.fcn``).
        zero_last : bool
            Zero the output layer at the start: the first step is zero and the network learns
            its update from rest (default False, as the paper).
        init : {"random", "zf"} or array of shape (M, K) or (n, M, K)
            W_0: random at full power, zero forcing, or given (projected if infeasible).
        tol, patience : float or None, int
            Stop an instance after ``patience`` iterations in which its best f rose by no
            more than ``tol`` relative (None: run all T iterations).
        chunk : int
            Instances stepped together per chunk (cache-sized; default ``DEFAULT_CHUNK``).
        threads : int or None
            Threads running chunks in parallel (None: ``os.cpu_count()``).

    Returns
    -------
    Result
        ``W`` the best iterate of each instance (W_0 included), feasible;
        ``history`` (..., T) f(W_{t+1}) per iteration (NaN after an early stop);
        ``time_s`` the batch's wall time shared evenly.
    """
    t0 = time.perf_counter()
    cfg, chunk, threads = _resolve(network, preset, options)
    flat = flatten_problem(problem)
    n = flat.n_instances
    streams = instance_streams(rng, n)
    W0 = initial_W(cfg["init"], flat, streams)
    iters = cfg["iters"]
    tol, patience = cfg["tol"], cfg["patience"]
    # Results of all instances; each chunk writes its own slice.
    tracker = BestTracker(W0, np.zeros(n), iters, tol, patience)
    failed = np.zeros(n, dtype=bool)
    bounds = [(i, min(i + chunk, n)) for i in range(0, n, chunk)]

    def solve_chunk(bound):
        lo, hi = bound
        part, bad = run_chunk(flat[lo:hi], W0[lo:hi], [s[1] for s in streams[lo:hi]], cfg,
                              iters, tol, patience)
        tracker.W[lo:hi], tracker.f[lo:hi] = part.W, part.f
        tracker.history[lo:hi], tracker.nit[lo:hi] = part.history, part.nit
        failed[lo:hi] = bad

    workers = min(threads, len(bounds))
    if workers == 1:
        for bound in bounds:
            solve_chunk(bound)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(solve_chunk, bounds))
    return finish(problem, flat, tracker, f"angd-{network}", t0, failed)


def angd_fcn(problem, *, rng=None, preset="paper", **options):
    """ANGD with the paper's FCN (registered as ``"angd-fcn"``); see :func:`angd`."""
    return angd(problem, network="fcn", rng=rng, preset=preset, **options)


def angd_cnn(problem, *, rng=None, preset="paper", **options):
    """ANGD with the paper's CNN (registered as ``"angd-cnn"``); see :func:`angd`."""
    return angd(problem, network="cnn", rng=rng, preset=preset, **options)


SPECS = (
    SolverSpec("angd-fcn", angd_fcn, label="ANGD-FCN", iterative=True, presets=("paper", "tuned"),
               cost=3.0, threads=True, style=dict(color="#2ca02c", marker="^")),
    SolverSpec("angd-cnn", angd_cnn, label="ANGD-CNN", iterative=True, presets=("paper", "tuned"),
               cost=6.0, threads=True, style=dict(color="#9467bd", marker="v")),
)
