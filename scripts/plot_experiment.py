#!/usr/bin/python3
"""Figures of an sgnn experiment, from the CSV tables the run wrote.

    /usr/bin/python3 scripts/plot_experiment.py posterior-mean runs/pm
    /usr/bin/python3 scripts/plot_experiment.py model-selection runs/ms
    /usr/bin/python3 scripts/plot_experiment.py attribution runs/attr
    /usr/bin/python3 scripts/plot_experiment.py unobservable runs/r0
    /usr/bin/python3 scripts/plot_experiment.py mismatch runs/mm
    /usr/bin/python3 scripts/plot_experiment.py sbibm runs/sbibm
    /usr/bin/python3 scripts/plot_experiment.py sweep runs/sweep-1234   (sweep.csv of sgnn sweep collect)

`sgnn experiment` and `sgnn sweep collect` call this at the end. It needs Debian's python3-matplotlib
(installed by `make deps`). Each figure is written to a temporary name and renamed, and
announced on stdout as "figure PATH" (relative to the run directory).
"""
import csv
import math
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


METHOD_LABELS = {
    "sgnn": "SGNN (softmax)",
    "aic": "AIC",
    "aic_ode_mean": "AIC (ODE mean, subset)",
    "bic": "BIC",
    "two_features": "2 features (peak day, log total)",
    "likelihood_ratio_tuned_on_test": "likelihood ratio, threshold tuned on test",
}


def model_selection(out):
    errors = read_csv(os.path.join(out, "errors.csv"))
    pairs = list(dict.fromkeys(r["pair"] for r in errors))
    fig, axes = plt.subplots(1, len(pairs), figsize=(7.5 * len(pairs), 4), squeeze=False)
    for ax, pair in zip(axes[0], pairs):
        rows = [r for r in errors if r["pair"] == pair]
        names = [METHOD_LABELS.get(r["method"], r["method"]) for r in rows]
        y = [float(r["error"]) for r in rows]
        low = [max(0.0, yi - float(r["low"])) for yi, r in zip(y, rows)]
        high = [max(0.0, float(r["high"]) - yi) for yi, r in zip(y, rows)]
        colors = ["tab:blue" if r["method"] == "sgnn" else "tab:gray" for r in rows]
        ax.barh(range(len(rows)), y, xerr=[low, high], color=colors, capsize=3)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(names, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel("misclassification rate (95% bootstrap CI)")
        ax.set_title(f"{pair} ({rows[0]['series']} held-out series)", fontsize=9)
    fig.suptitle("model selection: SGNN against likelihood-based criteria")
    fig.tight_layout()
    save(fig, out, "model_selection_errors.png")

    reliability = read_csv(os.path.join(out, "reliability.csv"))
    fig, ax = plt.subplots(figsize=(5, 5))
    for pair in pairs:
        rows = [r for r in reliability if r["pair"] == pair]
        observed = [float(r["observed_fraction_1"]) for r in rows]
        # Binomial standard errors: the middle bins hold few series.
        errors = [math.sqrt(max(o * (1 - o), 0.25 / float(r["series"])) / float(r["series"]))
                  for o, r in zip(observed, rows)]
        ax.errorbar([float(r["mean_p1"]) for r in rows], observed, yerr=errors, marker="o", capsize=2,
                    label=f"{pair} (±1 s.e.)")
    ax.plot([0, 1], [0, 1], color="black", linewidth=1, label="perfect calibration")
    ax.set_xlabel("SGNN probability of the second mechanism (bin mean)")
    ax.set_ylabel("observed fraction of the second mechanism")
    ax.set_title("reliability diagram (10 bins)")
    ax.legend(loc="upper left", fontsize=8)
    save(fig, out, "reliability.png")


def attribution(out):
    rows = read_csv(os.path.join(out, "w1.csv"))
    sizes = [float(r["bank_size"]) for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 4))
    y = [float(r["w1"]) for r in rows]
    ax.errorbar(sizes, y, yerr=[[yi - float(r["w1_low"]) for yi, r in zip(y, rows)],
                                [float(r["w1_high"]) - yi for yi, r in zip(y, rows)]],
                marker="o", capsize=3, label="attributed (k = sqrt(N) nearest) vs exact posterior")
    ax.plot(sizes, [float(r["w1_floor"]) for r in rows], marker="s", linestyle="--", color="gray",
            label="k independent draws from the exact posterior")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("memory-bank size N")
    ax.set_ylabel("mean Wasserstein-1 distance for K")
    ax.set_title("back-to-simulation attribution converges to the posterior")
    ax.legend(fontsize=8)
    save(fig, out, "w1_vs_bank_size.png")

    series = read_csv(os.path.join(out, "series.csv"))
    largest = f"attributed_mean_{sizes[-1]:.0f}"
    exact = [float(r["posterior_mean_k"]) for r in series]
    attributed = [float(r[largest]) for r in series]
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.scatter(exact, attributed, s=6, alpha=0.5, label=f"bank of {sizes[-1]:.0e}")
    low, high = min(exact + attributed), max(exact + attributed)
    ax.plot([low, high], [low, high], color="black", linewidth=1, label="y = x")
    ax.set_xlabel("exact posterior mean E[K | y]")
    ax.set_ylabel("mean K of the nearest simulations")
    ax.legend(loc="upper left")
    save(fig, out, "attributed_vs_posterior_mean.png")

    path = os.path.join(out, "mechanism_shares.csv")
    if os.path.exists(path):
        shares = read_csv(path)
        fig, ax = plt.subplots(figsize=(5, 5))
        for label, color in (("0", "tab:blue"), ("1", "tab:orange")):
            pts = [r for r in shares if float(r["label"]) == float(label)]
            ax.scatter([float(r["sgnn_p1"]) for r in pts], [float(r["neighbour_share_1"]) for r in pts], s=6,
                       alpha=0.5, color=color, label=f"true mechanism {label}")
        ax.plot([0, 1], [0, 1], color="black", linewidth=1)
        ax.set_xlabel("SGNN probability of the second mechanism")
        ax.set_ylabel("share of the second mechanism among the neighbours")
        ax.legend(loc="upper left", fontsize=8)
        save(fig, out, "mechanism_shares.png")


