"""Safety regressions of the sgnn executable, one CTest test per check (docs/safety.md).

    python3 -m pytest tests/e2e/test_safety.py::test_CHECK --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"

Each check reproduces a defect of the hardening audit (shell injection, replaced
device files, out-of-bounds reads of forged files, stops that did not stop, another
run's checkpoints, unlocked output directories, NaN models, control characters in
values, crashes after clean errors, unbounded exact simulations, sloppy parsing) and
asserts the fixed behaviour. The helpers are those of harness.py.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from harness import (
    ARGS, fail, finish, fresh_dir, h5, launch, mpi, one_clean_error, rank_pids, reseal, run, summary, train,
)


# Re-signs a corpus or bank after an edit, as a careful forger would: block checksums
# of every column and the attribute checksum recomputed (io/corpus_file.hpp), so that
# the reader's structural checks, not its checksums, are what must catch the edit.
RESIGN = r'''
import hashlib
def put_attr(f, name, value):
    f.attrs.create(name, numpy.bytes_(value.encode()))
def resign(path):
    with h5py.File(path, 'r+') as f:
        if 'checksum_block_rows' not in f.attrs:
            return  # a file without checksums (an sgnn before them) has nothing to re-sign
        rows_per_block = int(f.attrs['checksum_block_rows'])
        for name in list(f['checksums']):
            del f['checksums'][name]
        for name in list(f.keys()):
            if name in ('checksums', 'config'):
                continue
            data = f[name][()]
            blocks = (data.shape[0] + rows_per_block - 1) // rows_per_block
            sums = numpy.zeros((blocks, 32), dtype=numpy.uint8)
            for b in range(blocks):
                part = numpy.ascontiguousarray(data[b * rows_per_block:(b + 1) * rows_per_block])
                sums[b] = numpy.frombuffer(hashlib.sha256(part.tobytes()).digest(), dtype=numpy.uint8)
            f['checksums'].create_dataset(name, data=sums)
        attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()
                 if k != 'attributes_sha256'}
        h = hashlib.sha256()
        for k in sorted(attrs):
            kb, vb = k.encode(), attrs[k].encode()
            h.update(f'{len(kb)}:'.encode() + kb + f'{len(vb)}:'.encode() + vb)
        put_attr(f, 'attributes_sha256', h.hexdigest())
'''


def forge(source, name, edit):
    """A copy of `source` named `name` beside it, edited by the h5py lines `edit` (with f
    the open file, put_attr at hand) and then re-signed; returns its path."""
    forged = os.path.join(os.path.dirname(source), name)
    shutil.copy(source, forged)
    h5(RESIGN + "with h5py.File(sys.argv[1], 'r+') as f:\n" +
       "".join("    " + line + "\n" for line in edit.strip().splitlines()) + "resign(sys.argv[1])\n", forged)
    return forged


def sgnn(*arguments, expect_rc=0, timeout=120):
    return run([ARGS.sgnn, *arguments], expect_rc=expect_rc, timeout=timeout)


def tiny():
    return os.path.join(ARGS.config_dir, "tiny.cfg")


def make_corpus(name, samples=3000):
    folder = fresh_dir(name)
    os.makedirs(folder)
    path = os.path.join(folder, "corpus.h5")
    sgnn("simulate", "--config", tiny(), "--samples", str(samples), "--out", path)
    return path


def trained_run(name, *options):
    out = fresh_dir(name)
    train(1, out, "--train.steps", "100", "--eval.every", "100", *options)
    return out


def test_injection():
    """Paths with quotes and semicolons reach child programs as one argument: nothing is executed."""
    base = fresh_dir("injection")
    runs = os.path.join(base, "x';touch INJECTED;'")
    os.makedirs(runs)
    grid = os.path.join(base, "one.sweep")
    with open(grid, "w") as f:
        f.write(f"config = {tiny()}\n[grid]\ntrain.steps = 40\n")
    _, stdout, _, _ = sgnn("sweep", "args", grid, "--task", "0")
    sgnn("train", *stdout.splitlines(), "--eval.every", "40", "--out", os.path.join(runs, "task-0"))
    cwd = os.getcwd()
    os.chdir(base)
    try:
        sgnn("sweep", "collect", grid, "--runs", runs)
        # The NumPy reference's interpreter is a program name, never a shell line.
        _, _, stderr, _ = sgnn("bench", "simulate", "--vs-numpy", "--seconds", "0.05",
                               "--python", "python3; touch INJECTED", expect_rc=None)
    finally:
        os.chdir(cwd)
    for where in (base, cwd, runs):
        if os.path.exists(os.path.join(where, "INJECTED")):
            fail(f"a quote in a path ran a shell command (INJECTED exists in {where})")
    if not os.path.exists(os.path.join(runs, "sweep.png")):
        fail("sweep collect should still draw sweep.png into a folder with a quote in its name")
    print("no shell: sweep collect and bench simulate kept hostile paths as arguments")


def test_outputs_not_replaced():
    """--out naming a FIFO or a symbolic link is refused with one line; neither is touched."""
    base = fresh_dir("outputs")
    os.makedirs(base)
    fifo, victim, link = (os.path.join(base, n) for n in ("fifo", "victim", "link"))
    os.mkfifo(fifo)
    with open(victim, "w") as f:
        f.write("precious")
    os.symlink("victim", link)
    for target, what in ((fifo, "a FIFO"), (link, "a symbolic link")):
        _, _, stderr, seconds = sgnn("simulate", "--config", tiny(), "--samples", "10", "--out", target, expect_rc=2,
                                     timeout=60)
        one_clean_error(stderr, target, what)
    run_dir = trained_run("outputs-run")
    _, _, stderr, _ = sgnn("bank", "--run", run_dir, "--samples", "10", "--out", fifo, expect_rc=2)
    one_clean_error(stderr, fifo, "a FIFO")
    import stat
    if not stat.S_ISFIFO(os.lstat(fifo).st_mode) or not os.path.islink(link):
        fail("the FIFO or the link was replaced")
    with open(victim) as f:
        if f.read() != "precious":
            fail("the link's target was written through")
    leftovers = [n for n in os.listdir(base) if ".tmp." in n]
    if leftovers:
        fail(f"temporaries left behind: {leftovers}")
    print("FIFO and symbolic link refused as outputs, untouched")


def test_forged_shapes():
    """Corpora and banks whose datasets disagree with their attributes are errors, not heap reads."""
    corpus = make_corpus("forged-corpus")
    # Inputs narrower than n_inputs (read past their end before), and NaN inputs in a
    # row marked valid (trained into an all-NaN model before).
    for name, edit, needles in (
            ("narrow.h5", "x = f['inputs'][:, :40]\ndel f['inputs']\nf.create_dataset('inputs', data=x)",
             ("inputs", "shape")),
            ("nan.h5", "x = f['inputs'][()]\nx[5, 3] = numpy.nan\nf['inputs'][...] = x", ("row 5", "not finite"))):
        forged = forge(corpus, name, edit)
        _, _, stderr, _ = sgnn("train", "--data", forged, "--out", fresh_dir("forged-train"), "--train.steps", "5",
                               expect_rc=2)
        one_clean_error(stderr, forged, *needles)

    run_dir = trained_run("forged-run")
    bank = os.path.join(run_dir, "bank.h5")
    sgnn("bank", "--run", run_dir, "--samples", "500", "--out", bank)
    obs = os.path.join(run_dir, "obs.csv")
    with open(obs, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},{3 + d}\n" for d in range(60)))
    for name, edit, needle in (
            ("more-names", "names = f.attrs['parameter_names'].decode() + ',extra'\n"
                           "put_attr(f, 'parameter_names', names)\n", "parameters"),
            ("labels", "put_attr(f, 'class_names', 'sir,seir')\n"
                       "l = f['labels'][()]\n"
                       "l[l >= 0] = 7\n"
                       "f['labels'][...] = l\n", "label 7")):
        forged = forge(bank, f"bank-{name}.h5", edit)
        for extra in ([], ["--json"]):
            _, _, stderr, _ = sgnn("attribute", "--run", run_dir, "--bank", forged, "--data", obs, *extra, expect_rc=2)
            one_clean_error(stderr, forged, needle)
    print("forged corpora and banks refused with one line each")


def terminate_ranks(proc, ranks, after):
    """Sends SIGTERM to every rank of a background job `after` seconds into it (it must
    still run then); returns (exit status, stderr, seconds from the signal to the end)."""
    time.sleep(after)
    pids = rank_pids(proc) if ranks > 1 else {0: proc.pid}
    if proc.poll() is not None or len(pids) != ranks:
        rc, _, stderr = finish(proc)
        fail(f"the job should still be running after {after} s (exit {rc}):\n{stderr}")
    sent = time.monotonic()
    for pid in pids.values():
        os.kill(pid, signal.SIGTERM)
    rc, _, stderr = finish(proc, timeout=60)
    return rc, stderr, time.monotonic() - sent


def test_stop_during_setup():
    """SIGTERM while trainers simulate their normalization samples ends the job within seconds."""
    # Thousands of normalization samples of ~2e6 events each: the set takes minutes.
    population = ["--sim.model", "sir_gillespie", "--prior.population", "fixed(1e6)", "--prior.R0", "uniform(1.5, 3)"]
    rc, stderr, seconds = terminate_ranks(launch(3, fresh_dir("stop-setup"), *population), 3, after=4)
    if seconds > 15:
        fail(f"the job took {seconds:.0f} s to end after SIGTERM (SLURM waits 30 s, then kills)")
    if rc != 75 or "stopped by SIGTERM during" not in stderr or "normalization" not in stderr:
        fail(f"a stop before the first checkpoint should exit 75 (requeue) naming it, got {rc}:\n{stderr}")
    # One process: the same, without MPI_Abort.
    rc, stderr, one = terminate_ranks(launch(1, fresh_dir("stop-setup-1"), *population), 1, after=3)
    if rc != 75 or one > 10:
        fail(f"one process: exit {rc} after {one:.1f} s:\n{stderr}")
    one_clean_error(stderr.replace("sgnn: stopped", "sgnn: error: stopped"), "normalization")
    print(f"3 ranks stopped {seconds:.1f} s after SIGTERM during normalization, one process {one:.1f} s; exit 75")


def test_stop_during_corpus():
    """SIGTERM during sgnn simulate ends every rank promptly and leaves no temporary behind."""
    folder = fresh_dir("stop-corpus")
    os.makedirs(folder)
    out = os.path.join(folder, "corpus.h5")
    command = mpi(2) + [ARGS.sgnn, "simulate", "--config", tiny(), "--sim.model", "sir_gillespie",
                               "--prior.population", "fixed(1e6)", "--samples", "5000", "--out", out]
    print("$ " + " ".join(command) + " &", flush=True)
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rc, stderr, seconds = terminate_ranks(proc, 2, after=4)
    if rc != 75 or seconds > 15:
        fail(f"simulate should exit 75 within seconds of SIGTERM: exit {rc} after {seconds:.1f} s\n{stderr}")
    leftovers = os.listdir(folder)
    if leftovers:
        fail(f"a stopped simulate left files behind: {leftovers}")
    print(f"simulate stopped {seconds:.1f} s after SIGTERM, no temporary left")


def test_run_identity():
    """A fresh run refuses another run's directory; --resume and rotation keep to the run's own checkpoints."""
    own = fresh_dir("identity-own")
    train(1, own, "--checkpoint.every", "100", "--train.steps", "300")
    before = sorted(os.listdir(os.path.join(own, "checkpoints")))
    _, _, stderr, _ = train(1, own, expect_rc=2)
    one_clean_error(stderr, own, "another run", "--resume")
    if sorted(os.listdir(os.path.join(own, "checkpoints"))) != before:
        fail("a refused run touched the earlier run's checkpoints")
    # Another run's checkpoint, at a higher step, in our checkpoints folder.
    other = fresh_dir("identity-other")
    train(1, other, "--checkpoint.every", "100", "--train.steps", "300")
    foreign = os.path.join(own, "checkpoints", "step-00009000.h5")
    shutil.copy(os.path.join(other, "checkpoints", "step-00000200.h5"), foreign)
    sgnn("train", "--resume", own, "--train.steps", "700", "--checkpoint.every", "100", "--checkpoint.keep", "2")
    s = summary(own)
    if not s["resumed_from"]["checkpoint"].endswith("step-00000200.h5"):
        fail(f"--resume DIR should continue the run's own newest checkpoint, not another run's: {s['resumed_from']}")
    left = sorted(os.listdir(os.path.join(own, "checkpoints")))
    if left != ["step-00000500.h5", "step-00000600.h5", "step-00009000.h5"]:
        fail(f"rotation should keep the newest 2 of this run's and leave the other run's alone: {left}")
    with open(os.path.join(own, "run.json")) as f:
        run_id = json.load(f)["run_id"]
    if s["run_id"] != run_id or len(run_id) != 32:
        fail(f"summary.json and run.json should name the same run: {s['run_id']} / {run_id}")
    # A job requeued after a stop before its first checkpoint restarts in place under
    # --resume auto; a finished run is never replaced that way.
    stopped = fresh_dir("identity-stopped")
    train(1, stopped, "--train.steps", "20", "--eval.every", "20")
    os.remove(os.path.join(stopped, "summary.json"))  # as if it had stopped before the end
    sgnn("train", "--config", tiny(), "--out", stopped, "--resume", "auto", "--train.steps", "20", "--eval.every", "20")
    _, _, stderr, _ = sgnn("train", "--config", tiny(), "--out", stopped, "--resume", "auto", expect_rc=2)
    one_clean_error(stderr, "another run", "summary.json")
    print("another run's directory refused; resume and rotation kept to the run's own checkpoints; "
          "--resume auto restarts an unfinished run in place")


def test_directory_lock():
    """A second run on the same --out while the first runs gets one line; the first finishes untouched."""
    out = fresh_dir("lock")
    first = launch(1, out, "--debug.step_delay_ms", "20")
    deadline = time.monotonic() + 60
    while not os.path.exists(os.path.join(out, "config.ini")):
        if first.poll() is not None or time.monotonic() > deadline:
            fail(f"the first run did not start: {finish(first)}")
        time.sleep(0.05)
    _, _, stderr, _ = train(1, out, "--seed", "8", expect_rc=2)
    one_clean_error(stderr, out, "in use by another sgnn process", "pid")
    rc, _, stderr = finish(first)
    if rc != 0:
        fail(f"the first run failed: {stderr}")
    if summary(out)["model_sha256"] == "" or "seed = 7" not in open(os.path.join(out, "config.ini")).read():
        fail("the first run's outputs were mixed with the second's")
    # An experiment's folder is locked the same way (the lock held here, as another
    # process would hold it).
    import fcntl
    folder = fresh_dir("lock-experiment")
    os.makedirs(folder)
    with open(os.path.join(folder, ".sgnn.lock"), "w") as held:
        held.write("pid 1 on elsewhere\n")
        held.flush()
        fcntl.flock(held, fcntl.LOCK_EX)
        _, _, stderr, _ = sgnn("experiment", "posterior-mean", "--scale", "quick", "--out", folder, expect_rc=2)
        one_clean_error(stderr, folder, "in use by another sgnn process", "pid 1 on elsewhere")
    print("a second run on a locked directory was refused, and an experiment on a locked folder")


def test_non_finite():
    """A NaN loss stops training naming the step; no model.h5 or summary.json is written."""
    out = fresh_dir("non-finite")
    _, _, stderr, _ = train(1, out, "--debug.poison_step", "50", expect_rc=1)
    line = [l for l in stderr.splitlines() if l.startswith("sgnn: error")]
    if len(line) != 1 or "step 50" not in line[0] or "not finite" not in line[0] and "nan" not in line[0]:
        fail(f"expected one line naming step 50 and the NaN loss:\n{stderr}")
    for name in ("model.h5", "summary.json"):
        if os.path.exists(os.path.join(out, name)):
            fail(f"{name} was written for a run whose loss was NaN")
    print("NaN loss stopped the run at step 50 with no model written")


def test_config_values():
    """Control characters, directories as configs, hexadecimal and binary values: one bounded line each."""
    out = fresh_dir("values")
    _, _, stderr, _ = train(1, out, "--name", "nl\n[train]\nsteps = 7", expect_rc=2)
    one_clean_error(stderr, "control characters")
    if os.path.exists(os.path.join(out, "config.ini")):
        fail("config.ini was written with an injected section")
    _, _, stderr, _ = sgnn("train", "--config", ARGS.config_dir, "--out", out, expect_rc=2)
    one_clean_error(stderr, "is a directory")
    for value in ("0x10", "1e400", "inf"):
        _, _, stderr, _ = train(1, out, "--train.steps", value, expect_rc=2)
        one_clean_error(stderr, "train.steps")
    # Binary bytes and a 100 kB value: run directly, the command line is not printable.
    done = subprocess.run([ARGS.sgnn.encode(), b"train", b"--config", tiny().encode(), b"--out", out.encode(),
                           b"--train.steps", b"\xff\xfe" + b"9" * 100000], capture_output=True, timeout=60)
    if done.returncode != 2:
        fail(f"a binary value should be exit 2, not {done.returncode}")
    line = one_clean_error(done.stderr.decode("utf-8", "strict"), "train.steps", "\\xFF", "more bytes")
    if len(line) > 600:
        fail(f"a megabyte value should be cut short in the message ({len(line)} characters)")
    _, _, stderr, _ = train(1, out, "--prior.R0", "uniform(0x1, 3)", expect_rc=2)
    one_clean_error(stderr, "prior.R0", "0x1")
    print("control characters, directories, hexadecimal and binary values refused with bounded lines")


def test_ssa_cost():
    """An exact SSA with a population of 1e10 is refused up front, naming the option that allows it."""
    _, _, stderr, seconds = train(1, fresh_dir("ssa"), "--sim.model", "sir_gillespie", "--prior.population",
                                  "fixed(1e10)", expect_rc=2, timeout=60)
    one_clean_error(stderr, "prior.population", "sim.max_ssa_events", "sir_tauleap")
    _, _, stderr, _ = sgnn("bench", "simulate", "--model", "sir_gillespie", "--population", "1e10", expect_rc=2)
    one_clean_error(stderr, "--population")
    print(f"refused in {seconds:.1f} s")


def test_callback_error():
    """A model whose parameter is a group, not a dataset: one clean error, no crash at exit."""
    run_dir = trained_run("callback")
    model = os.path.join(run_dir, "model.h5")
    forged = os.path.join(run_dir, "group.h5")
    shutil.copy(model, forged)
    h5("with h5py.File(sys.argv[1], 'r+') as f:\n"
       "    name = sorted(f['parameters'])[0]\n"
       "    del f['parameters'][name]\n"
       "    f['parameters'].create_group(name)\n", forged)
    reseal(forged)
    bank = os.path.join(run_dir, "bank.h5")
    sgnn("bank", "--run", run_dir, "--samples", "200", "--out", bank)
    obs = os.path.join(run_dir, "obs.csv")
    with open(obs, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},{3 + d}\n" for d in range(60)))
    rc, _, stderr, _ = sgnn("attribute", "--model", forged, "--bank", bank, "--data", obs, expect_rc=None)
    if rc != 2:
        fail(f"expected exit 2, not {rc} (139 is the old crash after the message):\n{stderr}")
    one_clean_error(stderr, forged, "datasets")
    # The byte order mark and CRLF line ends of a spreadsheet export are fine.
    exported = os.path.join(run_dir, "exported.csv")
    with open(exported, "w", newline="") as f:
        f.write("\ufeffday , cases\r\n" + "".join(f"{d},{3 + d}\r\n" for d in range(60)))
    sgnn("attribute", "--model", model, "--bank", bank, "--data", exported)
    print("a group in place of a parameter: exit 2 and one line")


def test_small_inputs():
    """Flags of attribute and bank, CSV numbers and PETSc options in their documented forms."""
    run_dir = trained_run("small")
    bank = os.path.join(run_dir, "bank.h5")
    for samples in ("10abc", "1e30", "0x10"):
        _, _, stderr, _ = sgnn("bank", "--run", run_dir, "--samples", samples, "--out", bank, expect_rc=2)
        one_clean_error(stderr, "--samples", samples)
    sgnn("bank", "--run", run_dir, "--samples", "300", "--out", bank)
    obs = os.path.join(run_dir, "obs.csv")
    with open(obs, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},{3 + d}\n" for d in range(60)))
    for k in ("abc", "-3", "0"):
        _, _, stderr, _ = sgnn("attribute", "--run", run_dir, "--bank", bank, "--data", obs, "--k", k, expect_rc=2)
        one_clean_error(stderr, "--k")
    hexed = os.path.join(run_dir, "hex.csv")
    with open(hexed, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},{'0x1A' if d == 4 else 3}\n" for d in range(60)))
    _, _, stderr, _ = sgnn("attribute", "--run", run_dir, "--bank", bank, "--data", hexed, expect_rc=2)
    one_clean_error(stderr, "row 5", "0x1A")
    # The space form --help shows for ode.petsc_options.
    sgnn("train", "--config", os.path.join(ARGS.config_dir, "predator_prey.cfg"), "--out", fresh_dir("petsc-space"),
         "--train.steps", "20", "--eval.every", "20", "--eval.samples", "64", "--ode.petsc_options",
         "-ts_adapt_type basic")
    print("attribute --k, bank --samples, hexadecimal CSV cells and PETSc options as documented")
