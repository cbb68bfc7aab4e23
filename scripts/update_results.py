#!/usr/bin/python3
"""Refreshes the quick-scale section of docs/results.md from experiment summaries.

    /usr/bin/python3 scripts/update_results.py docs/results.md runs/figures

`make figures` runs every experiment at quick scale into runs/figures/<name> and then
calls this. It rewrites only what lies between the quick-scale markers.
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
    return lines


SECTIONS = {"posterior-mean": posterior_mean}


def main(results, runs):
    lines = [BEGIN, ""]
    for name, section in SECTIONS.items():
        path = os.path.join(runs, name, "summary.json")
        if not os.path.exists(path):
            continue
        with open(path) as f:
            s = json.load(f)
        lines.append(f"### {name} (quick scale, git {s['git_commit'][:12]}, {s['wall_seconds']:.0f} s on "
                     f"{s['ranks']} rank(s))")
        lines.append("")
        lines += section(s)
        lines += ["", f"Figures: {', '.join(f'`{runs}/{name}/{fig}`' for fig in s['figures'])}.", ""]
    lines.append(END)
    with open(results) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit(f"{results} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = results + ".tmp"
    with open(tmp, "w") as f:
        f.write(head + "\n".join(lines) + tail)
    os.replace(tmp, results)
    print(f"updated the quick-scale section of {results}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
