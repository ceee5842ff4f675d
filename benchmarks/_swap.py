"""An attribute swapped for the length of a ``with`` block: how a benchmark times two code
paths of the package alternately in one run (the scripts here import it as ``_swap``; they
run from the repository root as ``python benchmarks/NAME.py``)."""

import contextlib


@contextlib.contextmanager
def swapped(owner, name, value):
    """``owner.name = value`` inside the block, the original restored after it."""
    real = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, real)
