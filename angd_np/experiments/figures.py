"""Plots of stored results: every figure is drawn from the CSV files of its folder.

Plotting never recomputes anything: ``plot_figure(name, folder)`` reads ``summary.csv`` (and
``pattern.csv`` or ``history.csv``) and ``meta.json``, so a figure can be redrawn or restyled
without running a trial. Each ``plot_*`` function takes ``ax=None``, draws on it and returns
the Axes; nothing is shown. Means carry 95% confidence bands (Student t over trials). Each
``draw_*`` function lays out a whole figure, ``draw(fig, folder, meta, summary, spec)``: a
figure spec (:mod:`.configs`) names its own and is passed to :func:`plot_figure`, so this
module knows no figure registry.

Matplotlib is imported inside the functions, through ``matplotlib.figure.Figure`` (no pyplot,
so no GUI backend and no global state): headless by construction.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np

from .plotstyle import RC, style
from .store import read_csv

__all__ = ["plot_figure", "plot_pattern", "plot_sweep", "plot_tradeoff", "plot_convergence",
           "plot_runtime", "user_sector_deg", "draw_patterns", "draw_sweep", "draw_tradeoff",
           "draw_convergence", "draw_runtime", "draw_tracking", "draw_budget", "draw_quality_time"]


def _matplotlib():
    try:
        import matplotlib
        from matplotlib.figure import Figure
    except ImportError:
        raise ImportError("figures need matplotlib: pip install 'angd_np[plot]'") from None
    return matplotlib, Figure


def _table(path) -> dict:
    """CSV -> dict column -> array (float where possible)."""
    rows = read_csv(path)
    out = {}
    for name in (rows[0].keys() if rows else []):
        values = [r[name] for r in rows]
        try:
            out[name] = np.array([float(v) if v != "" else np.nan for v in values])
        except ValueError:
            out[name] = np.array(values)
    return out


def _methods(table) -> list:
    return list(dict.fromkeys(table["method"].tolist())) if table else []


def _new_axes(ax):
    if ax is not None:
        return ax
    _, Figure = _matplotlib()
    return Figure(figsize=(4.2, 3.2)).add_subplot()


def _band(ax, x, mean, hw, st):
    ax.plot(x, mean, **st)
    if np.any(np.isfinite(hw)):
        ax.fill_between(x, mean - hw, mean + hw, color=st["color"], alpha=0.15, linewidth=0)


def user_sector_deg(scenario: dict) -> tuple[float, float]:
    """Angles (degrees) spanned by the users' disc as seen from the base station at the origin.

    The paper says users are "at -30 and 30 degrees" but draws them in a disc centred at
    (50, 30) m with radius 20 m, which spans about 11 to 51 degrees; fig2 marks both.
    """
    cx, cy = scenario["user_center_m"]
    r, d = scenario["user_radius_m"], math.hypot(cx, cy)
    centre = math.degrees(math.atan2(cy, cx))
    half = 90.0 if r >= d else math.degrees(math.asin(r / d))
    return centre - half, centre + half


def plot_pattern(pattern, x, scenario, methods=None, ax=None):
    """Mean beampattern over trials, ``10 log10(mean p(theta) / p_max)`` in dB, at M = x.

    p(theta) = a^H W W^H a with unit-norm steering vectors, so 0 dB is all the power toward
    one direction. Circles: the paper's nominal user angles; shaded: the sector of the drawn
    user positions; triangles: the targets.
    """
    ax = _new_axes(ax)
    p_max = 10 ** (scenario["p_max_dbm"] / 10) / 1000
    sel = pattern["x"] == x
    floor = -40.0
    for method in methods or _methods(pattern):
        m = sel & (pattern["method"] == method)
        if not np.any(m):
            continue
        mean, hw = pattern["mean"][m] / p_max, pattern["ci95"][m] / p_max
        st = style(method)
        st.pop("marker")
        ax.plot(pattern["angle_deg"][m], 10 * np.log10(np.maximum(mean, 1e-4)), **st)
        lo = 10 * np.log10(np.maximum(mean - hw, 1e-4))
        hi = 10 * np.log10(np.maximum(mean + hw, 1e-4))
        ax.fill_between(pattern["angle_deg"][m], lo, hi, color=st["color"], alpha=0.15, lw=0)
    lo_deg, hi_deg = user_sector_deg(scenario)
    ax.axvspan(lo_deg, hi_deg, color="orange", alpha=0.08, label="users' disc")
    ax.plot(scenario["user_angles_deg"], [floor] * len(scenario["user_angles_deg"]), "o",
            mfc="none", mec="black", ms=7, clip_on=False, label="users (nominal)")
    ax.plot(scenario["target_angles_deg"], [floor] * len(scenario["target_angles_deg"]), "^",
            color="black", ms=7, clip_on=False, label="targets")
    ax.set(xlim=(-90, 90), ylim=(floor, 2), xlabel="angle (deg)",
           ylabel="p(θ) / p_max (dB)", title=f"M = {int(x)}")
    ax.set_xticks(range(-90, 91, 30))
    return ax


def plot_sweep(summary, x_label, metric="sum_rate", methods=None, ax=None):
    """A metric's mean against x with 95% bands, one line per method."""
    ax = _new_axes(ax)
    for method in methods or _methods(summary):
        m = summary["method"] == method
        _band(ax, summary["x"][m], summary[f"{metric}_mean"][m], summary[f"{metric}_ci95"][m],
              style(method))
    ax.set(xlabel=x_label, ylabel="sum rate (bit/s/Hz)" if metric == "sum_rate" else metric)
    return ax


