"""Numeric input standardized inside the network (``standardize_inputs=True``).

A network's first layer is initialised for inputs of about unit scale. Real
series are often far from it: UCR Tecator's absorbances are 3.2 +- 0.6, with
the information in differences of a few hundredths; Covid3Month holds raw
counts up to 20,341. The families therefore standardize each channel with the
mean and variance of the training data (over every row and step, or pixel),
as scikit-learn's ``StandardScaler`` does per feature and as Keras' own
examples do with an adapted ``Normalization`` layer.

The statistics are the builders' ``input_statistics`` argument and become the
constructor arguments (``scale`` and ``offset`` per channel) of a
``keras.layers.Rescaling`` named ``"input_standardization"``, the network's
first layer (after the RNN's ``Masking``). Being config, not adapted weights,
they travel with the model through clone, pickle, save / load and export, and
``predict`` (or a served model) takes the user's raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from kerasbig import parameters as v
from kerasbig.models._head import output_dtype

LAYER_NAME = "input_standardization"


def channel_statistics(
    X: np.ndarray,
    mask_value: float | None = None,
    sample_weight: np.ndarray | None = None,
) -> tuple[list[float], list[float]]:
    """Each channel's (last axis') mean and variance over every other axis.

    With ``mask_value``, the steps whose channels all equal it (padding the
    network masks) are left out. With ``sample_weight`` (one per row), every
    step of a row weighs its row's weight: a weight of 2 counts as a repeated
    row, 0 as a removed one. The statistics are rounded to 12 significant
    digits, so that the order of the rows does not change them.

    Examples
    --------
    >>> X = np.array([[[1.0, 10.0], [3.0, 30.0]], [[0.0, 0.0], [0.0, 0.0]]])
    >>> channel_statistics(X)
    ([1.0, 10.0], [1.5, 150.0])
    >>> channel_statistics(X, mask_value=0.0)
    ([2.0, 20.0], [1.0, 100.0])
    >>> channel_statistics(X, sample_weight=[1.0, 0.0])
    ([2.0, 20.0], [1.0, 100.0])
    """
    X = np.asarray(X)
    values = X.reshape(-1, X.shape[-1])
    weights = None
    if sample_weight is not None:
        per_row = np.asarray(sample_weight, dtype="float64").reshape(-1)
        weights = np.repeat(per_row, values.shape[0] // max(1, X.shape[0]))
    kept = np.ones(values.shape[0], dtype=bool)
    if mask_value is not None:
        kept &= np.any(values != mask_value, axis=1)
    if weights is not None:
        kept &= weights > 0
    if kept.any() and not kept.all():
        values = values[kept]
        weights = None if weights is None else weights[kept]
    if weights is None or not np.any(weights > 0):
        mean = values.mean(axis=0, dtype="float64")
        variance = values.var(axis=0, dtype="float64")
    else:
        mean = np.average(values, axis=0, weights=weights)
        variance = np.average((values - mean) ** 2, axis=0, weights=weights)
    # Rounded to 12 significant digits: the order of summation (weights or
    # repeated rows, shuffled rows) then does not change the model.
    return _rounded(mean), _rounded(variance)


def heavy_tailed_share(
    X: np.ndarray,
    statistics: Sequence[Sequence[float]],
    sample_weight: np.ndarray | None = None,
    standard_deviations: float = 5.0,
) -> float:
    """The share of rows holding a value more than ``standard_deviations``
    from its channel's mean (``statistics``: each channel's mean and
    variance, as :func:`channel_statistics` gives them).

    Rows of ``sample_weight`` 0 are left out; a channel of variance 0 has no
    far values.

    Examples
    --------
    >>> X = np.zeros((100, 3, 1))
    >>> X[:2, 0, 0] = 50.0  # two rows hold a spike
    >>> heavy_tailed_share(X, channel_statistics(X))
    0.02
    """
    X = np.asarray(X)
    if sample_weight is not None:
        X = X[np.asarray(sample_weight).reshape(-1) > 0]
    if len(X) == 0:
        return 0.0
    mean, variance = (np.asarray(part, dtype="float64") for part in statistics)
    limit = standard_deviations * np.sqrt(np.maximum(variance, 0.0))
    constant = limit == 0
    far_rows = 0
    for start in range(0, len(X), 1024):  # bounded memory on large inputs
        chunk = X[start : start + 1024].astype("float64")
        chunk = chunk.reshape(len(chunk), -1, X.shape[-1])
        far = (np.abs(chunk - mean) > limit) & ~constant
        far_rows += int(np.count_nonzero(far.any(axis=(1, 2))))
    return far_rows / len(X)


def _rounded(values: np.ndarray) -> list[float]:
    return [float(f"{value:.12g}") for value in values]


def check_statistics(statistics: Any, channels: int | None) -> tuple | None:
    """``input_statistics`` checked: None, or (mean, variance), one finite
    float per channel each, the variances not negative."""
    if statistics is None:
        return None
    try:
        mean, variance = (np.asarray(part, dtype="float64") for part in statistics)
    except (TypeError, ValueError):
        valid = False
    else:
        valid = (
            mean.shape == variance.shape == (channels,)
            and bool(np.all(np.isfinite(mean)) and np.all(np.isfinite(variance)))
            and not np.any(variance < 0)
        )
    if not valid:
        raise v.InvalidParameterError(
            "input_statistics must be None or a pair (mean, variance) of "
            f"{channels} finite floats each (one per channel, the last axis of "
            f"input_shape), the variances >= 0; got {statistics!r}."
        )
    return mean.tolist(), variance.tolist()


def standardize(x: Any, statistics: Sequence | None, dtype: Any) -> Any:
    """``x`` standardized with ``statistics`` (checked by
    :func:`check_statistics`), or ``x`` itself when they are None.

    ``(x - mean) / std`` as a ``keras.layers.Rescaling`` (``x * scale +
    offset``, one ``scale`` and ``offset`` per channel) named
    ``"input_standardization"``: its constants are made inside the traced
    call, so they stay constants in an exported graph (``Normalization``'s,
    made when it is built, become extra inputs of an ONNX export). A channel
    of variance 0 keeps its scale (``std`` 1), as scikit-learn's
    ``StandardScaler`` does. The layer computes in float32 (float64 when the
    network does) even under mixed precision: a raw count's square
    overflows float16.
    """
    if statistics is None:
        return x
    mean, variance = (np.asarray(part, dtype="float64") for part in statistics)
    std = np.sqrt(variance)
    std[std == 0] = 1.0
    return keras.layers.Rescaling(
        scale=(1.0 / std).tolist(),
        offset=(-mean / std).tolist(),
        name=LAYER_NAME,
        dtype=output_dtype(dtype),
    )(x)
