"""What scikeras users rely on beyond scikit-learn's contract.

:class:`ScikerasAPI` is the first base of
:class:`~kerasbig.base.BaseKerasEstimator`. It keeps code written for
scikeras working after a change of import:

* subclasses written as scikeras documents them, whose own ``__init__`` takes
  a few parameters and forwards ``**kwargs`` to the base (their parameters
  and the forwarded ones are all parameters: ``get_params``, ``clone``,
  ``set_params``), including routed defaults declared in the signature and
  never stored (``optimizer__learning_rate=0.001``);
* free and routed parameters read as attributes (``est.fit__batch_size``);
* ``current_epoch`` and ``__name__``;
* ``score`` through the class's ``scorer`` (accuracy for classifiers, R^2
  for regressors), which a subclass may replace, e.g. for multi-output targets;
* ``target_encoder`` / ``feature_encoder`` (:mod:`kerasbig.encoders`).
"""

from __future__ import annotations

from typing import Any

from sklearn.preprocessing import FunctionTransformer

from kerasbig import signatures


def scorer_score(self, X, y, sample_weight=None) -> float:
    """``scorer(y, predict(X))``: accuracy for classifiers, R^2 for regressors,
    unless a subclass sets another ``scorer`` (a staticmethod, as in scikeras).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features) or (n_samples, ...)
        Test data.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        True labels or targets.
    sample_weight : array-like of shape (n_samples,), default=None
        Per-sample weights.

    Returns
    -------
    score : float
    """
    weights = {} if sample_weight is None else {"sample_weight": sample_weight}
    return float(self.scorer(y, self.predict(X), **weights))


class ScikerasAPI:
    """scikeras's public attributes and subclassing pattern."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        """``cls.__init__``'s parameters, and those a user's subclass forwards."""
        return signatures.subclass_param_names(cls)

    def __getattr__(self, name: str) -> Any:
        """Free and routed parameters read as attributes."""
        return signatures.param_attribute(self, name)

    # The Keras arguments the estimator's parameters (and ``fit__``,
    # ``predict__``, ``compile__`` ones) may reach, as scikeras lists them.
    _fit_kwargs = frozenset(
        {
            "batch_size",
            "epochs",
            "verbose",
            "validation_split",
            "shuffle",
            "class_weight",
            "sample_weight",
            "initial_epoch",
            "validation_steps",
            "validation_batch_size",
            "validation_freq",
            "callbacks",
        }
    )
    _predict_kwargs = frozenset({"batch_size", "verbose", "steps", "callbacks"})
    _compile_kwargs = frozenset(
        {
            "optimizer",
            "loss",
            "metrics",
            "loss_weights",
            "weighted_metrics",
            "run_eagerly",
            "steps_per_execution",
            "jit_compile",
        }
    )

    @property
    def target_encoder(self):
        """The transformer between ``y`` and the model's targets and outputs
        (:mod:`kerasbig.encoders`); here the identity. A subclass may return
        its own."""
        return FunctionTransformer()

    @property
    def feature_encoder(self):
        """The transformer between ``X`` and the model's inputs; by default
        the identity. A subclass may return its own."""
        return FunctionTransformer()

    @property
    def current_epoch(self) -> int:
        """The number of epochs trained so far (0 before ``fit``)."""
        return len(self.__dict__.get("history_", {}).get("loss", ()))

    @property
    def __name__(self) -> str:
        return type(self).__name__
