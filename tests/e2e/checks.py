#!/usr/bin/env python3
"""End-to-end checks of the sgnn executable, one CTest test per check.

    python3 tests/e2e/checks.py CHECK --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"

Each check runs real (MPI) jobs and asserts on their exit codes, stderr and output
files. Standard library only; model.h5 is opened with h5py by Debian's python3.
"""
import argparse
import csv
import json
import math
import os
import random
import shlex
import signal
import shutil
import subprocess
import sys
import time

ARGS = None


def fail(message):
    print("FAILED: " + message, file=sys.stderr)
    sys.exit(1)


def run(command, timeout=300, expect_rc=0):
    """Runs a command; returns (rc, stdout, stderr, seconds)."""
    print("$ " + " ".join(shlex.quote(c) for c in command), flush=True)
    start = time.monotonic()
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"timed out after {timeout} s (a hang): {command}")
    seconds = time.monotonic() - start
    if expect_rc is not None and done.returncode != expect_rc:
        fail(f"exit code {done.returncode}, expected {expect_rc}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}")
    return done.returncode, done.stdout, done.stderr, seconds


def mpi(n):
    return shlex.split(ARGS.mpiexec) + ["-n", str(n)]


def train(n, out, *options, config="tiny.cfg", expect_rc=0, timeout=120):
    command = ([] if n == 1 else mpi(n)) + [ARGS.sgnn, "train", "--config", os.path.join(ARGS.config_dir, config),
                                             "--out", out, *options]
    return run(command, timeout=timeout, expect_rc=expect_rc)


def fresh_dir(name):
    path = os.path.join(ARGS.workdir, name)
    shutil.rmtree(path, ignore_errors=True)
    return path


def summary(out):
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)


def sgnn_error_lines(stderr):
    return [line for line in stderr.splitlines() if line.startswith("sgnn: error")]


def same_model_across_ranks(name, rank_counts, *options):
    """Trains --deterministic with each rank count; fails unless every run gives the same model."""
    hashes = []
    for n in rank_counts:
        out = fresh_dir(f"{name}-det-{n}")
        train(n, out, *options, "--deterministic")
        hashes.append(summary(out)["model_sha256"])
    if len(set(hashes)) != 1:
        fail(f"{name}: deterministic runs differ between {rank_counts} ranks: {hashes}")
    return hashes[0]


def check_learning():
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


def check_deterministic():
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


def check_dropped():
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


def check_configs():
    """Every config in configs/ is valid and runs (a few steps, one process)."""
    names = sorted(n for n in os.listdir(ARGS.config_dir) if n.endswith(".cfg"))
    if not names:
        fail(f"no configs found in {ARGS.config_dir}")
    for name in names:
        out = fresh_dir("config-" + name[:-4])
        train(1, out, "--train.steps", "4", "--eval.every", "4", "--eval.samples", "64", config=name)
        with open(os.path.join(out, "config.ini")) as f:
            if f.read().count("[") < 5:
                fail(f"{name}: config.ini does not list the effective configuration")
    print(f"ran {len(names)} configs: {', '.join(names)}")


def check_curriculum():
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


def check_cnn():
    """The 1-D CNN trains through the same pipeline."""
    out = fresh_dir("cnn")
    train(3, out, "--model.type", "cnn", "--model.channels", "8")
    s = summary(out)
    if not s["eval"]["loss"] < 0.7:
        fail(f"the CNN's held-out loss {s['eval']['loss']:.3f} is not below the prior-mean baseline of ~1")


def check_quickstart():
    """configs/quickstart.cfg as make quickstart runs it: held-out R2 >= 0.8 for log R0."""
    out = fresh_dir("quickstart")
    _, _, _, seconds = train(4, out, config="quickstart.cfg", timeout=600)
    s = summary(out)
    r2 = s["eval"]["r2"]["log_R0"]
    print(f"quickstart: R2(log_R0) = {r2:.3f} in {seconds:.0f} s")
    if not r2 >= 0.8:
        fail(f"quickstart reached R2(log_R0) = {r2:.3f}, below 0.8")


def check_flow_control():
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


def check_fatal_error():
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


def check_mixture():
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


def check_ode():
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


