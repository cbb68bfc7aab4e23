"""Posterior heads: flow and mixture heads trained on the stream, deterministic and resumable
bit for bit; sgnn predict's summaries and draws; the errors of heads that do not fit.

Run by CTest as e2e_NAME (tests/CMakeLists.txt), or directly:
    python3 -m pytest tests/e2e/test_posteriors.py --sgnn build/sgnn --config-dir configs \
        --workdir build/e2e --mpiexec "mpiexec --oversubscribe"
"""
import csv
import json
import math
import os
import signal
import time

from harness import (
    ARGS, checkpoints_of, fail, finish, fresh_dir, h5, launch, one_clean_error, rank_pids, resume, run,
    same_model_across_ranks, summary, train, wait_for_checkpoint,
)

# tiny.cfg's targets: log_R0 (prior R0 loguniform(1.5, 5): a logit on [log 1.5, log 5]),
# beta and gamma (derived: the real line).
LOG_R0_RANGE = (math.log(1.5), math.log(5.0))


def observation_csv(path, days=60):
    """An epidemic curve of `days` daily counts, as sgnn predict and attribute read them."""
    with open(path, "w") as f:
        f.write("day,cases\n")
        for d in range(days):
            f.write(f"{d},{round(400 * math.exp(-((d - 25) ** 2) / 120))}\n")
    return path


def test_posterior_heads():
    """flow and mixture heads train, evaluate, write model.h5, and are deterministic across ranks."""
    for head in ("flow", "mixture"):
        out = fresh_dir(f"head-{head}")
        train(3, out, "--model.head", head)
        s = summary(out)
        if not s["eval"]["r2"]["log_R0"] > 0.5:
            fail(f"{head}: log_R0 R2 of the posterior mean {s['eval']['r2']['log_R0']} should exceed 0.5")
        with open(os.path.join(out, "metrics.csv")) as f:
            rows = list(csv.DictReader(f))
        if not all(math.isfinite(float(r["eval_loss"])) for r in rows):
            fail(f"{head}: eval_loss (the held-out negative log-density) is not finite: {rows}")
        cal = s.get("calibration")
        if cal is None or set(cal["coverage"]) != {"log_R0", "beta", "gamma"} or cal["draws"] != 100:
            fail(f"{head}: summary.json lacks the calibration of every target: {cal}")
        if any(sum(h) != 1024 for h in cal["pit_histogram"].values()):
            fail(f"{head}: the rank histograms should count the 1024 held-out samples")
        if not all(k in rows[-1] for k in ("coverage_50", "coverage_95", "sbc_p_log_R0")):
            fail(f"{head}: metrics.csv lacks the calibration columns: {list(rows[-1])}")
        if not os.path.exists(os.path.join(out, "calibration.png")):
            fail(f"{head}: no calibration.png")
        attrs = h5("f = h5py.File(sys.argv[1], 'r')\n"
                         "print(f.attrs['head'], f.attrs['target_transforms'])\n"
                   "print(sum(1 for k in f['parameters'] if k.startswith('density.')))", os.path.join(out, "model.h5"))
        if head not in attrs or "logit(" not in attrs or "identity" not in attrs:
            fail(f"{head}: model.h5 does not record the head and the targets' transforms:\n{attrs}")
        if int(attrs.split()[-1]) < 2:
            fail(f"{head}: model.h5 holds no density.* parameters:\n{attrs}")
        model = same_model_across_ranks(f"head-{head}", (3, 5), "--model.head", head, "--trainers", "2",
                                        "--train.steps", "60", "--eval.every", "60")
        print(f"{head}: log_R0 R2 {s['eval']['r2']['log_R0']:.3f}, deterministic hash {model[:12]}")
    # An untrained mixture head (its random start) is far from calibrated: the run says so last.
    out = fresh_dir("head-untrained")
    _, stdout, _, _ = train(1, out, "--model.head", "mixture", "--train.steps", "5", "--eval.every", "5",
                            "--train.lr", "1e-7", "--train.lr_min", "0")
    last = stdout.strip().splitlines()[-2:]
    if "WARNING: the posterior is not calibrated" not in last[0] or summary(out)["calibration"]["miscalibrated"] == []:
        fail(f"an uncalibrated posterior should be named in the run's last lines:\n{stdout}")


