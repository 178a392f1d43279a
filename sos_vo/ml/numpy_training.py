"""Fused training of a whole ensemble in numpy: hand-written forward and backward passes.

The networks of an ensemble (``G = n_labels * n_members``, T25 Sect. 5.1: 30) share one
architecture (T25 Sect. 4.1: 18 blocks Dense -> LeakyReLU -> BatchNormalization -> Dropout,
widths 80..160..80, Dense(1) output), so every layer of all of them is one stacked
``(G, rows, n_in) x (G, n_in, n_out)`` float32 product.  A Keras / TensorFlow training step of
that stack spends most of its time outside the products (measured in ``docs/benchmarks.md``,
Sect. 2c: the kernels of the element-wise layers, the allocation of every intermediate, the
dropout random numbers, the per-variable optimiser update).  Here the step is written out:

* **products**: ``numpy.matmul`` on stacked arrays (BLAS ``sgemm`` per network), forward
  ``H W``, backward ``H^T dZ`` and ``dZ W^T``: the three products of the step;
* **element-wise work in preallocated buffers** (``out=`` everywhere, no allocation per step):
  the bias, Leaky ReLU, the batch moments and the affine map of batch normalisation, and the
  closed-form batch-normalisation backward pass ``dA = k dY + k2 (A - mean) + k3`` with per-column
  constants ``k, k2, k3`` (Ioffe & Szegedy 2015, Sect. 3), four passes over the activations;
* **dropout** (rate 0.02, T25 talk slides): the dropped positions of a Bernoulli(rate) mask
  are drawn directly, as the running sum of geometric gaps between them (an exact Bernoulli
  process), ~2% as many random numbers as the mask has elements;
* **Adam** (Kingma & Ba 2015; the update exactly as Keras 3 writes it, epsilon 1e-7) over one
  ``(G, n_parameters)`` array per state, in column blocks that stay in the core's cache, with a
  learning rate per network, so ``ReduceLROnPlateau`` acts on each network alone, as it does in
  per-network training;
* **threads**: the networks are split into groups, one per core, each trained by its own
  thread with a single-threaded BLAS (numpy releases the GIL in its products and ufuncs); the
  groups meet once per epoch for the validation losses, early stopping and the learning-rate
  rules.  A network's arithmetic does not depend on its group: results are the same for any
  number of threads.

Each network keeps the semantics of training it alone (as in :mod:`sos_vo.ml.fused`): it
draws its mini-batches of ``batch_size`` rows from its own training split only (a per-network
permutation each epoch, the last batch of an epoch shorter, as Keras' ``fit``), so no row is
computed for a network that does not train on it; batch normalisation takes its moments over
those rows; the loss is MAE, then SMAPE (T25 Sect. 4.1, Eq. 3); validation losses use the
moving statistics; early stopping restores each network's best weights.  A network whose
training split has fewer rows than the largest one spreads its rows evenly over the same
number of steps (a few rows fewer per batch).  Initial weights are those of
:class:`sos_vo.ml.fused_tensorflow.GroupedMLP` (same seeds, same draws); dropout and shuffling draw from
per-network streams, so results are statistically, not bitwise, those of the graph path.

The result is the same list of :class:`~sos_vo.ml.training.Member` (one
:class:`~sos_vo.ml.training.DeferredNetwork` each, whose Keras network is built on first use; the
saved model format unchanged).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

ADAM_BETA_1 = 0.9
ADAM_BETA_2 = 0.999
ADAM_EPSILON = 1e-7
"""Adam's constants: Keras 3 defaults (``keras.optimizers.Adam``), which the graph path uses."""
ADAM_BLOCK_COLUMNS = 16384
"""Parameters per network updated together by one Adam pass (our choice): the update is ~12
numpy passes over a block of ``G x 16384`` values per state, small enough to stay in cache
between the passes, large enough that the per-call overhead is small.  Measured on 2 shared
cores (15 networks of 18 blocks, docs/benchmarks.md Sect. 2c): 1 024 columns 20 ms per update,
4 096-65 536 8-11 ms, the whole array at once 14 ms."""
VALIDATION_CHUNK_ROWS = 1024
"""Rows per network of one inference step of the validation pass."""


