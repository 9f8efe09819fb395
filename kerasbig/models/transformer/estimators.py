"""TransformerClassifier and TransformerRegressor: :func:`build_transformer` as
scikit-learn estimators, for numeric sequences, token ids and raw text."""

from __future__ import annotations

import numpy as np
from sklearn.utils.validation import (
    check_consistent_length,
    check_is_fitted,
    validate_data,
)

from kerasbig.classifier import KerasClassifier
from kerasbig.models._family import FamilyMixin
from kerasbig.models._inputs import (
    as_sequences,
    as_texts,
    check_max_length,
    is_sequence_list,
    is_text,
    pad,
    report_long,
)
from kerasbig.models.transformer.builder import build_transformer
from kerasbig.models.transformer.text import WordPieceEncoder
from kerasbig.regressor import KerasRegressor

INPUT_TYPES = ("auto", "numeric", "tokens", "text")
DEFAULT_TEXT_VOCABULARY = 2000


class _TransformerMixin(FamilyMixin):
    """Three kinds of input: numeric sequences, token ids and raw text.

    ``input_type_`` records which one ``fit`` saw; ``predict`` takes the same.
    Token ids and text are padded with id 0, which the network masks.
    """

    _builder = staticmethod(build_transformer)
    _ranks = (2, 3)

    def _check_params(self) -> None:
        super()._check_params()
        if not (isinstance(self.input_type, str) and self.input_type in INPUT_TYPES):
            raise ValueError(
                f"input_type={self.input_type!r} is invalid; expected one of "
                f"{', '.join(repr(t) for t in INPUT_TYPES)}."
            )

    # ------------------------------------------------------------------
    # Which kind of input
    # ------------------------------------------------------------------
    def _input_kind(self, X, reset: bool) -> str:
        text = isinstance(X, (str, bytes)) or is_text(X)
        if isinstance(X, (str, bytes)):
            raise ValueError(
                "X is a single string; pass a list (or array, or Series) of texts."
            )
        name = type(self).__name__
        if not reset:
            kind = self.input_type_
            if kind == "text" and not text:
                raise ValueError(
                    f"{name} was fitted on raw text; X is not a 1-D collection "
                    "of strings."
                )
            if kind != "text" and text:
                raise ValueError(
                    f"{name} was fitted on {kind} input; X is text (strings)."
                )
            return kind
        kind = self.input_type
        if kind == "auto":
            kind = "text" if text else "numeric"
        if kind == "text" and not text:
            raise ValueError(
                "input_type='text' needs a 1-D list, array or Series of strings."
            )
        if kind != "text" and text:
            raise ValueError(
                f"input_type={kind!r}, but X is text (strings); use "
                "input_type='auto' or 'text' to learn from raw text."
            )
        if kind == "numeric" and self.vocabulary_size is not None:
            raise ValueError(
                f"vocabulary_size={self.vocabulary_size!r} applies to token ids and "
                "text; X is numeric. Pass input_type='tokens' if X holds token ids."
            )
        return kind

    def _validate_X_y(self, X, y, reset: bool):
        if y is None:
            return super()._validate_X_y(X, y, reset)
        kind = self._input_kind(X, reset)
        if reset:
            self.input_type_ = kind
        if kind == "numeric":
            if reset:
                self.__dict__.pop("encoder_", None)
                self.__dict__.pop("vocabulary_size_", None)
            return super()._validate_X_y(X, y, reset)
        if kind == "tokens":
            ids, y = self._token_ids(X, y, reset)
        else:
            ids = self._text_ids(X, reset)
            y = validate_data(
                self,
                X="no_validation",
                y=y,
                multi_output=True,
                y_numeric=self._y_numeric,
            )
            check_consistent_length(ids, y)
            if hasattr(y, "toarray"):
                y = y.toarray()
            if reset:
                for attr in ("n_features_in_", "feature_names_in_"):
                    self.__dict__.pop(attr, None)
                self.X_shape_ = (len(ids),)
                self.X_dtype_ = np.dtype(object)
        if reset:
            self.input_shape_ = ids.shape[1:]
        return ids, y

    def _validate_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        kind = self._input_kind(X, reset=False)
        if kind == "numeric":
            return super()._validate_X(X)
        if kind == "tokens":
            return self._token_ids(X, None, reset=False)[0]
        return self._text_ids(X, reset=False)

    # ------------------------------------------------------------------
    # Text and token ids
    # ------------------------------------------------------------------
    def _text_ids(self, X, reset: bool) -> np.ndarray:
        """Raw text -> (n, length) int32 ids, learning the vocabulary in fit."""
        texts = as_texts(X)
        if reset:
            size = self.vocabulary_size
            encoder = WordPieceEncoder(
                DEFAULT_TEXT_VOCABULARY if size is None else size,
                lowercase=self.lowercase,
            ).fit(texts)
            encoded = encoder.encode(texts)
            length = check_max_length(self.max_length) or max(map(len, encoded))
            self.encoder_ = encoder
            self.vocabulary_size_ = encoder.size_
            limit = "max_length"
        else:
            encoded = self.encoder_.encode(texts)
            length, limit = self.input_shape_[0], "the training length"
        if not encoded:
            return np.zeros((0, length), dtype=np.int32)
        rows = [np.asarray(ids, dtype=np.int32)[:, None] for ids in encoded]
        return pad(
            rows,
            length,
            truncation=self.truncation,
            dtype=np.int32,
            what="text",
            limit=limit,
        )[:, :, 0]

    def _token_ids(self, X, y, reset: bool):
        """Token-id sequences (list of lists or 2-D array) -> (n, length) int32."""
        name = type(self).__name__
        if reset:
            length, limit = check_max_length(self.max_length), "max_length"
        else:
            length, limit = self.input_shape_[0], "the training length"
        if is_sequence_list(X):
            rows, univariate = as_sequences(X, dtype=np.float64)
            if not univariate:
                raise ValueError("Token-id sequences must be 1-D lists of integers.")
            X = pad(
                rows,
                length or max(map(len, rows)),
                truncation=self.truncation,
                dtype=np.float64,
                what="sequence",
                limit=limit,
            )[:, :, 0]
            if not reset and self.n_features_in_ > X.shape[1]:
                X = np.pad(X, [(0, 0), (0, self.n_features_in_ - X.shape[1])])
        if y is None:
            X = validate_data(self, X, reset=False, dtype=np.float64)
        else:
            X, y = validate_data(
                self,
                X,
                y,
                reset=reset,
                dtype=np.float64,
                multi_output=True,
                y_numeric=self._y_numeric,
            )
            if hasattr(y, "toarray"):
                y = y.toarray()
        if np.any(X < 0) or np.any(X != np.round(X)):
            raise ValueError("Token ids must be non-negative integers (0 is padding).")
        if reset:
            self.X_shape_, self.X_dtype_ = X.shape, X.dtype
        if length is not None and X.shape[1] > length:
            report_long([X.shape[1]], length, self.truncation, limit=limit)
            X = X[:, :length]
        ids = X.astype(np.int32)
        empty = np.flatnonzero(~ids.any(axis=1))
        if empty.size:
            raise ValueError(
                f"Row(s) {empty[:5].tolist()} of X hold no tokens (every id is 0, "
                "the padding id): a Transformer needs at least one token per row."
            )
        top = int(ids.max())
        if reset:
            size = self.vocabulary_size
            if size is not None and top >= size:
                raise ValueError(
                    f"X holds token id {top}, but vocabulary_size={size}: ids must "
                    "be below vocabulary_size."
                )
            self.vocabulary_size_ = top + 1 if size is None else size
            self.__dict__.pop("encoder_", None)
        elif top >= self.vocabulary_size_:
            raise ValueError(
                f"X holds token id {top}, but {name} was fitted with "
                f"vocabulary_size_={self.vocabulary_size_}. Set vocabulary_size to "
                "the size of your tokenizer's vocabulary (e.g. TextTokenizer's "
                "vocabulary_size_) so that every id it can produce fits."
            )
        return ids, y

    def _architecture(self):
        arch = super()._architecture()
        if self.input_type_ == "numeric":
            arch["vocabulary_size"] = None
        else:
            arch["vocabulary_size"] = self.vocabulary_size_
            arch["max_length"] = self.input_shape_[0]
        return arch


