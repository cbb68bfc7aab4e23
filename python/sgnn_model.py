#!/usr/bin/env python3
"""A trained sgnn network (model.h5) in pure Python: NumPy and h5py, nothing else.

    import sys; sys.path.insert(0, "python")    # or copy this one file next to your code
    from sgnn_model import SgnnModel, network_inputs

    model = SgnnModel("runs/flu/model.h5")
    x = network_inputs([1, 1, 0, 2, 5, 3], model)          # counts -> what the network sees
    model.embed(x)                  # (rows, hidden): the embedding sgnn attribute searches in
    model.outputs(x)                # mean head: posterior means, then P(mechanism)
    theta = model.sample(x, 1000, np.random.default_rng(1))   # density heads: (rows, n, targets)
    model.log_density(x, theta[0])  # log p(theta | x) in the targets' units, per row

It computes what sgnn computes, as docs/file-formats.md writes it down (GELU in its erf
form, LayerNorm with eps 1e-5 over the last axis, the final norm of the embedding, the
targets' transforms and the flow's rational-quadratic splines), in float64 where sgnn
uses float32: embeddings and posterior means agree to about 1e-6, log-densities to
about 1e-4 (the CTest python_model checks them against sgnn predict). Posterior draws
follow the same posterior but not the same random numbers: sgnn draws with LibTorch's
generator, this module with NumPy's.

As a program it prints the network's outputs for an observation CSV (one column of
counts; with a draws file of sgnn predict, the largest log-density difference):

    python3 python/sgnn_model.py MODEL.h5 OBSERVATION.csv [PREDICTIONS.h5]
"""
import argparse
import csv
import math
import sys

import h5py
import numpy as np

TAIL_BOUND = 5.0
MIN_BIN = 1e-3
MIN_DERIVATIVE = 1e-3
UNIT_MARGIN = 1e-6

_erf = np.frompyfunc(math.erf, 1, 1)


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)).astype(np.float64))


def relu(x):
    return np.maximum(x, 0.0)


def softplus(x):
    return np.logaddexp(0.0, x)


def logsumexp(x, axis):
    top = np.max(x, axis=axis, keepdims=True)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(x - top), axis=axis))


def log_softmax(x, axis):
    return x - np.expand_dims(logsumexp(x, axis), axis)


def softmax(x, axis):
    return np.exp(log_softmax(x, axis))


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def network_inputs(counts, model, transform="log1p"):
    """One observed series (a sequence of counts, NaN for missing; channels one after the
    other for a model with several) as a (1, n_inputs) row: obs.transform applied,
    missing entries and the days past a shorter series' end fed as -1, as sgnn predict
    feeds them to a network trained with the truncate step."""
    values = np.asarray(counts, dtype=np.float64)
    channels = int(model.attrs.get("input_channels", 1))
    entries = model.n_inputs // channels
    per_channel = values.reshape(channels, -1)
    if per_channel.shape[1] > entries:
        raise ValueError(f"{per_channel.shape[1]} entries per channel, more than the network's {entries}")
    x = np.full((channels, entries), -1.0)
    seen = per_channel if transform == "identity" else np.log1p(per_channel)
    x[:, :per_channel.shape[1]] = np.where(np.isnan(per_channel), -1.0, seen)
    return x.reshape(1, -1)


