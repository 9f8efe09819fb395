"""Raw text to padded WordPiece token ids, as a scikit-learn transformer."""

from __future__ import annotations

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from kerasbig.models._inputs import (
    MAX_LENGTH,
    TRUNCATION,
    as_texts,
    is_text,
)
from kerasbig.models.transformer.text import WordPieceEncoder
from kerasbig.parameters import Boolean, validate_estimator_params


class TextTokenizer(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Learn a WordPiece vocabulary in fit; turn texts into padded token ids.

    The same tokenisation as :class:`kerasbig.TransformerClassifier` on raw
    text, as a Pipeline step: each text becomes the ``[CLS]`` id followed by
    its WordPiece ids, padded with 0 to ``max_length_``. Follow it with a
    Transformer estimator with ``input_type="tokens"`` and the same
    ``vocabulary_size``, so that every id the tokenizer can produce fits the
    embedding. Needs tensorflow-text (on any Keras backend).

    Parameters
    ----------
    vocabulary_size : int, default=8000
        Largest vocabulary to learn; ids stay below it.
    max_length : int, default=None
        Output length. None: the longest training text, in pieces.
    lowercase : bool, default=True
        Lowercase before splitting into pieces.
    truncation : {"warn", "error", "silent"}, default="warn"
        Whether cutting a text longer than ``max_length_`` pieces warns,
        raises ``ValueError`` or passes silently.

    Attributes
    ----------
    encoder_ : WordPieceEncoder
    vocabulary_ : list of str
        The pieces; an id is an index into this list.
    vocabulary_size_ : int
        ``len(vocabulary_)``.
    max_length_ : int

    Examples
    --------
    >>> from kerasbig.preprocessing import TextTokenizer
    >>> texts = ["the cat sat", "a dog", "the dog sat"] * 10
    >>> tokenizer = TextTokenizer(vocabulary_size=50).fit(texts)
    >>> ids = tokenizer.transform(["the dog", "a cat"])
    >>> ids
    array([[ 2, 14, 16,  0],
           [ 2, 13, 17,  0]], dtype=int32)
    >>> [tokenizer.vocabulary_[i] for i in ids[0] if i]
    ['[CLS]', 'the', 'dog']

    Words seen only a few times are split into smaller pieces (down to
    characters): the vocabulary is learned from counts.
    """

    _parameter_constraints = {
        "max_length": MAX_LENGTH,
        "lowercase": [Boolean()],
        "truncation": TRUNCATION,
    }

    def __init__(
        self,
        vocabulary_size: int = 8000,
        *,
        max_length: int | None = None,
        lowercase: bool = True,
        truncation: str = "warn",
    ):
        self.vocabulary_size = vocabulary_size
        self.max_length = max_length
        self.lowercase = lowercase
        self.truncation = truncation

    def _texts(self, X) -> list[str]:
        if isinstance(X, (str, bytes)):
            raise ValueError("X is a single string; pass a list of texts.")
        if not is_text(X):
            raise ValueError(
                "TextTokenizer takes a 1-D list, array or pandas Series of strings; "
                f"got {type(X).__name__}."
            )
        return as_texts(X)

    def fit(self, X, y=None):
        """Learn the vocabulary and the output length from the texts ``X``."""
        self.fit_transform(X)
        return self

    def fit_transform(self, X, y=None) -> np.ndarray:
        validate_estimator_params(self)
        texts = self._texts(X)
        encoder = WordPieceEncoder(self.vocabulary_size, lowercase=self.lowercase)
        encoder.fit(texts)
        length = self.max_length or max(map(len, encoder.encode(texts)))
        ids = encoder.transform(texts, length, truncation=self.truncation)
        self.encoder_ = encoder
        self.max_length_ = length
        return ids

    def transform(self, X) -> np.ndarray:
        """Token ids, ``(n_samples, max_length_)`` int32, 0 being padding."""
        check_is_fitted(self)
        validate_estimator_params(self)
        return self.encoder_.transform(
            self._texts(X),
            self.max_length_,
            truncation=self.truncation,
            limit="max_length" if self.max_length else "the training length",
        )

    @property
    def vocabulary_(self) -> list[str]:
        check_is_fitted(self)
        return self.encoder_.vocabulary_

    @property
    def vocabulary_size_(self) -> int:
        check_is_fitted(self)
        return self.encoder_.size_

    @property
    def _n_features_out(self) -> int:
        return self.max_length_

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "encoder_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.one_d_array = True
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags
