#!/usr/bin/python3
"""Figures of `sgnn predict`: each series over its posterior predictive band, and each
target's posterior against its prior.

    /usr/bin/python3 scripts/plot_predictions.py PREDICTIONS.h5 FIGURE_DIR [MAX_SERIES]

`sgnn predict --out FILE.csv` calls this with FILE.h5, FILE_figures and --figures. For
each of the file's first MAX_SERIES series (all by default; docs/file-formats.md) it
writes
  SERIES_check.png      the observed series (points) over the replicates' central 50%
                        and 95% bands and their median, one panel per channel, with the
                        check's p-value and the entries outside the 95% band in the
                        title (no band: the check could not run, and the title says so);
  SERIES_posterior.png  one panel per target: the histogram of its posterior draws over
                        its prior's (draws of the run's prior), both as densities.
Each file is written to a temporary name and renamed. Needs Debian's python3-h5py and
python3-matplotlib.
"""
import os
import sys

import h5py
import numpy as np
import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def text(value):
    return value.decode() if isinstance(value, bytes) else str(value)


def save(figure, path):
    temporary = path + ".tmp.png"
    figure.savefig(temporary, dpi=110)
    plt.close(figure)
    os.replace(temporary, path)


def check_figure(f, name, key, out):
    observed = f[f"observed/{key}"][()]
    channels, length = observed.shape
    figure, axes = plt.subplots(channels, 1, figsize=(8, 3.2 * channels), squeeze=False)
    days = np.arange(1, length + 1)
    band = f[f"predictive/{key}"][()] if f"predictive/{key}" in f else None
    for c in range(channels):
        ax = axes[c][0]
        if band is not None:
            ax.fill_between(days, band[0, c], band[4, c], color="tab:blue", alpha=0.2, label="95% of replicates")
            ax.fill_between(days, band[1, c], band[3, c], color="tab:blue", alpha=0.35, label="50% of replicates")
            ax.plot(days, band[2, c], color="tab:blue", lw=1, label="median replicate")
        ax.plot(days, observed[c], "o", color="black", ms=3, label="observed")
        ax.set_xlabel("day of the series")
        ax.set_ylabel("count")
        ax.legend(loc="upper right", fontsize=8)
    if band is not None:
        p_value, outside, replicates = f[f"predictive_check/{key}"][()]
        title = (f"{name}: posterior predictive check, p = {p_value:.3g}, {int(outside)} of {observed.size} "
                 f"outside the 95% band ({int(replicates)} replicates)")
    else:
        title = f"{name}: observed (no predictive check: see sgnn predict's note)"
    axes[0][0].set_title(title, fontsize=9)
    figure.tight_layout()
    save(figure, os.path.join(out, f"{key}_check.png"))


def posterior_figure(f, name, key, columns, out):
    if f"draws/{key}" not in f:
        return
    draws = f[f"draws/{key}"][()]
    prior = f["prior_draws"][()] if "prior_draws" in f else None
    n = len(columns)
    cols = min(3, n)
    rows = (n + cols - 1) // cols
    figure, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for t, target in enumerate(columns):
        ax = axes[t // cols][t % cols]
        posterior = draws[:, t][np.isfinite(draws[:, t])]
        values = [posterior]
        if prior is not None:
            values.append(prior[:, t][np.isfinite(prior[:, t])])
        everything = np.concatenate(values)
        low, high = np.quantile(everything, [0.001, 0.999])
        bins = np.linspace(low, high, 50) if high > low else 20
        if prior is not None:
            ax.hist(values[1], bins=bins, density=True, color="grey", alpha=0.5, label="prior")
        ax.hist(posterior, bins=bins, density=True, color="tab:blue", alpha=0.7, label="posterior")
        ax.set_xlabel(target)
        ax.legend(fontsize=8)
    for t in range(n, rows * cols):
        axes[t // cols][t % cols].axis("off")
    figure.suptitle(f"{name}: posterior against prior", fontsize=10)
    figure.tight_layout()
    save(figure, os.path.join(out, f"{key}_posterior.png"))


def main():
    path, out = sys.argv[1], sys.argv[2]
    most = int(sys.argv[3]) if len(sys.argv) > 3 else None
    os.makedirs(out, exist_ok=True)
    with h5py.File(path, "r") as f:
        columns = text(f.attrs["columns"]).split(",")
        for name in text(f.attrs["series"]).split(",")[:most]:
            key = name.replace("/", "_")
            check_figure(f, name, key, out)
            posterior_figure(f, name, key, columns, out)


if __name__ == "__main__":
    main()