class SgnnModel:
    def __init__(self, path):
        with h5py.File(path, "r") as f:
            self.attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
            self.p = {k: f["parameters"][k][()].astype(np.float64) for k in f["parameters"]}
            self.norm = {k: f["normalization"][k][()].astype(np.float64) for k in f["normalization"]}
        self.targets = [t for t in self.attrs["targets"].split(",") if t]
        self.classes = [c for c in self.attrs["classes"].split(",") if c]
        self.head = self.attrs.get("head", "mean")
        self.n_inputs = int(self.attrs["n_inputs"])
        self.transforms = self.attrs.get("target_transforms", "").split(";") if self.head != "mean" else []

    # ---- the embedding and the linear head ----------------------------------------------

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
        """The embedding (the penultimate layer), rows x hidden."""
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

    # ---- the targets' transforms ----------------------------------------------------------

    def _transform_specs(self):
        for spec in self.transforms:
            name, _, args = spec.partition("(")
            yield name, [float(a) for a in args.rstrip(")").split(",")] if args else []

    def transform(self, theta):
        """z = T(theta) and sum_j log |dz_j/dtheta_j|, per row."""
        z = np.empty_like(theta)
        log_det = np.zeros(theta.shape[0])
        for j, (name, bounds) in enumerate(self._transform_specs()):
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

    def untransform(self, z):
        """theta = T^-1(z), and per row whether it lies inside every log(U) cap."""
        theta = np.empty_like(z)
        inside = np.ones(z.shape[0], dtype=bool)
        for j, (name, bounds) in enumerate(self._transform_specs()):
            if name == "identity":
                theta[:, j] = z[:, j]
            elif name == "log":
                theta[:, j] = np.exp(z[:, j])
                if bounds:
                    inside &= theta[:, j] <= bounds[0]
            else:
                a, b = bounds
                lo, hi = (math.log(a), math.log(b)) if name == "log_logit" else (a, b)
                value = lo + (hi - lo) * sigmoid(z[:, j])
                theta[:, j] = np.exp(value) if name == "log_logit" else value
        return theta, inside

    # ---- the density heads --------------------------------------------------------------

    def _mixture(self, e, d):
        k = int(self.attrs["components"])
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
        return logits, mu, s, factor

    def mixture_log_prob(self, u, e):
        d = u.shape[1]
        logits, mu, s, factor = self._mixture(e, d)
        white = np.einsum("rkij,rkj->rki", factor, u[:, None, :] - mu)
        comp = log_softmax(logits, axis=1) + s.sum(-1) - 0.5 * (white ** 2).sum(-1)
        return logsumexp(comp, axis=1) - 0.5 * d * math.log(2 * math.pi)

    def mixture_sample(self, e, d, rng):
        logits, mu, _, factor = self._mixture(e, d)
        weights = softmax(logits, axis=1)
        rows = e.shape[0]
        k = np.array([rng.choice(weights.shape[1], p=w / w.sum()) for w in weights])
        eps = rng.standard_normal((rows, d))
        r = np.arange(rows)
        return mu[r, k] + np.linalg.solve(factor[r, k], eps[:, :, None])[:, :, 0]

    @staticmethod
    def _spline_knots(knots):
        bins = (knots.shape[1] + 1) // 3

        def cumulative(raw):
            sizes = MIN_BIN + (1 - MIN_BIN * bins) * softmax(raw, axis=1)
            cum = np.concatenate([np.zeros((raw.shape[0], 1)), np.cumsum(sizes, axis=1)], axis=1)
            cum = 2 * TAIL_BOUND * cum - TAIL_BOUND
            cum[:, 0], cum[:, -1] = -TAIL_BOUND, TAIL_BOUND
            return cum

        deriv = np.concatenate([np.ones((knots.shape[0], 1)), MIN_DERIVATIVE + softplus(knots[:, 2 * bins:]),
                                np.ones((knots.shape[0], 1))], axis=1)
        return bins, cumulative(knots[:, :bins]), cumulative(knots[:, bins:2 * bins]), deriv

    @classmethod
    def _bin_of(cls, value, knots, by_output):
        """Per element: inside the tails?, the value clipped to them, and its bin's
        x0, width, y0, height, end derivatives and slope (the bin found by x, or by y
        for the inverse)."""
        bins, cw, ch, deriv = cls._spline_knots(knots)
        inside = np.abs(value) <= TAIL_BOUND
        clipped = np.clip(value, -TAIL_BOUND, TAIL_BOUND)
        b = np.clip((clipped[:, None] >= (ch if by_output else cw)).sum(1) - 1, 0, bins - 1)
        r = np.arange(len(value))
        w, h = cw[r, b + 1] - cw[r, b], ch[r, b + 1] - ch[r, b]
        return inside, clipped, cw[r, b], w, ch[r, b], h, deriv[r, b], deriv[r, b + 1], h / w

    @classmethod
    def spline(cls, y, knots):
        """Forward rational-quadratic spline per element: y (rows,), knots (rows, 3B-1)."""
        inside, x, x0, w, y0, h, d0, d1, s = cls._bin_of(y, knots, by_output=False)
        th = (x - x0) / w
        t1 = th * (1 - th)
        den = s + (d0 + d1 - 2 * s) * t1
        out = y0 + h * (s * th ** 2 + d0 * t1) / den
        log_det = np.log(s ** 2 * (d1 * th ** 2 + 2 * s * t1 + d0 * (1 - th) ** 2)) - 2 * np.log(den)
        return np.where(inside, out, y), np.where(inside, log_det, 0.0)

    @classmethod
    def spline_inverse(cls, out, knots):
        """The spline's inverse per element: the root in [0, 1] of its quadratic in the bin."""
        inside, y, x0, w, y0, h, d0, d1, s = cls._bin_of(out, knots, by_output=True)
        dy = y - y0
        a = h * (s - d0) + dy * (d0 + d1 - 2 * s)
        bq = h * d0 - dy * (d0 + d1 - 2 * s)
        c = -s * dy
        theta = 2 * c / (-bq - np.sqrt(np.maximum(bq * bq - 4 * a * c, 0.0)))
        return np.where(inside, theta * w + x0, out)

    def _made_knots(self, layer, y, e):
        name = f"density.layers.{layer}"
        a = relu(self.linear(name + ".input.linear", y) + self.linear(name + ".context", e))
        a = relu(self.linear(name + ".hidden.linear", a))
        return self.linear(name + ".output.linear", a).reshape(y.shape[0], y.shape[1], -1)

    def flow_log_prob(self, u, e):
        d = u.shape[1]
        total = np.zeros(u.shape[0])
        y = u
        for layer in range(int(self.attrs["flow_transforms"])):
            knots = self._made_knots(layer, y, e)
            out = np.empty_like(y)
            for i in range(d):
                out[:, i], ld = self.spline(y[:, i], knots[:, i, :])
                total += ld
            y = out[:, ::-1]
        return total - 0.5 * (y ** 2).sum(1) - 0.5 * d * math.log(2 * math.pi)

    def flow_sample(self, e, d, rng):
        """Standard normal values through the layers backwards, one dimension at a time
        (output i of a layer's MADE depends on its inputs 0..i-1 only)."""
        y = rng.standard_normal((e.shape[0], d))
        for layer in reversed(range(int(self.attrs["flow_transforms"]))):
            out = y[:, ::-1]
            y = np.zeros_like(out)
            for i in range(d):
                knots = self._made_knots(layer, y, e)
                y[:, i] = self.spline_inverse(out[:, i], knots[:, i, :])
        return y

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

    def sample(self, x, n, rng):
        """n posterior draws per row of x, in the targets' units: (rows, n, targets).
        Every draw lies inside the priors' support (a draw above a lognormal's cap is
        drawn again, as sgnn does)."""
        if self.head == "mean":
            raise ValueError("a mean head gives posterior means only, no draws")
        x = np.asarray(x, dtype=np.float64)
        d = len(self.targets)
        out = np.empty((x.shape[0], n, d))
        for row in range(x.shape[0]):
            e = np.repeat(self.embed(x[row:row + 1]), n, axis=0)
            todo = np.arange(n)
            for _ in range(100):
                draw = self.flow_sample if self.head == "flow" else self.mixture_sample
                u = draw(e[:len(todo)], d, rng)
                theta, inside = self.untransform(u * self.norm["target_std"] + self.norm["target_mean"])
                out[row, todo[inside]] = theta[inside]
                todo = todo[~inside]
                if len(todo) == 0:
                    break
        return out


