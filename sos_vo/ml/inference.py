"""Pure-numpy forward pass of a whole SoS-ML ensemble (no TensorFlow, no Keras).

A hidden block is Dense -> LeakyReLU -> BatchNormalization -> Dropout (T25 Sect. 4.1).  At
inference dropout is the identity and batch normalisation is the affine map
``z = s * h + t`` with ``s = gamma / sqrt(moving_var + eps)``, ``t = beta - moving_mean * s``.
Because it follows the non-linearity, each BN is folded into the *next* Dense layer
(``W' = diag(s) W``, ``b' = b + t W``) and the last one into the output layer, so a network is
a chain of ``(W, b)`` with a Leaky ReLU between consecutive layers.

All networks of an ensemble (every member of every label) share the architecture, so their
folded weights are stacked into arrays of shape ``(n_networks, n_in, n_out)`` and each layer
of the whole ensemble is one batched float32 matrix product over a chunk of rows; the first
layer, whose input is shared, is a single ``(rows, n_in) x (n_in, n_networks * width)``
product.  Rows are processed in chunks so memory stays bounded.

The fast path (:class:`FastForward`, used by :meth:`NumpyEnsemble.predict_members`) goes further:

* every bias is folded into its weight matrix by carrying a constant-1 column through the
  activations (``[h, 1] @ [[W], [b]] = h W + b``), so a layer is ONE matrix product and one
  in-place Leaky ReLU, with no separate bias pass.  The constant column is written into the
  activation buffer before the product, which fills the other columns through a strided view
  (BLAS takes the leading dimension, no copy), so a hidden product is
  ``(rows, w_in + 1) x (w_in + 1, w_out)``: an N dimension of 80..160 rather than 81..161
  took these products from ~93% to ~95-96% of a one-thread float32 matmul (the 17 hidden
  shapes at 1024 rows, timed alone on a 2-core AMD EPYC), and LeakyReLU(1) = 1 lets the
  activation run over the whole contiguous buffer;
* the pass runs network by network over a chunk of rows (all layers of one network,
  its first layer included, then the next), so the chunk's activations (``rows x 161``
  floats, twice) and one layer's weights stay in the core's L2 cache while the BLAS kernel
  runs; an earlier version merged the first layers of all networks into one product and
  activated each network's columns as a strided view, which cost more than the merged
  product gained (:class:`FastForward` ``fill_ones=False`` keeps it as a reference);
* the array views of a chunk through a network (input, product output, constant column,
  activation, scratch) are built once per thread and row count, since all networks share the
  shapes, so the layer loop only calls the product and the two passes of the Leaky ReLU
  (a multiply into a scratch buffer and an in-place maximum: numpy has no one-pass
  ``max(x, a x)``), and the scratch buffer is the layer's input, dead once the product is
  written, so two activation buffers rather than three share the L2 cache;
* chunks are spread over ``n_threads`` Python threads (numpy and BLAS release the GIL) with
  single-threaded BLAS inside each, which beats a multi-threaded BLAS on these 160-wide
  products.

:func:`forward_stacked` is kept as the simple reference path.

Per-star outputs (T25 Sect. 5.1, Eq. 4): the median over members, ``e_rep`` = MAD over members,
``e_ML = sqrt(e_train**2 + e_rep**2)``.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..exceptions import SchemaError, SyntheticModelWarning
from ..stats import mad_along
from .scaling import InputScaler, LabelScaler, check_input_matrix, resolve_input_names

DEFAULT_CHUNK_ROWS = 1536
"""Rows per chunk of the fast forward pass (one thread works on one chunk at a time).  Chosen
for a core with a 2 MB L2 cache (the 2-core AMD EPYC of ``benchmarks.predict_step``) and the T25
architecture: the pass keeps two activation buffers of ``rows x 161`` floats, which 1536 rows
make 1.98 MB.  The CPU seconds of 1024-, 1536- and 2048-row chunks differ by less than the
run-to-run spread on that shared machine (docs/benchmarks.md Sect. 2d).  A thread's buffers
hold ``chunk * (n_in + 1 + 3 * (max_width + 1))`` floats (~3.3 MB)."""

DEFAULT_THREADS = None
"""Worker threads of the fast forward pass; None = the CPUs this process may use
(``os.sched_getaffinity``).  Use 1 inside a process pool / dask worker that is already
parallel."""


def available_cpus() -> int:
    """CPUs this process may run on (affinity mask), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def fold_network(raw: Mapping[str, np.ndarray], n_blocks: int, epsilon: float
                 ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Fold the batch normalisations of one network into the following Dense layers.

    Parameters
    ----------
    raw : mapping
        Arrays ``kernel_i``, ``bias_i``, ``gamma_i``, ``beta_i``, ``mean_i``, ``var_i`` for
        ``i < n_blocks`` and ``kernel_out``, ``bias_out`` (see
        :func:`sos_vo.ml.training.network_arrays`).
    n_blocks : int
        Number of hidden blocks.
    epsilon : float
        BatchNormalization epsilon.

    Returns
    -------
    list of (W, b)
        ``n_blocks + 1`` float64 layers; a Leaky ReLU goes between consecutive ones.
    """
    out = [(np.asarray(raw["kernel_0"], np.float64), np.asarray(raw["bias_0"], np.float64))]
    for i in range(n_blocks):
        s = np.asarray(raw[f"gamma_{i}"], np.float64) / np.sqrt(
            np.asarray(raw[f"var_{i}"], np.float64) + epsilon)
        t = np.asarray(raw[f"beta_{i}"], np.float64) - np.asarray(raw[f"mean_{i}"], np.float64) * s
        key = f"{i + 1}" if i + 1 < n_blocks else "out"
        w = np.asarray(raw[f"kernel_{key}"], np.float64)
        b = np.asarray(raw[f"bias_{key}"], np.float64)
        out.append((s[:, None] * w, b + t @ w))
    return out


def stack_networks(folded: Sequence[list[tuple[np.ndarray, np.ndarray]]]
                   ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stack folded networks of identical architecture into ``(K, n_in, n_out)``, ``(K, 1, n_out)``."""
    n_layers = {len(f) for f in folded}
    if len(n_layers) != 1:
        raise ValueError(f"networks have different depths: {sorted(n_layers)}")
    stacked = []
    for j in range(n_layers.pop()):
        shapes = {f[j][0].shape for f in folded}
        if len(shapes) != 1:
            raise ValueError(f"layer {j}: networks have different shapes {sorted(shapes)}")
        w = np.ascontiguousarray(np.stack([f[j][0] for f in folded]), dtype=np.float32)
        b = np.ascontiguousarray(np.stack([f[j][1] for f in folded])[:, None, :], dtype=np.float32)
        stacked.append((w, b))
    return stacked


class _Workspace:
    """Reusable activation buffers (avoids allocating and page-faulting ~MBs per layer)."""

    def __init__(self) -> None:
        self.size = 0
        self.buffers: list[np.ndarray] = []

    def views(self, shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Three contiguous float32 arrays of ``shape`` backed by the reusable buffers."""
        need = int(np.prod(shape))
        if need > self.size:
            self.buffers = [np.empty(need, dtype=np.float32) for _ in range(3)]
            self.size = need
        return tuple(b[:need].reshape(shape) for b in self.buffers)  # type: ignore[return-value]


def forward_stacked(x: np.ndarray, layers: Sequence[tuple[np.ndarray, np.ndarray]],
                    slope: float, workspace: _Workspace | None = None) -> np.ndarray:
    """Outputs of all stacked networks for one chunk ``x`` (rows x inputs, float32).

    Parameters
    ----------
    x : numpy.ndarray
        Scaled inputs of one chunk.
    layers : sequence of (W, b)
        Stacked folded layers from :func:`stack_networks`.
    slope : float
        Leaky-ReLU negative slope (0 <= slope <= 1).
    workspace : optional
        Buffers reused across chunks.

    Returns
    -------
    numpy.ndarray
        Shape ``(K, rows)``: network outputs before label un-scaling.
    """
    ws = workspace or _Workspace()
    w0, b0 = layers[0]
    k, n_in, width = w0.shape
    rows = x.shape[0]
    max_width = max(w.shape[2] for w, _ in layers)
    buf_a, buf_b, tmp = (v.reshape(-1) for v in ws.views((k, rows, max_width)))
    # first layer: shared input, one large product against all networks side by side
    w0_flat = w0.transpose(1, 0, 2).reshape(n_in, k * width)
    flat = np.matmul(x, w0_flat, out=buf_b[: rows * k * width].reshape(rows, k * width))
    h = buf_a[: k * rows * width].reshape(k, rows, width)
    h[...] = flat.reshape(rows, k, width).transpose(1, 0, 2)
    h += b0
    ping_pong = (buf_a, buf_b)  # h lives in ping_pong[cur], the next layer goes to the other
    cur = 0
    slope32 = np.float32(slope)
    for w, b in layers[1:]:
        t = tmp[: h.size].reshape(h.shape)
        np.multiply(h, slope32, out=t)
        np.maximum(h, t, out=h)  # Leaky ReLU, in place
        cur = 1 - cur
        out = ping_pong[cur][: k * rows * w.shape[2]].reshape(k, rows, w.shape[2])
        np.matmul(h, w, out=out)
        out += b
        h = out
    return h[:, :, 0].copy()


def augment_layers(layers: Sequence[tuple[np.ndarray, np.ndarray]]
                   ) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """Fold the biases of stacked layers into augmented weight matrices (float32).

    Parameters
    ----------
    layers : sequence of (W, b)
        Stacked folded layers ``(K, n_in, n_out)``, ``(K, 1, n_out)`` (:func:`stack_networks`).

    Returns
    -------
    first : numpy.ndarray
        ``(n_in + 1, K * (w0 + 1))``: the first layers of all networks side by side; network
        ``k`` owns columns ``k * (w0 + 1) ... (k + 1) * (w0 + 1) - 1``, the last of which is the
        constant 1 (input column ``n_in`` must be 1).
    rest : list of list of numpy.ndarray
        Per network, the following layers as ``(n_in + 1, n_out + 1)`` matrices
        ``[[W, 0], [b, 1]]``; the output layer is ``(n_in + 1, n_out)`` ``[[W], [b]]``.
    """
    aug = []
    last = len(layers) - 1
    for j, (w, b) in enumerate(layers):
        k, n_in, n_out = w.shape
        extra = 0 if j == last else 1
        a = np.zeros((k, n_in + 1, n_out + extra), dtype=np.float32)
        a[:, :n_in, :n_out] = w
        a[:, n_in, :n_out] = b[:, 0, :]
        if extra:
            a[:, n_in, n_out] = 1.0
        aug.append(a)
    k, n_in1, n_out1 = aug[0].shape
    first = np.ascontiguousarray(aug[0].transpose(1, 0, 2).reshape(n_in1, k * n_out1))
    rest = [[np.ascontiguousarray(a[i]) for a in aug[1:]] for i in range(k)]
    return first, rest


class FastForward:
    """Compiled fast forward pass of stacked networks (see the module docstring).

    Parameters
    ----------
    layers : sequence of (W, b)
        Stacked folded layers (:func:`stack_networks`).
    slope : float
        Leaky-ReLU negative slope.
    fill_ones : bool
        True (default): each network's layers run one after the other from the shared input,
        and the constant-1 column of each hidden activation is written into the buffer once
        per layer rather than produced by the product, so a hidden product is
        ``(rows, w_in + 1) x (w_in + 1, w_out)``.  False: the previous scheme, kept as the
        reference of ``benchmarks.predict_step`` and the tests: the first layers of all
        networks merged into one product and every product ``(w_in + 1) x (w_out + 1)``.
        Each output is the same dot product over the same ``w_in + 1`` terms in both; with
        numpy's OpenBLAS the outputs are bit-identical for chunks of 256 rows and more, and
        within a few float32 ulp (at most 5e-7 of the largest output, shipped models)
        where a short chunk lets OpenBLAS sum some of the small products in another order.
    """

    def __init__(self, layers: Sequence[tuple[np.ndarray, np.ndarray]], slope: float,
                 fill_ones: bool = True) -> None:
        self.first, rest = augment_layers(layers)
        self.fill_ones = bool(fill_ones)
        self.n_networks = len(rest)
        self.n_inputs = self.first.shape[0] - 1
        self.first_width = self.first.shape[1] // self.n_networks  # w0 + 1
        if self.fill_ones:
            # per network: its own first layer, then the rest; every matrix but the output
            # layer loses its constant column (written into the activation buffer instead)
            w1 = self.first_width
            rest = [[self.first[:, k * w1:(k + 1) * w1], *net] for k, net in enumerate(rest)]
            rest = [[np.ascontiguousarray(a[:, :-1]) if j < len(net) - 1 else a
                     for j, a in enumerate(net)] for net in rest]
        self.rest = rest
        self.max_width = max([self.first_width] + [a.shape[1] + self.fill_ones
                                                   for net in self.rest for a in net])
        self.slope = np.float32(slope)
        self._local = threading.local()

    def _buffers(self, rows: int) -> tuple[np.ndarray, ...]:
        """This thread's reusable buffers for ``rows`` rows (grown on demand)."""
        bufs = getattr(self._local, "bufs", None)
        if bufs is None or bufs[0].shape[0] < rows:
            x1 = np.ones((rows, self.n_inputs + 1), dtype=np.float32)
            h0 = np.empty((0 if self.fill_ones else rows, self.first.shape[1]), dtype=np.float32)
            flat = [np.empty(rows * self.max_width, dtype=np.float32) for _ in range(3)]
            bufs = (x1, h0, *flat)
            self._local.bufs = bufs
        return bufs

    def _steps(self, rows: int) -> tuple[np.ndarray, list[tuple], np.ndarray]:
        """This thread's views of one chunk of ``rows`` rows through a network (built once).

        Returns the input buffer (``rows x (n_in + 1)``, last column 1), one step per layer
        ``(input, product output, constant column, activation, scratch)`` (the last three None
        for the output layer) and the output column.  The views depend only on the shapes,
        which all networks share, so a chunk runs the networks through the same steps with no
        array slicing in the loop.  The Leaky ReLU's scratch buffer is the layer's own input,
        dead once the product is written (the first layer's input, reused by every network,
        has a scratch buffer of its own), so two activation buffers stay in the cache.
        """
        cached = getattr(self._local, "steps", None)
        if cached is not None and cached[0] == rows:
            return cached[1]
        x1, _, buf_a, buf_b, tmp = self._buffers(rows)
        h = x1[:rows]
        pong, cur, steps = (buf_a, buf_b), 0, []
        widths = [a.shape[1] for a in self.rest[0]]
        for j, w in enumerate(widths):
            if j < len(widths) - 1:
                o = pong[cur][: rows * (w + 1)].reshape(rows, w + 1)
                scratch = (tmp if j == 0 else pong[1 - cur])[: o.size].reshape(o.shape)
                steps.append((h, o[:, :-1], o[:, -1], o, scratch))
            else:
                o = pong[cur][: rows * w].reshape(rows, w)
                steps.append((h, o, None, None, None))
            h, cur = o, 1 - cur
        plan = (x1[:rows], steps, h[:, 0])
        self._local.steps = (rows, plan)
        return plan

    def _leaky_relu(self, h: np.ndarray, tmp: np.ndarray) -> None:
        t = tmp[: h.size].reshape(h.shape)
        np.multiply(h, self.slope, out=t)
        np.maximum(h, t, out=h)

    def chunk(self, x: np.ndarray, out: np.ndarray) -> None:
        """Forward one chunk ``x`` (rows x n_in, scaled, float32) into ``out`` (K x rows)."""
        rows = x.shape[0]
        if self.fill_ones:
            x1, steps, result = self._steps(rows)
            x1[:, :-1] = x  # last column stays 1
            slope, matmul, multiply, maximum = self.slope, np.matmul, np.multiply, np.maximum
            for k, net in enumerate(self.rest):
                for a, (h, product, ones, act, scratch) in zip(net, steps, strict=True):
                    if ones is None:  # the output layer
                        matmul(h, a, out=product)
                        continue
                    ones.fill(1.0)  # the constant column the next layer's bias row multiplies
                    matmul(h, a, out=product)  # a strided view: BLAS writes it in place
                    multiply(act, slope, out=scratch)  # Leaky ReLU over the whole contiguous
                    maximum(act, scratch, out=act)  # buffer: LeakyReLU(1) = 1
                out[k] = result
            return
        x1, h0, buf_a, buf_b, tmp = self._buffers(rows)
        x1 = x1[:rows]
        x1[:, :-1] = x  # last column stays 1
        h0 = h0[:rows]
        np.matmul(x1, self.first, out=h0)
        w1 = self.first_width
        for k, net in enumerate(self.rest):
            h = h0[:, k * w1:(k + 1) * w1]  # strided view: BLAS reads it in place
            self._leaky_relu(h, tmp)
            out[k] = self._network(h, net, (buf_a, buf_b), tmp)[:, 0]

    def _network(self, h: np.ndarray, net: Sequence[np.ndarray],
                 pong: tuple[np.ndarray, np.ndarray], tmp: np.ndarray) -> np.ndarray:
        """Run the layers ``net`` of one network on ``h`` (rows x (w + 1), last column 1)."""
        rows = h.shape[0]
        cur = 0
        last = len(net) - 1
        for j, a in enumerate(net):
            width = a.shape[1] + (self.fill_ones and j < last)
            o = pong[cur][: rows * width].reshape(rows, width)
            cur = 1 - cur
            if width > a.shape[1]:
                o[:, -1] = 1.0  # the constant column the next layer's bias row multiplies
                np.matmul(h, a, out=o[:, :-1])  # a strided view: BLAS writes it in place
            else:
                np.matmul(h, a, out=o)
            if j < last:
                self._leaky_relu(o, tmp)  # LeakyReLU(1) = 1: the whole buffer, contiguous
            h = o
        return h

    def __call__(self, x: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                 n_threads: int | None = DEFAULT_THREADS, transform=None,
                 progress=None) -> np.ndarray:
        """Outputs ``(K, rows)`` of all networks for ``x`` (rows x n_in).

        Parameters
        ----------
        x : numpy.ndarray
            Inputs; scaled unless ``transform`` is given.
        chunk_rows : int
            Rows per chunk (per thread task).
        n_threads : int, optional
            Worker threads (default: :func:`available_cpus`).  With more than one, BLAS is
            limited to one thread for the duration of the call (``threadpoolctl``).
        transform : callable, optional
            Applied to each chunk of ``x`` first (e.g. :meth:`InputScaler.transform`).
        progress : callable, optional
            Called with the number of rows of each finished chunk.
        """
        n = x.shape[0]
        out = np.empty((self.n_networks, n), dtype=np.float32)
        chunk_rows = max(1, int(chunk_rows))
        starts = list(range(0, n, chunk_rows))
        n_threads = available_cpus() if n_threads is None else max(1, int(n_threads))
        n_threads = min(n_threads, len(starts)) if starts else 1

        def work(s: int) -> None:
            xs = x[s:s + chunk_rows]
            xs = transform(xs) if transform is not None else np.asarray(xs, dtype=np.float32)
            self.chunk(xs, out[:, s:s + chunk_rows])
            if progress is not None:
                progress(xs.shape[0])

        if n_threads <= 1:
            for s in starts:
                work(s)
            return out
        from concurrent.futures import ThreadPoolExecutor

        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(n_threads) as pool:
            for _ in pool.map(work, starts):
                pass
        return out


@dataclass
class NumpyEnsemble:
    """A trained SoS-ML ensemble that predicts with numpy only.

    Attributes
    ----------
    labels : tuple of str
        Predicted parameters, e.g. ``("teff", "logg", "feh")``.
    n_members : int
        Networks per label (T25 Sect. 5.1: 10).
    layers : list of (W, b)
        Folded, stacked float32 weights; network ``k = label_index * n_members + member``.
    leaky_relu_slope : float
    input_names : tuple of str
        Input column names (features and presence flags) in order.
    input_scaler : InputScaler
    label_scalers : dict
        One :class:`LabelScaler` per label.
    e_train : dict
        Per label, the median absolute test error (T25 Sect. 5.1), physical units.
    survey : str
    metadata : dict
        Everything else stored with the model (provenance, options, metrics, ...).
    """

    labels: tuple[str, ...]
    n_members: int
    layers: list[tuple[np.ndarray, np.ndarray]]
    leaky_relu_slope: float
    input_names: tuple[str, ...]
    input_scaler: InputScaler
    label_scalers: dict[str, LabelScaler]
    e_train: dict[str, float]
    survey: str
    metadata: dict[str, Any] = field(default_factory=dict)
    _fast: FastForward | None = field(default=None, repr=False, compare=False)

    @property
    def n_networks(self) -> int:
        """Networks in the ensemble (labels x members)."""
        return len(self.labels) * self.n_members

    def fast_forward(self) -> FastForward:
        """The compiled fast forward pass (:class:`FastForward`), built once."""
        if self._fast is None:
            self._fast = FastForward(self.layers, self.leaky_relu_slope)
        return self._fast

    @property
    def is_synthetic(self) -> bool:
        """True when the training data came from the synthetic sky (model provenance)."""
        return bool(self.metadata.get("provenance", {}).get("synthetic", False))

    def _check_provenance(self, data_is_real: bool | None) -> None:
        if data_is_real and self.is_synthetic:
            warnings.warn(
                f"the {self.survey} model was trained on SYNTHETIC data (origin: "
                f"{self.metadata.get('provenance', {}).get('origin', 'sos_vo.simulate')}) and is "
                "applied to real archive data: its predictions are not valid for real stars",
                SyntheticModelWarning, stacklevel=3,
            )

    def check_names(self, names: Sequence[str], flag_layout: str = "interleaved") -> None:
        """Raise :class:`SchemaError` unless ``names`` (input or feature names) match the model's."""
        got = resolve_input_names(names, len(self.input_names), flag_layout)
        if got != self.input_names:
            diff = [f"#{i}: {g!r} != {e!r}" for i, (g, e) in enumerate(zip(got, self.input_names,
                                                                          strict=True)) if g != e]
            raise SchemaError(
                f"input columns differ from those the {self.survey} model was trained on "
                f"({len(diff)} differences; given != model): {'; '.join(diff[:5])}"
            )

    def predict_members(self, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                        data_is_real: bool | None = None, progress: bool = False,
                        names: Sequence[str] | None = None, *,
                        n_threads: int | None = DEFAULT_THREADS) -> dict[str, np.ndarray]:
        """Predictions of every member, physical units: label -> array ``(n_members, n_rows)``.

        Parameters
        ----------
        X : numpy.ndarray
            Zero-filled input matrix (rows x inputs), columns in :attr:`input_names` order.
        chunk_rows : int
            Rows per forward-pass chunk (bounds memory).
        data_is_real : bool, optional
            True when ``X`` comes from a real archive: a model trained on synthetic data then
            warns with :class:`~sos_vo.exceptions.SyntheticModelWarning`.
        progress : bool
            Show a tqdm progress bar over chunks.
        names : sequence of str, optional
            Column names of ``X`` (input names, or feature names with interleaved flags);
            checked against :attr:`input_names` when given.
        n_threads : int, optional
            Worker threads of the forward pass (see :data:`DEFAULT_THREADS`).
        """
        self._check_provenance(data_is_real)
        if names is not None:
            self.check_names(names)
        X = check_input_matrix(X, self.input_names, what=f"{self.survey} model input")
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=X.shape[0], desc=f"predict {self.survey}", unit="star")
        try:
            raw = self.fast_forward()(X, chunk_rows, n_threads, transform=self.input_scaler.transform,
                                      progress=None if bar is None else bar.update)
        finally:
            if bar is not None:
                bar.close()
        out = {}
        for i, label in enumerate(self.labels):
            block = raw[i * self.n_members:(i + 1) * self.n_members]
            out[label] = self.label_scalers[label].inverse(block)
        return out

    def predict(self, X: np.ndarray, chunk_rows: int = DEFAULT_CHUNK_ROWS,
                data_is_real: bool | None = None, progress: bool = False,
                names: Sequence[str] | None = None, *, n_threads: int | None = DEFAULT_THREADS
                ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Ensemble prediction per label: ``(median, e_rep, e_ML)``, each of shape ``(n_rows,)``.

        ``median`` and ``e_rep`` (scaled MAD) are taken over the members per star and
        ``e_ML = sqrt(e_train**2 + e_rep**2)`` (T25 Sect. 5.1, Eq. 4).  Arguments as in
        :meth:`predict_members`.
        """
        members = self.predict_members(X, chunk_rows, data_is_real, progress, names,
                                       n_threads=n_threads)
        return {label: combine_members(p, self.e_train[label]) for label, p in members.items()}


def combine_members(pred: np.ndarray, e_train: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(median, e_rep, e_ML)`` from member predictions of shape ``(n_members, n_rows)``.

    T25 Sect. 5.1: the median of the members is the prediction, their MAD (scaled by 1.4826,
    footnote 6) is ``e_rep``, and ``e_ML = sqrt(e_train**2 + e_rep**2)`` (Eq. 4).
    """
    med = np.median(pred, axis=0).astype(np.float32)
    e_rep = mad_along(pred, axis=0).astype(np.float32)
    e_ml = np.sqrt(np.float32(e_train) ** 2 + e_rep**2).astype(np.float32)
    return med, e_rep, e_ml
