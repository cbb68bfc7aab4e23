"""Training end to end: learning, determinism across rank counts, models, mixtures, ODE models, flow
control, fatal errors and the stream benchmarks.

Run by CTest as e2e_NAME (tests/CMakeLists.txt), or directly:
    python3 -m pytest tests/e2e/test_training.py --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import csv
import json
import os
import sys

from harness import (
    ARGS, fail, fresh_dir, h5, mpi, run, same_model_across_ranks, sgnn_error_lines, summary, train,
)


def test_learning():
    """A tiny MPI run learns: held-out loss well below predicting the prior mean."""
    out = fresh_dir("learning")
    train(3, out)
    s = summary(out)
    for key in ("eval", "throughput", "ranks", "model_sha256"):
        if key not in s:
            fail(f"summary.json lacks '{key}'")
    for key in ("r2", "rmse"):
        if set(s["eval"][key]) != {"log_R0", "beta", "gamma"}:
            fail(f"eval.{key} should have one entry per target: {s['eval'][key]}")
    if set(s["throughput"]) < {"samples_per_s", "trainer_wait_fraction"}:
        fail(f"throughput keys missing: {s['throughput']}")
    if s["ranks"]["trainers"] != 1 or s["ranks"]["simulators"] != 1:
        fail(f"3 ranks with 1 trainer should have 1 simulator: {s['ranks']}")
    if len(s["model_sha256"]) != 64:
        fail("model_sha256 is not a SHA-256")
    # Targets are standardized, so predicting the prior mean scores a loss of about 1
    # (the held-out set's variance in those units). Learning must cut it at least in half.
    if not s["eval"]["loss"] < 0.5:
        fail(f"held-out loss {s['eval']['loss']:.3f} is not well below the prior-mean baseline of ~1")
    if not s["eval"]["r2"]["log_R0"] > 0.5:
        fail(f"held-out R2 for log_R0 is only {s['eval']['r2']['log_R0']:.3f}")
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    if len(rows) != 3 or rows[-1]["step"] != "300":
        fail(f"metrics.csv should have 3 evaluation rows ending at step 300: {rows}")
    if not float(rows[-1]["eval_loss"]) < float(rows[0]["eval_loss"]) * 1.05:
        fail("held-out loss did not improve between the first and last evaluation")
    with open(os.path.join(out, "config.ini")) as f:
        ini = f.read()
    if "seed = 7" not in ini or "[train]" not in ini:
        fail("config.ini does not hold the effective configuration")
    leftovers = [name for name in os.listdir(out) if ".tmp." in name]
    if leftovers:
        fail(f"temporary files left behind: {leftovers}")
    # model.h5 opens in h5py with parameters by name and the normalization.
    probe = (
        "import h5py, sys\n"
        "f = h5py.File(sys.argv[1], 'r')\n"
        "p = f['parameters']\n"
        "assert 'head.weight' in p and p['head.weight'].shape == (3, 32), list(p)\n"
        "assert f['normalization/target_std'].shape == (3,)\n"
        "assert f.attrs['targets'] in (b'log_R0,beta,gamma', 'log_R0,beta,gamma'), f.attrs['targets']\n"
        "print('h5py ok:', len(p), 'parameter arrays')\n"
    )
    run([ARGS.python, "-c", probe, os.path.join(out, "model.h5")])


def test_configs():
    """Every training config in configs/ and its folders is valid and runs (a few steps, one process).
    configs/paper/ holds experiment configs, which test_experiments.py runs."""
    names = sorted(
        os.path.relpath(os.path.join(folder, n), ARGS.config_dir)
        for folder, _, files in os.walk(ARGS.config_dir)
        for n in files
        if n.endswith(".cfg") and os.path.relpath(folder, ARGS.config_dir).split(os.sep)[0] != "paper"
    )
    if not names:
        fail(f"no configs found in {ARGS.config_dir}")
    for name in names:
        out = fresh_dir("config-" + name[:-4].replace(os.sep, "-"))
        train(1, out, "--train.steps", "4", "--eval.every", "4", "--eval.samples", "64", config=name)
        with open(os.path.join(out, "config.ini")) as f:
            if f.read().count("[") < 5:
                fail(f"{name}: config.ini does not list the effective configuration")
    print(f"ran {len(names)} configs: {', '.join(names)}")


def test_deterministic():
    """--deterministic: same model bits for any number of simulator ranks."""
    hashes = {}
    for n, trainers in ((1, 1), (3, 1), (5, 1), (3, 2), (5, 2)):
        out = fresh_dir(f"det-{n}-{trainers}")
        # A curriculum too: its stages travel as messages, and must not change a bit.
        train(n, out, "--deterministic", "--trainers", str(trainers), "--train.steps", "60", "--eval.every", "60",
              "--curriculum.stages", "4", "--curriculum.steps", "30")
        s = summary(out)
        hashes.setdefault(trainers, []).append((s["ranks"]["simulators"], s["model_sha256"]))
    for trainers, runs in hashes.items():
        if len({h for _, h in runs}) != 1:
            fail(f"{trainers} trainer(s): model hashes differ across simulator counts: {runs}")
        print(f"{trainers} trainer(s): identical model for simulator counts {[s for s, _ in runs]}")
    if hashes[1][0][1] == hashes[2][0][1]:
        fail("1 and 2 trainers should train different models (different global batches)")


def test_curriculum():
    """A curriculum's stages reach the simulators in order and end at the full prior."""
    out = fresh_dir("curriculum")
    train(4, out, "--curriculum.stages", "5", "--curriculum.steps", "200", "--eval.every", "50")
    s = summary(out)
    if s["prior_version"] != 4:
        fail(f"the last batches should use the last stage (version 4), got {s['prior_version']}")
    with open(os.path.join(out, "metrics.csv")) as f:
        versions = [int(float(row["prior_version"])) for row in csv.DictReader(f)]
    if versions != sorted(versions) or versions[0] >= 4:
        fail(f"prior versions at the evaluations should rise through the stages: {versions}")
    print(f"prior versions at evaluations: {versions}")


