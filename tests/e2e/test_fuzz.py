"""Fuzz test of every kind of file sgnn reads, one CTest test per kind.

    python3 -m pytest tests/e2e/test_fuzz.py::test_KIND --sgnn build/sgnn --reader build/tests/sgnn_read_fuzz \
        --config-dir configs --workdir build/e2e --mpiexec "mpiexec --oversubscribe"

KIND is model, checkpoint, corpus, bank, csv or config. The test makes a good file of
that kind, then a fixed, seeded set of damaged variants: random byte flips,
truncations, zeroed 4 KiB blocks, datasets deleted, reshaped or retyped, attributes
changed, and foreign files (empty, random bytes, text, another kind of sgnn file, a
directory). Each variant is read twice:

  - by sgnn_read_fuzz, the readers built with AddressSanitizer: exit 0 with the same
    digest of what it read as the good file gives, or exit 2 with one line; a
    sanitizer report or a crash fails the test;
  - by the real command that reads such a file (sgnn attribute, sgnn train --data,
    sgnn train --resume, sgnn simulate --config): exit 0 with the good file's result
    bit for bit, or exit 2 with one line naming the file; a crash, a hang, another exit
    status or a silently different result fails the test.

CSV and config files are text without checksums: a flipped digit is a different,
valid number, so for them any clean outcome (a result, or one error line) passes.
"""
import json
import os
import random
import shutil
import subprocess
import sys

from harness import ARGS, fail, fresh_dir, h5, reseal, run, summary, train

CASES_PER_KIND = 24
CRASH_SIGNS = ("Traceback", "terminate called", "Segmentation", "core dumped", "MPI_ABORT", "AddressSanitizer",
               "what():")


def sgnn(*arguments, expect_rc=0, timeout=120):
    return run([ARGS.sgnn, *arguments], expect_rc=expect_rc, timeout=timeout)


