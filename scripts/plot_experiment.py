#!/usr/bin/python3
"""Figures of an sgnn experiment, from the CSV tables the run wrote.

    /usr/bin/python3 scripts/plot_experiment.py posterior-mean runs/pm

`sgnn experiment` calls this at the end of a run. It needs Debian's python3-matplotlib
(installed by `make deps`). Each figure is written to a temporary name and renamed, and
announced on stdout as "figure PATH" (relative to the run directory).
"""
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def save(fig, out, name):
    path = os.path.join(out, name)
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=150, bbox_inches="tight")
    plt.close(fig)
    os.replace(tmp, path)
    print(f"figure {name}")


def posterior_mean(out):
    rows = read_csv(os.path.join(out, "predictions.csv"))
    risk = read_csv(os.path.join(out, "risk.csv"))
    budgets = [r["budget"] for r in risk]
    largest = f"sgnn_{float(budgets[-1]):.0f}"
    exact = [float(r["posterior_mean_k"]) for r in rows]
    sgnn = [float(r[largest]) for r in rows]

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(exact, sgnn, s=4, alpha=0.4, label=f"SGNN, {float(budgets[-1]):.0e} simulations")
    low, high = min(exact + sgnn), max(exact + sgnn)
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
    ax.set_xlabel("exact posterior mean E[K | y] (quadrature)")
    ax.set_ylabel("SGNN prediction of K")
    ax.set_title("SGNN against the Bayes-optimal predictor")
    ax.legend(loc="upper left")
    save(fig, out, "sgnn_vs_posterior_mean.png")

    fig, ax = plt.subplots(figsize=(5.5, 4))
    x = [float(b) for b in budgets]
    y = [float(r["excess_risk"]) for r in risk]
    low_err = [max(0.0, yi - float(r["excess_low"])) for yi, r in zip(y, risk)]
    high_err = [max(0.0, float(r["excess_high"]) - yi) for yi, r in zip(y, risk)]
    positive = [yi > 0 for yi in y]
    ax.errorbar([xi for xi, p in zip(x, positive) if p], [yi for yi, p in zip(y, positive) if p],
                yerr=[[e for e, p in zip(low_err, positive) if p], [e for e, p in zip(high_err, positive) if p]],
                marker="o", capsize=3, label="E[(SGNN - E[K|y])^2], bootstrap 95% CI")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("simulation budget")
    ax.set_ylabel("excess risk over the Bayes risk")
    bayes = float(risk[0]["bayes_mse"])
    ax.set_title(f"excess risk over the Bayes risk ({bayes:.3g})")
    if not all(positive):
        ax.text(0.02, 0.02, "budgets with excess <= 0 not drawn on log axes", transform=ax.transAxes, fontsize=8)
    ax.legend()
    save(fig, out, "excess_risk_vs_budget.png")


FIGURES = {"posterior-mean": posterior_mean}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in FIGURES:
        sys.exit(f"usage: plot_experiment.py {{{','.join(FIGURES)}}} RUN_DIR")
    FIGURES[sys.argv[1]](sys.argv[2])
