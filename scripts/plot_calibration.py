#!/usr/bin/python3
"""calibration.png of a training run with a posterior density head (model.head = flow or mixture).

    /usr/bin/python3 scripts/plot_calibration.py RUN_DIR

`sgnn train` calls this at the end. It reads the `calibration` section of
RUN_DIR/summary.json (train/calibration.hpp: each held-out truth's randomized rank among
`draws` posterior draws, as a probability integral transform in `pit_bins` equal bins)
and draws, per target, the rank histogram with the 99% band of a uniform histogram,
and the coverage curve: the share of truths inside the central credible interval of
each level against the level, with 95% binomial bands. A calibrated posterior keeps its
histograms inside the bands and its curve on the diagonal. Written to a temporary name
and renamed; needs Debian's python3-matplotlib.
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def main():
    out = sys.argv[1]
    with open(os.path.join(out, "summary.json")) as f:
        calibration = json.load(f)["calibration"]
    histograms = calibration["pit_histogram"]
    bins = calibration["pit_bins"]
    names = list(histograms)
    fig, axes = plt.subplots(1, len(names) + 1, figsize=(3.2 * (len(names) + 1), 3.0), squeeze=False)
    for ax, name in zip(axes[0], names):
        counts = histograms[name]
        n = sum(counts)
        expected, sd = n / bins, math.sqrt(n * (1 / bins) * (1 - 1 / bins))
        ax.bar([(b + 0.5) / bins for b in range(bins)], counts, width=1 / bins, color="#4477aa", edgecolor="white")
        ax.axhspan(expected - 2.576 * sd, expected + 2.576 * sd, color="grey", alpha=0.35, lw=0, zorder=3)
        ax.axhline(expected, color="black", lw=0.8, zorder=4)
        ax.set_title(f"{name}  (p = {calibration['sbc_p'][name]:.2g})", fontsize=9)
        ax.set_xlabel("rank of the truth among the draws (PIT)")
        ax.set_xlim(0, 1)
    axes[0][0].set_ylabel("held-out samples")
    # Coverage of central intervals at every level the bins resolve: [0.5 - a/2, 0.5 + a/2).
    ax = axes[0][-1]
    half = bins // 2
    levels = [k / half for k in range(1, half + 1)]
    n = sum(histograms[names[0]])
    band = [1.96 * math.sqrt(a * (1 - a) / n) for a in levels]
    ax.fill_between(levels, [a - b for a, b in zip(levels, band)], [a + b for a, b in zip(levels, band)],
                    color="grey", alpha=0.3, lw=0, label="95% band")
    ax.plot([0, 1], [0, 1], color="black", lw=0.8)
    for name in names:
        counts = histograms[name]
        total = sum(counts)
        empirical = [sum(counts[half - k:half + k]) / total for k in range(1, half + 1)]
        ax.plot(levels, empirical, marker=".", ms=3, lw=1, label=name)
    ax.set_xlabel("credible level")
    ax.set_ylabel("coverage of central intervals")
    ax.set_title(f"{calibration['draws']} draws per held-out sample", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(out, "calibration.png")
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=150, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    print("figure calibration.png")


if __name__ == "__main__":
    sys.exit(main())
