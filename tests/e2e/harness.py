"""What every end-to-end check of sgnn uses: the settings of the run under test (ARGS,
filled in by conftest.py from pytest's command line) and helpers that run sgnn, check
exit codes and read its outputs. Standard library, pytest and (in child processes)
Debian's python3 with h5py.
"""
import csv
import hashlib
import json
import math
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import time
import types

import pytest

# sgnn, config_dir, workdir, mpiexec, python, reader: set once per session (conftest.py).
ARGS = types.SimpleNamespace()


def fail(message):
    """Fails the check with `message` (an assertion failure, as pytest reports it)."""
    raise AssertionError(message)


def skip(message):
    """Skips the check: something it needs is missing here (CTest reports it skipped)."""
    pytest.skip(message)


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


def reseal(path):
    """After editing an sgnn file with h5py (model.h5, a checkpoint, posterior draws), writes
    its whole-file checksum again (the user block, io/file_seal.hpp), as a careful forger
    would: then sgnn's inner checks must catch the edit. Files without the seal are left alone."""
    with open(path, "rb") as f:
        data = f.read()
    for magic in (b"sgnn-model-sha256 ", b"sgnn-file-sha256 "):
        if data.startswith(magic):
            with open(path, "r+b") as f:
                f.write(magic + hashlib.sha256(data[512:]).hexdigest().encode() + b"\n")
            return


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


def check_png_figures(out, s, expected):
    if s["figures"] != expected:
        fail(f"figures: {s['figures']} (is python3-matplotlib installed?)")
    for figure in s["figures"]:
        with open(os.path.join(out, figure), "rb") as f:
            if f.read(8) != b"\x89PNG\r\n\x1a\n":
                fail(f"{figure} is not a PNG")