def test_predict():
    """sgnn predict: summaries with ordered quantiles, draws inside the prior's support, clear errors."""
    out = fresh_dir("predict-flow")
    train(1, out, "--model.head", "flow", "--train.steps", "150", "--eval.every", "150")
    obs = observation_csv(os.path.join(out, "week.csv"))
    table = os.path.join(out, "posterior.csv")
    run([ARGS.sgnn, "predict", "--model", os.path.join(out, "model.h5"), "--data", obs, "--samples", "2000",
         "--out", table])
    with open(table) as f:
        rows = list(csv.DictReader(f))
    # One row per target, and log_R0 on its natural scale from the same draws.
    if [r["target"] for r in rows] != ["log_R0", "beta", "gamma", "R0"] or rows[0]["series"] != "week":
        fail(f"one row per target and observation expected: {rows}")
    if abs(math.log(float(rows[3]["q50"])) - float(rows[0]["q50"])) > 1e-9:
        fail(f"R0's median should be exp of log_R0's: {rows[0]} {rows[3]}")
    for r in rows:
        q = [float(r[c]) for c in ("q2.5", "q5", "q25", "q50", "q75", "q95", "q97.5")]
        if q != sorted(q) or not float(r["sd"]) > 0 or not q[0] <= float(r["mean"]) <= q[-1]:
            fail(f"summary of {r['target']} is not a distribution's: {r}")
    lo, hi = float(rows[0]["q2.5"]), float(rows[0]["q97.5"])
    if not LOG_R0_RANGE[0] <= lo < hi <= LOG_R0_RANGE[1]:
        fail(f"log_R0's 95% interval [{lo}, {hi}] should lie inside the prior's [{LOG_R0_RANGE}]")
    draws = h5("f = h5py.File(sys.argv[1], 'r')\n"
               "d = f['draws/week'][()]\n"
               "print(d.shape, f.attrs['columns'])\n"
               "print(d[:, 0].min(), d[:, 0].max())", table[:-4] + ".h5")
    shape, bounds = draws.splitlines()
    if "(2000, 3)" not in shape or "log_R0,beta,gamma" not in shape:
        fail(f"the draws file should hold 2000 x 3 draws named log_R0,beta,gamma:\n{draws}")
    low, high = (float(v) for v in bounds.split())
    if not LOG_R0_RANGE[0] <= low <= high <= LOG_R0_RANGE[1]:
        fail(f"log_R0 draws [{low}, {high}] leave the prior's support {LOG_R0_RANGE}")
    # The same seed, the same draws.
    again = os.path.join(out, "again.csv")
    run([ARGS.sgnn, "predict", "--run", out, "--data", obs, "--out", again])
    with open(again) as f:
        if [r["q50"] for r in csv.DictReader(f)] != [r["q50"] for r in rows]:
            fail("predict with the same seed gave other summaries")

    # A mean head has no draws: one line, exit 2.
    mean = fresh_dir("predict-mean")
    train(1, mean, "--train.steps", "20", "--eval.every", "20")
    _, _, stderr, _ = run([ARGS.sgnn, "predict", "--run", mean, "--data", obs, "--samples", "10", "--out",
                           os.path.join(mean, "p.csv")], expect_rc=2)
    one_clean_error(stderr, "model.head = mean", "flow or mixture")
    _, stdout, _, _ = run([ARGS.sgnn, "predict", "--run", mean, "--data", obs])
    if "week,log_R0," not in stdout:
        fail(f"a mean head's prediction should still print the posterior means:\n{stdout}")

    # Heads that do not fit the targets: one line each, exit 2, before any rank starts.
    bad = fresh_dir("predict-bad")
    _, _, stderr, _ = train(1, bad, "--model.head", "flow", "--sim.model", "mixture", "--sim.mixture",
                            "sir:1,seir:1", "--sim.targets", "mechanism", expect_rc=2)
    one_clean_error(stderr, "model.head = flow", "mechanism")
    _, _, stderr, _ = train(1, bad, "--model.head", "mixture", "--sim.targets", "initial_infected", expect_rc=2)
    one_clean_error(stderr, "initial_infected", "uniform_int")
    _, _, stderr, _ = train(1, bad, "--model.head", "flow", "--sim.model", "mixture", "--sim.mixture",
                            "sir:1,seir:1", "--sim.targets", "log_R0,latent_period", expect_rc=2)
    one_clean_error(stderr, "latent_period", "missing in some mechanism")
    print(f"log_R0 95% interval [{lo:.3f}, {hi:.3f}]; errors are one line each")


