"""The paper experiments at their smallest settings: outputs, figures and summaries.

Run by CTest as e2e_NAME (tests/CMakeLists.txt), or directly:
    python3 -m pytest tests/e2e/test_experiments.py --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import csv
import os

from harness import ARGS, check_png_figures, fail, finite_numbers, fresh_dir, mpi, require_keys, run, summary


def test_experiment_posterior_mean():
    """The posterior-mean experiment's quick path, reduced: every summary key, finite numbers, tables, figures."""
    out = fresh_dir("experiment-posterior-mean")
    run(mpi(3) + [ARGS.sgnn, "experiment", "posterior-mean", "--scale", "quick", "--out", out,
                  "--experiment.quick_budgets", "300,1000", "--experiment.quick_test_series", "200",
                  "--experiment.grid", "60", "--experiment.quick_max_steps", "200", "--experiment.min_steps", "100",
                  "--experiment.bootstrap", "100", "--stream.batch_size", "64"], timeout=240)
    s = summary(out)
    require_keys(s, ("experiment", "scale", "config_sha256", "git_commit", "bayes_mse", "sgnn_mse", "excess_risk",
                "mse_ratio", "mse_minus_bayes", "claims_hold", "figures", "steps"))
    for key in ("sgnn_mse", "excess_risk", "mse_ratio"):
        if sorted(s[key]) != ["1000", "300"]:
            fail(f"summary.json {key} should have one entry per budget: {s[key]}")
        for budget, interval in s[key].items():
            if not interval["low"] <= interval["estimate"] <= interval["high"]:
                fail(f"{key}[{budget}]: the estimate lies outside its bootstrap interval {interval}")
    counted = finite_numbers(s, "summary")
    if set(s["claims_hold"]) != {"excess_risk_shrinks", "within_10_percent_of_bayes"}:
        fail(f"claims_hold: {s['claims_hold']}")
    for table in ("risk.csv", "predictions.csv"):
        with open(os.path.join(out, table)) as f:
            rows = list(csv.DictReader(f))
        if len(rows) != (2 if table == "risk.csv" else 200):
            fail(f"{table} has {len(rows)} rows")
    check_png_figures(out, s, ["sgnn_vs_posterior_mean.png", "excess_risk_vs_budget.png"])
    print(f"summary with {counted} finite numbers, claims {s['claims_hold']}, figures {s['figures']}")


def test_experiment_model_selection():
    """The model-selection experiment's quick path, reduced: every summary key, finite numbers, tables, figures."""
    out = fresh_dir("experiment-model-selection")
    run(mpi(2) + [ARGS.sgnn, "experiment", "model-selection", "--scale", "quick", "--out", out,
                  "--experiment.quick_steps", "300", "--experiment.quick_test_series", "200",
                  "--experiment.quick_large_test_series", "1000", "--experiment.quick_ode_fit_series", "10",
                  "--experiment.quick_optimizer_check_series", "6", "--experiment.feature_train_series", "2000",
                  "--experiment.bootstrap", "100", "--stream.batch_size", "64"], timeout=280)
    s = summary(out)
    require_keys(s, ("experiment", "scale", "config_sha256", "git_commit", "sgnn_error", "aic_error", "bic_error", "ece",
                "sgnn_to_aic_ratio", "pairs", "claims_hold", "figures"))
    if sorted(s["pairs"]) != ["model-selection", "model-selection-growth"]:
        fail(f"pairs: {sorted(s['pairs'])}")
    for name, p in s["pairs"].items():
        for key in ("sgnn_error", "aic_error", "bic_error", "two_feature_error", "sgnn_to_aic_ratio"):
            interval = p[key]
            if not interval["low"] <= interval["estimate"] <= interval["high"]:
                fail(f"{name}.{key}: the estimate lies outside its bootstrap interval {interval}")
        if not 0 <= p["ece"] <= 1 or p["optimizer_check"]["series"] != 6:
            fail(f"{name}: ece {p['ece']}, optimizer check {p['optimizer_check']}")
        if p["sgnn_error"]["estimate"] > 0.25:
            fail(f"{name}: the SGNN misclassifies {p['sgnn_error']['estimate']} of the series after 300 steps")
    if s["pairs"]["model-selection"]["aic_ode_mean"]["series"] != 10:
        fail(f"ODE-mean fits: {s['pairs']['model-selection']['aic_ode_mean']}")
    counted = finite_numbers(s, "summary")
    if set(s["claims_hold"]) != {"sgnn_error_at_most_half_aic_error", "optimizer_check_passes",
                                 "aic_uses_the_stronger_mean_model"}:
        fail(f"claims_hold: {s['claims_hold']}")
    with open(os.path.join(out, "errors.csv")) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 11:  # 6 methods for SIR/SEIR (ODE AIC included), 5 for growth
        fail(f"errors.csv has {len(rows)} rows")
    for pair in s["pairs"]:
        with open(os.path.join(out, pair, "series.csv")) as f:
            if len(list(csv.DictReader(f))) != 200:
                fail(f"{pair}/series.csv should have a row per test series")
    check_png_figures(out, s, ["model_selection_errors.png", "reliability.png"])
    print(f"summary with {counted} finite numbers, claims {s['claims_hold']}, figures {s['figures']}")


