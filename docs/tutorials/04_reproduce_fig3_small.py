# %% [markdown]
# # 4 · Reproducing Fig. 3, small
#
# The paper's Fig. 3 plots the users' sum rate against the number of antennas
# $M = 4, 6, \dots, 16$ at $p_\max = 30$ dBm for zero forcing (ZF), MMSE, CCPA (SDR + SCA, with
# cvxpy) and ANGD, each maximising the CSBF of eq. (7a) or, for ZF and MMSE, ignoring
# sensing. Its text claims that at $M = 10$ ANGD-FCN's sum rate is **5.96% higher** than
# CCPA's (ANGD-CNN: 8.29%), that ZF and MMSE have the highest sum rate and CCPA the lowest.
#
# The full reproduction (`python scripts/reproduce_paper.py --trials 1000 ...`, 85 minutes on
# two cores) is summarised in the README. Here the same machinery runs in seconds: four Monte
# Carlo trials per point, four methods, from Python. You will see
#
# 1. a figure run configured and executed with `angd_np.experiments.make_config` and
#    `run_figures`;
# 2. the files it stores, and the CSV layout;
# 3. the plot, drawn from the CSV alone;
# 4. the paper's claims against these four trials and against the README's 1000.

# %%
import csv
import json
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from scipy import stats

from angd_np.experiments import make_config, run_figures

# %% [markdown]
# ## 1. A small run
#
# `make_config("fig3", ...)` takes the figure's sweep from its spec (M = 4…16, 30 dBm) and the
# scenario from a preset: `paper` is the paper's numbers in watts ($\omega = 10^4$), `balanced`
# sets $\omega = 30$ so that rate and sensing are of the same order (README, "Fidelity
# notes"). ANGD runs the paper's configuration, $T = 500$. Trial $i$ of seed $s$ always draws
# the same channels, whatever else runs, so the rows below are reproducible.

# %%
METHODS = "zf,mmse,ccpa,angd-fcn"
TRIALS = 4
workdir = Path(tempfile.mkdtemp(prefix="angd-fig3-"))
folders = {}
for preset in ("paper", "balanced"):
    config = make_config("fig3", preset=preset, seed=0, trials=TRIALS, methods=METHODS)
    out = run_figures([config], workdir / preset, workers=1, plot=False, progress=False)
    folders[preset] = out["fig3"]
print("stored files:", sorted(p.name for p in folders["paper"].iterdir()))

# %% [markdown]
# ## 2. What is stored
#
# Each figure folder holds `results.csv` (one row per trial, x-value and method),
# `summary.csv` (per x and method: the mean of each metric and its 95% confidence
# half-width), `meta.json` (the full configuration, seed and versions) and, with `plot=True`,
# the PNG and PDF. Only columns whose names say *time* differ between two
# runs of the same command, so we leave them out when printing.

# %%
def read_rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


results = {preset: read_rows(folder / "results.csv") for preset, folder in folders.items()}
summary = {preset: read_rows(folder / "summary.csv") for preset, folder in folders.items()}
meta = json.loads((folders["paper"] / "meta.json").read_text())

print("results.csv columns:", ", ".join(results["paper"][0]))
print("summary.csv columns:", ", ".join(summary["paper"][0]))
print("meta.json keys:     ", ", ".join(meta))
print("\nresults.csv, paper preset, M = 10 (time columns omitted):")
shown = ("trial", "x", "method", "sum_rate", "sensing", "csbf")
print("  ".join(f"{c:>10}" for c in shown))
for row in results["paper"]:
    if float(row["x"]) == 10:
        print("  ".join(f"{row[c][:10]:>10}" if c in ("x", "method", "trial")
                        else f"{float(row[c]):>10.4g}" for c in shown))

# %% [markdown]
# ## 3. The plot, from the CSV alone
#
# Mean sum rate against $M$ with its 95% confidence band (Student $t$ over the four trials),
# read from `summary.csv`:

