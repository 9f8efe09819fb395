"""The regressors' linear shortcut, started at a ridge regression.

On small regression sets a linear model of the raw values is hard to beat:
ridge regression scores R^2 0.958 on UCR Tecator (absorbance spectra) and
0.859 on yearly sunspots (the next year from the previous 12), where the
default CNN, RNN and Transformer scored 0.88-0.93 and 0.80-0.84 (3 seeds,
docs/benchmarks.md). Forecasting networks answer this with a linear part
beside the deep one: LSTNet's autoregressive "highway" (Lai et al. 2018),
the wide part of wide-and-deep models.

The builders' ``linear_shortcut=True`` adds that part: a ``Dense`` named
``"linear_shortcut"`` on the flattened standardized input, added to the
output. The regressors' ``linear_shortcut="auto"`` (their default) turns it
on for numeric input of a known shape with at most :data:`MAX_VALUES` values
per row, and :func:`start_at_ridge` starts the network at a ridge regression
of the (standardized) targets: the shortcut holds the ridge coefficients
(the penalty chosen by generalized cross-validation, training rows weighed
by ``sample_weight``) and stays frozen, and the output layer of the deep part
starts at zero. Training then fits only what ridge misses, with the
optimizer's weight decay (:data:`WEIGHT_DECAY`, through the estimator's
``_optimizer_defaults``; the user's ``optimizer__weight_decay`` wins) drawing
the deep part back towards zero, the network towards ridge. Measured (seed 0):
Tecator 0.83-0.89 -> 0.97-0.98 for the three families; the 3-seed table is in
docs/benchmarks.md.

A classifier's ``"auto"`` is off; its explicit ``True`` adds the shortcut
starting at zero, trained with the rest (no ridge start).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from kerasbig.models._head import HEAD_NAME, SHORTCUT_NAME
from kerasbig.signatures import keyword

PARAMETER = keyword("linear_shortcut", "auto", 'Literal["auto"] | bool')

# "auto": on for a regressor reading at most this many values per row.
MAX_VALUES = 4096
# The ridge start reads at most this many values (rows x values per row); from
# a larger training set, a random sample of its rows (NumPy's global generator,
# which the estimator seeds with random_state). Its SVD then takes seconds.
RIDGE_VALUES = 5_000_000
# The penalties to choose from (those of benchmarks/accuracy.py's RidgeCV).
ALPHAS = np.logspace(-3, 3, 13)
# From the ridge start, the optimizer's (decoupled) weight decay: it draws the
# deep part back towards zero, so the network towards ridge, while the frozen
# shortcut keeps its coefficients. Measured, 3 seeds (docs/benchmarks.md): 0.5
# lifts the CNN on Covid3Month from R^2 -0.023 to 0.064 and the RNN on sunspots
# from 0.774 to 0.813; 2 did worse on sunspots (RNN 0.790 / 0.715, seeds 0-1).
WEIGHT_DECAY = 0.5


def resolve(
    value: Any, *, regressor: bool, numeric: bool, shape: Sequence[int | None]
) -> bool:
    """``linear_shortcut`` for this fit: ``"auto"`` is True for a regressor
    whose input is numeric, unmasked and of a known shape of at most
    :data:`MAX_VALUES` values; an explicit bool is kept.

    Examples
    --------
    >>> resolve("auto", regressor=True, numeric=True, shape=(12, 1))
    True
    >>> resolve("auto", regressor=False, numeric=True, shape=(12, 1))
    False
    >>> resolve("auto", regressor=True, numeric=True, shape=(64, 64, 3))
    False
    >>> resolve(False, regressor=True, numeric=True, shape=(12, 1))
    False
    """
    if value != "auto":
        return bool(value)
    known = all(size is not None for size in shape)
    return regressor and numeric and known and int(np.prod(shape)) <= MAX_VALUES


def ridge_coefficients(
    X: np.ndarray,
    y: np.ndarray,
    statistics: tuple[Sequence[float], Sequence[float]] | None,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Kernel ``(values, outputs)`` and bias ``(outputs,)`` of a ridge
    regression of ``y`` on the rows of ``X``, flattened after the
    standardization the network applies (``statistics``: each channel's mean
    and variance, or None).

    The penalty is the one of :data:`ALPHAS` with the least generalized
    cross-validation error (Golub, Heath and Wahba 1979), one for all
    outputs. Unlike leave-one-out (scikit-learn's ``RidgeCV``), it counts a
    row of weight 2 exactly as two copies of the row, as the rest of the
    estimators' fit does.

    Examples
    --------
    >>> X = np.arange(20.0).reshape(10, 2, 1)
    >>> kernel, bias = ridge_coefficients(X, X[:, 0, 0] + X[:, 1, 0], None)
    >>> kernel.shape, bias.shape
    ((2, 1), (1,))
    >>> y = X[:, 0, 0] ** 2
    >>> weighted = ridge_coefficients(X, y, None, [2.0] + [1.0] * 9)
    >>> rows = [0, *range(10)]  # row 0 twice
    >>> repeated = ridge_coefficients(X[rows], y[rows], None)
    >>> bool(np.allclose(weighted[0], repeated[0]))
    True
    """
    X = np.asarray(X, dtype="float64")
    if statistics is not None:
        mean, variance = (np.asarray(s, dtype="float64") for s in statistics)
        X = (X - mean) / np.sqrt(np.where(variance > 0, variance, 1.0))
    X = X.reshape(len(X), -1)
    y = np.asarray(y, dtype="float64").reshape(len(X), -1)
    weights = np.ones(len(X))
    if sample_weight is not None:
        weights = np.asarray(sample_weight, dtype="float64").reshape(-1)
    kept = weights > 0
    X, y, weights = X[kept], y[kept], weights[kept]
    if X.size > RIDGE_VALUES:
        rows = np.sort(np.random.permutation(len(X))[: RIDGE_VALUES // X.shape[1]])
        X, y, weights = X[rows], y[rows], weights[rows]
    n = weights.sum()
    x_mean = weights @ X / n
    y_mean = weights @ y / n
    root = np.sqrt(weights)[:, None]
    U, singular, Vt = np.linalg.svd(root * (X - x_mean), full_matrices=False)
    projected = U.T @ (root * (y - y_mean))  # (components, outputs)
    total = float(np.sum((root * (y - y_mean)) ** 2))
    squares = singular**2
    best = (np.inf, ALPHAS[-1])
    for alpha in ALPHAS:
        shrink = squares / (squares + alpha)
        # Residual sum of squares: the part of y outside X's span, plus
        # what the shrinkage leaves of the part inside it.
        explained = np.sum(((1 - (1 - shrink) ** 2)[:, None]) * projected**2)
        residual = max(total - float(explained), 0.0)
        freedom = float(shrink.sum()) + 1.0  # the intercept counts one
        if freedom >= n:
            continue
        error = (residual / n) / (1 - freedom / n) ** 2
        if error < best[0]:
            best = (error, alpha)
    alpha = best[1]
    kernel = Vt.T @ ((singular / (squares + alpha))[:, None] * projected)
    return kernel, y_mean - x_mean @ kernel


def start_at_ridge(
    model: keras.Model,
    X: np.ndarray,
    y: np.ndarray,
    statistics: tuple[Sequence[float], Sequence[float]] | None,
    sample_weight: np.ndarray | None = None,
) -> None:
    """Set ``model``'s ``"linear_shortcut"`` to the ridge regression of ``y``
    on ``X`` (:func:`ridge_coefficients`) and freeze it, and zero its output
    layer ``"head"``: the untrained network predicts what ridge does."""
    shortcut = model.get_layer(SHORTCUT_NAME)
    kernel, bias = ridge_coefficients(X, y, statistics, sample_weight)
    dtype = keras.backend.standardize_dtype(shortcut.kernel.dtype)
    shortcut.set_weights([kernel.astype(dtype), bias.astype(dtype)])
    shortcut.trainable = False
    head = model.get_layer(HEAD_NAME)
    head.set_weights([np.zeros_like(w) for w in head.get_weights()])
