"""KerasRegressor: continuous targets, one or several outputs."""

from __future__ import annotations

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score

from kerasbig.base import BaseKerasEstimator
from kerasbig.docstrings import document
from kerasbig.scikeras_api import scorer_score
from kerasbig.targets import RegressorTargetEncoder
from kerasbig.training import one_epoch_kwargs


@document
class KerasRegressor(RegressorMixin, BaseKerasEstimator):
    """A scikit-learn regressor around a Keras model.

    {parameters_and_attributes}

    Notes
    -----
    Predictions are shaped like the ``y`` given to ``fit``: (n,) for a 1-D
    target, (n, n_outputs) otherwise, in the network's float dtype (float32;
    float64 for a float64 network, ``precision="float64"``), as Keras gives
    them. ``score`` is R^2.

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

    scorer = staticmethod(r2_score)

    score = scorer_score

    def partial_fit(self, X, y, sample_weight=None, **kwargs):
        """Train for one epoch, building the model on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            A batch of training data, shaped as in the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Its targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.
        **kwargs
            Passed to ``keras.Model.fit`` for this call (over the ``fit__``
            parameters), except ``epochs`` and ``initial_epoch``: one call is
            one epoch.

        Returns
        -------
        self : object
            The estimator, trained one more epoch.
        """
        return self._fit(
            X,
            y,
            sample_weight=sample_weight,
            fit_kwargs=one_epoch_kwargs(kwargs),
            warm=True,
            epochs=1,
        )

    # The model families train on standardized targets (see
    # RegressorTargetEncoder); the general wrapper, like scikeras, does not.
    _standardize_targets = False

    @property
    def target_encoder(self) -> RegressorTargetEncoder:
        """Targets <-> model outputs
        (:class:`~kerasbig.targets.RegressorTargetEncoder`); a subclass may
        return its own transformer (:mod:`kerasbig.encoders`)."""
        return RegressorTargetEncoder(standardize=self._standardize_targets)

    def _default_loss(self, units: int):
        return "mean_squared_error"

    def _check_output_units(self, units: int, model) -> None:
        if units != self.n_outputs_:
            raise ValueError(
                f"The model has {units} output unit(s) but y has {self.n_outputs_} "
                f"column(s); give the model {self.n_outputs_} output units."
            )

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Data shaped as in ``fit``.
        **kwargs
            Passed to ``keras.Model.predict`` for this call (over the
            ``predict__`` parameters).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Shaped like the ``y`` given to ``fit``; float32, or float64 for a
            float64 network.
        """
        return super().predict(X, **kwargs)
