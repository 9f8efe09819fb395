"""The estimator's input path, one for ``fit`` and ``predict``.

What the user passed becomes the array the network reads in three steps::

    _input_to_array (a subclass's hook: text, lists of sequences)
        -> validate_data (scikit-learn's checks, _x_checks)
        -> _array_for_model (a subclass's hook: the network's shape)

``fit`` records the shape and dtype it saw (``X_shape_``, ``X_dtype_``,
``y_dtype_``, ``y_ndim_``); ``predict`` and ``partial_fit`` are checked
against them. :class:`InputPath` is a mixin of
:class:`~kerasbig.base.BaseKerasEstimator`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.utils.validation import check_is_fitted

from kerasbig.validation import (
    NUMERIC_DTYPES,
    check_same_data,
    check_same_ndim,
    check_same_sample_shape,
    input_ndim,
    validate_input,
)


class InputPath:
    """``X`` (and ``y``) checked and shaped as the network reads them."""

    # validate_data's checks of X; sparse matrices: Keras batches them itself.
    # Numbers stay in their dtype (Keras casts each batch); others (lists,
    # objects, bools) become the first dtype: float32, float64 under
    # precision="float64" (_checks_of_X).
    _x_checks = dict(allow_nd=True, accept_sparse="csr", dtype=NUMERIC_DTYPES)
    _y_numeric = False  # KerasRegressor: y must be numeric

    def _checks_of_X(self) -> dict[str, Any]:
        """``_x_checks``, with float64 first under ``precision="float64"``, so
        that a list or an object array of numbers is not rounded to float32
        on its way to a float64 network."""
        checks = dict(self._x_checks)
        dtypes = checks.get("dtype")
        if self.precision == "float64" and isinstance(dtypes, tuple):
            checks["dtype"] = ("float64", *(d for d in dtypes if d != "float64"))
        return checks

    def _validate_X_y(self, X, y, reset: bool):
        """``X`` as the network reads it, and ``y`` as an array (or None)."""
        X, facts = self._input_to_array(X, reset)
        checks = self._checks_of_X()
        if y is None:
            # scikit-learn's standard "requires y" error for estimators that do.
            X = validate_input(self, X, y=None, reset=reset, **checks)
            y_dtype = y_ndim = None
        else:
            checks.update(multi_output=True, y_numeric=self._y_numeric)
            X, y = validate_input(self, X, y, reset=reset, **checks)
            if hasattr(y, "toarray"):
                y = y.toarray()
            y_dtype, y_ndim = y.dtype, y.ndim
        if reset:
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
            self.y_dtype_, self.y_ndim_ = y_dtype, y_ndim
        else:
            check_same_data(self, X, y)
        return self._array_for_model(X, reset, facts), y

    def _validate_X(self, X) -> np.ndarray:
        """``X`` at predict time, checked against what ``fit`` saw."""
        check_is_fitted(self)
        X, facts = self._input_to_array(X, reset=False)
        X = validate_input(self, X, reset=False, **self._checks_of_X())
        return self._array_for_model(X, False, facts)

    def _input_to_array(self, X, reset: bool) -> tuple[Any, dict]:
        """What the user passed -> an array-like ``validate_data`` can check.

        Also returns facts about the input that ``_array_for_model`` needs
        (e.g. that ``X`` was a list of sequences, now padded).
        """
        ndim = None if reset else input_ndim(X)  # lists too (no .ndim)
        if ndim is not None:
            check_same_ndim("X", ndim, len(self.X_shape_), type(self).__name__)
        return X, {}

    def _array_for_model(self, X: np.ndarray, reset: bool, facts: dict) -> np.ndarray:
        """The validated array -> what the network reads (after ``fit``: every
        axis of a sample as in ``fit``, not only the features)."""
        if not reset:
            check_same_sample_shape(X, self.X_shape_, type(self).__name__)
        return X
