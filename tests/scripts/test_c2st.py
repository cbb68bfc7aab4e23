"""scripts/c2st.py, the SBI benchmark's C2ST, on the reference draws in data/sbibm.

Run by CTest as `pytest tests/scripts/test_c2st.py --data DIR` (conftest.py). Tolerances
are from the binomial standard error of an accuracy over n labelled samples,
sqrt(0.25 / n).
"""
import math
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "scripts"))
from c2st import c2st  # noqa: E402

N = 1000  # draws per set: a few seconds per score


def reference(data_dir, task, observation=1):
    path = os.path.join(data_dir, "sbibm", task, f"obs{observation}", "reference_posterior_samples.csv")
    return np.loadtxt(path, delimiter=",", skiprows=1)


def test_same_distribution_scores_one_half(data_dir):
    """Two disjoint halves of the same reference draws cannot be told apart: C2ST = 0.5 within 4 SE.
    (SIR only: on one distribution the classifier fits noise until max_iter, 20 s in 4-D.)"""
    draws = reference(data_dir, "sir")
    score = c2st(draws[:N], draws[N:2 * N])
    tolerance = 4 * math.sqrt(0.25 / (2 * N))
    assert abs(score - 0.5) < tolerance, f"C2ST {score:.3f} of one distribution against itself"


def test_disjoint_sets_score_one(data_dir):
    """Draws shifted by ten standard deviations are told apart every time."""
    draws = reference(data_dir, "sir")[:N]
    shifted = draws + 10 * draws.std(axis=0)
    assert c2st(draws, shifted) > 0.99


def test_a_wider_posterior_is_told_apart(data_dir):
    """Draws twice as spread as the reference (an under-confident posterior) score well above 0.5."""
    draws = reference(data_dir, "sir")
    wide = draws.mean(axis=0) + 2 * (draws[N:2 * N] - draws.mean(axis=0))
    score = c2st(draws[:N], wide)
    assert score > 0.5 + 6 * math.sqrt(0.25 / (2 * N)), f"C2ST {score:.3f} of a twice-wider posterior"


def test_z_scoring_uses_the_reference(data_dir):
    """Units do not matter: rescaling and shifting both sets alike leaves the score unchanged."""
    draws = reference(data_dir, "lotka_volterra")
    x, y = draws[:N], draws[N:2 * N] * 1.05
    scale, shift = np.array([1000.0, 0.01, 3.0, 7.0]), np.array([5.0, -2.0, 0.0, 1e3])
    assert c2st(x, y) == pytest.approx(c2st(x * scale + shift, y * scale + shift), abs=2.0 / (2 * N))


def test_command_line(data_dir, tmp_path):
    """The script scores two CSV files; a bad pair is one line and exit status 2."""
    import subprocess
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "c2st.py")
    sir = os.path.join(data_dir, "sbibm", "sir", "obs1", "reference_posterior_samples.csv")
    lv = os.path.join(data_dir, "sbibm", "lotka_volterra", "obs1", "reference_posterior_samples.csv")
    shifted = tmp_path / "shifted.csv"
    draws = reference(data_dir, "sir")[:N]
    np.savetxt(shifted, draws + 10 * draws.std(axis=0), delimiter=",", header="beta,gamma", comments="")
    done = subprocess.run([sys.executable, script, sir, str(shifted)], capture_output=True, text=True, check=True)
    assert float(done.stdout) > 0.99
    bad = subprocess.run([sys.executable, script, sir, lv], capture_output=True, text=True)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and "columns" in bad.stderr


def test_batch_mode(data_dir, tmp_path):
    """--batch scores every pair as the single form does, cutting a longer reference to the
    samples' size, with two classifiers at a time; scores come back in the pairs' order."""
    import subprocess
    script = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "c2st.py")
    sir = os.path.join(data_dir, "sbibm", "sir", "obs1", "reference_posterior_samples.csv")
    draws = reference(data_dir, "sir")
    n = 300
    shifted, same = tmp_path / "shifted.csv", tmp_path / "same.csv"
    np.savetxt(shifted, draws[N:N + n] + 10 * draws.std(axis=0), delimiter=",", header="beta,gamma", comments="")
    np.savetxt(same, draws[N:N + n], delimiter=",", header="beta,gamma", comments="")
    pairs, out = tmp_path / "pairs.csv", tmp_path / "scores.csv"
    pairs.write_text(f"reference,samples\n{sir},{shifted}\n{sir},{same}\n")
    subprocess.run([sys.executable, script, "--batch", str(pairs), "--out", str(out), "--jobs", "2"], check=True)
    rows = [line.split(",") for line in out.read_text().splitlines()]
    assert rows[0] == ["reference", "samples", "c2st"] and [r[1] for r in rows[1:]] == [str(shifted), str(same)]
    scores = [float(r[2]) for r in rows[1:]]
    assert scores[0] > 0.99
    assert scores[1] == pytest.approx(c2st(draws[:n], draws[N:N + n]), abs=1e-6)
