"""Certified instance banks: fixed instances with best-known precoders, to score any method.

A bank is N instances of (P1), drawn from a preset with a seed, with the best precoder we
know for each (the best of every registered solver's result after a local polish), a
certificate of how far to trust it, and hashes. It is a plain ``.npz`` (read with
``allow_pickle=False``) or ``.mat`` file, so a method written in NumPy, PyTorch or MATLAB can
be scored without running any of our solvers::

    import angd_np.bank as bank
    b = bank.load("paper-m10")                 # a shipped bank, or a path
    W = my_method(b.H, b.A, b.noise_var, b.p_max, b.omega)   # (N, M, K) complex
    score = bank.verify(b, W)                  # csbf, sum_rate, sensing, gap, feasible
    score.summary()

Fields (shapes in N instances, M antennas, K users, T targets, S solvers)
-------------------------------------------------------------------------
=========================== ============= ==================================================
``H``                       (N, M, K)     complex128 channels; column k of ``H[n]`` is h_k
``A``                       (N, M, T)     complex128 steering vectors a(theta_t), unit norm
``noise_var``, ``p_max``    ()            watts (linear); ``omega`` () the sensing weight
``scenario``                ()            JSON of the Scenario (dBm, degrees, metres)
``preset``, ``seed``        ()            instance n is trial ``trials[n]`` of ``seed``
``trials``                  (N,)          int64 trial indices
``command``                 ()            the command that regenerates the bank
``options``                 ()            JSON: the options each solver ran with
``W_best``                  (N, M, K)     best-known precoder, ``||W||_F^2 <= p_max``
``f_best``                  (N,)          its CSBF, eq. (7a): sum rate + omega * sensing
``best_method``             (N,)          the solver whose polished result is W_best
``methods``                 (S,)          the solvers run
``f_methods``, ``f_local``  (N, S)        each solver's CSBF, and after a local polish
``stationarity``            (N,)          ||tangential grad|| / ||grad|| at W_best
``stationarity_threshold``  ()            1e-6: every instance is below it
``spread``                  (N,)          (f_best - min f_local) / abs(f_best)
``spread_tolerance``        ()            1e-6: two optima agree when this close
``n_agree``                 (N,)          solvers whose local optimum reaches f_best
``reference_gap``           (N,)          (f_best - reference solver's f) / abs(f_best)
``flagged``                 (N,)          f_best unconfirmed: reference_gap or n_agree < 2
``version``                 ()            angd_np version
``instance_sha256``         ()            sha256 of H, A, noise_var, p_max, omega, scenario
``bank_sha256``             ()            sha256 of every other field
=========================== ============= ==================================================

The certificate (:mod:`angd_np.bank.certificate`) and the hashes (:mod:`angd_np.bank.format`)
are explained in their modules; candidate files and layouts in :mod:`angd_np.bank.score`.

MATLAB / Octave: ``load('bank-paper-m10.mat')`` gives N×M×K arrays; instance n is
``Hn = squeeze(H(n, :, :))``, or permute once: ``H = permute(H, [2 3 1])`` makes
``H(:, :, n)`` the M×K channel of instance n (the same for ``A`` and ``W_best``).

Shipped banks (``SHIPPED``): 100 instances each of the ``paper`` and ``balanced`` presets at
M = 10 and M = 16 (K = 2, T = 4, 30 dBm), seed 0, made by ``python scripts/make_bank.py``.
"""

from __future__ import annotations

from .build import command_for, draw_instances, make
from .certificate import (
    SPREAD_TOLERANCE,
    STATIONARITY_THRESHOLD,
    certify,
    polish,
    stationarity_residual,
)
from .files import SHIPPED, load, shipped
from .format import SCHEMA, Bank, bank_sha256, instance_sha256
from .score import (
    FEASIBILITY_TOLERANCE,
    LAYOUTS,
    Score,
    arrange,
    format_score,
    json_safe,
    read_candidate,
    verify,
)

__all__ = ["Bank", "Score", "make", "load", "verify", "shipped", "SHIPPED", "SCHEMA",
           "draw_instances", "command_for", "certify", "polish", "stationarity_residual",
           "read_candidate", "arrange", "format_score", "json_safe", "LAYOUTS",
           "instance_sha256", "bank_sha256",
           "STATIONARITY_THRESHOLD", "SPREAD_TOLERANCE", "FEASIBILITY_TOLERANCE"]