class TransformerClassifier(_TransformerMixin, KerasClassifier):
    """A Transformer encoder classifier for sequences, token ids or raw text.

    The network is :func:`kerasbig.models.build_transformer` (keras-hub
    ``TransformerEncoder`` blocks); its output layer fits the target (one
    sigmoid unit for binary labels, one softmax unit per class, one sigmoid unit
    per label for multilabel targets).

    Input ``X``, chosen by ``input_type`` (``"auto"``: text if ``X`` holds
    strings, numbers otherwise):

    * numbers: ``(n_samples, length)`` univariate sequences,
      ``(n_samples, length, channels)``, or a list of variable-length sequences
      (padded with 0 to the longest, not masked). A Dense projection and a
      learned position embedding feed the encoder.
    * text: a list, 1-D array or pandas Series of strings. ``fit`` learns a
      WordPiece vocabulary of at most ``vocabulary_size`` pieces from the
      training texts (keras-hub's ``compute_word_piece_vocabulary``) and
      ``predict`` takes raw strings. Each text becomes ``[CLS]`` plus its
      pieces, padded with id 0 (masked) to ``max_length``. Needs
      tensorflow-text, on any Keras backend.
    * ``input_type="tokens"``: integer token ids, ``(n_samples, length)`` or a
      list of variable-length lists, 0 being padding (masked).

    Parameters
    ----------
    vocabulary_size : int, default=None
        Text: the largest vocabulary to learn (None: 2000). Token ids: the
        number of ids (None: the largest training id + 1). Must stay None for
        numeric input.
    num_layers : int, default=2
        Encoder blocks.
    num_heads : int, default=4
        Attention heads per block; must divide ``model_dim``.
    model_dim : int, default=64
        Width of the embeddings and of every block.
    ff_dim : int, default=128
        Width of the feed-forward layer in each block.
    dropout : float, default=0.1
        Dropout after the embedding, in each block and after hidden layers.
    max_length : int, default=None
        Length texts, token lists and sequences are padded to; longer ones are
        cut. None: the longest training one (the attention cost grows with its
        square, so set it for long documents).
    pooling : {"mean", "first"}, default="mean"
        Mean over the positions that are not padding, or the first position
        (``[CLS]`` for text).
    dense_units : int or tuple of int, default=()
        Hidden ReLU Dense layers before the output.
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of the layers (the output layer computes in float32).
    name : str, default=None
        Name of the Keras model.
    input_type : {"auto", "numeric", "tokens", "text"}, default="auto"
        What ``X`` holds; see above.
    lowercase : bool, default=True
        Text only: lowercase before splitting into WordPiece pieces.
    truncation : {"warn", "error", "silent"}, default="warn"
        What happens to texts and sequences longer than ``max_length`` (or, in
        predict, than the training length): cut with a ``UserWarning``, raise
        ``ValueError``, or cut silently.
    optimizer : str, class or keras.optimizers.Optimizer, default="adam"
        Built afresh at every fit; set its arguments with routed parameters,
        e.g. ``optimizer__learning_rate=1e-3``.
    loss : default=None
        None chooses from the target (binary or sparse categorical
        cross-entropy).
    metrics : list, default=None
    epochs : int, default=30
    batch_size : int, default=None
        Samples per gradient step (Keras' 32 when None); also predict's.
    validation_batch_size : int, default=None
    validation_split : float, default=0.0
        Fraction of the training data (the last rows) Keras holds out.
    shuffle : bool, default=True
    early_stopping : bool, default=False
        Stop when the validation loss (the training loss without
        ``validation_split``) has not improved for ``patience`` epochs, and
        keep the best weights.
    patience : int, default=10
    callbacks : list, default=None
    class_weight : dict, "balanced" or None, default=None
    warm_start : bool, default=False
    random_state : int, RandomState or None, default=None
    verbose : int, default=0
    run_eagerly : bool, default=False
    distribution : str, strategy, distribution, callable or None, default=None
        Where to train (see :class:`kerasbig.KerasClassifier`).
    precision : {"float32", "mixed_bfloat16", "mixed_float16", "auto"} or None
        The dtype policy of the network (see :class:`kerasbig.KerasClassifier`).
    **kwargs
        Routed parameters ``<prefix>__<name>`` for ``optimizer``, ``loss``,
        ``metrics``, ``callbacks``, ``compile``, ``fit`` and ``predict``.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    classes_ : ndarray
    n_classes_ : int
    target_type_ : str
    n_outputs_ : int
    input_type_ : str
        ``"numeric"``, ``"tokens"`` or ``"text"``.
    input_shape_ : tuple
        One sample as the network reads it: ``(length,)`` token ids or
        ``(length, channels)`` numbers.
    encoder_ : WordPieceEncoder
        Text only: the learned vocabulary (``encoder_.vocabulary_``).
    vocabulary_size_ : int
        Text and token ids: the number of ids the embedding covers.
    n_features_in_ : int
        Numbers and token ids only: ``X.shape[1]`` as validated.

    See Also
    --------
    kerasbig.models.build_transformer : the network, every argument explained.
    kerasbig.preprocessing.TextTokenizer : the same tokenisation as a Pipeline
        step (then use ``input_type="tokens"``).

    Examples
    --------
    >>> from kerasbig import TransformerClassifier
    >>> texts = ["a good film", "great acting", "a dull plot", "boring and long"] * 8
    >>> labels = [1, 1, 0, 0] * 8
    >>> clf = TransformerClassifier(model_dim=16, num_heads=2, num_layers=1,
    ...                             epochs=3, random_state=0)
    >>> clf.fit(texts, labels).predict(["a great film", "so dull"]).shape
    (2,)
    >>> clf.input_type_, clf.vocabulary_size_ <= 2000
    ('text', True)
    """

    def __init__(
        self,
        *,
        vocabulary_size=None,
        num_layers=2,
        num_heads=4,
        model_dim=64,
        ff_dim=128,
        dropout=0.1,
        max_length=None,
        pooling="mean",
        dense_units=(),
        dtype=None,
        name=None,
        input_type="auto",
        lowercase=True,
        truncation="warn",
        optimizer="adam",
        loss=None,
        metrics=None,
        epochs=30,
        batch_size=None,
        validation_batch_size=None,
        validation_split=0.0,
        shuffle=True,
        early_stopping=False,
        patience=10,
        callbacks=None,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        distribution=None,
        precision=None,
        **kwargs,
    ):
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.model_dim = model_dim
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.max_length = max_length
        self.pooling = pooling
        self.dense_units = dense_units
        self.dtype = dtype
        self.name = name
        self.input_type = input_type
        self.lowercase = lowercase
        self.truncation = truncation
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.patience = patience
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.run_eagerly = run_eagerly
        self.distribution = distribution
        self.precision = precision
        self._kwargs = dict(kwargs)


