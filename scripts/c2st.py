#!/usr/bin/env python3
"""C2ST, the classifier two-sample test of the SBI benchmark (sbibm), exactly as sbibm scores.

    python3 scripts/c2st.py REFERENCE.csv SAMPLES.csv [--json]
    python3 scripts/c2st.py --batch PAIRS.csv --out SCORES.csv [--jobs N]

Both files hold one sample per row under a header row (as data/sbibm/*/obs*/
reference_posterior_samples.csv does). Prints the C2ST: the mean 5-fold cross-validated
accuracy of a classifier telling the two sets apart; 0.5 when it cannot, 1.0 when the
sets are disjoint. The definition (data/sbibm/README.md, sbibm/metrics/c2st.py):

1. Both sets are z-scored with the mean and standard deviation (unbiased, as torch.std)
   of the reference set X, in float32 as sbibm's tensors are.
2. A scikit-learn MLPClassifier (ReLU, two hidden layers of 10 * dim units, Adam,
   max_iter 10000, random_state 1) is scored by cross_val_score over a shuffled 5-fold
   KFold (random_state 1) on the union, X labelled 0 and Y labelled 1.
3. C2ST is the mean of the five accuracies.

--batch scores every (reference, samples) row of PAIRS.csv, N classifiers at a time
(each on one thread), into SCORES.csv (reference,samples,c2st), as `sgnn experiment
sbibm` does. There a reference set longer than its sample set is cut to its first rows,
so that the two sets have equal sizes as in the benchmark (10,000 each at full size).
"""
import argparse
import csv
import json
import os
import sys
from concurrent.futures import ProcessPoolExecutor

import numpy as np
from sklearn.model_selection import KFold, cross_val_score
from sklearn.neural_network import MLPClassifier


def c2st(reference, samples, seed=1, folds=5):
    """C2ST of `samples` against `reference` (arrays of shape (n, dim), n may differ)."""
    x = np.asarray(reference, dtype=np.float32)
    y = np.asarray(samples, dtype=np.float32)
    if x.ndim != 2 or y.ndim != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"two sample sets of the same dimension needed, not {x.shape} and {y.shape}")
    mean = x.mean(axis=0)
    std = x.std(axis=0, ddof=1)
    x = (x - mean) / std
    y = (y - mean) / std
    dim = x.shape[1]
    classifier = MLPClassifier(activation="relu", hidden_layer_sizes=(10 * dim, 10 * dim), max_iter=10000,
                               solver="adam", random_state=seed)
    data = np.concatenate((x, y))
    target = np.concatenate((np.zeros(x.shape[0]), np.ones(y.shape[0])))
    scores = cross_val_score(classifier, data, target, cv=KFold(n_splits=folds, shuffle=True, random_state=seed),
                             scoring="accuracy")
    return float(np.float32(np.mean(scores)))


def fail(message):
    """One line naming the file and the problem, exit status 2 (as sgnn's own errors)."""
    print(f"c2st: {message}", file=sys.stderr)
    sys.exit(2)


def read_samples(path):
    """The rows of a CSV file with a header row, as a float array; one line naming the problem otherwise."""
    try:
        values = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except (OSError, ValueError) as error:
        fail(f"{path}: {error}")
    if values.size == 0 or not np.all(np.isfinite(values)):
        fail(f"{path}: needs at least one row of finite numbers under a header row")
    return values


def score_pair(pair):
    """C2ST of one (reference, samples) pair of CSV files, the reference cut to the samples' size; one thread."""
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    reference, samples = pair
    x, y = read_samples(reference), read_samples(samples)
    if x.shape[1] != y.shape[1]:
        fail(f"{reference} has {x.shape[1]} columns but {samples} has {y.shape[1]}")
    with threadpool_limits(limits=1):
        return c2st(x[: y.shape[0]], y)


def batch(pairs_file, out, jobs):
    """Scores every row of pairs_file (columns reference, samples) into out, written atomically."""
    with open(pairs_file) as f:
        pairs = [(row["reference"], row["samples"]) for row in csv.DictReader(f)]
    with ProcessPoolExecutor(max_workers=max(1, jobs)) as pool:
        scores = list(pool.map(score_pair, pairs))
    tmp = out + ".tmp"
    with open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["reference", "samples", "c2st"])
        for (reference, samples), score in zip(pairs, scores):
            writer.writerow([reference, samples, f"{score:.6f}"])
    os.replace(tmp, out)


def main():
    if "--batch" in sys.argv:
        parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
        parser.add_argument("--batch", required=True, help="CSV with columns reference,samples")
        parser.add_argument("--out", required=True, help="CSV of scores to write")
        parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="classifiers at a time")
        args = parser.parse_args()
        batch(args.batch, args.out, args.jobs)
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", help="CSV of reference draws (the set the z-scoring uses)")
    parser.add_argument("samples", help="CSV of the draws to score")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    x, y = read_samples(args.reference), read_samples(args.samples)
    if x.shape[1] != y.shape[1]:
        fail(f"{args.reference} has {x.shape[1]} columns but {args.samples} has {y.shape[1]}")
    score = c2st(x, y)
    if args.json:
        print(json.dumps({"c2st": score, "reference": args.reference, "samples": args.samples,
                          "n_reference": int(x.shape[0]), "n_samples": int(y.shape[0])}))
    else:
        print(f"{score:.4f}")


if __name__ == "__main__":
    main()
