"""Input checks shared by the whole package.

Every public function validates at its edge and raises ValueError/TypeError whose message
names the argument, shows what was given and says what is accepted. Inside, arrays are trusted.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

__all__ = [
    "as_generator",
    "as_generators",
    "check_finite",
    "check_positive",
    "check_int",
    "check_complex_array",
]


def as_generator(rng, name: str = "rng") -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a Generator, an int seed or None."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(rng, numbers.Integral) and int(rng) < 0:
            raise ValueError(f"{name} must be a non-negative int seed, got {rng!r}")
        return np.random.default_rng(rng)
    raise TypeError(
        f"{name} must be a numpy.random.Generator, an int seed or None, got {type(rng).__name__}"
    )


def as_generators(rng, n: int, name: str = "rng") -> list[np.random.Generator]:
    """One independent Generator per instance of a batch of ``n``.

    ``rng`` may be a sequence of ``n`` Generators/seeds (the Monte Carlo runner passes one
    stream per trial, so a trial's result never depends on the batch it was solved in), or a
    single Generator/seed/None from which ``n`` children are spawned.
    """
    if isinstance(rng, Sequence) and not isinstance(rng, (str, bytes)):
        if len(rng) != n:
            raise ValueError(f"{name} must hold one generator per instance ({n}), got {len(rng)}")
        return [as_generator(r, name) for r in rng]
    return list(as_generator(rng, name).spawn(n))


def check_int(value, name: str, *, minimum: int | None = None) -> int:
    """An integer (not bool) at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


def check_finite(value, name: str) -> float:
    """A finite real number, returned as float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def check_positive(value, name: str, *, allow_zero: bool = False) -> float:
    """A finite real number > 0 (or >= 0 with ``allow_zero``)."""
    value = check_finite(value, name)
    if value < 0 or (value == 0 and not allow_zero):
        accepted = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number {accepted}, got {value!r}")
    return value


def check_complex_array(x, name: str, *, min_ndim: int = 2) -> np.ndarray:
    """A finite numeric array with at least ``min_ndim`` axes, returned as complex128."""
    try:
        arr = np.asarray(x)
    except Exception as exc:  # ragged lists and the like
        raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
    if arr.dtype.kind not in "biufc":
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if arr.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} axes, got shape {arr.shape}"
        )
    arr = arr.astype(np.complex128, copy=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {np.count_nonzero(~np.isfinite(arr))} "
                         "NaN or inf entries")
    return arr
