"""kerasbig's own target encoders: labels or values in, what the model trains on out.

Every estimator fits a target encoder in ``fit`` and keeps it as
``target_encoder_`` (scikeras's data-transformer interface; see
:mod:`kerasbig.encoders`). These are the defaults:

* :class:`ClassifierTargetEncoder` (``KerasClassifier``): labels -> class
  indices, or 0/1 indicator columns for one-hot and multilabel targets;
  probabilities -> labels on the way back;
* :class:`RegressorTargetEncoder` (``KerasRegressor``): targets -> a float32
  ``(n_samples, n_outputs)`` array; the network's output -> predictions shaped
  like the ``y`` given to ``fit``.

Both derive from :class:`TargetEncoder`. For these, the estimator also adapts
the model to the target (it chooses the loss, checks the output units, turns
indices into one-hot rows for a categorical loss); any other encoder's output
is exactly what the model trains on.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted

ONEHOT = "multiclass-onehot"
MULTILABEL = "multilabel-indicator"


def _columns(y) -> int:
    return 1 if y.ndim == 1 else y.shape[1]


class TargetEncoder(TransformerMixin, BaseEstimator):
    """Base of kerasbig's own target encoders (see the module docstring)."""

    def get_metadata(self) -> dict:
        """Fitted facts the estimator sets as attributes and offers as ``meta``."""
        check_is_fitted(self)
        return {name: getattr(self, name) for name in self._metadata}

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "target_type_")


class ClassifierTargetEncoder(TargetEncoder):
    """Class labels <-> class indices (or 0/1 indicator columns).

    Parameters
    ----------
    classes : array-like, default=None
        Every class ``y`` may hold. By default, the classes found in the
        ``y`` given to ``fit`` (``partial_fit(..., classes=)`` sets this when
        the first batch does not show them all).

    Attributes
    ----------
    classes_ : ndarray
        The class labels (indicator targets: ``0 .. n_columns - 1``).
    n_classes_ : int
    target_type_ : str
        ``"binary"``, ``"multiclass"``, ``"multiclass-onehot"`` (indicator
        rows with exactly one 1) or ``"multilabel-indicator"``.
    n_outputs_ : int
        1, or the number of labels of a multilabel target.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig.targets import ClassifierTargetEncoder
    >>> enc = ClassifierTargetEncoder().fit(np.array(["b", "a", "b"]))
    >>> enc.transform(np.array(["a", "b"]))
    array([0, 1])
    >>> enc.inverse_transform(np.array([[0.9, 0.1], [0.2, 0.8]]))
    array(['a', 'b'], dtype='<U1')
    """

    _metadata = ("classes_", "n_classes_", "target_type_", "n_outputs_")

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, y, *args):
        y = _ravel_column(np.asarray(y))
        check_classification_targets(y)
        target_type = type_of_target(y)
        if target_type == MULTILABEL:
            if np.all(y.sum(axis=1) == 1):
                target_type = ONEHOT
            classes = np.arange(y.shape[1])
        elif target_type in ("binary", "multiclass"):
            classes = np.unique(y if self.classes is None else self.classes)
            if len(classes) > 2:  # classes= may name more than y shows
                target_type = "multiclass"
        else:
            raise ValueError(
                f"The classifier does not support targets of type {target_type!r}; "
                "expected binary, multiclass, one-hot or multilabel-indicator "
                "targets (for several multiclass columns, give the estimator a "
                "target_encoder and a model with one output per column)."
            )
        self.classes_, self.target_type_ = classes, target_type
        self.n_classes_ = len(classes)
        self.n_outputs_ = y.shape[1] if target_type == MULTILABEL else 1
        return self

    @property
    def indicators(self) -> bool:
        """True when ``y`` is given as 0/1 indicator columns."""
        return self.target_type_ in (ONEHOT, MULTILABEL)

    def transform(self, y) -> np.ndarray:
        """Class indices ``(n,)``, or a float32 0/1 matrix ``(n, k)`` for
        multilabel targets."""
        check_is_fitted(self)
        y = _ravel_column(np.asarray(y))
        if self.indicators:
            if _columns(y) != self.n_classes_:
                raise ValueError(
                    f"y has {_columns(y)} column(s), but the classifier's target "
                    f"encoder was fitted on {self.n_classes_} indicator columns "
                    "(the number of target features cannot change between fits)."
                )
            indicators = np.asarray(y, dtype=np.float32)
            if self.target_type_ == ONEHOT:
                return indicators.argmax(axis=1)
            return indicators
        if y.ndim != 1:
            raise ValueError(
                f"y has {_columns(y)} columns, but the classifier's target encoder "
                "was fitted on 1 column of labels (the number of target features "
                "cannot change between fits)."
            )
        index = np.clip(np.searchsorted(self.classes_, y), 0, self.n_classes_ - 1)
        unseen = self.classes_[index] != y
        if np.any(unseen):
            raise ValueError(
                f"Found unknown categories {np.unique(y[unseen]).tolist()} in y: "
                f"the classes are {self.classes_.tolist()} (pass classes= to the "
                "first partial_fit call to declare them all)."
            )
        return index

    def inverse_transform(self, proba, return_proba: bool = False) -> np.ndarray:
        """Labels (in the form of the fitted ``y``) from class probabilities
        ``(n, n_classes)``; the probabilities themselves with ``return_proba``."""
        check_is_fitted(self)
        if return_proba:
            return proba
        if self.target_type_ == MULTILABEL:
            return (proba > 0.5).astype(int)
        index = proba.argmax(axis=1)
        if self.target_type_ == ONEHOT:
            return np.eye(self.n_classes_, dtype=int)[index]
        return self.classes_[index]