def test_experiment_attribution():
    """The attribution experiment's quick path, reduced: W1 per bank size, mechanism shares, tables, figures."""
    out = fresh_dir("experiment-attribution")
    run(mpi(2) + [ARGS.sgnn, "experiment", "attribution", "--scale", "quick", "--out", out,
                  "--experiment.quick_steps", "300", "--experiment.quick_bank_sizes", "100,1000,4000",
                  "--experiment.quick_test_series", "60", "--experiment.grid", "60",
                  "--experiment.quick_mechanism_bank", "2000", "--experiment.quick_mechanism_steps", "200",
                  "--experiment.bootstrap", "100", "--stream.batch_size", "64"], timeout=280)
    s = summary(out)
    require_keys(s, ("w1", "w1_floor", "mean_abs_error", "sd_abs_error", "k", "mechanisms", "claims_hold", "figures"))
    if sorted(s["w1"], key=int) != ["100", "1000", "4000"] or s["k"] != {"100": 10, "1000": 32, "4000": 63}:
        fail(f"bank sizes and k: {s['w1']}, {s['k']}")
    for size, interval in s["w1"].items():
        if not 0 < interval["low"] <= interval["estimate"] <= interval["high"]:
            fail(f"w1[{size}]: {interval}")
    m = s["mechanisms"]
    if m["k"] != 45 or not 0 <= m["mean_abs_gap"]["estimate"] <= 1:
        fail(f"mechanisms: {m}")
    counted = finite_numbers(s, "summary")
    if set(s["claims_hold"]) != {"w1_shrinks"}:
        fail(f"claims_hold: {s['claims_hold']}")
    with open(os.path.join(out, "series.csv")) as f:
        if len(list(csv.DictReader(f))) != 60:
            fail("series.csv should have a row per test series")
    check_png_figures(out, s, ["w1_vs_bank_size.png", "attributed_vs_posterior_mean.png", "mechanism_shares.png"])
    print(f"summary with {counted} finite numbers, W1 {[round(v['estimate'], 1) for v in s['w1'].values()]}")


def test_experiment_unobservable():
    """The unobservable experiment's quick path, reduced: MSE and MAPE per window and method, tables, figures."""
    out = fresh_dir("experiment-unobservable")
    run(mpi(2) + [ARGS.sgnn, "experiment", "unobservable", "--scale", "quick", "--out", out,
                  "--experiment.quick_steps", "300", "--experiment.quick_windows", "14,28",
                  "--experiment.quick_test_series", "100", "--experiment.restarts", "2",
                  "--experiment.bootstrap", "100", "--stream.batch_size", "64"], timeout=280)
    s = summary(out)
    require_keys(s, ("mse", "mape", "sgnn_mse_over_best_classical", "claims_hold", "figures"))
    methods = ["growth_rate_method", "sgnn", "sir_mle", "sir_mle_known_period"]
    for key in ("mse", "mape"):
        if sorted(s[key]) != ["14", "28"] or any(sorted(v) != methods for v in s[key].values()):
            fail(f"{key}: {s[key]}")
    counted = finite_numbers(s, "summary")
    if set(s["claims_hold"]) != {"sgnn_lowest_mse_in_every_window"}:
        fail(f"claims_hold: {s['claims_hold']}")
    with open(os.path.join(out, "metrics.csv")) as f:
        if len(list(csv.DictReader(f))) != 8:
            fail("metrics.csv should have a row per window and method")
    check_png_figures(out, s, ["r0_error_vs_window.png", "r0_estimates_shortest_window.png"])
    print(f"summary with {counted} finite numbers, MSE {s['mse']}")


def test_experiment_mismatch():
    """The mismatch experiment's quick path, reduced: risk, TV and likelihood-fit risk per family and level."""
    out = fresh_dir("experiment-mismatch")
    run(mpi(2) + [ARGS.sgnn, "experiment", "mismatch", "--scale", "quick", "--out", out,
                  "--experiment.quick_steps", "300", "--experiment.quick_levels", "0,1",
                  "--experiment.families", "dynamics,delay", "--experiment.quick_test_series", "120",
                  "--experiment.restarts", "2", "--experiment.bootstrap", "100", "--stream.batch_size", "64"],
        timeout=280)
    s = summary(out)
    require_keys(s, ("risk", "tv", "mle_risk", "bound_holds", "r_syn", "loss_bound", "claims_hold", "figures"))
    for key in ("risk", "tv", "mle_risk"):
        if sorted(s[key]) != ["delay", "dynamics"] or any(sorted(v) != ["0", "1"] for v in s[key].values()):
            fail(f"{key}: {s[key]}")
    for family, by_level in s["risk"].items():
        for level, interval in by_level.items():
            if not 0 <= interval["low"] <= interval["estimate"] <= interval["high"] <= s["loss_bound"]:
                fail(f"risk[{family}][{level}] is not a clipped risk: {interval}")
        if not 0 <= s["tv"][family]["1"] <= 1 or s["tv"][family]["0"] != 0:
            fail(f"tv[{family}]: {s['tv'][family]}")
    counted = finite_numbers(s, "summary")
    check_png_figures(out, s, ["risk_vs_tv.png"])
    print(f"summary with {counted} finite numbers, TV {s['tv']}, bound holds {s['bound_holds']}")
