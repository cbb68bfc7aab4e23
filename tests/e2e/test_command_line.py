"""The command line: configuration errors, help texts and sweeps.

Run by CTest as e2e_NAME (tests/CMakeLists.txt), or directly:
    python3 -m pytest tests/e2e/test_command_line.py --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import csv
import os

from harness import ARGS, fail, fresh_dir, mpi, one_clean_error, resume, run, sgnn_error_lines, summary, train


def test_config_errors():
    """Invalid configurations: exit 2 with one line naming the key."""
    bad_cfg = os.path.join(fresh_dir("config-errors") + ".cfg")
    with open(bad_cfg, "w") as f:
        f.write("[train]\nsteps = 10\nlearning_rate = 0.1\n")
    cases = [
        (["--config", bad_cfg], "train.learning_rate"),
        (["--stream.batch_size", "-5"], "stream.batch_size"),
        (["--prior.R0", "uniform(3, 3)"], "prior.R0"),
        (["--trainers", "2"], "trainers"),
        (["--sim.model", "seir", "--sim.generation_interval", "2.6,1.5"], "sim.generation_interval"),
        (["--sim.generation_interval", "5", "--prior.infectious_period", "uniform(2, 3)"], "prior.infectious_period"),
        (["--obs.steps", "report,negbin,truncate", "--sim.days", "100"], "prior.observed_days"),
        (["--obs.steps", "truncate,negbin"], "obs.steps"),
        (["--sim.onset_offset", "maybe"], "sim.onset_offset"),
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


def test_help():
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


def test_sweep():
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