def attempt(command, timeout=120):
    """Runs a command quietly; returns (rc, stdout, stderr). A hang fails the test."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, errors="replace", timeout=timeout,
                              env=dict(os.environ, ASAN_OPTIONS="detect_leaks=0:abort_on_error=0"))
    except subprocess.TimeoutExpired:
        fail(f"hang (over {timeout} s): {command}")
    return done.returncode, done.stdout, done.stderr


def clean_error(case, path, rc, stderr, what):
    """Exit 2 with exactly one sgnn error line and no crash dump."""
    lines = [line for line in stderr.splitlines() if line.startswith("sgnn: error")]
    crash = [sign for sign in CRASH_SIGNS if sign in stderr]
    if rc != 2 or len(lines) != 1 or crash:
        fail(f"{case}: {what} should exit 0 or 2 with one error line; got exit {rc}, {len(lines)} error lines, "
             f"crash signs {crash}:\n{stderr[-3000:]}")
    return lines[0]


# --- Damage ---------------------------------------------------------------------------

def flip_bytes(data, rng):
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        data[rng.randrange(len(data))] ^= rng.randint(1, 255)
    return bytes(data)


def truncate(data, rng):
    return data[:rng.randrange(len(data))]


def zero_block(data, rng):
    data = bytearray(data)
    start = rng.randrange(0, max(1, len(data) // 4096)) * 4096
    data[start:start + 4096] = bytes(min(4096, len(data) - start))
    return bytes(data)


# A dataset's replacement keeps the old one's attributes (its sha256 among them), as a
# careful forger would: then the readers' shape and type checks must catch it.
REPLACE = "a = dict(f[name].attrs)\ndel f[name]\nf.create_dataset(name, data=d)\nfor k, v in a.items(): f[name].attrs[k] = v"
H5_EDITS = {
    # A dataset gone, halved, retyped, transposed (the same bytes in another shape), or
    # an extra one; an attribute changed.
    "delete": "del f[name]",
    "reshape": "d = f[name][()].reshape(-1)\nd = d[:max(1, d.size // 2)]\n" + REPLACE,
    "retype": "d = numpy.asarray(f[name][()])\nd = d.astype('float64') if d.dtype.kind != 'S' else numpy.zeros(3)\n" + REPLACE,
    "transpose": "d = numpy.atleast_2d(f[name][()]).T.copy()\n" + REPLACE,
    "extra": "f.create_dataset(name + '_extra', data=numpy.arange(5))",
    "attribute": "k = sorted(f.attrs)[seed % len(f.attrs)]\nf.attrs.create(k, numpy.bytes_(b'9' * (1 + seed % 30)))",
}


def h5_edit(source, target, edit, seed):
    shutil.copy(source, target)
    body = "\n".join("    " + line for line in H5_EDITS[edit].splitlines())
    h5("names = []\n"
       "with h5py.File(sys.argv[1], 'r') as f:\n"
       "    f.visit(lambda n: names.append(n) if isinstance(f[n], h5py.Dataset) else None)\n"
       "names.sort()\n"
       "seed = int(sys.argv[2])\n"
       "name = names[seed % len(names)]\n"
       "with h5py.File(sys.argv[1], 'r+') as f:\n" + body + "\n", target, str(seed))
    reseal(target)


def variants(good, others, folder, hdf5, rng):
    """(name, path) of the damaged variants of `good`, written into `folder`."""
    with open(good, "rb") as f:
        data = f.read()
    made = []

    def write(name, content):
        path = os.path.join(folder, name)
        with open(path, "wb") as f:
            f.write(content)
        made.append((name, path))

    for i in range(8):
        write(f"flip-{i}", flip_bytes(data, rng))
    for i in range(3):
        write(f"truncate-{i}", truncate(data, rng))
    for i in range(3):
        write(f"zero-{i}", zero_block(data, rng))
    if hdf5:
        for i, edit in enumerate(H5_EDITS):
            path = os.path.join(folder, f"h5-{edit}")
            h5_edit(good, path, edit, rng.randrange(1000))
            made.append((f"h5-{edit}", path))
    write("empty", b"")
    write("random", bytes(rng.randrange(256) for _ in range(10000)))
    write("text", b"day,cases\n0,1\n" if hdf5 else b"\x00\x01binary\xff\xfe" * 50)
    for i, other in enumerate(others):
        path = os.path.join(folder, f"foreign-{i}")
        shutil.copy(other, path)
        made.append((f"foreign-{i}", path))
    directory = os.path.join(folder, "a-directory")
    os.makedirs(directory)
    made.append(("directory", directory))
    return made[:CASES_PER_KIND + 8]


# --- The files and their commands --------------------------------------------------------

def trained(name):
    out = fresh_dir(name)
    train(1, out, "--train.steps", "100", "--eval.every", "100")
    return out


def observation(folder):
    path = os.path.join(folder, "obs.csv")
    with open(path, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},{3 + 2 * d}\n" for d in range(60)))
    return path


def fuzz(kind, good, others, read_args, command_of, result_of, hdf5=True):
    """Runs every variant through the sanitized reader and the real command."""
    folder = fresh_dir(f"fuzz-{kind}")
    os.makedirs(folder)
    rng = random.Random(f"sgnn-fuzz-{kind}")
    digest = None
    if read_args is not None:
        rc, digest, stderr = attempt([ARGS.reader, *read_args(good)])
        if rc != 0:
            fail(f"the sanitized reader cannot read the good {kind} file:\n{stderr}")
    rc, stdout, stderr = attempt(command_of(good, "good"))
    if rc != 0:
        fail(f"the good {kind} file fails:\n{stderr}")
    expected = result_of(stdout, "good")
    outcomes = {"same result": 0, "clean error": 0}
    for name, path in variants(good, others, folder, hdf5, rng):
        if read_args is not None:
            rc, read_digest, stderr = attempt([ARGS.reader, *read_args(path)])
            if rc == 0:
                if hdf5 and read_digest != digest:
                    fail(f"{name}: the reader returned other data without an error (a silent difference)")
            else:
                clean_error(name, path, rc, stderr, "the sanitized reader")
        rc, stdout, stderr = attempt(command_of(path, name))
        if rc == 0:
            if hdf5 and result_of(stdout, name) != expected:
                fail(f"{name}: sgnn gave another result without an error (a silent difference)")
            outcomes["same result"] += 1
        else:
            line = clean_error(name, path, rc, stderr, "sgnn")
            if os.path.basename(path) not in line:
                fail(f"{name}: the error should name the file:\n{line}")
            outcomes["clean error"] += 1
        print(f"  {name}: {'same result' if rc == 0 else 'error: ' + stderr.strip().splitlines()[-1][:160]}",
              flush=True)
    print(f"{kind}: {sum(outcomes.values())} damaged files, {outcomes}")


def test_model():
    out = trained("fuzz-model-run")
    bank = os.path.join(out, "bank.h5")
    sgnn("bank", "--run", out, "--samples", "300", "--out", bank)
    obs = observation(out)
    fuzz("model", os.path.join(out, "model.h5"), [bank],
         lambda path: ["model", path],
         lambda path, name: [ARGS.sgnn, "attribute", "--model", path, "--bank", bank, "--data", obs, "--json",
                             "--run", out],
         lambda stdout, name: stdout)


def test_bank():
    out = trained("fuzz-bank-run")
    bank = os.path.join(out, "bank.h5")
    sgnn("bank", "--run", out, "--samples", "300", "--out", bank)
    obs = observation(out)
    fuzz("bank", bank, [os.path.join(out, "model.h5")],
         lambda path: ["bank", path],
         lambda path, name: [ARGS.sgnn, "attribute", "--run", out, "--bank", path, "--data", obs, "--json"],
         lambda stdout, name: {k: v for k, v in json.loads(stdout).items() if k != "bank"})


def test_csv():
    out = trained("fuzz-csv-run")
    bank = os.path.join(out, "bank.h5")
    sgnn("bank", "--run", out, "--samples", "300", "--out", bank)
    fuzz("csv", observation(out), [bank],
         lambda path: ["csv", path, "60", "1"],
         lambda path, name: [ARGS.sgnn, "attribute", "--run", out, "--bank", bank, "--data", path, "--json"],
         lambda stdout, name: stdout, hdf5=False)


def test_corpus():
    folder = fresh_dir("fuzz-corpus-source")
    os.makedirs(folder)
    corpus = os.path.join(folder, "corpus.h5")
    sgnn("simulate", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"), "--samples", "1500", "--out", corpus)
    model_run = trained("fuzz-corpus-model")
    options = ["--train.steps", "5", "--eval.every", "5", "--eval.samples", "256"]

    def command(path, name):
        return [ARGS.sgnn, "train", "--data", path, "--out", fresh_dir(f"fuzz-corpus-{name}"), *options]

    fuzz("corpus", corpus, [os.path.join(model_run, "model.h5")],
         lambda path: ["corpus", path, "60", "3"], command,
         lambda stdout, name: summary(os.path.join(ARGS.workdir, f"fuzz-corpus-{name}"))["model_sha256"])


def test_checkpoint():
    out = fresh_dir("fuzz-checkpoint-run")
    train(1, out, "--train.steps", "80", "--eval.every", "80", "--checkpoint.every", "60", "--eval.samples", "256")
    good = os.path.join(out, "checkpoints", "step-00000060.h5")
    folder = fresh_dir("fuzz-checkpoint-source")
    os.makedirs(folder)
    shutil.copy(good, os.path.join(folder, "checkpoint.h5"))
    good = os.path.join(folder, "checkpoint.h5")

    def command(path, name):
        return [ARGS.sgnn, "train", "--resume", path, "--out", fresh_dir(f"fuzz-checkpoint-{name}")]

    fuzz("checkpoint", good, [os.path.join(out, "model.h5")],
         lambda path: ["datasets", path], command,
         lambda stdout, name: summary(os.path.join(ARGS.workdir, f"fuzz-checkpoint-{name}"))["model_sha256"])


def test_config():
    folder = fresh_dir("fuzz-config-source")
    os.makedirs(folder)
    config = os.path.join(folder, "tiny.cfg")
    shutil.copy(os.path.join(ARGS.config_dir, "tiny.cfg"), config)
    corpus = os.path.join(folder, "two.h5")

    def command(path, name):
        return [ARGS.sgnn, "simulate", "--config", path, "--samples", "2", "--out", corpus]

    # Options are parsed by the command-line module, which the sanitized reader does
    # not hold: configs go through the real command only.
    fuzz("config", config, [os.path.join(ARGS.config_dir, "quickstart.cfg")], None, command,
         lambda stdout, name: "", hdf5=False)
