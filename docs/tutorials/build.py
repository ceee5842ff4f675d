"""Render the tutorial notebooks: percent-format sources -> executed ``.ipynb`` with outputs.

Each ``NN_name.py`` beside this file is the source of one notebook (jupytext "percent"
format: ``# %%`` starts a code cell, ``# %% [markdown]`` a Markdown cell). This script turns
each into ``NN_name.ipynb``, runs it top to bottom in a fresh Python kernel (working directory:
this folder) and stores it with its outputs, so that it renders with its numbers and figures
on a code-hosting site. Run from the repository root::

    python docs/tutorials/build.py           # every notebook
    python docs/tutorials/build.py 01 03     # the notebooks whose names start with 01 or 03

What would make a rebuild churn is removed: cell ids are numbered, execution timestamps are
not recorded, and the notebook metadata keeps only the kernel's name and the language.
Everything random in the notebooks comes from seeded NumPy Generators.

The tests (``tests/test_notebooks.py``) use :func:`notebook_from_source` and :func:`execute`
from here, so they run exactly what this script stores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
#: Seconds one cell may take before the build (or the test) fails.
CELL_TIMEOUT_S = 300
KERNEL = "python3"


def sources() -> list[Path]:
    """The notebook sources, in reading order (``NN_name.py``)."""
    return sorted(HERE.glob("[0-9][0-9]_*.py"))


def notebook_from_source(path):
    """The notebook of one source, without outputs, with stable cell ids and metadata."""
    import jupytext

    nb = jupytext.read(path, fmt="py:percent")
    nb.metadata = {
        "kernelspec": {"name": KERNEL, "display_name": "Python 3", "language": "python"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
        cell.metadata = {}
    return nb


def execute(nb, *, timeout=CELL_TIMEOUT_S):
    """Run ``nb`` top to bottom in a fresh kernel, in place; raise on the first error.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        A cell raised; the message holds the cell's source and the traceback.
    """
    from nbclient import NotebookClient

    client = NotebookClient(nb, kernel_name=KERNEL, timeout=timeout, record_timing=False,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()
    # nbclient writes the kernel's full language_info (Python version, mimetype...) back into
    # the metadata; keep only the name, so a rebuild elsewhere does not churn.
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def build(path: Path) -> Path:
    """Execute one source and write its notebook beside it; returns the notebook's path."""
    import nbformat

    nb = execute(notebook_from_source(path))
    target = path.with_suffix(".ipynb")
    nbformat.validate(nb)
    nbformat.write(nb, target)
    return target


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*",
                        help="build only the notebooks whose file names start with these")
    args = parser.parse_args(argv)
    chosen = [p for p in sources()
              if not args.prefixes or any(p.name.startswith(x) for x in args.prefixes)]
    if not chosen:
        print(f"no notebook source matches {args.prefixes}", file=sys.stderr)
        return 2
    for path in chosen:
        t0 = time.perf_counter()
        target = build(path)
        size_kb = target.stat().st_size / 1024
        print(f"{target.relative_to(HERE.parents[1])}: {time.perf_counter() - t0:.1f} s, "
              f"{size_kb:.0f} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
