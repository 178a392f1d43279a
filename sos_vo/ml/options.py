"""Network and training options of the SoS-ML multi-layer perceptron.

Everything Turchi et al. (2025, hereafter T25) Sect. 4.1 fixes has its number and source here;
everything the papers leave open (input and label scaling, epochs, batch size, optimiser,
learning rate, early stopping, leaky-ReLU slope, width interpolation) is a named default with a
comment saying that it is our choice.  This module does not import TensorFlow, so saved models
can be read without it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

# -- fixed by the papers ----------------------------------------------------------------
N_BLOCKS = 18
"""Hidden blocks (Dense -> LeakyReLU -> BatchNormalization -> Dropout), T25 Sect. 4.1."""
MIN_WIDTH = 80
MAX_WIDTH = 160
"""Widths "between 80 and 160 elements with the smaller ones at the extremes and the larger ones
in the middle (i.e. diamond shape)", T25 Sect. 4.1."""
DROPOUT_RATE = 0.02
"""Dropout rate, Turchi et al. slides "Machine learning for stellar parametrization" ("The Model":
"Dropout at 0.02 rate")."""
MAE_FRACTION = 0.2
"""Mean absolute error for the first 1/5 of the training time, then SMAPE (T25 Sect. 4.1)."""
SMAPE_EPS = 1e-3
"""epsilon of the SMAPE loss, T25 Eq. (3)."""
SPLIT_FRACTIONS = (0.8, 0.1, 0.1)
"""Train / validation / test fractions, T25 Sect. 4.3."""
N_MEMBERS = 10
"""Trainings with different random splits whose median is the prediction, T25 Sect. 5.1."""

# -- left open by the papers: our named choices ------------------------------------------
LEAKY_RELU_SLOPE = 0.01
"""Negative slope of the Leaky ReLU.  Not given in the papers; 0.01 is the slope of Maas et
al. (2013), who introduced the leaky ReLU (Keras' own default is 0.3)."""
EPOCHS = 100
"""Maximum number of epochs.  Not given (T25 only says a run took "a few hours" on an 8-core
desktop CPU); early stopping usually ends training before."""
PATIENCE = 15
"""Early-stopping patience in epochs (T25 Sect. 4.3 monitors the validation loss; the
patience is our choice)."""
BATCH_SIZE = 128
"""Mini-batch size.  Not given in the papers.  128 rather than a larger batch: the benchmark
(docs/benchmarks.md) found batch 512 leaves too few optimiser steps per epoch on samples of
10^4 rows (265 K vs 135 K MAD in Teff for one network at the same epoch cap)."""
OPTIMIZER = "adam"
LEARNING_RATE = 1e-2
"""Optimiser and learning rate.  Not given; Adam at 1e-2.  The paper's 18-block network needs a
larger rate than shallow ones to converge in a fixed budget: one 18-block network with colour
inputs, 40 cosine epochs, ~20 000 SDSS rows (docs/benchmarks.md, Sect. 1j) reached a held-out MAD
vs truth of 81 K / 0.065 / 0.159 dex at 1e-3, 49 K / 0.052 / 0.100 dex at 3e-3 (the previous
default), 37 K / 0.038 / 0.085 dex at 1e-2, 33 K / 0.036 / 0.083 dex at 2e-2, while at 3e-2 Teff
became unstable (best epoch 18 of 40).  1e-2 keeps a factor 3 from that edge."""

LR_PLATEAU_FACTOR = 0.5
LR_PLATEAU_PATIENCE = 5
"""Learning-rate decay on a validation-loss plateau (Keras ReduceLROnPlateau): multiply the rate
by ``LR_PLATEAU_FACTOR`` after ``LR_PLATEAU_PATIENCE`` epochs without improvement.  Not in the
papers (our choice); ``lr_plateau_patience=0`` disables it."""
LR_SCHEDULE = "plateau"
"""How the learning rate changes during training (our choice; not in the papers):

``"plateau"``
    :data:`LR_PLATEAU_FACTOR` decay after :data:`LR_PLATEAU_PATIENCE` epochs without improvement
    of the validation loss (per network in :mod:`sos_vo.ml.training`; in fused training, where
    all networks share one optimiser, on the mean validation loss of the networks still
    training, see :func:`sos_vo.ml.fused.train_members_fused`).
``"cosine"``
    cosine annealing from ``learning_rate`` to :data:`COSINE_FINAL_FRACTION` of it over
    ``epochs`` (Loshchilov & Hutter 2017, ICLR, "SGDR", without restarts): a fixed schedule that
    makes the best use of a fixed epoch budget when the budget, not early stopping, ends the run
    (as on small machines, docs/benchmarks.md)."""
COSINE_FINAL_FRACTION = 0.01
"""Final learning rate of the ``"cosine"`` schedule as a fraction of the initial one (our
choice)."""
LR_SCHEDULES = ("plateau", "cosine")


