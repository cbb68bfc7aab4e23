#!/usr/bin/python3
"""Experiment summaries as markdown tables: the quick-scale section of docs/results.md,
or a standalone report of a set of runs.

    /usr/bin/python3 scripts/update_results.py docs/results.md runs/figures
    /usr/bin/python3 scripts/update_results.py --report runs/paper-X/results.md runs/paper-X

`make figures` runs every experiment at quick scale into runs/figures/<name> and then
calls the first form, which rewrites only what lies between the quick-scale markers.
jobs/paper/all.sh's report job calls the second, which writes a new file. Both read
RUNS/<experiment>/summary.json for every experiment that has one.
"""
import json
import os
import sys

BEGIN, END = "<!-- quick-scale:begin -->", "<!-- quick-scale:end -->"


def fmt(interval):
    return f"{interval['estimate']:.4g} [{interval['low']:.4g}, {interval['high']:.4g}]"


def posterior_mean(s):
    lines = ["| budget | steps | SGNN MSE | excess risk E[(f - E[K\\|y])²] | MSE / Bayes risk |",
             "|---|---|---|---|---|"]
    for budget in s["sgnn_mse"]:
        lines.append(f"| {budget} | {s['steps'][budget]} | {fmt(s['sgnn_mse'][budget])} | "
                     f"{fmt(s['excess_risk'][budget])} | {fmt(s['mse_ratio'][budget])} |")
    lines.append("")
    lines.append(f"Bayes risk (exact posterior mean): {fmt(s['bayes_mse'])}; prior variance "
                 f"{s['prior_variance']:.4g}; claims: `{json.dumps(s['claims_hold'])}`.")
    flow = s.get("flow")
    if flow:
        masses = ", ".join(f"{level}%: {fmt(c['exact_mass'])} (truths inside {c['truth_inside']:.3f})"
                           for level, c in flow["coverage"].items())
        c2st = "–" if flow["c2st_mean"] is None else f"{flow['c2st_mean']:.3f}"
        lines.append("")
        lines.append(f"Flow at the largest budget: exact posterior mass inside its central intervals {masses}; "
                     f"largest gap {flow['max_coverage_gap']:.4f}. C2ST against exact draws "
                     f"({flow['c2st_draws']} each): {c2st} over {len(flow['c2st'])} series.")
    return lines