class TransformerRegressor(_TransformerMixin, KerasRegressor):
    """A Transformer encoder regressor for sequences, token ids or raw text.

    The network is :func:`kerasbig.models.build_transformer` with one linear
    output unit per target column; the loss defaults to mean squared error.
    Input ``X`` as for :class:`TransformerClassifier`: numeric sequences, raw
    text (a WordPiece vocabulary is learned in ``fit``), or token ids with
    ``input_type="tokens"``.

    Parameters
    ----------
    vocabulary_size, num_layers, num_heads, model_dim, ff_dim, dropout, \
max_length, pooling, dense_units, dtype, name
        The network, as for :class:`TransformerClassifier` (see
        :func:`kerasbig.models.build_transformer`).
    input_type, lowercase, truncation
        The input, as for :class:`TransformerClassifier`.
    optimizer, loss, metrics, epochs, batch_size, validation_batch_size, \
validation_split, shuffle, early_stopping, patience, callbacks, warm_start, \
random_state, verbose, run_eagerly, distribution, precision, **kwargs
        Training, as for :class:`TransformerClassifier`; ``loss=None`` means
        mean squared error.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    n_outputs_ : int
    target_type_ : str
    input_type_ : str
    input_shape_ : tuple
    encoder_ : WordPieceEncoder
        Text only.
    vocabulary_size_ : int
        Text and token ids only.
    n_features_in_ : int
        Numbers and token ids only.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import TransformerRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 12))  # 64 univariate series of length 12
    >>> y = X[:, -3:].mean(axis=1)
    >>> reg = TransformerRegressor(model_dim=8, num_heads=2, num_layers=1,
    ...                            epochs=2, random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    def __init__(
        self,
        *,
        vocabulary_size=None,
        num_layers=2,
        num_heads=4,
        model_dim=64,
        ff_dim=128,
        dropout=0.1,
        max_length=None,
        pooling="mean",
        dense_units=(),
        dtype=None,
        name=None,
        input_type="auto",
        lowercase=True,
        truncation="warn",
        optimizer="adam",
        loss=None,
        metrics=None,
        epochs=30,
        batch_size=None,
        validation_batch_size=None,
        validation_split=0.0,
        shuffle=True,
        early_stopping=False,
        patience=10,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        distribution=None,
        precision=None,
        **kwargs,
    ):
        self.vocabulary_size = vocabulary_size
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.model_dim = model_dim
        self.ff_dim = ff_dim
        self.dropout = dropout
        self.max_length = max_length
        self.pooling = pooling
        self.dense_units = dense_units
        self.dtype = dtype
        self.name = name
        self.input_type = input_type
        self.lowercase = lowercase
        self.truncation = truncation
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.patience = patience
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.run_eagerly = run_eagerly
        self.distribution = distribution
        self.precision = precision
        self._kwargs = dict(kwargs)