def scheduled_learning_rate(base: float, epoch: int, epochs: int, schedule: str) -> float:
    """Learning rate of ``epoch`` (0-based) under a *fixed* schedule.

    ``"cosine"``: ``base * (f + (1 - f) (1 + cos(pi epoch / (epochs - 1))) / 2)`` with
    ``f`` = :data:`COSINE_FINAL_FRACTION`, so epoch 0 runs at ``base`` and the last epoch at
    ``f * base``.  ``"plateau"`` is adaptive, not a function of the epoch: ``base`` is returned.
    """
    if schedule not in LR_SCHEDULES:
        raise ValueError(f"lr_schedule {schedule!r}: expected one of {LR_SCHEDULES}")
    if schedule == "plateau" or epochs <= 1:
        return float(base)
    f = COSINE_FINAL_FRACTION
    return float(base * (f + (1.0 - f) * 0.5 * (1.0 + math.cos(math.pi * epoch / (epochs - 1)))))


INPUT_SCALING = "standard"
"""How the inputs are scaled before the network.  Not given in the papers.  ``"standard"``:
each value column minus its mean, over its standard deviation, both computed on the rows where
the value is present; missing values stay 0 and the 0/1 presence flags are left as they are
(see :mod:`sos_vo.ml.scaling`)."""
LABEL_SCALING = "offset"
"""How labels are scaled for training.  Not given in the papers.  SMAPE (T25 Eq. 3) is a
*relative* error, so it depends on the zero point of the label: on physical [Fe/H] (centred
near 0 dex) or log g of giants it explodes and no longer measures the error in dex.  Our default
``"offset"`` maps each label linearly onto [1, 2] over the range of the labelled sample, where
SMAPE is a smooth, nearly uniform weighting of the absolute error; ``"physical"`` trains on the
labels as they are (the literal reading of the paper); ``"standard"`` centres and scales them."""
WIDTH_INTERPOLATION = "linear"
"""How the 18 widths fill 80..160..80 (the paper gives only the extremes and the shape): the
first half rises linearly from 80 to 160 in ``ceil(n/2)`` steps, rounded to integers, and the
second half mirrors it.  For 18 blocks: 80, 90, ..., 160, 160, 150, ..., 80."""

INPUT_COLOURS = "adjacent"
"""Colour inputs derived from the features (our choice; not in the papers).  The networks of T25
see absolute magnitudes (Eq. 1, Tables 2-3), so every colour, where the temperature and the
metallicity information lies, is a difference of two inputs of ~2 mag spread that must cancel
to ~0.01 mag: a badly conditioned problem for gradient descent.  ``"adjacent"`` appends the
colours of adjacent survey bands from the dereddened absolute magnitudes (SDSS u-g, g-r, r-i,
i-z; SkyMapper u-v, v-g, g-r, r-i, i-z) and Gaia BP-RP, each with its presence flag (present if
both bands are); they are a fixed linear function of the T25 inputs, computed inside the model
(:class:`sos_vo.ml.scaling.InputScaler`), so the model still reads exactly the Table 2-3 features.
``"none"`` gives the network the T25 inputs only.  Measured on the synthetic sky
(docs/benchmarks.md, Sect. 1f): one 18-block network, Adam 3e-3, 40 epochs, ~20 000 rows, held-out MAD vs
truth 76 K / 0.049 / 0.138 dex without colours, 52 K / 0.049 / 0.104 dex with them."""

INPUT_COLOUR_CHOICES = ("adjacent", "none")
INPUT_SCALINGS = ("standard", "robust", "none")
LABEL_SCALINGS = ("offset", "physical", "standard")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "nadam")


def diamond_widths(n_blocks: int = N_BLOCKS, min_width: int = MIN_WIDTH,
                   max_width: int = MAX_WIDTH) -> tuple[int, ...]:
    """Widths of a diamond-shaped stack of ``n_blocks`` hidden layers.

    The first ``ceil(n_blocks / 2)`` widths rise linearly from ``min_width`` to ``max_width``
    (rounded to integers); the rest mirror them, so an even number of blocks has two widest
    layers in the middle and an odd number has one (see :data:`WIDTH_INTERPOLATION`).

    Parameters
    ----------
    n_blocks : int
        Number of hidden blocks (>= 1).
    min_width, max_width : int
        Widths at the extremes and in the middle.

    Returns
    -------
    tuple of int
    """
    if n_blocks < 1:
        raise ValueError(f"n_blocks must be >= 1, got {n_blocks}")
    if not 1 <= min_width <= max_width:
        raise ValueError(f"need 1 <= min_width <= max_width, got {min_width}, {max_width}")
    half = math.ceil(n_blocks / 2)
    if half == 1:
        rising = [max_width]
    else:
        rising = [round(min_width + (max_width - min_width) * i / (half - 1)) for i in range(half)]
    falling = rising[: n_blocks - half][::-1]
    return tuple(rising + falling)