def check_config_errors():
    """Invalid configurations: exit 2 with one line naming the key."""
    bad_cfg = os.path.join(fresh_dir("config-errors") + ".cfg")
    with open(bad_cfg, "w") as f:
        f.write("[train]\nsteps = 10\nlearning_rate = 0.1\n")
    cases = [
        (["--config", bad_cfg], "train.learning_rate"),
        (["--stream.batch_size", "-5"], "stream.batch_size"),
        (["--prior.R0", "uniform(3, 3)"], "prior.R0"),
        (["--trainers", "2"], "trainers"),
    ]
    for options, key in cases:
        _, stdout, stderr, _ = run([ARGS.sgnn, "train", *options], expect_rc=2, timeout=60)
        lines = [line for line in stderr.splitlines() if line.strip()]
        if len(lines) != 1 or key not in lines[0]:
            fail(f"{options}: expected one stderr line naming {key}, got {lines}")
        print(lines[0])
    # Under mpiexec: trainers must be below the rank count; the message appears once.
    _, _, stderr, _ = run(mpi(2) + [ARGS.sgnn, "train", "--trainers", "2"], expect_rc=None, timeout=60)
    errors = sgnn_error_lines(stderr)
    if len(errors) != 1 or "trainers = 2" not in errors[0]:
        fail(f"mpiexec -n 2 --trainers 2: expected one error naming trainers, got {errors}")


def check_help():
    """The command line explains itself."""
    _, stdout, _, _ = run([ARGS.sgnn, "--help"])
    for word in ("train", "simulate", "experiment", "sweep", "bench", "list", "mpiexec", "sbatch", "--resume"):
        if word not in stdout:
            fail(f"sgnn --help does not mention {word}")
    _, stdout, _, _ = run([ARGS.sgnn, "train", "--help"])
    for word in ("--trainers", "coordinator", "--deterministic", "Default: 2000", "summary.json", "--prior.R0",
                 "--resume", "--allow-reshard", "status 75", "--data", "--checkpoint.every", "--keep-checkpoints"):
        if word not in stdout:
            fail(f"sgnn train --help does not mention {word}")
    for command, words in ((["simulate", "--help"], ("--samples", "collective", "valid")),
                           (["experiment", "--help"], ("posterior-mean", "--scale", "summary.json",
                                                       "--experiment.budgets")),
                           (["bench", "corpus", "--help"], ("MB/s", "--rows"))):
        _, stdout, _, _ = run([ARGS.sgnn, *command])
        for word in words:
            if word not in stdout:
                fail(f"sgnn {' '.join(command)} does not mention {word}")
    _, stdout, _, _ = run([ARGS.sgnn, "list", "simulators"])
    if "sir" not in stdout or "R0" not in stdout:
        fail("sgnn list simulators does not list sir and its parameters")
    run([ARGS.sgnn, "frobnicate"], expect_rc=2)


def check_bench():
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


def check_bench_simulate():
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


# --- checkpoints, resume and faults -------------------------------------------------

def launch(n, out, *options, config="tiny.cfg"):
    """Starts a training job in the background; returns the Popen of mpiexec (or sgnn)."""
    command = ([] if n == 1 else mpi(n)) + [ARGS.sgnn, "train", "--config", os.path.join(ARGS.config_dir, config),
                                             "--out", out, *options]
    print("$ " + " ".join(shlex.quote(c) for c in command) + " &", flush=True)
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout=120):
    """Waits for a background job; returns (rc, stdout, stderr)."""
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        fail(f"job still running after {timeout} s (a hang)")
    return proc.returncode, stdout, stderr


def rank_pids(proc):
    """{MPI rank: pid} of the sgnn processes a background mpiexec started."""
    ranks = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != proc.pid:
                continue
            with open(f"/proc/{entry}/environ", "rb") as f:
                env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
            ranks[int(env[b"OMPI_COMM_WORLD_RANK"])] = int(entry)
        except (OSError, KeyError, ValueError, IndexError):
            continue
    return ranks


def wait_for_checkpoint(proc, out, step, timeout=120):
    path = os.path.join(out, "checkpoints", f"step-{step:08d}.h5")
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc.poll() is not None:
            rc, stdout, stderr = finish(proc)
            fail(f"the job ended (code {rc}) before writing {path}\nstdout:\n{stdout}\nstderr:\n{stderr}")
        if time.monotonic() > deadline:
            proc.kill()
            fail(f"no {path} after {timeout} s")
        time.sleep(0.05)
    return path


def checkpoints_of(out):
    folder = os.path.join(out, "checkpoints")
    return sorted(f for f in os.listdir(folder) if f.startswith("step-"))


