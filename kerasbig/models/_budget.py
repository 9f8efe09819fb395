"""How long a model family trains when ``epochs`` or ``batch_size`` is None.

A fixed number of epochs is a fixed number of *passes*; on a small training
set (tens of series, as many UCR sets are) 30 epochs are a few dozen
optimizer steps, and the network has not learned. The families therefore
scale the training to the data, as time-series practice does (Fawaz et al.
2019 train FCN with batches of ``min(n / 10, 16)`` for up to 2,000 epochs):

* ``batch_size=None``: ``n_rows // 10``, at least 4 and at most 32;
* ``epochs=None``: enough epochs for about 3,000 optimizer steps, at least 30
  and at most 1,000, with the learning rate halved when the training loss
  stops improving (``ReduceLROnPlateau``). For a series the CNN reads, also
  at most ``CNN_WORK / (n_rows * positions)`` epochs, but never fewer than 30
  (``positions``: the length after ``downsample``'s averaging): a
  convolution's cost grows with the rows times the positions, and a long
  series, or one with a few hundred rows, would otherwise train for minutes
  on a CPU. The Transformer on a numeric series likewise trains for at most
  ``TRANSFORMER_WORK / (n_rows * positions)`` epochs (``positions``: its
  patches): each epoch costs about 25 microseconds per row and patch on 2
  cores, and UCR PLAID (537 rows of 64 patches) ran past 150 s at the 3,000
  steps.

Text learns differently: a few thousand texts overfit a Transformer within a
handful of epochs, and each step costs the square of the text length. With
raw text in (:func:`resolve_text`):

* ``batch_size=None``: 32;
* ``epochs=None``: at most 30 epochs, stopped when the loss on a held-out
  tenth of the training texts (:func:`holdout_rows`, drawn with the
  estimator's seed) has not improved for 3 epochs, the best epoch's weights
  restored. Fewer than 20 texts: no hold-out, the training loss decides.

Explicit values always win; with them the estimator adds no schedule. The
same data and seed give the same model.
"""

from __future__ import annotations

import math

import keras
import numpy as np

TARGET_STEPS = 3000
CNN_WORK = 3_000_000  # rows x positions x epochs: about a minute on 2 cores
TRANSFORMER_WORK = 4_000_000  # rows x patches x epochs: about 100 s on 2 cores
MIN_EPOCHS, MAX_EPOCHS = 30, 1000
MIN_BATCH, MAX_BATCH = 4, 32
TEXT_BATCH, TEXT_MAX_EPOCHS, TEXT_PATIENCE = 32, 30, 3
HOLDOUT_SHARE, MIN_HOLDOUT_ROWS = 0.1, 20


def batch_size_for(n_rows: int) -> int:
    """The batch size for ``n_rows`` training rows.

    Examples
    --------
    >>> [batch_size_for(n) for n in (20, 50, 200, 5000)]
    [4, 5, 20, 32]
    """
    return int(min(MAX_BATCH, max(MIN_BATCH, n_rows // 10)))


def epochs_for(
    n_rows: int,
    batch_size: int,
    positions: int | None = None,
    work: int = CNN_WORK,
) -> int:
    """Epochs for about ``TARGET_STEPS`` steps, within [30, 1000]; with
    ``positions`` (of a series the CNN or the Transformer reads), at most
    ``work / (n_rows * positions)`` of them (but 30).

    Examples
    --------
    >>> epochs_for(36, 4), epochs_for(1347, 32), epochs_for(100_000, 32)
    (334, 70, 30)
    >>> epochs_for(100, 10, positions=244), epochs_for(537, 32, positions=224)
    (122, 30)
    >>> epochs_for(172, 17, positions=100), epochs_for(50, 5, positions=150)
    (174, 300)
    """
    steps_per_epoch = max(1, math.ceil(n_rows / batch_size))
    wanted = math.ceil(TARGET_STEPS / steps_per_epoch)
    if positions:
        wanted = min(wanted, work // (n_rows * positions))
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, wanted)))


def resolve(
    fit_args: dict,
    n_rows: int,
    positions: int | None = None,
    work: int = CNN_WORK,
) -> dict:
    """``fit_args`` with a None ``batch_size`` / ``epochs`` chosen from the data
    (``positions`` and ``work``: see :func:`epochs_for`)."""
    fit_args = dict(fit_args)
    if fit_args.get("batch_size") is None:
        fit_args["batch_size"] = batch_size_for(n_rows)
    if fit_args.get("epochs") is None:
        epochs = epochs_for(n_rows, fit_args["batch_size"], positions, work)
        fit_args["epochs"] = epochs
        schedule = keras.callbacks.ReduceLROnPlateau(
            monitor="loss", factor=0.5, patience=max(5, epochs // 20), min_lr=1e-5
        )
        fit_args["callbacks"] = [*fit_args.get("callbacks", []), schedule]
    return fit_args


def holdout_rows(n_rows: int) -> np.ndarray | None:
    """Rows held out to stop text training: a random tenth, or None.

    Drawn from NumPy's global generator, which the estimator has seeded with
    ``random_state`` (:func:`kerasbig.seeding.seeded`). None below
    ``MIN_HOLDOUT_ROWS`` rows.

    Examples
    --------
    >>> np.random.seed(0)
    >>> len(holdout_rows(100)), holdout_rows(19)
    (10, None)
    """
    if n_rows < MIN_HOLDOUT_ROWS:
        return None
    size = max(1, int(round(n_rows * HOLDOUT_SHARE)))
    return np.sort(np.random.permutation(n_rows)[:size])


def resolve_text(fit_args: dict, *, stop_early: bool) -> dict:
    """``fit_args`` with a None ``batch_size`` / ``epochs`` chosen for text.

    ``stop_early``: add the early stop on the validation loss (or, without
    validation data, on the training loss); False when the user's own
    ``early_stopping=True`` already adds one.
    """
    fit_args = dict(fit_args)
    if fit_args.get("batch_size") is None:
        fit_args["batch_size"] = TEXT_BATCH
    if fit_args.get("epochs") is None:
        fit_args["epochs"] = TEXT_MAX_EPOCHS
        if stop_early:
            validating = bool(fit_args.get("validation_split")) or (
                fit_args.get("validation_data") is not None
            )
            stop = keras.callbacks.EarlyStopping(
                monitor="val_loss" if validating else "loss",
                patience=TEXT_PATIENCE,
                restore_best_weights=True,
            )
            fit_args["callbacks"] = [*fit_args.get("callbacks", []), stop]
    return fit_args