def test_cnn():
    """The 1-D CNN trains through the same pipeline."""
    out = fresh_dir("cnn")
    train(3, out, "--model.type", "cnn", "--model.channels", "8")
    s = summary(out)
    if not s["eval"]["loss"] < 0.7:
        fail(f"the CNN's held-out loss {s['eval']['loss']:.3f} is not below the prior-mean baseline of ~1")


def test_dropped():
    """Invalid samples are dropped, counted in summary.json and reported, never trained on."""
    out = fresh_dir("dropped")
    # With R0 below 1 the growth rate is negative, so log(doubling time) is not a number:
    # about a fifth of the prior (R0 in [0.5, 1)) makes samples that must be dropped.
    _, stdout, _, _ = train(3, out, "--prior.R0", "uniform(0.5, 3)", "--sim.targets", "log_doubling_time,R0",
                            "--train.steps", "60", "--eval.every", "60")
    s = summary(out)
    dropped, samples = s["faults"]["dropped_samples"], s["samples"]
    share = dropped / (dropped + samples)
    if not 0.1 < share < 0.3:
        fail(f"expected about 20% of samples dropped (R0 < 1 in uniform(0.5, 3)), got {share:.3f}")
    if "dropped as invalid" not in stdout:
        fail("the final progress line does not report the dropped samples")
    if not all(v == v for v in s["eval"]["r2"].values()):  # NaN != NaN
        fail(f"held-out metrics are not finite: {s['eval']}")
    # Above sim.max_dropped_fraction the run stops, naming the simulator and a parameter vector.
    _, _, stderr, _ = train(3, fresh_dir("dropped-limit"), "--prior.R0", "uniform(0.5, 3)",
                            "--sim.targets", "log_doubling_time,R0", "--sim.max_dropped_fraction", "0.1",
                            expect_rc=None)
    errors = sgnn_error_lines(stderr)
    if len(errors) != 1 or "sir with R0 = 0." not in errors[0] or "sim.max_dropped_fraction = 0.1" not in errors[0]:
        fail(f"expected one error naming the simulator and a parameter vector with R0 < 1, got {errors}")
    print(f"dropped {dropped:.0f} of {dropped + samples:.0f} simulated samples ({share:.1%}); limit: {errors[0]}")


def test_flow_control():
    """Simulators far faster than the trainer: buffered batches stay at the credit limit."""
    out = fresh_dir("flow")
    credits, feeders = 2, 2
    train(4, out, "--stream.credits", str(credits), "--debug.step_delay_ms", "25", "--train.steps", "40",
          "--eval.every", "40")
    s = summary(out)
    limit = credits * feeders
    buffered = s["throughput"]["max_buffered_batches"]
    if buffered > limit:
        fail(f"trainer held {buffered} batches, above the credit limit {limit}")
    if buffered != limit:
        fail(f"trainer held at most {buffered} batches; a slow trainer should fill all {limit} slots, "
             "so this run did not exercise the limit")
    print(f"max buffered batches {buffered} = credits x feeders = {limit}")