def h5(script, *args):
    """Runs a Python snippet with h5py (Debian's python3); returns its stdout."""
    _, stdout, _, _ = run([ARGS.python, "-c", "import h5py, numpy, sys\n" + script, *args])
    return stdout


def resume(n, what, *options, expect_rc=0, timeout=120):
    command = ([] if n == 1 else mpi(n)) + [ARGS.sgnn, "train", "--resume", what, *options]
    return run(command, timeout=timeout, expect_rc=expect_rc)


def one_clean_error(stderr, *needles):
    """Exactly one sgnn error line containing every needle, and no crash dump."""
    errors = sgnn_error_lines(stderr)
    for crash in ("Traceback", "terminate called", "Segmentation", "core dumped", "MPI_ABORT"):
        if crash in stderr:
            fail(f"a crash dump ('{crash}') instead of a one-line error:\n{stderr}")
    if len(errors) != 1 or not all(n in errors[0] for n in needles):
        fail(f"expected one error line containing {needles}, got:\n{stderr}")
    return errors[0]


def check_checkpoint_resume():
    """SIGTERM at a random step, exit 75, resume with more simulators: the same model bits."""
    options = ["--deterministic", "--trainers", "2"]
    reference = fresh_dir("ckpt-reference")
    train(4, reference, *options)
    out = fresh_dir("ckpt-interrupted")
    seed = random.randrange(1 << 30)
    delay = random.Random(seed).uniform(0.0, 2.0)
    print(f"signal {delay:.2f} s after the first checkpoint (random seed {seed})")
    proc = launch(4, out, *options, "--debug.step_delay_ms", "20", "--checkpoint.every", "40")
    wait_for_checkpoint(proc, out, 40)
    time.sleep(delay)
    for pid in rank_pids(proc).values():  # as SLURM does at a time limit: every task
        os.kill(pid, signal.SIGTERM)
    rc, stdout, stderr = finish(proc)
    if rc != 75:
        fail(f"a SIGTERM'd run should exit 75 (checkpoint written, requeue), got {rc}\n{stdout}\n{stderr}")
    if "stopped on SIGTERM" not in stdout:
        fail(f"no stop message:\n{stdout}")
    written = checkpoints_of(out)
    if not 1 <= len(written) <= 3:
        fail(f"checkpoint.keep = 3 should leave 1 to 3 checkpoints, found {written}")
    stopped_at = int(written[-1][5:13])
    if os.path.exists(os.path.join(out, "model.h5")):
        fail("a stopped run must not write model.h5")
    latest = os.path.join(out, "checkpoints", written[-1])
    layout = h5("f = h5py.File(sys.argv[1], 'r')\n"
                "print(f.attrs['format'].decode(), f.attrs['format_version'].decode(), f.attrs['step'].decode())\n"
                "print(f['stream/trainer_1/feeders'].shape, f['config'][()].decode().splitlines()[0])\n"
                "print(sorted(f['model/parameters']) == sorted(k for k in f['model/optimizer']))", latest)
    if f"sgnn-checkpoint 2 {stopped_at}" not in layout or "(1, 6)" not in layout or "True" not in layout:
        fail(f"checkpoint layout differs from docs/file-formats.md:\n{layout}")
    # Resume with 2 simulator ranks instead of 1 (the coordinator's helper).
    resume(5, out)
    if summary(out)["model_sha256"] != summary(reference)["model_sha256"]:
        fail(f"stopped at step {stopped_at} and resumed: the model differs from the uninterrupted run")
    if summary(out)["resumed_from"]["step"] != stopped_at:
        fail(f"summary.json resumed_from: {summary(out).get('resumed_from')}")
    with open(os.path.join(out, "metrics.csv")) as f:
        steps = [int(float(row["step"])) for row in csv.DictReader(f)]
    if steps != [100, 200, 300]:
        fail(f"metrics.csv of the resumed run should hold each evaluation once: steps {steps}")
    print(f"stopped at step {stopped_at}, resumed with another simulator count: identical model")