def glorot_uniform(rng: np.random.Generator, fan_in: int, fan_out: int) -> np.ndarray:
    """Glorot-uniform kernel (Keras' Dense default): U(-l, l), ``l = sqrt(6 / (fan_in + fan_out))``."""
    limit = math.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=(fan_in, fan_out)).astype(np.float32)


def parameter_shapes(n_inputs: int, widths: Sequence[int]) -> list[tuple[str, tuple[int, ...]]]:
    """Trainable arrays of one network in the order of its flat parameter vector.

    Names follow :func:`sos_vo.ml.training.network_arrays` (``kernel_i``, ``bias_i``,
    ``gamma_i``, ``beta_i``, ``kernel_out``, ``bias_out``); biases, gammas and betas are
    ``(1, width)`` rows so that they broadcast over a batch.
    """
    sizes = [int(n_inputs), *(int(w) for w in widths)]
    out: list[tuple[str, tuple[int, ...]]] = []
    for i in range(len(widths)):
        out += [(f"kernel_{i}", (sizes[i], sizes[i + 1])), (f"bias_{i}", (1, sizes[i + 1])),
                (f"gamma_{i}", (1, sizes[i + 1])), (f"beta_{i}", (1, sizes[i + 1]))]
    out += [("kernel_out", (sizes[-1], 1)), ("bias_out", (1, 1))]
    return out


def dropout_positions(rng: np.random.Generator, size: int, rate: float) -> np.ndarray:
    """Flat positions dropped by a Bernoulli(``rate``) mask of ``size`` elements.

    The gaps between successive dropped positions of a Bernoulli process are geometric, so
    the positions are the running sum of geometric draws: exact, and ``~rate * size`` random
    numbers instead of ``size``.
    """
    if rate <= 0.0 or size == 0:
        return np.zeros(0, dtype=np.int64)
    expect = rate * size
    parts = []
    last = -1
    while True:
        gaps = rng.geometric(rate, size=int(expect + 6.0 * math.sqrt(expect) + 8))
        pos = last + np.cumsum(gaps)
        parts.append(pos)
        last = int(pos[-1])
        if last >= size:
            break
    pos = np.concatenate(parts)
    return pos[pos < size]


