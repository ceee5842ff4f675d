"""Typed, validated options: one frozen dataclass per solver family.

A solver's options are the fields of its dataclass, with their defaults; a preset is simply
an instance of it, and explicit options override a preset with :func:`dataclasses.replace`,
which runs the same validation again. So every option is checked in one place
(``__post_init__``), whichever way it arrives::

    opts = PGDOptions.resolve("pgd", None, {"iters": 100, "eta_w": 0.5})
    opts.iters                      # 100
    PGDOptions.resolve("pgd", None, {"iter": 100})
    # TypeError: pgd() got unknown options ['iter']; accepted: ['eta_w', 'init', ...]

Subclasses validate and normalise their fields in ``__post_init__`` through
``SolverOptions._set`` (the dataclasses are frozen: an option object never changes after
it is checked, so it can be shared and hashed into a run's identity).
"""

from __future__ import annotations

import dataclasses
import numbers
import os
import sys
import warnings
from typing import ClassVar

import numpy as np

from .._validate import check_int, check_positive

__all__ = ["SolverOptions", "IterativeOptions", "check_unknown", "check_choice",
           "check_real", "check_betas", "check_bool", "rename_options"]


def check_unknown(method: str, options, allowed) -> None:
    """TypeError naming unknown options and listing the accepted ones."""
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise TypeError(f"{method}() got unknown options {unknown}; accepted: "
                        f"{sorted(allowed) or 'none'}")


def check_choice(value, name: str, choices):
    """``value`` must be one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {value!r}")
    return value


def check_real(value, name, *, allow_zero=False):
    """A finite number > 0 (or >= 0), as float; a clearer error than float() would give."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    return check_positive(value, name, allow_zero=allow_zero)


def check_bool(value, name: str) -> bool:
    """``value`` must be True or False (a NumPy bool too; not 0/1, not a string)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def _outside_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside the angd_np package, for a warning
    raised by the caller of this function: Python shows a DeprecationWarning by default only
    when it points at the user's code, and the solvers reach the options through several
    layers (``solve`` -> the solver -> ``resolve``)."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    frame, level = sys._getframe(2), 2
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(package):
        frame, level = frame.f_back, level + 1
    return level


def rename_options(method: str, options: dict, renamed: dict, *, stacklevel=None) -> dict:
    """``options`` with each old name of ``renamed`` (``{old: new}``) given its new name.

    The old spelling keeps working for one version, with a :class:`DeprecationWarning`
    naming the new one, pointed at the first caller outside the package (``stacklevel``
    None) or at ``stacklevel``; TypeError if a call gives both.
    """
    options = dict(options)
    for old, new in renamed.items():
        if old in options:
            if stacklevel is None:  # walking the stack costs more than the rest of a call
                stacklevel = _outside_stacklevel()
            if new in options:
                raise TypeError(f"{method}() got both {old!r} and its new name {new!r}; "
                                f"pass {new!r} only")
            warnings.warn(f"{method}(): option {old!r} is renamed {new!r}; the old name "
                          f"will be removed in the next version", DeprecationWarning,
                          stacklevel=stacklevel)
            options[new] = options.pop(old)
    return options


def check_betas(betas, name="betas"):
    """Adam's decay rates: a pair of numbers in [0, 1), returned as a tuple of floats."""
    if (not isinstance(betas, (tuple, list)) or len(betas) != 2
            or not all(isinstance(b, numbers.Real) and not isinstance(b, bool) and 0 <= b < 1
                       for b in betas)):
        raise ValueError(f"{name} must be a pair of numbers in [0, 1), got {betas!r}")
    return (float(betas[0]), float(betas[1]))


@dataclasses.dataclass(frozen=True)
class SolverOptions:
    """Base of every solver's options (a solver without options uses it as is).

    A subclass that renames an option lists ``{old: new}`` in ``renamed``: the old spelling
    keeps working for one version, with a :class:`DeprecationWarning` naming the new one.
    """

    renamed: ClassVar[dict] = {}

    @classmethod
    def resolve(cls, method: str, base=None, options=None):
        """``base`` (an instance, default ``cls()``) with ``options`` (a dict) replaced.

        Raises TypeError naming unknown options, ValueError/TypeError for bad values.
        """
        options = rename_options(method, options or {}, cls.renamed)
        check_unknown(method, options, cls.names())
        if base is None:  # one validation, not two (a one-instance solve feels it)
            return cls(**options)
        return dataclasses.replace(base, **options)

    @classmethod
    def names(cls) -> tuple:
        """The accepted option names."""
        return tuple(f.name for f in dataclasses.fields(cls))

    def as_dict(self) -> dict:
        """The options as a plain dict (for a Result, meta.json or a report)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def _set(self, name, value):
        object.__setattr__(self, name, value)


@dataclasses.dataclass(frozen=True)
class IterativeOptions(SolverOptions):
    """Options every iterative solver (pgd, adam, angd-fcn, angd-cnn) shares.

    Attributes
    ----------
    iters : int
        T, the number of iterations of this call (the paper: 500).
    init : {"random", "zf"} or array of shape (M, K) or (n, M, K)
        W_0 (see :func:`angd_np.solvers.iterative.initial_W`); ignored when continuing from
        a ``state``.
    tol, patience : float or None, int
        Stop an instance after ``patience`` iterations in which its best f rose by no more
        than ``tol`` relative (``tol=None``: run all T iterations, as the paper does).
    """

    iters: int = 500
    init: object = "random"
    tol: float | None = None
    patience: int = 50

    def __post_init__(self):
        self._set("iters", check_int(self.iters, "iters", minimum=1))
        if self.tol is not None:
            self._set("tol", check_positive(self.tol, "tol", allow_zero=True))
        self._set("patience", check_int(self.patience, "patience", minimum=1))
        if isinstance(self.init, str):
            check_choice(self.init, "init", ("random", "zf"))
