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


# dtypes X keeps as given (Keras casts each batch to the model's input dtype,
# so an uint8 image array is never copied whole as float32); any other dtype,
# object or bool, becomes the first: float32.
NUMERIC_DTYPES = (
    "float32",
    "float64",
    "float16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)


def check_same_data(estimator, X, y) -> None:
    """For a fit that continues (``partial_fit``, ``warm_start``): ``y`` keeps
    its number of dimensions, and neither ``X`` nor a classifier's labels
    change their kind of dtype (integers may become other integers, floats
    other floats; a float ``X`` after an integer one, or float labels after
    integer ones, are errors, as in scikeras).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fitted = SimpleNamespace(X_dtype_=np.dtype("int64"), y_dtype_=None,
    ...                          y_ndim_=None)
    >>> check_same_data(fitted, np.zeros((1, 1), dtype="uint8"), None)
    >>> check_same_data(fitted, np.zeros((1, 1)), None)
    Traceback (most recent call last):
    ...
    ValueError: Got X with dtype float64, but this SimpleNamespace was fitted \
on X with dtype int64; cast X to int64 (or refit).
    """
    owner = type(estimator).__name__
    if y is not None and estimator.y_ndim_ is not None:
        check_same_ndim("y", y.ndim, estimator.y_ndim_, owner)
    checks = [("X", X, estimator.X_dtype_)]
    if not getattr(estimator, "_y_numeric", False):  # labels, not values
        checks.append(("y", y, estimator.y_dtype_))
    for what, data, fitted in checks:
        dtype = getattr(data, "dtype", None)
        if dtype is None or fitted is None:
            continue
        if not np.can_cast(dtype, fitted, casting="same_kind"):
            raise ValueError(
                f"Got {what} with dtype {dtype}, but this {owner} was fitted on "
                f"{what} with dtype {fitted}; cast {what} to {fitted} (or refit)."
            )