class NetworkGroup:
    """``G`` networks of one architecture, trained together with hand-written passes.

    Parameters
    ----------
    n_inputs : int
        Network input width (after :class:`~sos_vo.ml.scaling.InputScaler`).
    options : NetworkOptions
        Architecture, dropout, batch normalisation, loss.
    seeds : sequence of int
        One weight seed per network (the draws of :class:`sos_vo.ml.fused_tensorflow.GroupedMLP`).
    output_bias : sequence of float
        Initial output bias per network.
    learning_rate : float
        Initial learning rate of every network.
    rngs : sequence of numpy.random.Generator
        One stream per network (shuffling and dropout).
    """

    def __init__(self, n_inputs: int, options, seeds: Sequence[int], output_bias: Sequence[float],
                 learning_rate: float, rngs: Sequence[np.random.Generator]) -> None:
        self.options = options
        self.widths = tuple(int(w) for w in options.widths)
        self.n_inputs = int(n_inputs)
        self.n_networks = g = len(seeds)
        self.slope = np.float32(options.leaky_relu_slope)
        if not 0.0 <= float(self.slope) <= 1.0:
            raise ValueError(f"leaky_relu_slope must be in [0, 1], got {options.leaky_relu_slope}")
        self.epsilon = float(options.batchnorm_epsilon)
        self.momentum = np.float32(options.batchnorm_momentum)
        self.rate = float(options.dropout)
        self.keep_scale = np.float32(1.0 / (1.0 - self.rate))
        self.smape_eps = np.float32(options.smape_eps)
        self.rngs = list(rngs)
        self.shapes = parameter_shapes(self.n_inputs, self.widths)
        sizes = [int(np.prod(s)) for _, s in self.shapes]
        self.n_parameters = int(sum(sizes))
        self.theta = np.zeros((g, self.n_parameters), np.float32)
        self.grad = np.zeros_like(self.theta)
        self.adam_m = np.zeros_like(self.theta)
        self.adam_v = np.zeros_like(self.theta)
        self.param: dict[str, np.ndarray] = {}
        self.dparam: dict[str, np.ndarray] = {}
        offset = 0
        for (name, shape), size in zip(self.shapes, sizes, strict=True):
            self.param[name] = self.theta[:, offset:offset + size].reshape(g, *shape)
            self.dparam[name] = self.grad[:, offset:offset + size].reshape(g, *shape)
            offset += size
        for name in self.param:  # views, never copies: the flat arrays are what Adam updates
            assert np.shares_memory(self.param[name], self.theta), name
        layer_sizes = [self.n_inputs, *self.widths]
        for j, s in enumerate(seeds):
            rng = np.random.default_rng(int(s))  # GroupedMLP's order: hidden kernels, output
            for i in range(len(self.widths)):
                self.param[f"kernel_{i}"][j] = glorot_uniform(rng, layer_sizes[i], layer_sizes[i + 1])
            self.param["kernel_out"][j] = glorot_uniform(rng, layer_sizes[-1], 1)
        for i in range(len(self.widths)):
            self.param[f"gamma_{i}"][...] = 1.0
        self.param["bias_out"][:, 0, 0] = np.asarray(output_bias, np.float32)
        self.moving_mean = [np.zeros((g, 1, w), np.float32) for w in self.widths]
        self.moving_var = [np.ones((g, 1, w), np.float32) for w in self.widths]
        self.learning_rate = np.full((g, 1), learning_rate, np.float32)
        self.iterations = 0
        self._batch = 0

    # -- buffers -------------------------------------------------------------------------
    def _allocate(self, rows: int) -> None:
        """Activation buffers for mini-batches of ``rows`` rows per network."""
        g, widths = self.n_networks, self.widths
        self.acts = [np.empty((g, rows, w), np.float32) for w in widths]  # A: Leaky ReLU output
        self.means = [np.empty((g, 1, w), np.float32) for w in widths]  # batch means of A
        # Leaky ReLU derivative per element: 1 where z > 0, else slope
        self.slopes = [np.empty((g, rows, w), np.float32) for w in widths]
        self.outputs = [np.empty((g, rows, w), np.float32) for w in widths]  # block outputs
        biggest = g * rows * max(widths)
        self._flat = [np.empty(biggest, np.float32) for _ in range(3)]
        self._flat.append(np.full(biggest, self.slope, np.float32))  # read-only: the slopes
        self.inv_std = [np.empty((g, 1, w), np.float32) for w in widths]
        self.dropped: list[np.ndarray] = [np.zeros(0, np.int64)] * len(widths)
        self._ones = np.ones((g, 1, rows), np.float32)
        self._batch = rows

    def _column_sums(self, a: np.ndarray) -> np.ndarray:
        """``a.sum(axis=1, keepdims=True)`` as a product with a row of ones (BLAS: ~3x faster
        than numpy's strided reduction on these shapes)."""
        return np.matmul(self._ones, a)

    def _scratch(self, k: int, shape: tuple[int, ...]) -> np.ndarray:
        return self._flat[k][: int(np.prod(shape))].reshape(shape)

    def _draw_dropout(self, rows: int) -> None:
        """Dropped flat positions of every block's ``(G, rows, width)`` output for one step.

        Each network draws one Bernoulli process over all its blocks (its own stream, so the
        draws do not depend on which networks share its group), split here by block."""
        per_block = rows * np.asarray(self.widths, np.int64)
        starts = np.concatenate([[0], np.cumsum(per_block)])
        pieces: list[list[np.ndarray]] = [[] for _ in self.widths]
        for j, rng in enumerate(self.rngs):
            pos = dropout_positions(rng, int(starts[-1]), self.rate)  # sorted
            cut = np.searchsorted(pos, starts)
            for i, piece in enumerate(pieces):
                piece.append(pos[cut[i]:cut[i + 1]] + (j * per_block[i] - starts[i]))
        self.dropped = [np.concatenate(piece) for piece in pieces]

    # -- one step ------------------------------------------------------------------------
    def train_step(self, xb: np.ndarray, yb: np.ndarray, counts: np.ndarray,
                   mask: np.ndarray | None, mae_weight: float) -> np.ndarray:
        """Forward, backward and Adam update on one mini-batch per network.

        Parameters
        ----------
        xb : numpy.ndarray
            ``(G, rows, n_inputs)`` scaled inputs (rows beyond a network's count are padding).
        yb : numpy.ndarray
            ``(G, rows)`` labels in network units.
        counts : numpy.ndarray
            ``(G,)`` rows of each network's batch (>= 0).
        mask : numpy.ndarray or None
            ``(G, rows, 1)`` 1/0 float32 mask of the real rows; None when every row is real.
        mae_weight : float
            1 = MAE, 0 = SMAPE (T25 Sect. 4.1).

        Returns
        -------
        numpy.ndarray
            ``(3, G)``: sum of the per-row losses, sum of the absolute errors, row count (the
            losses of the weights before the update, as Keras reports them).
        """
        g, rows = xb.shape[0], xb.shape[1]
        if rows != self._batch:
            self._allocate(rows)
        n = np.maximum(counts, 1).astype(np.float32).reshape(g, 1, 1)
        has_rows = (counts > 0).reshape(g, 1, 1)
        p = self.param
        if self.rate > 0.0:
            self._draw_dropout(rows)
        h = xb
        for i in range(len(self.widths)):
            a, fac, out = self.acts[i], self.slopes[i], self.outputs[i]
            np.matmul(h, p[f"kernel_{i}"], out=a)
            a += p[f"bias_{i}"]
            # Leaky ReLU and its derivative fac = 1 where the input is > 0, else slope.  Written
            # as a comparison into float32 and a maximum with an array of slopes: numpy's sign
            # and maximum against a scalar take ~4x a plain multiply here (not vectorised),
            # the array forms ~1x (docs/benchmarks.md Sect. 2c)
            np.greater(a, 0.0, out=fac)
            np.maximum(fac, self._scratch(3, a.shape), out=fac)
            a *= fac
            if mask is not None:
                a *= mask  # padding rows: 0, so they add nothing to the moments below
            mean = self.means[i]
            np.matmul(self._ones, a, out=mean)  # column sums (see _column_sums)
            mean /= n
            sq = self._scratch(0, a.shape)
            np.multiply(a, a, out=sq)
            # biased batch variance E[A^2] - E[A]^2 (what Keras' BatchNormalization uses),
            # clipped at 0 against float32 cancellation
            var = self._column_sums(sq)
            var /= n
            var -= mean * mean
            np.maximum(var, 0.0, out=var)
            inv = self.inv_std[i]
            np.sqrt(var + np.float32(self.epsilon), out=inv)
            np.reciprocal(inv, out=inv)
            mm, mv = self.moving_mean[i], self.moving_var[i]  # Keras BatchNormalization update
            np.copyto(mm, mm * self.momentum + mean * (1 - self.momentum), where=has_rows)
            np.copyto(mv, mv * self.momentum + var * (1 - self.momentum), where=has_rows)
            scale = p[f"gamma_{i}"] * inv * self.keep_scale
            np.multiply(a, scale, out=out)  # (A - mean) * scale + beta, as A * scale + shift
            out += p[f"beta_{i}"] * self.keep_scale - mean * scale
            if self.rate > 0.0:
                out.reshape(-1)[self.dropped[i]] = 0.0
            h = out
        pred = np.matmul(h, p["kernel_out"])[:, :, 0] + p["bias_out"][:, :, 0]  # (G, rows)

        # loss (T25 Sect. 4.1 / Eq. 3) and its derivative, each network's mean over its rows
        diff = pred - yb
        err = np.abs(diff)
        denom = np.abs(yb) + np.abs(pred) + self.smape_eps
        w_mae = np.float32(mae_weight)
        loss = w_mae * err + (1 - w_mae) * 2.0 * err / denom
        sign = np.sign(diff)
        dloss = w_mae * sign + (1 - w_mae) * 2.0 * (sign * denom - err * np.sign(pred)) / denom**2
        m2 = mask[:, :, 0] if mask is not None else None
        if m2 is not None:
            loss, err, dloss = loss * m2, err * m2, dloss * m2
        stats = np.stack([loss.sum(axis=1), err.sum(axis=1), counts.astype(np.float32)])
        gp = (dloss / n[:, :, 0])[:, :, None].astype(np.float32)  # (G, rows, 1)

        d = self.dparam
        np.matmul(h.transpose(0, 2, 1), gp, out=d["kernel_out"])
        d["bias_out"][...] = gp.sum(axis=1, keepdims=True)
        cur = 1  # grad_y lives in scratch 1 or 2, the next one goes to the other
        grad_y = self._scratch(cur, h.shape)
        np.matmul(gp, p["kernel_out"].transpose(0, 2, 1), out=grad_y)
        for i in range(len(self.widths) - 1, -1, -1):
            a, fac, inv, mean = self.acts[i], self.slopes[i], self.inv_std[i], self.means[i]
            if self.rate > 0.0:
                grad_y.reshape(-1)[self.dropped[i]] = 0.0
            s1 = self._column_sums(grad_y)
            tmp = self._scratch(0, a.shape)
            np.multiply(grad_y, a, out=tmp)
            s2 = self._column_sums(tmp)
            s2 -= mean * s1  # sum dY (A - mean)
            d[f"beta_{i}"][...] = self.keep_scale * s1
            d[f"gamma_{i}"][...] = self.keep_scale * inv * s2
            # batch-norm backward (training mode): dA = k dY + k2 (A - mean) + k3 with
            # k = keep gamma / sigma, k2 = -k s2 / (n sigma^2), k3 = -k s1 / n; the A - mean of
            # the formula is written as k2 A + (k3 - k2 mean)
            k = self.keep_scale * p[f"gamma_{i}"] * inv
            k2 = -k * inv * inv * s2 / n
            k3 = -k * s1 / n - k2 * mean
            grad_y *= k
            np.multiply(a, k2, out=tmp)
            grad_y += tmp
            grad_y += k3
            grad_y *= fac  # Leaky ReLU backward
            if mask is not None:
                grad_y *= mask
            d[f"bias_{i}"][...] = self._column_sums(grad_y)
            below = self.outputs[i - 1] if i > 0 else xb
            np.matmul(below.transpose(0, 2, 1), grad_y, out=d[f"kernel_{i}"])
            if i > 0:
                cur = 3 - cur
                nxt = self._scratch(cur, below.shape)
                np.matmul(grad_y, p[f"kernel_{i}"].transpose(0, 2, 1), out=nxt)
                grad_y = nxt
        self._adam()
        return stats

    def _adam(self) -> None:
        """One Adam step (Keras 3's formula) on every parameter, per-network learning rate."""
        self.iterations += 1
        t = self.iterations
        alpha = (self.learning_rate * (math.sqrt(1.0 - ADAM_BETA_2**t) / (1.0 - ADAM_BETA_1**t))
                 ).astype(np.float32)  # (G, 1)
        b1, b2 = np.float32(1.0 - ADAM_BETA_1), np.float32(1.0 - ADAM_BETA_2)
        eps = np.float32(ADAM_EPSILON)
        g = self.n_networks
        buf = np.empty((g, ADAM_BLOCK_COLUMNS), np.float32)
        for c0 in range(0, self.n_parameters, ADAM_BLOCK_COLUMNS):
            c1 = min(c0 + ADAM_BLOCK_COLUMNS, self.n_parameters)
            grad, m, v, theta = (a[:, c0:c1] for a in (self.grad, self.adam_m, self.adam_v,
                                                       self.theta))
            tmp = buf[:, : c1 - c0]
            np.subtract(grad, m, out=tmp)
            tmp *= b1
            m += tmp
            np.multiply(grad, grad, out=tmp)
            tmp -= v
            tmp *= b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= alpha
            theta -= tmp

    # -- inference -----------------------------------------------------------------------
    def predict(self, x: np.ndarray) -> np.ndarray:
        """``(G, rows)`` outputs (network units) of ``x`` ``(G, rows, n_inputs)``, inference mode
        (moving statistics, no dropout)."""
        p, h = self.param, x
        for i in range(len(self.widths)):
            z = np.matmul(h, p[f"kernel_{i}"])
            z += p[f"bias_{i}"]
            np.maximum(z, z * self.slope, out=z)
            scale = p[f"gamma_{i}"] / np.sqrt(self.moving_var[i] + np.float32(self.epsilon))
            z *= scale
            z += p[f"beta_{i}"] - self.moving_mean[i] * scale
            h = z
        return np.matmul(h, p["kernel_out"])[:, :, 0] + p["bias_out"][:, :, 0]

    def network_arrays(self, j: int) -> dict[str, np.ndarray]:
        """Weights of network ``j`` in :func:`sos_vo.ml.training.network_arrays` layout."""
        out = {}
        for i in range(len(self.widths)):
            out[f"kernel_{i}"] = self.param[f"kernel_{i}"][j]
            for name in ("bias", "gamma", "beta"):
                out[f"{name}_{i}"] = self.param[f"{name}_{i}"][j, 0]
            out[f"mean_{i}"] = self.moving_mean[i][j, 0]
            out[f"var_{i}"] = self.moving_var[i][j, 0]
        out["kernel_out"] = self.param["kernel_out"][j]
        out["bias_out"] = self.param["bias_out"][j, 0]
        return {k: np.array(v, np.float32) for k, v in out.items()}