def plot_tradeoff(summary, methods=None, ax=None):
    """Mean sum rate against mean sensing gain, one curve per method as omega sweeps."""
    ax = _new_axes(ax)
    for method in methods or _methods(summary):
        m = summary["method"] == method
        st = style(method)
        ax.errorbar(summary["sensing_mean"][m], summary["sum_rate_mean"][m],
                    xerr=summary["sensing_ci95"][m], yerr=summary["sum_rate_ci95"][m],
                    capsize=0, elinewidth=0.6, **st)
    ax.set(xscale="log", xlabel="sensing gain Σ p(θ_n) (W)", ylabel="sum rate (bit/s/Hz)")
    return ax


def plot_convergence(history, summary, methods=None, ax=None):
    """Mean CSBF after each iteration (bands: 95% CI); non-gradient methods as lines."""
    ax = _new_axes(ax)
    iterative = set(_methods(history))
    for method in methods or _methods(summary):
        st = style(method)
        if method in iterative:
            m = history["method"] == method
            st.pop("marker")
            _band(ax, history["iteration"][m], history["mean"][m], history["ci95"][m], st)
        else:
            m = summary["method"] == method
            if np.any(m):
                ax.axhline(summary["csbf_mean"][m][0], color=st["color"],
                           linestyle=st["linestyle"] if st["linestyle"] != "-" else "-.",
                           linewidth=1.0, label=st["label"])
    ax.set(xscale="log", xlabel="iteration", ylabel="CSBF f(W)")
    return ax


def plot_runtime(summary, methods=None, ax=None):
    """Mean wall time per instance against M (log scale)."""
    ax = _new_axes(ax)
    for method in methods or _methods(summary):
        m = summary["method"] == method
        ax.plot(summary["x"][m], summary["time_s_mean"][m], **style(method))
    ax.set(yscale="log", xlabel="number of antennas M", ylabel="time per instance (s)")
    return ax


def _legend_right(ax):
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))


def draw_patterns(fig, folder, meta, summary, spec):
    """fig2: one beampattern panel per M, a shared legend below."""
    pattern = _table(Path(folder) / "pattern.csv")
    axes = fig.subplots(1, len(meta["x_values"]), sharey=True, squeeze=False)[0]
    for ax, x, scen in zip(axes, meta["x_values"], meta["identity"]["scenarios"], strict=True):
        plot_pattern(pattern, x, scen, meta["methods"], ax=ax)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=6)


def draw_sweep(fig, folder, meta, summary, spec):
    """Sum rate against the sweep's x (fig3, fig4)."""
    ax = fig.add_subplot()
    plot_sweep(summary, spec.x_label, methods=meta["methods"], ax=ax)
    _legend_right(ax)


def draw_tradeoff(fig, folder, meta, summary, spec):
    ax = fig.add_subplot()
    plot_tradeoff(summary, meta["methods"], ax=ax)
    _legend_right(ax)


def draw_convergence(fig, folder, meta, summary, spec):
    ax = fig.add_subplot()
    plot_convergence(_table(Path(folder) / "history.csv"), summary, meta["methods"], ax=ax)
    _legend_right(ax)


def draw_runtime(fig, folder, meta, summary, spec):
    ax = fig.add_subplot()
    plot_runtime(summary, meta["methods"], ax=ax)
    _legend_right(ax)