OUTBREAKS = ("flu1918_baltimore", "flu2009_nyc_school", "flu2009_pennsylvania")


def test_predict_real_data():
    """sgnn predict on real outbreaks: one network trained for 100 days reads the 14-, 32- and
    92-day series of data/outbreaks in one call; a series built to sit outside the prior is
    flagged; in-prior simulations are flagged at about the nominal 1%."""
    data = os.path.join(os.path.dirname(ARGS.config_dir.rstrip("/")), "data", "outbreaks")
    out = fresh_dir("predict-real")
    train(1, out, "--deterministic", "--model.head", "flow", "--sim.days", "100", "--obs.steps", "report,negbin,truncate",
          "--prior.observed_days", "uniform_int(10, 100)", "--sim.onset_offset", "on",
          "--model.hidden", "64", "--model.blocks", "2", "--train.steps", "600", "--eval.every", "600")
    # The NYC school series padded with 46 days without a case (an outbreak that stops
    # dead; how far it lies depends on the network, reported), and a series no epidemic
    # makes: 50,000 cases on day 30 and none on any other day.
    odd = os.path.join(out, "odd.csv")
    with open(os.path.join(data, "flu2009_nyc_school.csv")) as f:
        counts = [int(row["cases"]) for row in csv.DictReader(f)] + [0] * 46
    with open(odd, "w") as f:
        f.write("day,padded_school,spike\n" +
                "".join(f"{d + 1},{c},{50000 if d == 30 else 0}\n" for d, c in enumerate(counts)))
    table = os.path.join(out, "outbreaks.csv")
    _, stdout, stderr, _ = run([ARGS.sgnn, "predict", "--run", out, "--data", f"{data},{odd}", "--out", table])
    with open(table) as f:
        rows = list(csv.DictReader(f))
    for name in OUTBREAKS:
        targets = [r["target"] for r in rows if r["series"] == name]
        if targets != ["log_R0", "beta", "gamma", "R0"]:
            fail(f"{name}: expected the posterior of log_R0, beta, gamma and R0, got {targets}")
    with open(table[:-4] + "_series.csv") as f:
        series = {r["series"]: r for r in csv.DictReader(f)}
    lengths = {name: int(series[name]["length"]) for name in OUTBREAKS}
    if lengths != {"flu1918_baltimore": 92, "flu2009_nyc_school": 14, "flu2009_pennsylvania": 32}:
        fail(f"series lengths as read: {lengths}")
    for name in OUTBREAKS:
        p_value = float(series[name]["ppc_p_value"] or "nan")
        if not 0 < p_value <= 1 or series[name]["ppc_replicates"] != "500":
            fail(f"{name}: a posterior predictive check of 500 replicates expected: {series[name]}")
        for figure in ("check", "posterior"):
            if not os.path.getsize(os.path.join(out, "outbreaks_figures", f"{name}_{figure}.png")) > 10000:
                fail(f"{name}_{figure}.png is missing or empty")
    if series["flu2009_pennsylvania"]["first_date"] != "2009-04-27":
        fail(f"the first date should be carried through: {series['flu2009_pennsylvania']}")
    if series["spike"]["ood_warning"] != "1" or "WARNING: series 'spike'" not in stderr:
        fail(f"a series outside the prior should be flagged:\n{series['spike']}\n{stderr}")
    shapes = h5("f = h5py.File(sys.argv[1], 'r')\n"
                "print(f['summary/flu2009_nyc_school'].shape, f['observed/flu1918_baltimore'].shape, "
                "f['predictive/flu1918_baltimore'].shape, f.attrs['summary_rows'])", table[:-4] + ".h5")
    if "(4, 9) (1, 92) (5, 1, 92)" not in shapes or "log_R0,beta,gamma,R0" not in shapes:
        fail(f"the HDF5 file should hold the summaries and the observed series:\n{shapes}")
    # Attribution reads the same files the same way: every series of the folder, the
    # shorter ones padded, one JSON object per series; --series picks one.
    bank = os.path.join(out, "bank.h5")
    run([ARGS.sgnn, "bank", "--run", out, "--samples", "2000", "--out", bank])
    _, stdout, _, _ = run([ARGS.sgnn, "attribute", "--run", out, "--bank", bank, "--data", data, "--json"])
    attributed = [json.loads(line) for line in stdout.splitlines()]
    read = {a["series"]: (a["length"], a["k"], a["attributed"]["R0"]["median"]) for a in attributed}
    if sorted(read) != sorted(OUTBREAKS) or {name: read[name][0] for name in read} != lengths:
        fail(f"attribute should read the three outbreaks at their lengths: {read}")
    # The neighbours of the NYC school (an explosive outbreak) have a higher R0 than
    # Baltimore's (a slow city epidemic), as the flow's posteriors do (3.6 and 1.25).
    if not read["flu2009_nyc_school"][2] > read["flu1918_baltimore"][2]:
        fail(f"the NYC school's neighbours should have the higher R0: {read}")
    _, stdout, _, _ = run([ARGS.sgnn, "attribute", "--run", out, "--bank", bank, "--data", data,
                           "--series", "flu2009_pennsylvania"])
    if "series flu2009_pennsylvania (32 days from 2009-04-27)" not in stdout or "flu1918" in stdout:
        fail(f"--series should attribute that series alone:\n{stdout}")
    _, _, stderr, _ = run([ARGS.sgnn, "attribute", "--run", out, "--bank", bank, "--data", data,
                           "--series", "nyc"], expect_rc=2)
    one_clean_error(stderr, "--series nyc", "flu2009_nyc_school")

    # A series longer than the network's window: one line naming both lengths.
    longer = os.path.join(out, "longer.csv")
    with open(longer, "w") as f:
        f.write("day,cases\n" + "".join(f"{d},5\n" for d in range(101)))
    _, _, stderr, _ = run([ARGS.sgnn, "predict", "--run", out, "--data", longer], expect_rc=2)
    one_clean_error(stderr, "101 days", "(100, its sim.days)")

    # In-prior series: 2,000 simulations of the training prior, flagged about 1% of the
    # time (binomial sd 4.4 around 20).
    mean = fresh_dir("predict-ood-rate")
    train(1, mean, "--train.steps", "200", "--eval.every", "200")
    corpus = os.path.join(mean, "corpus.h5")
    run([ARGS.sgnn, "simulate", "--config", os.path.join(ARGS.config_dir, "tiny.cfg"), "--samples", "2000",
         "--out", corpus])
    wide = os.path.join(mean, "prior.csv")
    h5("f = h5py.File(sys.argv[1], 'r')\n"
       "x = numpy.rint(numpy.expm1(f['inputs'][()][f['valid'][()] == 1])).astype(int)\n"
       "with open(sys.argv[2], 'w') as out:\n"
       "    out.write(','.join(f's{j}' for j in range(len(x))) + '\\n')\n"
       "    for row in x.T: out.write(','.join(map(str, row)) + '\\n')", corpus, wide)
    table = os.path.join(mean, "prior_predict.csv")
    run([ARGS.sgnn, "predict", "--run", mean, "--data", wide, "--out", table, "--figures", "0"], timeout=600)
    with open(table[:-4] + "_series.csv") as f:
        flags = [int(r["ood_warning"]) for r in csv.DictReader(f)]
    if not len(flags) > 1900 or not 4 <= sum(flags) <= 40:
        fail(f"{sum(flags)} of {len(flags)} in-prior series flagged; about 1% expected")
    print(f"outbreaks read at lengths {lengths}; padded school at the "
          f"{series['padded_school']['ood_percentile']}th percentile, a spike flagged; in-prior flagged "
          f"{sum(flags)}/{len(flags)}")


