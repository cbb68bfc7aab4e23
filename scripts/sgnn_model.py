#!/usr/bin/env python3
"""A trained sgnn network (model.h5) in NumPy, rebuilt from docs/file-formats.md alone.

    python3 scripts/sgnn_model.py MODEL.h5 OBSERVATION.csv [DRAWS.h5]

Prints the network's outputs for the observation (a CSV as `sgnn predict` reads it:
a header row, one row per day, one column per series; day/date/t columns ignored); with
a posterior draws file from `sgnn predict --samples`, also the largest difference
between its stored log-densities and the ones this file computes. As a module:

    model = SgnnModel("runs/sir/model.h5")
    e = model.embed(x)                    # x: (rows, n_inputs) after obs.transform
    logp = model.log_density(x, theta)    # density heads: log p(theta | x), per row

It exists so that a Python user can check and reuse a model without sgnn, and so that
the documentation of the format is tested (tests/e2e/test_posteriors.py).
"""
import argparse
import csv
import math
import sys

import h5py
import numpy as np
from scipy.special import erf, log_softmax, logsumexp, softmax

TAIL_BOUND = 5.0
MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3
UNIT_MARGIN = 1e-6


def gelu(x):
    return 0.5 * x * (1.0 + erf(x / math.sqrt(2.0)))


def relu(x):
    return np.maximum(x, 0.0)


def softplus(x):
    return np.logaddexp(0.0, x)


