"""KerasClassifier: class labels in, class labels and probabilities out."""

from __future__ import annotations

import keras
import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils.class_weight import compute_class_weight

from kerasbig import compiling, encoders
from kerasbig.base import BaseKerasEstimator
from kerasbig.docstrings import document
from kerasbig.parameters import NONE, Options, Satisfies
from kerasbig.scikeras_api import scorer_score
from kerasbig.signatures import keyword, make_init, parameters_of
from kerasbig.targets import MULTILABEL as _MULTILABEL
from kerasbig.targets import ONEHOT as _ONEHOT
from kerasbig.targets import ClassifierTargetEncoder
from kerasbig.training import one_epoch_kwargs
from kerasbig.validation import check_score_labels


def _is_one_hot_loss(loss) -> bool:
    """True for losses that compare probability rows with one-hot rows."""
    name = compiling.loss_name(loss) or ""
    return name.startswith("categorical") or name == "kl_divergence"


@document
class KerasClassifier(ClassifierMixin, BaseKerasEstimator):
    """A scikit-learn classifier around a Keras model.

    {parameters_and_attributes}

    Examples
    --------
    >>> import keras
    >>> from sklearn.datasets import load_iris
    >>> from kerasbig import KerasClassifier
    >>> def build(n_features_in_, n_classes_, hidden=16):
    ...     return keras.Sequential([
    ...         keras.Input((n_features_in_,)),
    ...         keras.layers.Dense(hidden, activation="relu"),
    ...         keras.layers.Dense(n_classes_, activation="softmax"),
    ...     ])
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = KerasClassifier(build, model__hidden=8, epochs=3, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> clf.predict_proba(X[:3]).shape
    (3, 3)
    """

    _target_attributes = ("classes_", "n_classes_", "target_type_", "n_outputs_")
    _parameter_constraints = {
        "class_weight": [
            NONE,
            Options("balanced"),
            Satisfies(lambda v: isinstance(v, dict), "a dict {class_label: weight}"),
        ],
    }

    __init__ = make_init(
        [
            *parameters_of(BaseKerasEstimator.__init__),
            keyword("class_weight", None, "dict | str | None"),
        ]
    )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    scorer = staticmethod(accuracy_score)

    def score(self, X, y, sample_weight=None) -> float:
        """``scorer(y, predict(X))``: accuracy unless a subclass sets another
        ``scorer``.

        Labels never seen in ``fit`` count as wrong predictions and warn
        (``UserWarning``); labels of another kind than ``classes_`` (strings
        against numbers) raise ``ValueError``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Test data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights.

        Returns
        -------
        score : float
        """
        if not encoders.custom_targets(self):
            check_score_labels(self, y)
        return scorer_score(self, X, y, sample_weight)

    def partial_fit(self, X, y, classes=None, sample_weight=None, **kwargs):
        """Train for one epoch, building the model on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            A batch of training data, shaped as in the first call.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Its labels (or indicator columns).
        classes : array-like, default=None
            All the classes ``y`` may hold over every call; needed on the
            first call when that batch does not show them all.
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
            classes=classes,
        )

    # ------------------------------------------------------------------
    # Targets
    # ------------------------------------------------------------------
    @property
    def target_encoder(self) -> ClassifierTargetEncoder:
        """Labels <-> class indices
        (:class:`~kerasbig.targets.ClassifierTargetEncoder`); a subclass may
        return its own transformer (:mod:`kerasbig.encoders`)."""
        return ClassifierTargetEncoder()

    def _sample_weight(self, sample_weight, y_encoded):
        if self.class_weight is not None:
            if self.target_type_ == _MULTILABEL:
                raise ValueError(
                    "class_weight is not supported for multilabel targets; use "
                    "sample_weight."
                )
            per_class = self._class_weights(y_encoded)
            weight = per_class[y_encoded]
            sample_weight = weight if sample_weight is None else sample_weight * weight
        if (
            sample_weight is not None
            and self.target_type_ != _MULTILABEL
            and self.n_classes_ > 1
        ):
            present = np.unique(y_encoded[sample_weight > 0])
            if len(present) < 2:
                raise ValueError(
                    "sample_weight gives positive weight to only one class "
                    f"({self.classes_[present].tolist()}); a classifier needs "
                    "at least 2 classes with positive weight."
                )
        return sample_weight

    def _class_weights(self, y_index) -> np.ndarray:
        n = self.n_classes_
        if isinstance(self.class_weight, str) and self.class_weight == "balanced":
            present = np.unique(y_index)
            weights = np.ones(n)
            weights[present] = compute_class_weight(
                "balanced", classes=present, y=y_index
            )
            return weights
        if not isinstance(self.class_weight, dict):
            raise ValueError(
                f"class_weight={self.class_weight!r} is invalid; expected None, "
                "'balanced' or a dict {class_label: weight}."
            )
        weights = np.ones(n)
        labels = self.classes_.tolist()
        for label, weight in self.class_weight.items():
            if label not in labels:
                raise ValueError(
                    f"class_weight has a weight for {label!r}, which is not one "
                    f"of the classes {labels}."
                )
            weights[labels.index(label)] = weight
        return weights

    def _default_loss(self, units: int):
        if self.target_type_ == _MULTILABEL and units == self.n_outputs_:
            return "binary_crossentropy"
        if self.target_type_ == "binary" and units == 1:
            return "binary_crossentropy"
        if units == self.n_classes_:
            if self.target_type_ == _ONEHOT:
                return "categorical_crossentropy"
            return "sparse_categorical_crossentropy"
        raise ValueError(
            f"Cannot infer a loss: the model has {units} output unit(s) but y is "
            f"{self.target_type_} with {self.n_classes_} classes. Give the model "
            f"{self.n_classes_} output units (or 1 sigmoid unit for binary "
            "targets), or set loss=."
        )

    def _check_output_units(self, units: int, model) -> None:
        expected = (
            {1, max(self.n_classes_, 2)}
            if self.target_type_ == "binary"
            else {self.n_classes_}
        )
        if units not in expected:
            raise ValueError(
                f"The model has {units} output unit(s); y is {self.target_type_} "
                f"with {self.n_classes_} classes, which needs "
                f"{' or '.join(map(str, sorted(expected)))}."
            )

    def _targets_for_model(self, y_encoded, model, units: int):
        if self.target_type_ == _MULTILABEL:
            return y_encoded
        if units == 1:
            return y_encoded.astype(np.float32).reshape(-1, 1)
        if _is_one_hot_loss(model.loss):
            return keras.utils.to_categorical(y_encoded, self.n_classes_)
        return y_encoded

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def predict_proba(self, X, **kwargs) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Data shaped as in ``fit``.
        **kwargs
            Passed to ``keras.Model.predict`` for this call (over the
            ``predict__`` parameters), e.g. ``batch_size=256``.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes), float64
            Rows sum to 1 (for multilabel targets, one independent
            probability per label). A single sigmoid output gives two
            columns, ``[1 - p, p]``.
        """
        if encoders.custom_targets(self):
            outputs = self._predict_outputs(X, **kwargs)
            return self.target_encoder_.inverse_transform(outputs, return_proba=True)
        out = np.asarray(self._predict_outputs(X, **kwargs), dtype=np.float64)
        raw = out.reshape(out.shape[0], -1)
        if self.n_classes_ == 1:  # the one class seen in fit is certain
            return np.ones((raw.shape[0], 1))
        if getattr(self._model.loss, "from_logits", False):
            activation = (
                keras.activations.sigmoid
                if raw.shape[1] == 1 or self.target_type_ == _MULTILABEL
                else keras.activations.softmax
            )
            raw = np.asarray(activation(raw), dtype=np.float64)
        if self.target_type_ == _MULTILABEL:
            return raw
        if raw.shape[1] == 1:
            positive = np.clip(raw[:, 0], 0.0, 1.0)
            return np.column_stack([1.0 - positive, positive])
        raw = np.clip(raw, 0.0, None)
        return raw / raw.sum(axis=1, keepdims=True)

    def predict(self, X, **kwargs) -> np.ndarray:
        """Predicted labels, in the format of the ``y`` given to ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Data shaped as in ``fit``.
        **kwargs
            Passed to ``keras.Model.predict`` for this call.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Labels from ``classes_``; 0/1 indicator rows for multilabel and
            one-hot targets.
        """
        if encoders.custom_targets(self):
            return super().predict(X, **kwargs)
        proba = self.predict_proba(X, **kwargs)
        return self.target_encoder_.inverse_transform(proba)
