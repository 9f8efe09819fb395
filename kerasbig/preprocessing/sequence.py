"""Variable-length sequences to one padded array, as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted, validate_data

from kerasbig.models._inputs import (
    MAX_LENGTH,
    SIDES,
    TRUNCATION,
    as_sequences,
    is_sequence_list,
    pad_list,
    report_long,
)
from kerasbig.parameters import Interval, Options, validate_estimator_params


class SequencePadder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Pad (and cut) variable-length sequences to one length.

    A list of sequences, each ``(length,)`` or ``(length, channels)``, becomes
    an array ``(n, max_length_)`` (univariate) or ``(n, max_length_,
    channels)``. Arrays pass through (cut to ``max_length_`` if longer), and
    must have the number of columns seen in fit, as for any scikit-learn
    transformer; use a list for sequences of other lengths.

    The RNN estimators mask padding when ``mask_value`` equals ``value``:
    ``make_pipeline(SequencePadder(value=-1.0), RNNClassifier(mask_value=-1.0))``.

    Parameters
    ----------
    max_length : int, default=None
        Output length. None: the longest training sequence.
    value : float, default=0.0
        What shorter sequences are filled with.
    padding : {"post", "pre"}, default="post"
        Fill at the end or at the start.
    truncating : {"post", "pre"}, default="post"
        Cut longer sequences at the end or at the start.
    truncation : {"warn", "error", "silent"}, default="warn"
        Whether cutting a sequence longer than ``max_length_`` warns, raises
        ``ValueError`` or passes silently.

    Attributes
    ----------
    max_length_ : int
        The output length.
    n_channels_ : int
        Channels per step.
    n_features_in_ : int
        ``max_length_`` for a list; ``X.shape[1]`` for an array.

    Examples
    --------
    >>> from kerasbig.preprocessing import SequencePadder
    >>> padder = SequencePadder(value=-1.0, truncation="silent")
    >>> padder.fit([[1, 2, 3], [4]]).max_length_
    3
    >>> padder.transform([[5], [7, 8, 9, 10]])
    array([[ 5., -1., -1.],
           [ 7.,  8.,  9.]])
    >>> padder.set_params(truncation="error").transform([[7, 8, 9, 10]])
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: 1 sequence(s) of X are longer than the training length (3) ...
    >>> padder.get_feature_names_out()[:2].tolist()
    ['sequencepadder0', 'sequencepadder1']
    """

    def __init__(
        self,
        max_length: int | None = None,
        *,
        value: float = 0.0,
        padding: str = "post",
        truncating: str = "post",
        truncation: str = "warn",
    ):
        self.max_length = max_length
        self.value = value
        self.padding = padding
        self.truncating = truncating
        self.truncation = truncation

    _parameter_constraints = {
        "max_length": MAX_LENGTH,
        "value": [Interval(float)],
        "padding": [Options(*SIDES)],
        "truncating": [Options(*SIDES)],
        "truncation": TRUNCATION,
    }

    def _check_params(self) -> None:
        validate_estimator_params(self)

    def _padded(self, X, reset: bool) -> np.ndarray:
        listed = is_sequence_list(X)
        if listed:
            if not reset:
                channels = as_sequences(X[:1])[0][0].shape[1]
                if channels != self.n_channels_:
                    raise ValueError(
                        f"X has sequences with {channels} channel(s); "
                        f"SequencePadder was fitted on {self.n_channels_}."
                    )
            X = pad_list(
                X,
                self.max_length if reset else self.max_length_,
                value=self.value,
                padding=self.padding,
                truncating=self.truncating,
                truncation=self.truncation,
                limit="max_length" if reset else "the training length",
                min_width=0 if reset else self.n_features_in_,
            )
        X = validate_data(
            self, X, reset=reset, allow_nd=True, dtype=("float64", "float32")
        )
        if X.ndim > 3:
            raise ValueError(
                f"X has shape {X.shape}; expected (n, length) or (n, length, channels)."
            )
        if reset:
            self.max_length_ = self.max_length or X.shape[1]
            self.n_channels_ = 1 if X.ndim == 2 else X.shape[2]
        elif (1 if X.ndim == 2 else X.shape[2]) != self.n_channels_:
            raise ValueError(
                f"X has {1 if X.ndim == 2 else X.shape[2]} channel(s); "
                f"SequencePadder was fitted on {self.n_channels_}."
            )
        if X.shape[1] > self.max_length_:
            if not listed:  # a list was cut, and reported, sequence by sequence
                report_long([X.shape[1]], self.max_length_, self.truncation)
            if self.truncating == "post":
                X = X[:, : self.max_length_]
            else:
                X = X[:, -self.max_length_ :]
        return X

    def fit(self, X, y=None):
        """Learn the output length (the longest sequence, unless max_length)."""
        self._check_params()
        self._padded(X, reset=True)
        return self

    def transform(self, X) -> np.ndarray:
        """Padded (and cut) sequences, ``(n, max_length_[, channels])``."""
        check_is_fitted(self)
        self._check_params()
        return self._padded(X, reset=False)

    def fit_transform(self, X, y=None):
        self._check_params()
        return self._padded(X, reset=True)

    @property
    def _n_features_out(self) -> int:
        return self.max_length_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
