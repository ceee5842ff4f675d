"""Optional dependency groups ("extras"): read from the installed package's metadata.

``setup.cfg`` is the one list of what each extra (``cvx``, ``plot``, ``dist``...) installs;
pip writes it into the distribution's metadata as ``Requires-Dist: scipy>=1.10; extra ==
"cvx"`` lines, and :func:`require_extra` reads them back, so no second table of extras lives
in the code. A requirement with extras of its own (``dask[distributed]``) also needs what
those extras of it require (``distributed``). Run from a source tree that was never
installed there is no metadata: nothing is checked, and the optional import itself fails
with its own message.
"""

from __future__ import annotations

import re
from importlib import metadata

__all__ = ["extra_requirements", "require_extra"]

_NAME = re.compile(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"""extra\s*==\s*["']([^"']+)["']""")


def _requires(distribution: str) -> list[str]:
    try:
        return metadata.requires(distribution) or []
    except metadata.PackageNotFoundError:
        return []


def extra_requirements(extra: str, requires=None, *, distribution: str = "angd_np") -> tuple:
    """Names of the distributions an extra installs, extras of extras followed.

    Parameters
    ----------
    extra : str
        The extra, e.g. ``"cvx"``.
    requires : list of str, optional
        ``Requires-Dist`` lines (default: those of the installed ``distribution``).

    Returns
    -------
    tuple of str
        Distribution names in the order listed, each once (``()`` when nothing is known).
    """
    requires = _requires(distribution) if requires is None else requires
    out = []
    for line in requires:
        spec, _, marker = line.partition(";")
        found = _EXTRA_MARKER.search(marker)
        if found is None or found.group(1) != extra:
            continue
        name, sub = _NAME.match(spec).groups()
        out.append(name)
        for sub_extra in filter(None, (s.strip() for s in (sub or "").split(","))):
            out += extra_requirements(sub_extra, distribution=name)
    return tuple(dict.fromkeys(out))


def require_extra(extra: str, what: str, requires=None) -> None:
    """ImportError naming ``what``, the missing distribution and the extra to install."""
    for name in extra_requirements(extra, requires):
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            raise ImportError(f"{what} needs {name}: pip install 'angd_np[{extra}]'") from None