class RegressorTargetEncoder(TargetEncoder):
    """Targets <-> a float32 ``(n_samples, n_outputs)`` array.

    Parameters
    ----------
    standardize : bool, default=False
        Train on each target column minus its mean, divided by its standard
        deviation (a constant column is only centred), and map the network's
        outputs back. The model families do: a network's output layer starts
        near 0 with unit scale, so targets far from that (a fat content in
        percent, counts in thousands) otherwise take most of the training to
        reach. The loss and metrics in ``history_`` are then on that scale.

    Attributes
    ----------
    target_type_ : str
        ``type_of_target`` of the fitted ``y``.
    n_outputs_ : int
        The number of target columns.
    mean_, scale_ : ndarray of shape (n_outputs,)
        With ``standardize``: each column's mean and standard deviation.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig.targets import RegressorTargetEncoder
    >>> enc = RegressorTargetEncoder().fit(np.array([1.5, 2.0]))
    >>> enc.transform(np.array([3.0])).shape
    (1, 1)
    >>> enc.inverse_transform(np.array([[3.0]], dtype="float32"))
    array([3.], dtype=float32)
    >>> enc = RegressorTargetEncoder(standardize=True).fit(np.array([10.0, 30.0]))
    >>> enc.transform(np.array([10.0, 20.0])).ravel().tolist()
    [-1.0, 0.0]
    >>> enc.inverse_transform(np.array([[1.0]], dtype="float32"))
    array([30.], dtype=float32)
    """

    _metadata = ("target_type_", "n_outputs_")

    def __init__(self, standardize: bool = False):
        self.standardize = standardize

    def fit(self, y, *args, sample_weight=None):
        """Learn the target's shape (and with ``standardize``, its mean and
        standard deviation, weighted by ``sample_weight`` so that a weight of
        2 counts a row twice)."""
        y = np.asarray(y)
        self.target_type_ = type_of_target(y)
        self.n_outputs_ = _columns(y)
        self._one_dimensional = y.ndim == 1
        if self.standardize:
            columns = y.reshape(len(y), -1).astype(np.float64)
            self.mean_ = np.average(columns, axis=0, weights=sample_weight)
            variance = np.average(
                (columns - self.mean_) ** 2, axis=0, weights=sample_weight
            )
            scale = np.sqrt(variance)
            # float32, as the targets are: weighting and repeating rows then
            # give bit-identical statistics (their float64 sums differ in the
            # last bits), hence identical training targets
            self.mean_ = self.mean_.astype(np.float32)
            self.scale_ = np.where(scale > 0, scale, 1.0).astype(np.float32)
        return self

    def transform(self, y) -> np.ndarray:
        check_is_fitted(self)
        y = np.asarray(y, dtype=np.float32)
        if _columns(y) != self.n_outputs_:
            raise ValueError(
                f"Detected ``y`` to have {_columns(y)} column(s), but the "
                f"regressor was fitted on y with {self.n_outputs_}."
            )
        y = y.reshape(len(y), self.n_outputs_)
        if self.standardize:
            y = ((y - self.mean_) / self.scale_).astype(np.float32)
        return y

    def inverse_transform(self, outputs) -> np.ndarray:
        """Predictions shaped like the fitted ``y``, in the network's float dtype
        (float32, or float64 for a float64 network; half precision is raised
        to float32)."""
        check_is_fitted(self)
        outputs = np.asarray(outputs)
        if outputs.dtype not in (np.float32, np.float64):
            outputs = outputs.astype(np.float32)
        outputs = outputs.reshape(len(outputs), -1)
        if self.standardize:
            outputs = (outputs * self.scale_ + self.mean_).astype(outputs.dtype)
        return outputs.ravel() if self._one_dimensional else outputs


def _ravel_column(y: np.ndarray) -> np.ndarray:
    """A one-column 2-D ``y`` as 1-D labels."""
    return y.ravel() if y.ndim == 2 and y.shape[1] == 1 else y