# %%
LABELS = {"zf": "ZF", "mmse": "MMSE", "ccpa": "CCPA", "angd-fcn": "ANGD-FCN"}
STYLE = {"zf": "o-", "mmse": "x--", "ccpa": "s-", "angd-fcn": "^-"}
fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
for ax, preset in zip(axes, ("paper", "balanced"), strict=True):
    for method in METHODS.split(","):
        rows = [r for r in summary[preset] if r["method"] == method]
        m = np.array([float(r["x"]) for r in rows])
        mean = np.array([float(r["sum_rate_mean"]) for r in rows])
        half = np.array([float(r["sum_rate_ci95"]) for r in rows])
        (line,) = ax.plot(m, mean, STYLE[method], ms=4, lw=1, label=LABELS[method])
        ax.fill_between(m, mean - half, mean + half, color=line.get_color(), alpha=0.15)
    ax.set_xlabel("number of antennas M")
    ax.set_title(f"{preset} preset, {TRIALS} trials")
axes[0].set_ylabel("sum rate (bit/s/Hz)")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 4. Where the paper's claims stand
#
# A gain "over CCPA" is read as a ratio of mean sum rates over the same trials (trial $i$ of
# both methods saw the same channel), $\bar R_\text{ANGD} / \bar R_\text{CCPA} - 1$, with a 95%
# interval by the delta method for a ratio of paired means (as `angd-np report` computes it;
# see `angd_np/experiments/report.py`). With four trials the interval is wide; the sign is
# what to look at.

# %%
def sum_rates(preset, x, method):
    rows = sorted((r for r in results[preset] if float(r["x"]) == x and r["method"] == method),
                  key=lambda r: int(r["trial"]))
    return np.array([float(r["sum_rate"]) for r in rows])


def paired_gain(y, x):
    """mean(y) / mean(x) - 1 and its 95% interval (delta method, paired samples)."""
    n, r = len(x), y.sum() / x.sum()
    se = np.sqrt(((y - r * x) ** 2).sum() / (n * (n - 1))) / x.mean()
    half = stats.t.ppf(0.975, n - 1) * se
    return r - 1, r - 1 - half, r - 1 + half


for preset in ("paper", "balanced"):
    gain, lo, hi = paired_gain(sum_rates(preset, 10, "angd-fcn"), sum_rates(preset, 10, "ccpa"))
    print(f"{preset:<9} ANGD-FCN vs CCPA at M = 10: {gain:+.1%}  [{lo:+.1%}, {hi:+.1%}]  "
          f"(paper: +5.96%)")
    assert hi < 0.0596  # the paper's gain lies outside (above) our interval

for preset in ("paper", "balanced"):
    means = {}
    for r in summary[preset]:
        means.setdefault(float(r["x"]), {})[r["method"]] = float(r["sum_rate_mean"])
    zf_mmse_top = all(max(v, key=v.get) in ("zf", "mmse") for v in means.values())
    lowest = {min(v, key=v.get) for v in means.values()}
    print(f"{preset:<9} ZF or MMSE highest at every M: {zf_mmse_top}; "
          f"lowest mean at some M: {', '.join(sorted(LABELS[m] for m in lowest))}")
    assert zf_mmse_top

shutil.rmtree(workdir)  # the run was only for this notebook