UNOBSERVABLE_LABELS = {"sgnn": "SGNN", "growth_rate_method": "growth-rate method", "sir_mle": "SIR maximum likelihood",
                       "sir_mle_known_period": "SIR max. likelihood, infectious period known"}


def unobservable(out):
    rows = read_csv(os.path.join(out, "metrics.csv"))
    windows = sorted({int(r["window"]) for r in rows})
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for method, label in UNOBSERVABLE_LABELS.items():
        pts = sorted((int(r["window"]), r) for r in rows if r["method"] == method)
        for ax, key in zip(axes, ("mse", "mape")):
            y = [float(r[key]) for _, r in pts]
            ax.errorbar([w for w, _ in pts], y, yerr=[[yi - float(r[key + "_low"]) for yi, (_, r) in zip(y, pts)],
                                                      [float(r[key + "_high"]) - yi for yi, (_, r) in zip(y, pts)]],
                        marker="o", capsize=3, label=label)
    for ax, title in zip(axes, ("mean squared error of R0", "mean absolute percentage error of R0")):
        ax.set_xlabel("days observed")
        ax.set_xticks(windows)
        ax.set_title(title)
        ax.set_yscale("log")
    axes[0].legend(fontsize=8)
    save(fig, out, "r0_error_vs_window.png")

    longest = os.path.join(out, f"window-{windows[0]}", "estimates.csv")
    est = read_csv(longest)
    fig, ax = plt.subplots(figsize=(5, 5))
    truth = [float(r["true_r0"]) for r in est]
    for method, label in UNOBSERVABLE_LABELS.items():
        ax.scatter(truth, [float(r[method]) for r in est], s=4, alpha=0.4, label=label)
    ax.plot([min(truth), max(truth)], [min(truth), max(truth)], color="black", linewidth=1)
    ax.set_ylim(0, 2 * max(truth))
    ax.set_xlabel("true R0")
    ax.set_ylabel(f"estimate from {windows[0]} days")
    ax.legend(fontsize=8)
    save(fig, out, "r0_estimates_shortest_window.png")