def epoch_batches(rows: Sequence[np.ndarray], rngs: Sequence[np.random.Generator],
                  batch_size: int, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-network mini-batches of one epoch.

    Network ``j`` permutes its training rows ``rows[j]`` with ``rngs[j]``.  A network with the
    most rows gets batches of ``batch_size`` and a shorter last one (Keras' ``fit``); one with
    fewer rows spreads them evenly over the same ``steps``.

    Returns
    -------
    index : numpy.ndarray
        ``(G, steps, batch_size)`` row indices (padding repeats the network's first row).
    counts : numpy.ndarray
        ``(G, steps)`` real rows of each batch.
    """
    g = len(rows)
    index = np.zeros((g, steps, batch_size), np.int64)
    counts = np.zeros((g, steps), np.int64)
    for j, (r, rng) in enumerate(zip(rows, rngs, strict=True)):
        perm = r[rng.permutation(r.size)]
        if r.size > (steps - 1) * batch_size:  # full batches, a shorter last one
            sizes = np.full(steps, batch_size)
            sizes[-1] = r.size - (steps - 1) * batch_size
        else:
            sizes = np.full(steps, r.size // steps)
            sizes[: r.size % steps] += 1
        start = 0
        for s, size in enumerate(sizes):
            index[j, s, :size] = perm[start:start + size]
            index[j, s, size:] = perm[0] if perm.size else 0
            start += size
        counts[j] = sizes
    return index, counts


def run_epoch(group: NetworkGroup, xs: np.ndarray, y_net: np.ndarray, rows: Sequence[np.ndarray],
              batch_size: int, steps: int, mae_weight: float) -> np.ndarray:
    """Train ``group`` for one epoch; returns ``(3, G)`` loss sum, error sum, rows."""
    index, counts = epoch_batches(rows, group.rngs, batch_size, steps)
    total = np.zeros((3, group.n_networks))
    full = counts == batch_size
    for s in range(steps):
        idx = index[:, s, :]
        xb = xs[idx]  # (G, B, n_in)
        yb = np.take_along_axis(y_net, idx, axis=1)
        mask = None
        if not full[:, s].all():
            mask = (np.arange(batch_size)[None, :] < counts[:, s, None]).astype(np.float32)[:, :, None]
        total += group.train_step(xb, yb, counts[:, s], mask, mae_weight)
    return total


def validate(group: NetworkGroup, xs: np.ndarray, y_net: np.ndarray, rows: Sequence[np.ndarray],
             mae_weight: float, chunk: int = VALIDATION_CHUNK_ROWS) -> np.ndarray:
    """Inference-mode losses of each network on its own rows: ``(3, G)`` sums as run_epoch."""
    g = group.n_networks
    longest = max(r.size for r in rows)
    total = np.zeros((3, g))
    eps = np.float32(group.options.smape_eps)
    for c0 in range(0, longest, chunk):
        idx = np.zeros((g, min(chunk, longest - c0)), np.int64)
        valid = np.zeros(idx.shape, bool)
        for j, r in enumerate(rows):
            part = r[c0:c0 + idx.shape[1]]
            idx[j, : part.size] = part
            valid[j, : part.size] = True
        pred = group.predict(xs[idx])
        y = np.take_along_axis(y_net, idx, axis=1)
        err = np.abs(y - pred)
        loss = mae_weight * err + (1 - mae_weight) * 2.0 * err / (np.abs(y) + np.abs(pred) + eps)
        total += np.stack([(loss * valid).sum(axis=1), (err * valid).sum(axis=1), valid.sum(axis=1)])
    return total


def parallel_map(fn: Callable, items: Sequence, threads: int) -> list:
    """``[fn(item) for item in items]``, on ``threads`` threads when more than one."""
    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(fn, items))


def network_groups(n_networks: int, threads: int) -> list[range]:
    """Contiguous groups of networks, one per thread, as even as possible."""
    threads = max(1, min(int(threads), n_networks))
    bounds = np.linspace(0, n_networks, threads + 1).round().astype(int)
    return [range(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def train_members_numpy(X: np.ndarray, ys, options, splits, label_seeds, split_seeds, *,
                        input_scaler, label_scalers, fused_options=None, seed: int = 0,
                        progress: bool = False) -> dict:
    """:func:`sos_vo.ml.fused.train_members_fused` with the numpy engine (module docstring).

    Same arguments and result; ``fused_options.threads`` sets the threads (default: the CPUs
    this process may use) and ``fused_options.batch_scale`` multiplies each network's batch
    (``batch_size * batch_scale`` rows, learning rate scaled by ``lr_scaling``).
    """
    from threadpoolctl import threadpool_limits

    from .fused import FusedOptions, _EpochBook, _members, group_targets
    from .inference import available_cpus
    from .options import scheduled_learning_rate

    if options.optimizer != "adam":
        raise ValueError(f"the numpy engine implements Adam only, not {options.optimizer!r}")
    fo = fused_options or FusedOptions()
    labels = tuple(ys)
    n_members = len(splits)
    g_total = len(labels) * n_members
    X = np.asarray(X, dtype=np.float32)
    n = X.shape[0]
    targets = group_targets(n, ys, splits, label_seeds, label_scalers)
    y_phys, finite, y_g = targets.y_phys, targets.finite, targets.y_g
    train_mask, val_mask = targets.train_mask.astype(bool), targets.val_mask.astype(bool)
    output_bias, seeds = targets.output_bias, targets.seeds
    train_rows = [np.flatnonzero(train_mask[g]) for g in range(g_total)]
    val_rows = [np.flatnonzero(val_mask[g]) for g in range(g_total)]
    xs = np.ascontiguousarray(input_scaler.transform(X), dtype=np.float32)

    batch = max(1, int(round(options.batch_size * fo.batch_scale)))
    steps = max(-(-r.size // batch) for r in train_rows)
    base_lr = fo.learning_rate(options)
    threads = int(fo.threads or available_cpus())
    groups = network_groups(g_total, threads)
    nets = [NetworkGroup(xs.shape[1], options, [seeds[g] for g in grp],
                         [float(output_bias[g]) for g in grp], base_lr,
                         [np.random.default_rng([int(seed), 1, g]) for g in grp]) for grp in groups]
    parts = list(zip(groups, nets, strict=True))

    book = _EpochBook(g_total, options, base_lr)

    def weights_of(g: int) -> dict[str, np.ndarray]:
        for grp, net in parts:
            if g in grp:
                return net.network_arrays(g - grp.start)
        raise IndexError(g)

    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=options.epochs, desc=f"fused training ({g_total} networks, numpy)",
                   unit="epoch")
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            for epoch in range(options.epochs):
                lr_now = base_lr
                if options.lr_schedule == "cosine":
                    lr_now = scheduled_learning_rate(base_lr, epoch, options.epochs, "cosine")
                for grp, net in parts:
                    net.learning_rate[:, 0] = [lr_now if options.lr_schedule == "cosine"
                                               else book.plateaus[g].lr for g in grp]
                w = 1.0 if epoch < options.mae_epochs else 0.0

                def one(part, w=w):
                    grp, net = part
                    tr = run_epoch(net, xs, y_g[grp.start:grp.stop],
                                   [train_rows[g] for g in grp], batch, steps, w)
                    va = validate(net, xs, y_g[grp.start:grp.stop], [val_rows[g] for g in grp], w)
                    return tr, va

                results = parallel_map(one, parts, len(parts))
                tr = np.concatenate([r[0] for r in results], axis=1)
                va = np.concatenate([r[1] for r in results], axis=1)
                book.record(epoch, tr, va, weights_of, lr_now)
                if not book.advance(bar):
                    break
    finally:
        if bar is not None:
            bar.close()
    return _members(book.final_arrays(weights_of), X, y_phys, labels, splits, finite, options,
                    seeds, split_seeds, book.history, book.epochs_trained, book.stoppers,
                    input_scaler, label_scalers)