class SgnnModel:
    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
            self.p = {k: f["parameters"][k][()].astype(np.float64) for k in f["parameters"]}
            self.norm = {k: f["normalization"][k][()].astype(np.float64) for k in f["normalization"]}
        self.targets = [t for t in self.attrs["targets"].split(",") if t]
        self.classes = [c for c in self.attrs["classes"].split(",") if c]
        self.head = self.attrs.get("head", "mean")
        self.transforms = self.attrs.get("target_transforms", "").split(";") if self.head != "mean" else []

    def linear(self, name, x):
        return x @ self.p[name + ".weight"].T + self.p[name + ".bias"]

    def layer_norm(self, name, x):
        mean = x.mean(-1, keepdims=True)
        var = x.var(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + 1e-5) * self.p[name + ".weight"] + self.p[name + ".bias"]

    def conv(self, name, x, kernel):
        """x: (rows, channels, length), stride 1, zero padding kernel // 2."""
        w, b = self.p[name + ".weight"], self.p[name + ".bias"]  # (out, in, k)
        pad = kernel // 2
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad)))
        length = xp.shape[2] - kernel + 1
        windows = np.stack([xp[:, :, i:i + length] for i in range(kernel)], axis=-1)  # rows, in, length, k
        return np.einsum("rilk,oik->rol", windows, w) + b[None, :, None]

    @staticmethod
    def pool(x):
        n = x.shape[2] // 2
        return x[:, :, :2 * n].reshape(x.shape[0], x.shape[1], n, 2).max(-1)

    def embed(self, x):
        x = (np.asarray(x, dtype=np.float64) - self.norm["input_mean"][0]) / self.norm["input_std"][0]
        if self.attrs["model"] == "mlp":
            h = self.linear("input", x)
            for k in range(int(self.attrs["blocks"])):
                h = h + self.linear(f"blocks.{k}.fc2", gelu(self.linear(f"blocks.{k}.fc1",
                                                                        self.layer_norm(f"blocks.{k}.norm", h))))
            return self.layer_norm("out_norm", h)
        kernel = int(self.attrs["kernel"])
        h = x.reshape(x.shape[0], int(self.attrs["input_channels"]), -1)
        h = self.pool(gelu(self.conv("conv1", h, kernel)))
        h = self.pool(gelu(self.conv("conv2", h, kernel)))
        h = gelu(self.conv("conv3", h, kernel)).reshape(x.shape[0], -1)
        return self.layer_norm("norm", gelu(self.linear("dense", h)))

    def outputs(self, x):
        """The linear head: posterior means then class probabilities (mean head), or class probabilities."""
        e = self.embed(x)
        if "head.weight" not in self.p:
            return np.zeros((e.shape[0], 0))
        o = self.linear("head", e)
        n_t = 0 if self.head != "mean" else len(self.targets)
        means = o[:, :n_t] * self.norm["target_std"] + self.norm["target_mean"]
        if not self.classes:
            return means
        return np.concatenate([means, softmax(o[:, n_t:], axis=1)], axis=1)

    # ---- density heads -----------------------------------------------------------------

    def transform(self, theta):
        """z = T(theta) and sum_j log |dz_j/dtheta_j|, per row."""
        z = np.empty_like(theta)
        log_det = np.zeros(theta.shape[0])
        for j, spec in enumerate(self.transforms):
            name, _, args = spec.partition("(")
            bounds = [float(a) for a in args.rstrip(")").split(",")] if args else []
            t = theta[:, j]
            if name == "identity":
                z[:, j] = t
            elif name == "log":
                z[:, j] = np.log(t)
                log_det -= np.log(t)
            else:
                a, b = bounds
                value, lo, hi = (np.log(t), math.log(a), math.log(b)) if name == "log_logit" else (t, a, b)
                u = np.clip((value - lo) / (hi - lo), UNIT_MARGIN, 1 - UNIT_MARGIN)
                z[:, j] = np.log(u) - np.log1p(-u)
                log_det -= np.log(u) + np.log1p(-u) + math.log(hi - lo)
                if name == "log_logit":
                    log_det -= np.log(t)
        return z, log_det

    def mixture_log_prob(self, u, e):
        k, d = int(self.attrs["components"]), u.shape[1]
        o = self.linear("density.layer", e)
        rows = o.shape[0]
        logits, o = o[:, :k], o[:, k:]
        mu, o = o[:, :k * d].reshape(rows, k, d), o[:, k * d:]
        s, o = o[:, :k * d].reshape(rows, k, d), o[:, k * d:]
        factor = np.zeros((rows, k, d, d))
        upper = [(i, j) for i in range(d) for j in range(i + 1, d)]
        strict = o.reshape(rows, k, len(upper))
        for n, (i, j) in enumerate(upper):
            factor[:, :, i, j] = strict[:, :, n]
        for i in range(d):
            factor[:, :, i, i] = np.exp(s[:, :, i])
        white = np.einsum("rkij,rkj->rki", factor, u[:, None, :] - mu)
        comp = log_softmax(logits, axis=1) + s.sum(-1) - 0.5 * (white ** 2).sum(-1)
        return logsumexp(comp, axis=1) - 0.5 * d * math.log(2 * math.pi)

    @staticmethod
    def spline(y, knots):
        """Forward rational-quadratic spline per element: y (rows,), knots (rows, 3B-1)."""
        bins = (knots.shape[1] + 1) // 3
        inside = np.abs(y) <= TAIL_BOUND
        x = np.clip(y, -TAIL_BOUND, TAIL_BOUND)

        def knots_from(raw, minimum):
            sizes = minimum + (1 - minimum * bins) * softmax(raw, axis=1)
            cum = np.concatenate([np.zeros((raw.shape[0], 1)), np.cumsum(sizes, axis=1)], axis=1)
            cum = 2 * TAIL_BOUND * cum - TAIL_BOUND
            cum[:, 0], cum[:, -1] = -TAIL_BOUND, TAIL_BOUND
            return cum

        cw, ch = knots_from(knots[:, :bins], MIN_BIN), knots_from(knots[:, bins:2 * bins], MIN_BIN)
        deriv = np.concatenate([np.ones((len(y), 1)), MIN_DERIVATIVE + softplus(knots[:, 2 * bins:]),
                                np.ones((len(y), 1))], axis=1)
        b = np.clip((x[:, None] >= cw).sum(1) - 1, 0, bins - 1)
        r = np.arange(len(y))
        x0, w = cw[r, b], cw[r, b + 1] - cw[r, b]
        y0, h = ch[r, b], ch[r, b + 1] - ch[r, b]
        d0, d1 = deriv[r, b], deriv[r, b + 1]
        s = h / w
        th = (x - x0) / w
        t1 = th * (1 - th)
        den = s + (d0 + d1 - 2 * s) * t1
        out = y0 + h * (s * th ** 2 + d0 * t1) / den
        log_det = np.log(s ** 2 * (d1 * th ** 2 + 2 * s * t1 + d0 * (1 - th) ** 2)) - 2 * np.log(den)
        return np.where(inside, out, y), np.where(inside, log_det, 0.0)

    def flow_log_prob(self, u, e):
        d = u.shape[1]
        bins = int(self.attrs["flow_bins"])
        total = np.zeros(u.shape[0])
        y = u
        for layer in range(int(self.attrs["flow_transforms"])):
            name = f"density.layers.{layer}"
            a = relu(self.linear(name + ".input.linear", y) + self.linear(name + ".context", e))
            a = relu(self.linear(name + ".hidden.linear", a))
            knots = self.linear(name + ".output.linear", a).reshape(u.shape[0], d, 3 * bins - 1)
            out = np.empty_like(y)
            for i in range(d):
                out[:, i], ld = self.spline(y[:, i], knots[:, i, :])
                total += ld
            y = out[:, ::-1]
        return total - 0.5 * (y ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi)

    def log_density(self, x, theta):
        """log p(theta | x) in the targets' units, per row (flow and mixture heads)."""
        if self.head == "mean":
            raise ValueError("a mean head has no density")
        theta = np.asarray(theta, dtype=np.float64)
        e = self.embed(x)
        z, log_det = self.transform(theta)
        sd = self.norm["target_std"]
        u = (z - self.norm["target_mean"]) / sd
        head = self.flow_log_prob if self.head == "flow" else self.mixture_log_prob
        return head(u, e) - np.log(sd).sum() + log_det


def read_observation(path, transform="log1p"):
    with open(path) as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if name.strip().lower() not in ("day", "date", "t")]
    columns = [[float(r[i]) for r in rows[1:] if r] for i in keep]
    x = np.concatenate([np.asarray(c) for c in columns])
    return (np.log1p(x) if transform == "log1p" else x)[None, :]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("observation")
    parser.add_argument("draws", nargs="?")
    parser.add_argument("--transform", default="log1p", choices=("log1p", "identity"))
    args = parser.parse_args()
    model = SgnnModel(args.model)
    x = read_observation(args.observation, args.transform)
    print("outputs:", model.outputs(x)[0].tolist())
    if args.draws:
        with h5py.File(args.draws, "r") as f:
            worst = 0.0
            for series in f["draws"]:
                theta = f["draws"][series][()]
                stored = f["log_density"][series][()]
                mine = model.log_density(np.repeat(x, len(theta), axis=0), theta)
                worst = max(worst, float(np.max(np.abs(mine - stored))))
        print(f"largest log-density difference: {worst:.3g}")


if __name__ == "__main__":
    sys.exit(main())
