"""KerasRegressor: continuous targets, one or several outputs."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.multiclass import type_of_target

from kerasbig.base import BaseKerasEstimator


class KerasRegressor(RegressorMixin, BaseKerasEstimator):
    """A scikit-learn regressor around a Keras model.

    Parameters
    ----------
    model : keras.Model or callable, default=None
        The model, or a function that builds it; see :class:`KerasClassifier`
        for the arguments the function may ask for (``meta`` and its keys,
        ``compile_kwargs``, hyperparameters).
    build_fn : callable, default=None
        Deprecated alias of ``model`` (scikeras).
    warm_start, random_state, optimizer, metrics, batch_size, \
validation_batch_size, verbose, callbacks, validation_split, shuffle, \
run_eagerly, epochs, distribution, precision
        As for :class:`KerasClassifier`.
    loss : str, class, instance, callable or None, default=None
        None or ``"auto"`` means mean squared error.
    **kwargs
        Free hyperparameters for the model-building function and routed
        ``<prefix>__<name>`` parameters.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    n_outputs_ : int
        Number of target columns.
    target_type_ : str
        ``type_of_target`` of the training ``y``.
    n_features_in_ : int
    feature_names_in_ : ndarray
        Only when ``X`` had string column names (pandas).

    Notes
    -----
    Predictions are float64, shaped like the ``y`` given to ``fit``: (n,) for
    a 1-D target, (n, n_outputs) otherwise. ``score`` is R^2.

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import load_diabetes
    >>> from kerasbig import KerasRegressor
    >>> def build(n_features_in_, n_outputs_):
    ...     return keras.Sequential([
    ...         keras.Input((n_features_in_,)),
    ...         keras.layers.Dense(8, activation="relu"),
    ...         keras.layers.Dense(n_outputs_),
    ...     ])
    >>> X, y = load_diabetes(return_X_y=True)
    >>> reg = KerasRegressor(build, optimizer="adam", epochs=2, random_state=0)
    >>> reg.fit(X, y).predict(X[:4]).shape
    (4,)
    """

    _y_numeric = True
    _target_attributes = ("target_type_", "n_outputs_")

    def partial_fit(self, X, y, sample_weight=None):
        """Train for one epoch, building the model on the first call.

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, warm=True, epochs=1)

    def _encode_targets(self, y, reset: bool, classes=None) -> np.ndarray:
        y = np.asarray(y, dtype=np.float32)
        if reset:
            self.target_type_ = type_of_target(y)
            self.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        n_outputs = 1 if y.ndim == 1 else y.shape[1]
        if n_outputs != self.n_outputs_:
            raise ValueError(
                f"y has {n_outputs} column(s); the regressor was fitted on "
                f"{self.n_outputs_}."
            )
        return y.reshape(len(y), self.n_outputs_)

    def _default_loss(self, units: int):
        return "mean_squared_error"

    def _check_output_units(self, units: int, model) -> None:
        if units != self.n_outputs_:
            raise ValueError(
                f"The model has {units} output unit(s) but y has {self.n_outputs_} "
                f"column(s); give the model {self.n_outputs_} output units."
            )

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted targets (float64), shaped like the ``y`` seen in ``fit``.

        ``kwargs`` go to ``keras.Model.predict`` for this call.
        """
        raw = self._predict_raw(X, **kwargs)
        return raw.ravel() if self.y_ndim_ == 1 else raw
