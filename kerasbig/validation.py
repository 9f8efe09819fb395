"""Checks of the data before a fit or a prediction, beyond ``validate_data``."""

from __future__ import annotations

import numbers

import numpy as np


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Validate ``sample_weight`` and return it as float64, or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight)
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"sample_weight must be numeric; got {type(sample_weight).__name__}: {err}"
        ) from None
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sw.shape}; expected ({n_samples},), one "
            "weight per sample."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("sample_weight contains negative values.")
    if sw.sum() <= 0:
        raise ValueError(
            "sample_weight sums to zero (only zeros were passed in sample_weight): "
            "at least one sample needs a positive weight."
        )
    return sw


def check_same_ndim(what: str, ndim: int, fitted_ndim: int, owner: str) -> None:
    """Raise when ``X`` or ``y`` has another number of dimensions than in ``fit``.

    Examples
    --------
    >>> check_same_ndim("X", 2, 3, "KerasRegressor")
    Traceback (most recent call last):
    ...
    ValueError: X has 2 dimensions, but this KerasRegressor was fitted with 3 \
dimensions in X. Reshape your data to the training shape.
    """
    if ndim != fitted_ndim:
        raise ValueError(
            f"{what} has {ndim} dimensions, but this {owner} was fitted with "
            f"{fitted_ndim} dimensions in {what}. Reshape your data to the "
            "training shape."
        )