def read_observation(path):
    """The first column of counts of a CSV (day, date, dates and t columns skipped)."""
    with open(path) as f:
        rows = list(csv.reader(f))
    keep = [i for i, name in enumerate(rows[0]) if name.strip().lower() not in ("day", "date", "dates", "t")]
    return [float(r[keep[0]]) if r[keep[0]].strip() not in ("", "NA", "NaN") else math.nan for r in rows[1:] if r]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model")
    parser.add_argument("observation")
    parser.add_argument("predictions", nargs="?", help="FILE.h5 of sgnn predict (its draws)")
    parser.add_argument("--transform", default="log1p", choices=("log1p", "identity"))
    args = parser.parse_args()
    model = SgnnModel(args.model)
    x = network_inputs(read_observation(args.observation), model, args.transform)
    print("outputs:", model.outputs(x)[0].tolist())
    if args.predictions:
        with h5py.File(args.predictions, "r") as f:
            worst = 0.0
            for series in f["draws"]:
                theta = f["draws"][series][()]
                stored = f["log_density"][series][()]
                mine = model.log_density(np.repeat(x, len(theta), axis=0), theta)
                worst = max(worst, float(np.max(np.abs(mine - stored))))
        print(f"largest log-density difference: {worst:.3g}")


if __name__ == "__main__":
    sys.exit(main())