def test_calibration_by_length():
    """One flow trained for 60 days with the truncate step gives calibrated posteriors for
    series cut from held-out simulations at 14, 30 and 60 days: its central 50% and 90%
    intervals cover the truth at their nominal rates, within 4 standard errors, at each
    length. Padding a short series any other way than the truncate step's (say, with
    zero counts) reads it as an epidemic that stopped, and fails this."""
    out = fresh_dir("calibration-by-length")
    train(1, out, "--deterministic", "--model.head", "flow", "--sim.days", "60", "--obs.steps", "report,negbin,truncate",
          "--prior.observed_days", "uniform_int(10, 60)", "--sim.onset_offset", "on", "--model.hidden", "64",
          "--model.blocks", "2", "--train.steps", "3000", "--stream.batch_size", "128", "--eval.every", "3000")
    # Held-out simulations (another seed) observed for all 60 days, then cut.
    corpus = os.path.join(out, "held_out.h5")
    run([ARGS.sgnn, "simulate", "--config", os.path.join(out, "config.ini"), "--obs.steps", "report,negbin",
         "--samples", "250", "--seed", "999", "--out", corpus])
    lengths = (14, 30, 60)
    files = [os.path.join(out, f"cut{length}.csv") for length in lengths]
    h5("f = h5py.File(sys.argv[1], 'r')\n"
       "x = numpy.rint(numpy.expm1(f['inputs'][()][f['valid'][()] == 1])).astype(int)\n"
       "for length, path in zip((14, 30, 60), sys.argv[2:]):\n"
       "    with open(path, 'w') as out:\n"
       "        out.write(','.join(f's{j}_{length}' for j in range(len(x))) + '\\n')\n"
       "        for row in x[:, :length].T: out.write(','.join(map(str, row)) + '\\n')", corpus, *files)
    truth_table = h5("f = h5py.File(sys.argv[1], 'r')\n"
                     "print(f.attrs['target_names'].decode())\n"
                     "for row in f['targets'][()][f['valid'][()] == 1]:\n"
                     "    print(','.join(map(repr, row.tolist())))", corpus)
    names, *rows = truth_table.split()
    names = names.split(",")
    truths = [[float(v) for v in row.split(",")] for row in rows]
    table = os.path.join(out, "cut.csv")
    run([ARGS.sgnn, "predict", "--run", out, "--data", ",".join(files), "--out", table, "--figures", "0"], timeout=600)
    with open(table) as f:
        summaries = {(r["series"], r["target"]): r for r in csv.DictReader(f)}
    report, misses = [], []
    for length in lengths:
        for t, name in enumerate(names):
            for level, low, high in ((0.5, "q25", "q75"), (0.9, "q5", "q95")):
                inside = [float(summaries[(f"s{j}_{length}", name)][low]) <= truth[t] <=
                          float(summaries[(f"s{j}_{length}", name)][high]) for j, truth in enumerate(truths)]
                coverage, se = sum(inside) / len(inside), math.sqrt(level * (1 - level) / len(inside))
                report.append(f"{name} {length}d {level:.0%}: {coverage:.3f}")
                if abs(coverage - level) > 4 * se:
                    misses.append(f"{name} at {length} days: {level:.0%} intervals cover {coverage:.3f} "
                                  f"(standard error {se:.3f})")
    if misses:
        fail("posteriors of cut series are not calibrated:\n  " + "\n  ".join(misses))
    print("coverage of cut held-out simulations: " + "; ".join(report))


