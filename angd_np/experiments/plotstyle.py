"""One look for every figure: a colour, marker, line style and label per method.

Each solver's colour, marker, label and line weight come from its
:class:`~angd_np.solvers.SolverSpec`. A variant (``angd-fcn-tuned``) is dashed in the
colour of its solver, with the variant in its label; a method no spec knows is black.
"""

from __future__ import annotations

__all__ = ["style", "label", "RC"]

#: Matplotlib settings applied to every figure (small, legible PNGs for the README).
RC = {
    "font.size": 9,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.fontsize": 7,
    "legend.framealpha": 0.85,
    "lines.linewidth": 1.4,
    "lines.markersize": 4,
    "savefig.dpi": 120,
}


def style(method: str) -> dict:
    """Keyword arguments for ``Axes.plot`` for a method name (variants too)."""
    from ..solvers import method_call, solver_spec
    from .framed import split_carry

    try:
        base, carry = split_carry(method)  # frames figures: NAME:w, NAME:none
        solver, options = method_call(base)
    except ValueError:
        return dict(color="black", marker=".", label=method, linestyle="-")
    s = solver_spec(solver)
    out = {"linestyle": "-", "color": "black", "marker": ".", **s.style}
    out["label"] = s.label
    if "variant" in options:
        out["label"] += f" ({options['variant']})"
        out["linestyle"] = "--"
    if carry != "all":
        out["label"] += {"w": ", carry W", "none": ", cold"}.get(carry, f", {carry}")
        out["linestyle"] = {"w": "-.", "none": ":"}.get(carry, "-")
    return out


def label(method: str) -> str:
    return style(method)["label"]