def _gap_axis(ax, floor=1e-5):
    ax.set_yscale("log")
    ax.set_ylim(bottom=floor)
    ax.set_ylabel("gap to best known")


def draw_tracking(fig, folder, meta, summary, spec):
    """tracking: median (solid) and 90th-percentile (dotted) per-frame gap, one panel per x."""
    frames = _table(Path(folder) / "frames.csv")
    xs = meta["x_values"]
    axes = fig.subplots(1, len(xs), sharey=True, squeeze=False)[0]
    for ax, x in zip(axes, xs, strict=True):
        for method in meta["methods"]:
            m = (frames["x"] == x) & (frames["method"] == method)
            if not np.any(m):
                continue
            st = style(method)
            st.pop("marker")
            ax.plot(frames["frame"][m], np.maximum(frames["gap_median"][m], 1e-5), **st)
            ax.plot(frames["frame"][m], np.maximum(frames["gap_p90"][m], 1e-5),
                    color=st["color"], linestyle=":", linewidth=0.6, alpha=0.6)
        ax.set(xlabel="frame", title={"rho": "ρ"}.get(spec.x_field, spec.x_field) + f" = {x:g}")
        _gap_axis(ax)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=5)


def draw_budget(fig, folder, meta, summary, spec):
    """budget: median gap after the burn-in against iterations per frame and time per frame."""
    results = _table(Path(folder) / "results.csv")
    left, right = fig.subplots(1, 2, sharey=True)
    for method in meta["methods"]:
        xs, med, times = [], [], []
        for x in meta["x_values"]:
            m = (results["x"] == x) & (results["method"] == method)
            s = (summary["x"] == x) & (summary["method"] == method)
            if np.any(m):
                xs.append(x)
                med.append(max(float(np.median(results["gap"][m])), 1e-5))
                times.append(float(summary["time_s_mean"][s][0]))
        st = style(method)
        left.plot(xs, med, **st)
        right.plot(times, med, **st)
    left.set(xscale="log", xlabel="iterations per frame")
    right.set(xscale="log", xlabel="wall time per frame (s)")
    _gap_axis(left)
    _legend_right(right)


def draw_quality_time(fig, folder, meta, summary, spec):
    """quality-time: median gap against median time per instance, a line through each
    method's budget levels (gaps against the best known of the trial at any level)."""
    results = _table(Path(folder) / "results.csv")
    budgets = meta["identity"]["budgets"]
    ax = fig.add_subplot()
    for method in meta["methods"]:
        # A method with one cost only (ZF) is one point: its rows at every level pooled.
        levels = ([meta["x_values"]] if all(b[method] == budgets[0][method] for b in budgets)
                  else [[x] for x in meta["x_values"]])
        times, med = [], []
        for xs in levels:
            m = np.isin(results["x"], xs) & (results["method"] == method)
            if np.any(m):
                times.append(float(np.median(results["time_s"][m])))
                med.append(max(float(np.median(results["gap"][m])), 1e-6))
        ax.plot(times, med, **style(method))
    ax.set(xscale="log", xlabel="time per instance (s)")
    _gap_axis(ax, floor=1e-6)
    _legend_right(ax)


def plot_figure(spec, folder) -> list[Path]:
    """Draw ``folder/NAME.png`` and ``.pdf`` from the folder's CSVs; returns the paths.

    ``spec`` is the figure's :class:`~angd_np.experiments.FigureSpec` (for a registered
    figure, ``FIGURES[name]``): its ``plot`` lays the figure out, its ``name`` names the files.
    """
    if not callable(getattr(spec, "plot", None)):
        raise TypeError(f"spec must be a FigureSpec, got {type(spec).__name__}")
    name = spec.name
    matplotlib, Figure = _matplotlib()
    folder = Path(folder)
    meta = json.loads((folder / "meta.json").read_text())
    summary = _table(folder / "summary.csv")
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=spec.figsize, layout="constrained")
        spec.plot(fig, folder, meta, summary, spec)
        fig.suptitle(f"{meta['title']} — preset {meta['preset']}, {meta['trials']} trials",
                     fontsize=9)
        paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
        for path in paths:
            # Fixed metadata: the files depend only on the data, not on the time of drawing.
            fig.savefig(path, metadata={"CreationDate": None} if path.suffix == ".pdf"
                        else {"Software": None})
    return paths