def test_fatal_error():
    """A fatal error in any rank ends every rank, non-zero, within 10 seconds."""
    for rank, role in ((0, "coordinator"), (1, "trainer 0"), (3, "simulator")):
        out = fresh_dir(f"fatal-{rank}")
        rc, _, stderr, _ = train(4, out, "--train.steps", "1000000", "--debug.fail_rank", str(rank),
                                 "--debug.fail_after", "2", expect_rc=None, timeout=60)
        errors = sgnn_error_lines(stderr)
        if rc == 0:
            fail(f"rank {rank} failed but the job exited 0")
        if len(errors) != 1 or f"[{role}, rank {rank}]" not in errors[0]:
            fail(f"expected one error line naming '{role}, rank {rank}', got: {errors}")
    # Timing of the shutdown itself: the fault comes 2 s in; all ranks must be gone 10 s later.
    out = fresh_dir("fatal-timing")
    command = mpi(4) + [ARGS.sgnn, "train", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"), "--out", out,
                        "--train.steps", "1000000", "--debug.fail_rank", "2", "--debug.fail_after", "2"]
    rc, _, _, seconds = run(command, timeout=60, expect_rc=None)
    if rc == 0 or seconds > 2 + 10:
        fail(f"exit code {rc} after {seconds:.1f} s; expected non-zero within 10 s of the fault")
    print(f"job ended with code {rc} {seconds - 2:.1f} s after the injected fault")


def test_quickstart():
    """configs/quickstart.cfg as make quickstart runs it: held-out R2 >= 0.8 for log R0."""
    out = fresh_dir("quickstart")
    _, _, _, seconds = train(4, out, config="quickstart.cfg", timeout=600)
    s = summary(out)
    r2 = s["eval"]["r2"]["log_R0"]
    print(f"quickstart: R2(log_R0) = {r2:.3f} in {seconds:.0f} s")
    if not r2 >= 0.8:
        fail(f"quickstart reached R2(log_R0) = {r2:.3f}, below 0.8")


def test_mixture():
    """A mixture of SIR and SEIR: labels, masked targets, a classifier, determinism."""
    mixture = ["--sim.model", "mixture", "--sim.mixture", "sir:1,seir:1", "--sim.days", "100",
               "--sim.targets", "mechanism,log_R0,latent_period"]
    out = fresh_dir("mixture")
    train(3, out, *mixture, "--eval.every", "150")
    s = summary(out)
    c = s["eval"].get("classification")
    if c is None or c["classes"] != ["sir", "seir"]:
        fail(f"summary.json eval.classification missing or wrong: {s['eval']}")
    held_out = sum(sum(row) for row in c["confusion"])
    if held_out != 1024:
        fail(f"the confusion matrix should count the 1024 held-out samples, counts {held_out}")
    # With shared priors SEIR epidemics peak much later, so this is the easy design
    # (docs/notes/model-selection-design.md); the tiny model reaches about 0.95 in 300 steps.
    if c["accuracy"] < 0.9:
        fail(f"mechanism accuracy {c['accuracy']:.3f} < 0.9")
    if not s["eval"]["r2"]["log_R0"] > 0.5:
        fail(f"log_R0 R2 {s['eval']['r2']['log_R0']} should exceed 0.5")
    with open(os.path.join(out, "metrics.csv")) as f:
        rows = list(csv.DictReader(f))
    if not rows or "accuracy" not in rows[0] or "r2_latent_period" not in rows[0]:
        fail("metrics.csv lacks the accuracy or the masked target's R2")
    _, stdout, _, _ = run([ARGS.python, "-c", "import h5py, sys; f = h5py.File(sys.argv[1]); "
                           "print(f.attrs['classes'])", os.path.join(out, "model.h5")])
    if "sir,seir" not in stdout:
        fail(f"model.h5 does not record the classes: {stdout}")
    model = same_model_across_ranks("mixture", (1, 4), *mixture, "--train.steps", "40", "--eval.every", "40")
    print(f"accuracy {c['accuracy']:.3f}, confusion {c['confusion']}, deterministic hash {model[:12]}")