def mismatch(out):
    rows = read_csv(os.path.join(out, "risk.csv"))
    families = list(dict.fromkeys(r["family"] for r in rows))
    r_syn = float(rows[0]["risk"])
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=False)
    ax = axes[0]
    for i, family in enumerate(families):
        pts = [r for r in rows if r["family"] == family]
        tv = [float(r["tv"]) for r in pts]
        risk = [float(r["risk"]) for r in pts]
        ax.errorbar(tv, risk, yerr=[[ri - float(r["risk_low"]) for ri, r in zip(risk, pts)],
                                    [float(r["risk_high"]) - ri for ri, r in zip(risk, pts)]],
                    marker="o", capsize=3, color=f"C{i}", label=family)
    top = max(float(r["tv"]) for r in rows)
    bound = float(rows[-1]["bound"]) - r_syn
    m = bound / float(rows[-1]["tv"]) if float(rows[-1]["tv"]) > 0 else 1.0
    ax.plot([0, max(top, 0.05)], [r_syn, r_syn + m * max(top, 0.05)], color="black", linestyle="--",
            label="bound R_syn + M TV")
    ax.set_xlabel("TV lower bound (classifier two-sample test, 2a - 1)")
    ax.set_ylabel("SGNN risk, squared loss clipped at M")
    ax.set_title("SGNN risk under mismatch")
    ax.legend(fontsize=8)
    ax = axes[1]
    for i, family in enumerate(families):
        pts = [r for r in rows if r["family"] == family]
        levels = [float(r["level"]) for r in pts]
        color = f"C{i}"
        ax.plot(levels, [float(r["risk"]) for r in pts], marker="o", color=color, label=f"SGNN, {family}")
        ax.plot(levels, [float(r["mle_risk"]) for r in pts], marker="s", linestyle=":", color=color,
                label=f"SIR MLE, {family}")
    ax.set_xlabel("mismatch level")
    ax.set_ylabel("risk, squared loss clipped at M")
    ax.set_title("SGNN against a likelihood fit under the same shifts")
    ax.legend(fontsize=7, ncol=2)
    save(fig, out, "risk_vs_tv.png")


def as_number(text):
    try:
        return float(text)
    except ValueError:
        return None


def sweep(out):
    """Held-out loss against the first grid key: one line per setting of the other keys
    (seeds averaged, each seed a dot), log x when the values span a factor of 4 or more
    (budgets and learning rates are usually geometric grids)."""
    rows = read_csv(os.path.join(out, "sweep.csv"))
    columns = list(rows[0].keys())
    keys = columns[1:columns.index("steps")]
    x_key, others = keys[0], [k for k in keys[1:] if k != "seed"]
    xs = [as_number(r[x_key]) for r in rows]
    numeric = all(x is not None for x in xs)
    order = sorted(set(xs)) if numeric else list(dict.fromkeys(r[x_key] for r in rows))
    position = {v: (v if numeric else i) for i, v in enumerate(order)}
    fig, ax = plt.subplots(figsize=(6, 4))
    groups = {}
    for r, x in zip(rows, xs):
        groups.setdefault(tuple(r[k] for k in others), []).append((position[x if numeric else r[x_key]],
                                                                    float(r["eval_loss"])))
    for label, points in groups.items():
        means = {}
        for x, y in points:
            means.setdefault(x, []).append(y)
        line_x = sorted(means)
        name = ", ".join(f"{k} = {v}" for k, v in zip(others, label)) or "held-out loss"
        line = ax.plot(line_x, [sum(means[x]) / len(means[x]) for x in line_x], marker="o", label=name)[0]
        if any(len(v) > 1 for v in means.values()):
            ax.scatter([x for x, _ in points], [y for _, y in points], s=10, alpha=0.5, color=line.get_color())
    if numeric and min(order) > 0 and max(order) / min(order) >= 4:
        ax.set_xscale("log")
        ax.minorticks_off()
    if numeric and len(order) <= 12:
        ax.set_xticks(order, [f"{v:g}" for v in order])
    if not numeric:
        ax.set_xticks(range(len(order)), order)
    ax.set_xlabel(x_key)
    ax.set_ylabel("held-out loss (standardized targets)")
    seeds = " (line: mean over seeds; dots: each seed)" if "seed" in keys[1:] else ""
    ax.set_title(f"sweep of {len(rows)} runs{seeds}", fontsize=9)
    ax.legend(fontsize=7)
    save(fig, out, "sweep.png")