def test_posterior_resume():
    """A flow head stopped by SIGTERM and resumed ends with the uninterrupted run's model bits."""
    options = ["--deterministic", "--trainers", "2", "--model.head", "flow", "--train.steps", "120",
               "--eval.every", "60"]
    reference = fresh_dir("flow-reference")
    train(4, reference, *options)
    out = fresh_dir("flow-interrupted")
    proc = launch(4, out, *options, "--debug.step_delay_ms", "20", "--checkpoint.every", "40")
    wait_for_checkpoint(proc, out, 40)
    time.sleep(0.3)
    for pid in rank_pids(proc).values():
        os.kill(pid, signal.SIGTERM)
    rc, stdout, stderr = finish(proc)
    if rc != 75:
        fail(f"a SIGTERM'd run should exit 75, got {rc}\n{stdout}\n{stderr}")
    stopped_at = int(checkpoints_of(out)[-1][5:13])
    resume(5, out)
    if summary(out)["model_sha256"] != summary(reference)["model_sha256"]:
        fail(f"a flow head stopped at step {stopped_at} and resumed differs from the uninterrupted run")
    print(f"flow head stopped at step {stopped_at}, resumed with another simulator count: identical model")


def test_model_rebuild():
    """python/sgnn_model.py (NumPy and h5py only, written from docs/file-formats.md) computes
    what sgnn predict computes: embeddings and a mean head's posterior means to 1e-5,
    log-densities of sgnn's draws (flow on an MLP, mixture on a CNN) to float32 rounding,
    and posterior draws with the same quantiles as sgnn's, within their sampling error."""
    module = os.path.join(os.path.dirname(ARGS.config_dir.rstrip("/")), "python")
    check = """
sys.path.insert(0, sys.argv[1])
from sgnn_model import SgnnModel, network_inputs, read_observation
model = SgnnModel(sys.argv[2])
x = network_inputs(read_observation(sys.argv[3]), model)
f = h5py.File(sys.argv[4], 'r')
series = f.attrs['series'].decode()
print('embedding', numpy.max(numpy.abs(model.embed(x)[0] - f['embedding/' + series][()])))
rows = f.attrs['summary_rows'].decode().split(',')
summary = f['summary/' + series][()]
if model.head == 'mean':
    print('means', numpy.max(numpy.abs(model.outputs(x)[0] - summary[:, 0]) / numpy.maximum(1, numpy.abs(summary[:, 0]))))
else:
    theta = f['draws/' + series][()]
    print('log_density', numpy.max(numpy.abs(model.log_density(numpy.repeat(x, len(theta), axis=0), theta)
                                             - f['log_density/' + series][()])))
    mine = model.sample(x, 4000, numpy.random.default_rng(5))[0]
    worst = 0.0
    for j, target in enumerate(model.targets):
        sd = summary[rows.index(target), 1]
        for q, column in ((0.25, 4), (0.5, 5), (0.75, 6)):
            worst = max(worst, abs(numpy.quantile(mine[:, j], q) - summary[rows.index(target), column]) / sd)
    print('quantiles', worst)
"""
    for head, network in (("flow", "mlp"), ("mixture", "cnn"), ("mean", "cnn")):
        out = fresh_dir(f"rebuild-{head}")
        train(1, out, "--model.head", head, "--model.type", network, "--train.steps", "60", "--eval.every", "60")
        obs = observation_csv(os.path.join(out, "obs.csv"))
        table = os.path.join(out, "p.csv")
        run([ARGS.sgnn, "predict", "--run", out, "--data", obs, "--out", table, "--figures", "0"])
        found = dict(line.split() for line in h5(check, module, os.path.join(out, "model.h5"), obs,
                                                 table[:-4] + ".h5").splitlines())
        if not float(found["embedding"]) < 1e-5:
            fail(f"{head} on {network}: embeddings differ from sgnn's by {found['embedding']}")
        if head == "mean":
            if not float(found["means"]) < 1e-5:
                fail(f"mean head: posterior means differ from sgnn predict's by {found['means']} (relative)")
            print(f"mean head on {network}: embeddings agree to {float(found['embedding']):.2g}, posterior means "
                  f"to {float(found['means']):.2g}")
            continue
        # float32 in sgnn, float64 in NumPy: a few 1e-5 per layer, on values of order 1-10.
        if not float(found["log_density"]) < 1e-3:
            fail(f"{head}: log-densities differ from sgnn's by {found['log_density']}")
        # 4,000 draws against sgnn's 10,000: a quartile's standard error is about 0.025 sd.
        if not float(found["quantiles"]) < 0.15:
            fail(f"{head}: posterior quartiles of the module's draws differ from sgnn's by "
                 f"{found['quantiles']} sd")
        print(f"{head} on {network}: embeddings agree to {float(found['embedding']):.2g}, log-densities to "
              f"{float(found['log_density']):.2g}, quartiles of the draws to {float(found['quantiles']):.2g} sd")