def test_ode():
    """PETSc ODE models: options pass through, misspelt ones are refused, runs are reproducible."""
    growth = ["--sim.model", "logistic", "--obs.steps", "gaussian", "--obs.transform", "identity",
              "--sim.targets", "log_carrying_capacity,log_intrinsic_growth_rate", "--sim.days", "30"]
    out = fresh_dir("ode")
    train(3, out, *growth, "-ts_rk_type", "5bs", "--train.steps", "100", "--eval.every", "100")
    with open(os.path.join(out, "config.ini")) as f:
        if "petsc_options = -ts_rk_type 5bs" not in f.read():
            fail("config.ini does not record the PETSc options given on the command line")
    if not summary(out)["eval"]["r2"]["log_intrinsic_growth_rate"] > 0.5:
        fail("the growth rate is not learned from 30 days of logistic growth")
    _, _, stderr, _ = run(mpi(3) + [ARGS.sgnn, "train", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"),
                                    *growth, "-ts_rk_typo", "5bs"], expect_rc=None, timeout=60)
    errors = sgnn_error_lines(stderr)
    if len(errors) != 1 or "ode.petsc_options" not in errors[0] or "ts_rk_typo" not in errors[0]:
        fail(f"a misspelt PETSc option should give one error naming ode.petsc_options, got {errors}")
    same_model_across_ranks("ode", (1, 3), *growth, "--train.steps", "30", "--eval.every", "30")
    print(f"PETSc options recorded, typo refused: {errors[0]}")


def test_bench():
    """sgnn bench stream --json prints one JSON object with the rates."""
    _, stdout, _, _ = run(mpi(3) + [ARGS.sgnn, "bench", "stream", "--json", "--config",
                                    os.path.join(ARGS.config_dir, "tiny.cfg"), "--train.steps", "40"])
    lines = [line for line in stdout.splitlines() if line.startswith("{")]
    if len(lines) != 1:
        fail(f"expected one JSON line, got {stdout}")
    result = json.loads(lines[0])
    for key in ("samples_per_s", "trainer_wait_fraction", "ranks", "reference"):
        if key not in result:
            fail(f"bench JSON lacks {key}: {result}")
    if not result["samples_per_s"] > 0:
        fail("bench measured no throughput")


def test_bench_simulate():
    """sgnn bench simulate reports per-core rates and, with --vs-numpy, the NumPy reference."""
    _, stdout, _, _ = run([ARGS.sgnn, "bench", "simulate", "--json", "--seconds", "0.3", "--vs-numpy",
                           "--python", ARGS.python])
    result = json.loads(stdout.strip().splitlines()[-1])
    for key in ("simulations_per_s_per_core", "simulations_per_s", "numpy", "ratio_vs_numpy_per_core"):
        if key not in result:
            fail(f"bench simulate JSON lacks {key}: {result}")
    # Both sides simulate the same model with the same parameters: same mean epidemic
    # size (about 92k of 1e5 cases for R0 = 2.5) within Monte Carlo error.
    ours, theirs = result["mean_cases"], result["numpy"]["mean_cases"]
    if abs(ours - theirs) > 0.01 * theirs:
        fail(f"sgnn and NumPy simulate different epidemics: mean cases {ours:.0f} against {theirs:.0f}")
    for model in ("seir", "sir_gillespie", "sis", "logistic"):
        _, stdout, _, _ = run([ARGS.sgnn, "bench", "simulate", "--json", "--seconds", "0.2", "--model", model,
                               "--population", "1e4"])
        if not json.loads(stdout.strip().splitlines()[-1])["simulations_per_s_per_core"] > 0:
            fail(f"no rate for {model}")
    run([ARGS.sgnn, "bench", "simulate", "--model", "nope"], expect_rc=2)
    # A model file against the built-in model of its name, every method: the same
    # epidemics (mean cases within 1%; the SSA's of a few hundred trajectories within 3%).
    seir = os.path.join(os.path.dirname(ARGS.config_dir.rstrip("/")), "models", "seir.model")
    _, stdout, _, _ = run([ARGS.sgnn, "bench", "simulate", "--json", "--seconds", "0.3", "--model-file", seir,
                           "--vs-builtin", "--population", "1e4"])
    rows = json.loads(stdout.strip().splitlines()[-1])["methods"]
    if [r["method"] for r in rows] != ["chain_binomial", "tau_leap", "gillespie", "ode"]:
        fail(f"bench simulate --vs-builtin should report every method: {rows}")
    for r in rows:
        if len(r["round_ratios"]) != 5 or not min(r["round_ratios"]) <= r["ratio"] <= max(r["round_ratios"]):
            fail(f"{r['method']}: the ratio should be the median of 5 interleaved rounds: {r}")
        tolerance = 0.03 if r["method"] == "gillespie" else 0.01
        if not r["ratio"] > 0 or abs(r["file_mean_cases"] - r["builtin_mean_cases"]) > tolerance * r["builtin_mean_cases"]:
            fail(f"{r['method']}: the model file and {r['builtin']} should simulate the same epidemics: {r}")