SBIBM_TITLES = {"sir": "SIR", "lotka_volterra": "Lotka-Volterra"}


def sbibm(out):
    """C2ST against the simulation budget per task: sgnn's mean over observations (each
    observation a dot; corpora filled, streamed budgets open) beside the published means
    of NPE, SNPE, SNLE and SNRE over the same observations (data/sbibm/published_c2st.csv,
    beside this script)."""
    rows = read_csv(os.path.join(out, "c2st.csv"))
    published = read_csv(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "sbibm",
                                      "published_c2st.csv"))
    by_budget = read_csv(os.path.join(out, "c2st_by_budget.csv"))
    tasks = list(dict.fromkeys(r["task"] for r in rows))
    scored = {r["observation"] for r in rows}  # the published means over the same observations
    published = [r for r in published if r["num_observation"] in scored]
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.2), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for algorithm, style in (("NPE", "s--"), ("SNPE", "^--"), ("SNLE", "v--"), ("SNRE", "D--")):
            means = {}
            for r in published:
                if r["task"] == task and r["algorithm"] == algorithm:
                    means.setdefault(float(r["num_simulations"]), []).append(float(r["C2ST"]))
            xs = sorted(means)
            ax.plot(xs, [sum(means[x]) / len(means[x]) for x in xs], style, markersize=4, linewidth=1, alpha=0.7,
                    label=f"{algorithm} (published, same observations)")
        mine = [r for r in rows if r["task"] == task]
        budgets = sorted({float(r["budget"]) for r in mine})
        means = [sum(float(r["c2st"]) for r in mine if float(r["budget"]) == b) /
                 sum(1 for r in mine if float(r["budget"]) == b) for b in budgets]
        ax.plot(budgets, means, "o-", color="black", linewidth=2, label="sgnn flow (mean of observations)")
        for data, face in (("corpus", "black"), ("stream", "none")):
            points = [r for r in mine if r["data"] == data]
            if not points:
                continue
            ax.scatter([float(r["budget"]) for r in points], [float(r["c2st"]) for r in points], s=14,
                       facecolors=face, edgecolors="black", alpha=0.5, zorder=3,
                       label="sgnn, each observation" + (" (streamed)" if data == "stream" else ""))
        goals = [r for r in by_budget if r["task"] == task and r["target"]]
        if goals:
            ax.scatter([float(r["budget"]) for r in goals], [float(r["target"]) for r in goals], marker="_", s=300,
                       color="tab:red", zorder=4, label="target (docs/results.md)")
        ax.axhline(0.5, color="grey", linewidth=0.8)
        ax.set_xscale("log")
        ax.set_ylim(0.45, 1.02)
        ax.set_xlabel("simulations (corpus up to 1e5, streamed beyond)")
        ax.set_ylabel("C2ST (0.5 = the reference posterior)")
        ax.set_title(SBIBM_TITLES.get(task, task))
    handles = {}
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(handles.values(), handles.keys(), loc="lower center", ncol=4, fontsize=7, bbox_to_anchor=(0.5, -0.13))
    save(fig, out, "c2st_vs_budget.png")


FIGURES = {"posterior-mean": posterior_mean, "model-selection": model_selection, "attribution": attribution,
           "unobservable": unobservable, "mismatch": mismatch, "sbibm": sbibm, "sweep": sweep}

if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in FIGURES:
        sys.exit(f"usage: plot_experiment.py {{{','.join(FIGURES)}}} RUN_DIR")
    FIGURES[sys.argv[1]](sys.argv[2])