@dataclass(frozen=True)
class NetworkOptions:
    """Architecture and training options of one SoS-ML network (T25 Sect. 4.1).

    Attributes
    ----------
    n_blocks, min_width, max_width : int
        Hidden blocks and diamond widths (T25: 18, 80..160..80); see :func:`diamond_widths`.
    leaky_relu_slope : float
        Negative slope of the Leaky ReLU (our choice, :data:`LEAKY_RELU_SLOPE`).
    dropout : float
        Dropout rate (slides: 0.02).
    batch_size, epochs, patience : int
        Mini-batch size, maximum epochs, early-stopping patience (our choices).
    lr_schedule : str
        One of :data:`LR_SCHEDULES` (see :data:`LR_SCHEDULE`); ``lr_plateau_factor`` and
        ``lr_plateau_patience`` parametrise ``"plateau"``.
    optimizer : str
        One of :data:`OPTIMIZERS`; ``learning_rate`` its rate (our choices).
    mae_fraction : float
        Fraction of ``epochs`` trained on MAE before switching to SMAPE (T25: 1/5).
    smape_eps : float
        epsilon of T25 Eq. (3).
    input_scaling, label_scaling : str
        See :data:`INPUT_SCALING` and :data:`LABEL_SCALING`.
    input_colours : str
        One of :data:`INPUT_COLOUR_CHOICES` (see :data:`INPUT_COLOURS`).
    batchnorm_momentum, batchnorm_epsilon : float
        Keras' BatchNormalization defaults, recorded so the numpy forward pass uses the same
        epsilon.
    """

    n_blocks: int = N_BLOCKS
    min_width: int = MIN_WIDTH
    max_width: int = MAX_WIDTH
    leaky_relu_slope: float = LEAKY_RELU_SLOPE
    dropout: float = DROPOUT_RATE
    batch_size: int = BATCH_SIZE
    epochs: int = EPOCHS
    patience: int = PATIENCE
    optimizer: str = OPTIMIZER
    learning_rate: float = LEARNING_RATE
    lr_plateau_factor: float = LR_PLATEAU_FACTOR
    lr_plateau_patience: int = LR_PLATEAU_PATIENCE
    lr_schedule: str = LR_SCHEDULE
    mae_fraction: float = MAE_FRACTION
    smape_eps: float = SMAPE_EPS
    input_scaling: str = INPUT_SCALING
    label_scaling: str = LABEL_SCALING
    input_colours: str = INPUT_COLOURS
    batchnorm_momentum: float = 0.99
    batchnorm_epsilon: float = 1e-3

    def __post_init__(self) -> None:
        if self.input_scaling not in INPUT_SCALINGS:
            raise ValueError(f"input_scaling {self.input_scaling!r}: expected one of {INPUT_SCALINGS}")
        if self.input_colours not in INPUT_COLOUR_CHOICES:
            raise ValueError(f"input_colours {self.input_colours!r}: expected one of "
                             f"{INPUT_COLOUR_CHOICES}")
        if self.label_scaling not in LABEL_SCALINGS:
            raise ValueError(f"label_scaling {self.label_scaling!r}: expected one of {LABEL_SCALINGS}")
        if self.lr_schedule not in LR_SCHEDULES:
            raise ValueError(f"lr_schedule {self.lr_schedule!r}: expected one of {LR_SCHEDULES}")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer {self.optimizer!r}: expected one of {OPTIMIZERS}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if not 0.0 <= self.mae_fraction <= 1.0:
            raise ValueError(f"mae_fraction must be in [0, 1], got {self.mae_fraction}")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 0:
            raise ValueError(
                f"need epochs >= 1, batch_size >= 1, patience >= 0; got {self.epochs}, "
                f"{self.batch_size}, {self.patience}"
            )
        diamond_widths(self.n_blocks, self.min_width, self.max_width)  # validates the shape

    @property
    def widths(self) -> tuple[int, ...]:
        """Hidden-layer widths (see :func:`diamond_widths`)."""
        return diamond_widths(self.n_blocks, self.min_width, self.max_width)

    @property
    def mae_epochs(self) -> int:
        """Epochs trained on MAE before the switch to SMAPE: ``round(mae_fraction * epochs)``."""
        return int(round(self.mae_fraction * self.epochs))

    def to_dict(self) -> dict[str, Any]:
        """Options as a JSON-ready dict."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkOptions:
        """Options from :meth:`to_dict` output; unknown keys raise a ValueError naming them.

        Options saved before ``input_colours`` existed (format 1 models) had no colour inputs,
        so a missing ``input_colours`` reads as ``"none"``, not as today's default."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown NetworkOptions field(s): {', '.join(unknown)}")
        return cls(**{"input_colours": "none", **data})