# %% [markdown]
# The four trials point the same way as the README's full runs. Quoted from the README's
# results table (paired ratio of mean sum rates, 95% interval):
#
# | Fig. 3, M = 10, 30 dBm | paper | ours, `paper`, 1000 trials | ours, `balanced`, 100 | verdict |
# |---|---:|---:|---:|---|
# | ANGD-FCN vs CCPA | +5.96% | −72.7% [−74.2, −71.3] | −23.0% [−24.9, −21.2] | not reproduced |
# | ANGD-CNN vs CCPA | +8.29% | −75.8% [−77.1, −74.6] | −24.5% [−26.6, −22.5] | not reproduced |
# | ZF ≈ MMSE, highest sum rate | yes | yes, at every M and power | yes | reproduced |
# | CCPA lowest sum rate | yes | no: ANGD is lowest | no: ANGD is lowest | not reproduced |
#
# Why, as far as the README's measurements tell: with the paper's numbers in watts the CSBF is
# 99.97% sensing, so every method that maximises it ends at the sensing beam and the sum rate
# left over is incidental (CCPA keeps about 15 bit/s/Hz there, ANGD about 4). Along that
# ridge of near-optimal beams the rate is a $10^{-3}$ perturbation of the CSBF, and
# first-order steps sized for the sensing term climb it very slowly (conditioning). In the
# `balanced` preset, where rate and sensing weigh alike, CCPA reaches the best-known optimum
# on every one of the 100 trials at M = 10, while ANGD in the paper's configuration stops
# 15% short of it in CSBF (mean gap). The rows above are ANGD in the paper's configuration.
# The package's `tuned` preset has changed since the README's runs (commits a388723, 281065f and
# e79f44c): it moves $W$ in the channel's metric (notebook 3, section 4) with $\eta_W = 0.03$ and
# $\eta_\varphi = 2.4 \cdot 10^{-4}$ (both multiplied by $\sqrt{32/(MK)}$ above $MK = 32$, so
# unscaled at M = 10, K = 2), and it starts from zero forcing or from the sensing beam (notebook 3,
# section 5). The numbers below were measured when a pilot chose the start (100 iterations from
# each, then $T = 400$ from the chain with the better CSBF); the start is now chosen by the users'
# rate headroom over the sensing beam, and on 48 trials of two other seeds the two rules gave the
# same result at M = 10, 30 dBm in both presets (`studies/angd_speed`, section 3); the FCN now
# also sees its own last step (`step_input=0.5`, section 2b there), which left the mean gap at
# every point of the figures' sweeps at most what it was. Re-run with the
# pilot on the same 100 trials at M = 10 (seed 0, trials 0–99, with CCPA and the reference), tuned
# ANGD-FCN ends in the `balanced` preset 0.02% short of the best-known optimum on average (at most
# 0.15%), and its sum rate is level with CCPA's: 30.137 against 30.133 bit/s/Hz, +0.01% [−0.02,
# +0.04]. In the paper's units it now reaches the optimum too (0.0003% short on average, at most
# 0.02%), and its sum rate is level with CCPA's there as well: 15.04 against 15.17 bit/s/Hz, −0.8%
# [−1.9, +0.2]. Neither is the paper's +5.96%. In these units the pilot is what matters: the optimum
# lies near the sensing beam, far from zero forcing, and the same preset with `pilot=0` (400
# iterations from zero forcing alone) stalls on its way there, 2.6% short in CSBF on average (median
# 1.9%, at most 12%), while keeping 23.2 bit/s/Hz, 53% more than CCPA ([+49, +57]); the preset
# before the pilot (the metric, $T = 500$ from zero forcing) did the same (22.8 bit/s/Hz at a 2.5%
# mean gap). That sum rate was bought by maximising the CSBF less, and it is gone once ANGD solves
# the problem as well as CCPA does. Here the sum rate is about 0.12% of the CSBF, so a CSBF gap of
# 0.1% can hide all of it: the tuned preset before the metric (no metric, $T = 1500$, $\eta_\varphi
# = 1.2 \cdot 10^{-4}$) ended 0.11% short on the same 100 trials and kept 3.4 bit/s/Hz, about as
# little as the paper's configuration (3.8). Both methods maximise the same CSBF, so their sum rates
# say something only where both reach its optimum; where they do, here, the sum rates are level. The
# paper does not give ANGD's network width, input and output scaling or initialisation, so a setting
# we did not try cannot be ruled out. To go further: `angd-np figure fig3 --trials 100` runs this
# figure with every method (CNN, tuned ANGD, the reference optimum for the optimality gap) and
# `angd-np report` writes the verdicts.
