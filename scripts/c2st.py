#!/usr/bin/env python3
"""C2ST, the classifier two-sample test of the SBI benchmark (sbibm), exactly as sbibm scores.

    python3 scripts/c2st.py REFERENCE.csv SAMPLES.csv [--json]

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
"""
import argparse
import json
import sys

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


def main():
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
