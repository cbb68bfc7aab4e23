"""Checkpoints and resume: exact continuation, time-based and fast-mode checkpoints, resharding,
damaged files, a full disk and a killed simulator.

Run by CTest as e2e_NAME (tests/CMakeLists.txt), or directly:
    python3 -m pytest tests/e2e/test_checkpoints.py --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import csv
import os
import random
import signal
import subprocess
import sys
import time

from harness import (
    ARGS, checkpoints_of, fail, finish, fresh_dir, h5, launch, mpi, one_clean_error, rank_pids,
    reseal, resume, run, skip, summary, train, wait_for_checkpoint,
)


def test_checkpoint_resume():
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


def test_checkpoint_minutes():
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


def test_checkpoint_fast_mode():
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


def test_checkpoint_reshard():
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


def test_checkpoint_faults():
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
    # The whole file's checksum (its user block) refuses it before HDF5 reads it; sealed
    # again, as a forger would, the dataset's own checksum does.
    _, _, stderr, _ = resume(1, corrupt, expect_rc=2)
    one_clean_error(stderr, corrupt, "checksum does not match", "damaged")
    reseal(corrupt)
    _, _, stderr, _ = resume(1, corrupt, expect_rc=2)
    one_clean_error(stderr, corrupt, "head.weight", "checksum")
    future = variant("future.h5")
    h5("f = h5py.File(sys.argv[1], 'r+'); f.attrs['format_version'] = numpy.bytes_('99')", future)
    reseal(future)
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


def test_checkpoint_disk():
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
        skip(f"cannot mount a small tmpfs here ({mounted.stderr.strip()}); needs root with CAP_SYS_ADMIN")
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


def test_killed_simulator():
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