def check_checkpoint_minutes():
    """checkpoint.minutes writes checkpoints on the clock; --keep-checkpoints keeps the newest."""
    out = fresh_dir("ckpt-minutes")
    # 300 steps of at least 10 ms: 3 s or more, a checkpoint every 0.6 s.
    train(1, out, "--debug.step_delay_ms", "10", "--checkpoint.minutes", "0.01", "--keep-checkpoints", "2")
    written = checkpoints_of(out)
    if len(written) != 2:
        fail(f"a checkpoint every 0.6 s of a 3 s run, 2 kept: expected 2 files, found {written}")
    steps = [int(name[5:13]) for name in written]
    if not 0 < steps[0] < steps[1] < 300:
        fail(f"checkpoints on the clock should fall inside the run: steps {steps}")
    print(f"time-triggered checkpoints, newest 2 kept: {written}")


def check_checkpoint_fast_mode():
    """Fast mode: SIGUSR1 to mpiexec (forwarded), buffered batches kept, resumed, every step's samples counted once."""
    out = fresh_dir("ckpt-fast")
    proc = launch(5, out, "--trainers", "2", "--debug.step_delay_ms", "20", "--checkpoint.every", "40")
    wait_for_checkpoint(proc, out, 40)
    time.sleep(0.5)
    proc.send_signal(signal.SIGUSR1)  # Open MPI's mpiexec forwards SIGUSR1 to every rank
    rc, stdout, stderr = finish(proc)
    if rc != 75:
        fail(f"SIGUSR1 should stop the run with 75, got {rc}\n{stdout}\n{stderr}")
    latest = os.path.join(out, "checkpoints", checkpoints_of(out)[-1])
    # Buffered batches are never among the consumed ones, and lie beyond the watermark.
    report = h5("f = h5py.File(sys.argv[1], 'r')\n"
                "for t in (0, 1):\n"
                "    g = f[f'stream/trainer_{t}']\n"
                "    w = int(g['watermark'][0]); above = set(int(k) for k in g['consumed_above'][()])\n"
                "    local = [(int(b['header'][0]) - t) // 2 for b in g.get('buffered', {}).values()]\n"
                "    print(t, w, len(local), all(k >= w and k not in above for k in local))", latest)
    if report.count("True") != 2:
        fail(f"buffered batches overlap consumed ones:\n{report}")
    resume(4, out)
    s = summary(out)
    if s["samples"] + s["faults"]["dropped_samples"] != 300 * 2 * 64:
        fail(f"300 steps of 2 x 64 samples should be counted once each: {s['samples']} + "
             f"{s['faults']['dropped_samples']} dropped")
    print(f"fast-mode resume: {report.strip()}")


def check_checkpoint_reshard():
    """Another trainer count is refused unless --allow-reshard; resume auto starts fresh without checkpoints."""
    out = fresh_dir("ckpt-reshard")
    train(4, out, "--trainers", "2", "--train.steps", "100", "--eval.every", "100", "--checkpoint.every", "50")
    checkpoint = os.path.join(out, "checkpoints", "step-00000050.h5")
    _, _, stderr, _ = resume(5, checkpoint, "--trainers", "3", expect_rc=2)
    one_clean_error(stderr, checkpoint, "2 trainers", "--allow-reshard")
    moved = fresh_dir("ckpt-reshard-3")
    resume(5, checkpoint, "--trainers", "3", "--allow-reshard", "--out", moved)
    s = summary(moved)
    if s["ranks"]["trainers"] != 3 or s["resumed_from"]["trainers"] != 2 or s["steps"] != 100:
        fail(f"resharded run: {s['ranks']}, resumed_from {s.get('resumed_from')}, steps {s['steps']}")
    auto = fresh_dir("ckpt-auto")
    run([ARGS.sgnn, "train", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"), "--resume", "auto", "--out", auto,
         "--train.steps", "20", "--eval.every", "20"])
    if "resumed_from" in summary(auto):
        fail("--resume auto with no checkpoint should start a fresh run")
    print("reshard refused without the flag, done with it; resume auto starts fresh")


