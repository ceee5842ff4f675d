"""Solvers of (P1): every one takes a batch Problem and returns a :class:`Result`.

``SOLVERS`` maps a method name to its solver function ``solver(problem, *, rng=None,
**options) -> Result``. Modules are imported on first use, so ``import angd_np`` stays
NumPy-only (``ccpa`` needs cvxpy, ``reference`` needs scipy).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from .result import Result

__all__ = ["SOLVERS", "solve", "Result"]

# name -> (module, function)
_REGISTRY = {
    "zf": ("linear", "zf"),
    "mmse": ("linear", "mmse"),
    "ccpa": ("ccpa", "ccpa"),
    "pgd": ("descent", "pgd"),
    "adam": ("descent", "adam"),
    "angd-fcn": ("angd", "angd_fcn"),
    "angd-cnn": ("angd", "angd_cnn"),
    "reference": ("reference", "reference"),
}


class _LazySolvers(Mapping):
    """A read-only mapping name -> solver that imports a solver's module on first access."""

    def __getitem__(self, name):
        if name not in _REGISTRY:
            raise KeyError(name)
        module, func = _REGISTRY[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), func)

    def __iter__(self):
        return iter(_REGISTRY)

    def __len__(self):
        return len(_REGISTRY)

    def __repr__(self):
        return f"SOLVERS({', '.join(_REGISTRY)})"


SOLVERS = _LazySolvers()


def solve(problem, method: str, *, rng=None, **options) -> Result:
    """Solve every instance of ``problem`` with ``method`` (a key of ``SOLVERS``).

    Parameters
    ----------
    problem : Problem
        A batch of instances (H of shape (..., M, K)).
    method : str
        One of ``"zf", "mmse", "ccpa", "pgd", "adam", "angd-fcn", "angd-cnn", "reference"``.
    rng : Generator, int, None, or a sequence of one Generator per instance
        Randomness of iterative solvers (initialisation, networks, randomisation).
    **options
        Passed to the solver; unknown options raise TypeError naming them.
    """
    if not isinstance(method, str) or method not in _REGISTRY:
        raise ValueError(f"method must be one of {list(_REGISTRY)}, got {method!r}")
    return SOLVERS[method](problem, rng=rng, **options)