def model_selection(s):
    lines = ["| pair | series | SGNN | AIC | BIC | 2 features | LR, tuned on test | SGNN / AIC | ECE |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name, p in s["pairs"].items():
        lines.append(f"| {name} ({' vs '.join(p['mechanisms'])}) | {p['test_series']} | {fmt(p['sgnn_error'])} | "
                     f"{fmt(p['aic_error'])} | {fmt(p['bic_error'])} | {fmt(p['two_feature_error'])} | "
                     f"{p['likelihood_ratio_error_tuned_on_test']['estimate']:.4g} | {fmt(p['sgnn_to_aic_ratio'])} | "
                     f"{p['ece']:.3g} |")
    lines.append("")
    for name, p in s["pairs"].items():
        if p.get("aic_ode_mean"):
            o = p["aic_ode_mean"]
            lines.append(f"{name}: AIC with ODE means {fmt(o['aic_ode_error'])} against "
                         f"{fmt(o['aic_error_same_series'])} with the daily mean on the same {o['series']} series.")
        c = p["optimizer_check"]
        lines.append(f"{name}: optimizer check {c['failures']} failures in {c['series']}; SGNN error on "
                     f"{p['sgnn_error_large_set']['series']} other series "
                     f"{p['sgnn_error_large_set']['estimate']:.4g} ± {p['sgnn_error_large_set']['standard_error']:.2g}.")
    lines.append("")
    lines.append(f"Claims: `{json.dumps(s['claims_hold'])}`.")
    return lines


def attribution(s):
    lines = ["| bank size N | k | W1(attributed, exact) | floor: W1 of k exact draws | mean abs. error of the mean |",
             "|---|---|---|---|---|"]
    for size in s["w1"]:
        lines.append(f"| {size} | {s['k'][size]} | {fmt(s['w1'][size])} | {fmt(s['w1_floor'][size])} | "
                     f"{fmt(s['mean_abs_error'][size])} |")
    lines.append("")
    m = s.get("mechanisms")
    if m:
        lines.append(f"Mechanisms ({m['pair']}, bank {m['bank_size']}, k = {m['k']}): mean |neighbour share − SGNN "
                     f"probability| {fmt(m['mean_abs_gap'])}, correlation {m['correlation']:.3f}; errors "
                     f"{fmt(m['neighbour_vote_error'])} (neighbour vote) and {fmt(m['sgnn_error'])} (SGNN).")
    lines.append(f"Claims: `{json.dumps(s['claims_hold'])}`.")
    return lines


def unobservable(s):
    methods = s["methods"]
    lines = ["| days | " + " | ".join(f"{m} MSE" for m in methods) + " | " + " | ".join(f"{m} MAPE" for m in methods) + " |",
             "|---|" + "---|" * (2 * len(methods))]
    for window in s["mse"]:
        m, p = s["mse"][window], s["mape"][window]
        lines.append(f"| {window} | " + " | ".join(fmt(m[k]) for k in methods) + " | " +
                     " | ".join(f"{p[k]['estimate']:.3f}" for k in methods) + " |")
    lines.append("")
    lines.append(f"Claims: `{json.dumps(s['claims_hold'])}`.")
    return lines


def mismatch(s):
    lines = ["| family | level | TV lower bound | SGNN risk | bound R_syn + M·TV | SIR MLE risk |",
             "|---|---|---|---|---|---|"]
    for family in s["families"]:
        for level, risk in s["risk"][family].items():
            tv = s["tv"][family][level]
            lines.append(f"| {family} | {level} | {tv:.3f} | {fmt(risk)} | {s['r_syn'] + s['loss_bound'] * tv:.4g} | "
                         f"{fmt(s['mle_risk'][family][level])} |")
    lines.append("")
    lines.append(f"R_syn {s['r_syn']:.4g}, M = {s['loss_bound']:g}; claims: `{json.dumps(s['claims_hold'])}`.")
    return lines


def sbibm(s):
    lines = ["| task | simulations | data | steps | sgnn C2ST (mean ± sd over observations) | NPE | SNPE | SNLE | SNRE "
             "| best published | target |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for task, budgets in s["c2st"].items():
        for budget, b in sorted(budgets.items(), key=lambda item: float(item[0])):
            p = b["published"]
            target = ""
            if b["data"] == "corpus" and float(budget) == 1e5:
                target = f"≤ {s['targets'][task]['at_1e5']}"
            elif b["data"] == "stream" and float(budget) == max(float(x) for x, y in budgets.items()
                                                                 if y["data"] == "stream"):
                target = f"≤ {s['targets'][task]['streamed']}"
            published = " | ".join(f"{p[a]:.3f}" if a in p else "–" for a in ("NPE", "SNPE", "SNLE", "SNRE", "best"))
            lines.append(f"| {task} | {int(float(budget)):,} | {b['data']} | {b['steps']} | "
                         f"{b['c2st_mean']:.3f} ± {b['c2st_sd']:.3f} | {published} | {target} |")
    lines.append("")
    for task, settings in s["settings"].items():
        lines.append(f"{task}: {settings['embedding']} embedding, {settings['head']}; batch {settings['batch_size']}, "
                     f"lr {settings['lr']}; seed {settings['seed']}.")
    lines.append(f"Observations {', '.join(str(o) for o in s['observations'])}, {s['posterior_draws']} draws each "
                 f"against as many reference draws; claims: `{json.dumps(s['claims_hold'])}`.")
    return lines


SECTIONS = {"posterior-mean": posterior_mean, "model-selection": model_selection, "attribution": attribution,
            "unobservable": unobservable, "mismatch": mismatch, "sbibm": sbibm}


def sections(runs):
    lines = []
    for name, section in SECTIONS.items():
        path = os.path.join(runs, name, "summary.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            s = json.load(f)
        lines.append(f"### {name} ({s.get('scale', 'quick')} scale, git {s['git_commit'][:12]}, "
                     f"{s['wall_seconds']:.0f} s on {s['ranks']} rank(s))")
        lines.append("")
        lines += section(s)
        lines += ["", f"Figures: {', '.join(f'`{runs}/{name}/{fig}`' for fig in s['figures'])}.", ""]
    return lines


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def update_quick_section(results, runs):
    lines = [BEGIN, ""] + sections(runs) + [END]
    with open(results) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{results} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    write_atomically(results, head + "\n".join(lines) + tail)
    print(f"updated the quick-scale section of {results}")


def write_report(report, runs):
    found = sections(runs)
    if not found:
        sys.exit(f"no {runs}/<experiment>/summary.json found (experiments: {', '.join(SECTIONS)})")
    lines = [f"# sgnn experiments in {runs}", "", "Written by scripts/update_results.py --report; the numbers "
             "are explained in docs/results.md.", ""] + found
    write_atomically(report, "\n".join(lines))
    print(f"wrote {report}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--report":
        write_report(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3:
        update_quick_section(sys.argv[1], sys.argv[2])
    else:
        sys.exit(__doc__)