def check_checkpoint_faults():
    """Damaged, foreign or incompatible checkpoints: one line naming the file, exit 2, no crash."""
    out = fresh_dir("ckpt-faults")
    train(1, out, "--train.steps", "200", "--checkpoint.every", "100")
    good = os.path.join(out, "checkpoints", "step-00000100.h5")
    with open(good, "rb") as f:
        data = f.read()

    def variant(name, content=None):
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(data if content is None else content)
        return path

    truncated = variant("truncated.h5", data[: len(data) // 2])
    _, _, stderr, _ = resume(1, truncated, expect_rc=2)
    one_clean_error(stderr, truncated)
    corrupt = variant("corrupt.h5")
    h5("f = h5py.File(sys.argv[1], 'r+'); d = f['model/parameters/head.weight']\n"
       "offset = d.id.get_offset(); f.close()\n"
       "b = bytearray(open(sys.argv[1], 'rb').read()); b[offset + 5] ^= 0x10\n"
       "open(sys.argv[1], 'wb').write(bytes(b))", corrupt)
    _, _, stderr, _ = resume(1, corrupt, expect_rc=2)
    one_clean_error(stderr, corrupt, "head.weight", "checksum")
    future = variant("future.h5")
    h5("f = h5py.File(sys.argv[1], 'r+'); f.attrs['format_version'] = numpy.bytes_('99')", future)
    _, _, stderr, _ = resume(1, future, expect_rc=2)
    one_clean_error(stderr, future, "format version 99")
    for option, value, key in (("--model.hidden", "64", "model.hidden"), ("--sim.model", "seir", "sim.model")):
        _, _, stderr, _ = resume(1, good, option, value, expect_rc=2)
        one_clean_error(stderr, good, "config incompatible", key)
    text = variant("notes.h5", b"not a checkpoint\n")
    _, _, stderr, _ = resume(1, text, expect_rc=2)
    one_clean_error(stderr, text, "not an HDF5 file")
    resume(1, good, "--out", fresh_dir("ckpt-faults-ok"))  # the intact one still resumes
    print("truncated, corrupt, future-format, incompatible and foreign checkpoints refused in one line")


def check_checkpoint_disk():
    """Disk full and a read-only output directory: reported, the previous checkpoint intact, the run stopped."""
    disk = os.path.join(ARGS.workdir, "ckpt-disk")
    os.makedirs(disk, exist_ok=True)
    subprocess.run(["umount", disk], capture_output=True)
    scratch = fresh_dir("ckpt-disk-size")
    train(1, scratch, "--train.steps", "40", "--eval.every", "40", "--checkpoint.every", "20")
    size = os.path.getsize(os.path.join(scratch, "checkpoints", "step-00000020.h5"))
    # Room for one checkpoint and the small files, not for the next one beside it: sgnn
    # refuses to start a write that its estimate (data + 1 KiB per dataset + 16 KiB,
    # about 1.3 x this file) does not fit.
    room = (int(size * 2.2) + 4095) // 4096 * 4096
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={room}", "tmpfs", disk], capture_output=True)
    if mounted.returncode != 0:
        print(f"SKIPPED: cannot mount a small tmpfs here ({mounted.stderr.strip()}); needs root with CAP_SYS_ADMIN")
        sys.exit(77)
    try:
        out = os.path.join(disk, "full")
        rc, stdout, stderr, _ = train(1, out, "--train.steps", "200", "--checkpoint.every", "20",
                                      "--checkpoint.keep", "1", expect_rc=None)
        line = one_clean_error(stderr.replace("MPI_ABORT", "mpi-abort"), "step-00000040.h5")
        if rc == 0 or "No space left" not in line:
            fail(f"a full disk should stop the run with an error saying so: code {rc}, {line}")
        if checkpoints_of(out) != ["step-00000020.h5"] or any(f.endswith(".tmp") for f in os.listdir(os.path.join(out, "checkpoints"))):
            fail(f"the previous checkpoint should be alone and intact: {os.listdir(os.path.join(out, 'checkpoints'))}")
        resume(1, out, "--out", fresh_dir("ckpt-disk-resumed"))
        print(f"disk full ({room} bytes): {line}")

        subprocess.run(["umount", disk], check=True)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", disk], check=True)
        out = os.path.join(disk, "readonly")
        proc = launch(1, out, "--train.steps", "100000", "--checkpoint.every", "20", "--eval.every", "100000",
                      "--debug.step_delay_ms", "10")
        wait_for_checkpoint(proc, out, 20)
        subprocess.run(["mount", "-o", "remount,ro", disk], check=True)
        rc, stdout, stderr = finish(proc, timeout=60)
        line = one_clean_error(stderr.replace("MPI_ABORT", "mpi-abort"), "Read-only file system")
        if rc == 0:
            fail("the run continued without checkpoints")
        resume(1, os.path.join(out, "checkpoints", checkpoints_of(out)[-1]), "--out", fresh_dir("ckpt-ro-resumed"),
               "--train.steps", "60")
        print(f"read-only directory: {line}")
    finally:
        subprocess.run(["umount", "-l", disk], capture_output=True)


def check_killed_simulator():
    """SIGKILL of a simulator rank ends the job within seconds, naming it; the latest checkpoint resumes."""
    out = fresh_dir("ckpt-killed")
    proc = launch(4, out, "--train.steps", "1000000", "--checkpoint.every", "50", "--debug.step_delay_ms", "5")
    wait_for_checkpoint(proc, out, 50)
    ranks = rank_pids(proc)
    killed = time.monotonic()
    os.kill(ranks[3], signal.SIGKILL)  # ranks 2 and 3 simulate for trainer 0 (rank 1)
    rc, _, stderr = finish(proc, timeout=60)
    seconds = time.monotonic() - killed
    if rc == 0 or seconds > 10:
        fail(f"exit code {rc} {seconds:.1f} s after the kill; expected non-zero within 10 s")
    if "rank 3" not in stderr or "signal 9" not in stderr:
        fail(f"the error should name the killed rank and its signal:\n{stderr}")
    latest = checkpoints_of(out)[-1]
    step = int(latest[5:13])
    resume(3, out, "--train.steps", str(step + 20), "--eval.every", "20")
    print(f"job ended {seconds:.1f} s after SIGKILL of rank 3; resumed from {latest}")


def check_corpus():
    """sgnn simulate writes the same corpus on any rank count; sgnn train --data trains from it and resumes exactly."""
    corpora = {}
    for n in (1, 3):
        path = os.path.join(fresh_dir(f"corpus-{n}"), "corpus.h5")
        os.makedirs(os.path.dirname(path))
        command = ([] if n == 1 else mpi(n)) + [ARGS.sgnn, "simulate", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"),
                                                 "--samples", "12000", "--out", path, "--chunk", "1000"]
        _, stdout, _, _ = run(command)
        if "samples/s" not in stdout or "ETA" not in stdout or "MB/s" not in stdout:
            fail(f"sgnn simulate should show rate, ETA and write speed:\n{stdout}")
        corpora[n] = path
    same = h5("a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')\n"
              "cols = ['inputs', 'targets', 'parameters', 'labels', 'indices', 'valid']\n"
              "print([a[c].shape for c in cols], a.attrs['parameter_names'].decode())\n"
              "print(all(numpy.array_equal(a[c][()], b[c][()], equal_nan=a[c].dtype.kind == 'f') for c in cols))\n"
              "print(a['config'][()].decode().count('[prior]'))", corpora[1], corpora[3])
    if "(12000, 60)" not in same or "(12000, 6)" not in same or "True" not in same:
        fail(f"corpora from 1 and 3 ranks should be identical, with the documented columns:\n{same}")
    corpus = corpora[3]
    out = fresh_dir("corpus-train")
    run(mpi(3) + [ARGS.sgnn, "train", "--data", corpus, "--trainers", "2", "--out", out, "--train.steps", "300",
                  "--eval.every", "300", "--model.hidden", "48"])
    s = summary(out)
    if not s["eval"]["r2"]["beta"] > 0.8:
        fail(f"a network trained from the corpus should learn beta (R2 > 0.8): {s['eval']['r2']}")
    with open(os.path.join(out, "config.ini")) as f:
        if f"data = {corpus}" not in f.read():
            fail("config.ini should record the corpus")
    # From a corpus, a stop and a resume still give the same model bits.
    whole, part = fresh_dir("corpus-whole"), fresh_dir("corpus-part")
    run([ARGS.sgnn, "train", "--data", corpus, "--out", whole, "--train.steps", "250", "--eval.every", "250"])
    run([ARGS.sgnn, "train", "--data", corpus, "--out", part, "--train.steps", "250", "--eval.every", "250",
         "--checkpoint.every", "100"])
    resumed = fresh_dir("corpus-resumed")
    resume(1, os.path.join(part, "checkpoints", "step-00000100.h5"), "--out", resumed)
    if summary(resumed)["model_sha256"] != summary(whole)["model_sha256"]:
        fail("resuming a corpus run from step 100 changed the model")
    # What a corpus cannot do, said in one line each.
    for options, needle in ((["--prior.R0", "uniform(1, 2)"], "config incompatible: prior.R0"),
                            (["--curriculum.stages", "3"], "curriculum"),
                            (["--train.steps", "5"], None)):
        command = [ARGS.sgnn, "train", "--data", corpus, "--out", fresh_dir("corpus-bad"), *options]
        _, _, stderr, _ = run(command, expect_rc=None if needle is None else 2)
        if needle is not None:
            one_clean_error(stderr, needle)
    _, _, stderr, _ = run(mpi(4) + [ARGS.sgnn, "train", "--data", corpus, "--trainers", "2"], expect_rc=2)
    one_clean_error(stderr, "launch 3 ranks")
    missing = os.path.join(ARGS.workdir, "no-such-corpus.h5")
    _, _, stderr, _ = run([ARGS.sgnn, "train", "--data", missing], expect_rc=2)
    one_clean_error(stderr, missing)
    _, stdout, _, _ = run(mpi(2) + [ARGS.sgnn, "bench", "corpus", "--rows", "20000", "--dir", ARGS.workdir, "--json"])
    bench = json.loads(stdout.strip().splitlines()[-1])
    if not (bench["hdf5_write_MBps"] > 0 and bench["hdf5_read_MBps"] > 0 and bench["ranks"] == 2):
        fail(f"bench corpus: {bench}")
    print(f"identical corpora on 1 and 3 ranks; trained from one (beta R2 {s['eval']['r2']['beta']:.3f}); "
          f"I/O {bench['hdf5_write_MBps']:.0f}/{bench['hdf5_read_MBps']:.0f} MB/s")


def finite_numbers(value, where):
    """Every number in a JSON value is finite; returns how many there were."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, (int, float)):
        if value != value or value in (float("inf"), float("-inf")):
            fail(f"{where} is not finite: {value}")
        return 1
    if isinstance(value, dict):
        return sum(finite_numbers(v, f"{where}.{k}") for k, v in value.items())
    if isinstance(value, list):
        return sum(finite_numbers(v, f"{where}[{i}]") for i, v in enumerate(value))
    return 0


def require_keys(s, keys):
    """summary.json has every key."""
    for key in keys:
        if key not in s:
            fail(f"summary.json lacks {key}: {sorted(s)}")


def check_experiment_posterior_mean():
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


def check_experiment_model_selection():
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


def check_png_figures(out, s, expected):
    if s["figures"] != expected:
        fail(f"figures: {s['figures']} (is python3-matplotlib installed?)")
    for figure in s["figures"]:
        with open(os.path.join(out, figure), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(f"{figure} is not a PNG")


def check_experiment_attribution():
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


def check_experiment_unobservable():
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


def check_experiment_mismatch():
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


def check_attribution():
    """sgnn bank embeds simulations; sgnn attribute finds the nearest, whose parameters track the truth."""
    out = fresh_dir("attribution")
    train(1, out)
    bank = os.path.join(out, "bank.h5")
    run(mpi(2) + [ARGS.sgnn, "bank", "--run", out, "--samples", "4000", "--out", bank])
    series = os.path.join(out, "series.h5")
    run([ARGS.sgnn, "simulate", "--config", os.path.join(out, "config.ini"), "--samples", "10", "--out", series,
         "--seed", "99"])
    truths = h5("f = h5py.File(sys.argv[1], 'r'); names = f.attrs['parameter_names'].decode().split(',')\n"
                "for i in range(10):\n"
                "    y = numpy.expm1(f['inputs'][i].astype(float))\n"
                "    with open(f'{sys.argv[2]}/obs-{i}.csv', 'w') as o:\n"
                "        o.write('day,cases\\n' + ''.join(f'{d},{v:.6f}\\n' for d, v in enumerate(y)))\n"
                "    print(f['parameters'][i][names.index('R0')])", series, out).split()
    attributed_error, prior_error = [], []
    for i, truth in enumerate(float(t) for t in truths):
        # Both ways of naming the network: the model file, or its training run.
        network = ["--model", os.path.join(out, "model.h5")] if i % 2 == 0 else ["--run", out]
        _, stdout, _, _ = run([ARGS.sgnn, "attribute"] + network + ["--bank", bank, "--data",
                               os.path.join(out, f"obs-{i}.csv"), "--json"])
        result = json.loads(stdout)
        if result["k"] != round(4000 ** 0.5) or len(result["nearest"]) != 10:
            fail(f"k should be sqrt(bank size) = 63 with 10 listed: {result['k']}, {len(result['nearest'])}")
        attributed_error.append(abs(result["attributed"]["R0"]["mean"] - truth))
        prior_error.append(abs(math.sqrt(1.5 * 5) - truth))  # the prior's geometric centre, loguniform(1.5, 5)
    a, p = sum(attributed_error) / 10, sum(prior_error) / 10
    # The network explains about 80% of log R0's variance, so its neighbours' R0 should
    # be far closer to the truth than the prior's centre (measured: 0.32 against 0.94
    # over 20 series); 0.7 leaves room for kNN noise and a small sample.
    if not a < 0.7 * p:
        fail(f"attributed R0 is off by {a:.3f} on average, the prior's centre by {p:.3f}")
    bad = os.path.join(out, "short.csv")
    with open(bad, "w") as f:
        f.write("day,cases\n0,5\n1,7\n")
    _, _, stderr, _ = run([ARGS.sgnn, "attribute", "--run", out, "--bank", bank, "--data", bad], expect_rc=2)
    one_clean_error(stderr, bad, "2 rows", "60")
    print(f"attributed R0 off by {a:.3f} on average against {p:.3f} for the prior's centre")


def check_sweep():
    """sgnn sweep: the shipped sweep checks out; args, collect and its errors, without SLURM."""
    _, stdout, _, _ = run([ARGS.sgnn, "sweep", "show", os.path.join(ARGS.config_dir, "budget.sweep")])
    if "8 tasks" not in stdout or "--array=0-7" not in stdout:
        fail(f"configs/budget.sweep should list 8 tasks:\n{stdout}")
    out = fresh_dir("sweep")
    os.makedirs(out)
    grid = os.path.join(out, "tiny.sweep")
    with open(grid, "w") as f:
        f.write(f"config = {os.path.join(ARGS.config_dir, 'tiny.cfg')}\n[grid]\ntrain.steps = 40 80\n"
                "prior.R0 = \"uniform(1.5, 3)\"\n")
    for task in (0, 1):
        _, stdout, _, _ = run([ARGS.sgnn, "sweep", "args", grid, "--task", str(task)])
        run([ARGS.sgnn, "train", *stdout.splitlines(), "--eval.every", "40", "--out", os.path.join(out, f"task-{task}")])
    _, _, stderr, _ = run([ARGS.sgnn, "sweep", "args", grid, "--task", "2"], expect_rc=2)
    one_clean_error(stderr, "integer in [0, 1]", "--array=0-1")
    run([ARGS.sgnn, "sweep", "collect", grid, "--runs", out])
    with open(os.path.join(out, "sweep.csv")) as f:
        rows = list(csv.DictReader(f))
    if [(r["task"], r["train.steps"], r["steps"], r["prior.R0"]) for r in rows] != \
            [("0", "40", "40", "uniform(1.5, 3)"), ("1", "80", "80", "uniform(1.5, 3)")]:
        fail(f"sweep.csv rows: {rows}")
    with open(os.path.join(out, "sweep.png"), "rb") as f:
        if f.read(8) != b"\x89PNG\r\n\x1a\n":
            fail("sweep.png is not a PNG")
    os.remove(os.path.join(out, "task-1", "summary.json"))
    _, _, stderr, _ = run([ARGS.sgnn, "sweep", "collect", grid, "--runs", out], expect_rc=2)
    one_clean_error(stderr, "task(s) 1 of 2")
    print("sweep: 2 tasks trained from sweep args, collected into sweep.csv and sweep.png; a missing task is named")


def command_line(*required):
    """The arguments every check script takes (and `required` extra (flag, help) pairs);
    makes the work folder."""
    parser = argparse.ArgumentParser()
    parser.add_argument("check")
    parser.add_argument("--sgnn", required=True)
    parser.add_argument("--config-dir", required=True)
    parser.add_argument("--workdir", required=True)
    parser.add_argument("--mpiexec", required=True)
    parser.add_argument("--python", default="/usr/bin/python3", help="a python3 with h5py")
    for flag, help_text in required:
        parser.add_argument(flag, required=True, help=help_text)
    arguments = parser.parse_args()
    os.makedirs(arguments.workdir, exist_ok=True)
    global ARGS
    ARGS = arguments  # the helpers here read it, also when another script calls them
    return arguments


def dispatch(name, functions):
    """Runs check_NAME from `functions` (a module's globals())."""
    known = {key[len("check_"):]: fn for key, fn in functions.items() if key.startswith("check_")}
    if name not in known:
        fail(f"unknown check {name}; known: {sorted(known)}")
    known[name]()
    print(f"{name}: ok")


def main():
    command_line()
    dispatch(ARGS.check, globals())


if __name__ == "__main__":
    main()
