"""One look for every figure: a colour, marker, line style and label per method.

The paper's methods keep solid lines; our tuned ANGD variants are dashed in the colour of
their paper configuration; the extra baselines (pgd, adam) and the reference are thin.
"""

from __future__ import annotations

__all__ = ["style", "label", "RC"]

_BASE = {
    "zf": dict(color="#1f77b4", marker="o", label="ZF"),
    "mmse": dict(color="#17becf", marker="x", label="MMSE"),
    "ccpa": dict(color="#d62728", marker="s", label="CCPA"),
    "angd-fcn": dict(color="#2ca02c", marker="^", label="ANGD-FCN"),
    "angd-cnn": dict(color="#9467bd", marker="v", label="ANGD-CNN"),
    "pgd": dict(color="#8c564b", marker="D", label="PGD"),
    "adam": dict(color="#e377c2", marker="P", label="Adam on W"),
    "reference": dict(color="#444444", marker="*", label="reference (best found)"),
}

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
    """Keyword arguments for ``Axes.plot`` for a method name (``-tuned`` variants too)."""
    tuned = method.endswith("-tuned")
    base = method[: -len("-tuned")] if tuned else method
    s = dict(_BASE.get(base, dict(color="black", marker=".", label=base)))
    s["label"] = s["label"] + (" (tuned)" if tuned else "")
    s["linestyle"] = "--" if tuned else (":" if base == "reference" else "-")
    if base in ("pgd", "adam", "reference"):
        s["linewidth"] = 1.0
    return s


def label(method: str) -> str:
    return style(method)["label"]
