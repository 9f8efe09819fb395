"""How long a model family trains when ``epochs`` or ``batch_size`` is None.

A fixed number of epochs is a fixed number of *passes*; on a small training
set (tens of series, as many UCR sets are) 30 epochs are a few dozen
optimizer steps, and the network has not learned. The families therefore
scale the training to the data, as time-series practice does (Fawaz et al.
2019 train FCN with batches of ``min(n / 10, 16)`` for up to 2,000 epochs):

* ``batch_size=None``: ``n_rows // 10``, at least 4 and at most 32;
* ``epochs=None``: enough epochs for about 3,000 optimizer steps, at least 30
  and at most 1,000, with the learning rate halved when the training loss
  stops improving (``ReduceLROnPlateau``).

Explicit values always win; with them the estimator adds no schedule. The
same data and seed give the same model.
"""

from __future__ import annotations

import math

import keras

TARGET_STEPS = 3000
MIN_EPOCHS, MAX_EPOCHS = 30, 1000
MIN_BATCH, MAX_BATCH = 4, 32


def batch_size_for(n_rows: int) -> int:
    """The batch size for ``n_rows`` training rows.

    Examples
    --------
    >>> [batch_size_for(n) for n in (20, 50, 200, 5000)]
    [4, 5, 20, 32]
    """
    return int(min(MAX_BATCH, max(MIN_BATCH, n_rows // 10)))


def epochs_for(n_rows: int, batch_size: int) -> int:
    """Epochs for about ``TARGET_STEPS`` steps, within [30, 1000].

    Examples
    --------
    >>> epochs_for(36, 4), epochs_for(1347, 32), epochs_for(100_000, 32)
    (334, 70, 30)
    """
    steps_per_epoch = max(1, math.ceil(n_rows / batch_size))
    wanted = math.ceil(TARGET_STEPS / steps_per_epoch)
    return int(min(MAX_EPOCHS, max(MIN_EPOCHS, wanted)))


def resolve(fit_args: dict, n_rows: int) -> dict:
    """``fit_args`` with a None ``batch_size`` / ``epochs`` chosen from the data."""
    fit_args = dict(fit_args)
    if fit_args.get("batch_size") is None:
        fit_args["batch_size"] = batch_size_for(n_rows)
    if fit_args.get("epochs") is None:
        epochs = epochs_for(n_rows, fit_args["batch_size"])
        fit_args["epochs"] = epochs
        schedule = keras.callbacks.ReduceLROnPlateau(
            monitor="loss", factor=0.5, patience=max(5, epochs // 20), min_lr=1e-5
        )
        fit_args["callbacks"] = [*fit_args.get("callbacks", []), schedule]
    return fit_args
