"""TransformerClassifier and TransformerRegressor: :func:`build_transformer` as
scikit-learn estimators, for numeric sequences, token ids and raw text."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasbig.classifier import KerasClassifier
from kerasbig.docstrings import document
from kerasbig.models import _budget, backbones
from kerasbig.models._family import BackboneMixin, family_init
from kerasbig.models._inputs import (
    as_texts,
    default_text_length,
    is_sequence_list,
    is_text,
    pad,
    pad_list,
    report_long,
)
from kerasbig.models._patches import patch_positions
from kerasbig.models.transformer.builder import build_transformer
from kerasbig.models.transformer.text import WordPieceEncoder
from kerasbig.parameters import NONE, Boolean, Interval, Options
from kerasbig.regressor import KerasRegressor
from kerasbig.routing import route
from kerasbig.signatures import keyword

INPUT_TYPES = ("auto", "numeric", "tokens", "text")
DEFAULT_TEXT_VOCABULARY = 8000


class _TransformerMixin(BackboneMixin):
    """Three kinds of input: numeric sequences, token ids and raw text.

    ``input_type_`` records which one ``fit`` saw; ``predict`` takes the same.
    Token ids and text are padded with id 0, which the network masks. All
    three go through the base's one validation path: ``_input_to_array``
    tokenises text and pads lists of token ids, ``validate_data`` checks the
    array, ``_array_for_model`` checks the ids against the vocabulary.

    With ``backbone``, raw text only: the preset's preprocessor (its
    tokenizer, ``preprocessor_``) turns texts into its features (token ids,
    padding mask, ...), stacked as ``(n, length, n_features)`` integers.
    """

    _builder = staticmethod(build_transformer)
    _ranks = (2, 3)
    _parameter_constraints = {
        "input_type": [Options(*INPUT_TYPES)],
        "lowercase": [Boolean()],
        "vocabulary_size": [NONE, Interval(int, 1)],
    }
    _input_parameters = (
        keyword("input_type", "auto", "str"),
        keyword("lowercase", True, "bool"),
        *BackboneMixin._backbone_parameters,
    )
    _kept_with_backbone = (*BackboneMixin._kept_with_backbone, "max_length")
    _also_replaced_by_backbone = ("lowercase",)
    _parameter_docs = {
        **BackboneMixin._parameter_docs,
        "batch_size": (
            "int or None",
            "Samples per gradient step (-1: all rows in one batch); also "
            "``predict``'s. None: chosen from the data: 32 for raw text; for "
            "numbers and token ids a tenth of the training rows, at least 4 and "
            "at most 32 (``models/_budget.py``).",
        ),
        "epochs": (
            "int or None",
            "Passes over the training data. None: chosen from the data. Raw "
            "text: at most 30, stopped once the loss on a held-out tenth of the "
            "training texts (drawn with ``random_state``; none under 20 texts) "
            "has not improved for 3 epochs, the best epoch's weights restored; "
            "the network then learns from the other nine tenths. Numbers and "
            "token ids: enough for about 3,000 optimizer steps (at least 30 "
            "epochs, at most 1,000), the learning rate halved when the training "
            "loss stops improving; for numbers, also at most ``4,000,000 / (rows "
            "x patches)`` (but 30).",
        ),
        "vocabulary_size": (
            "int or None",
            "Text: the largest vocabulary to learn (None: 8000). Token ids: the "
            "number of ids (None: the largest training id + 1). Must stay None "
            "for numeric input.",
        ),
        "max_length": (
            "int or None",
            "Length texts, token lists and sequences are padded to; longer ones "
            "are cut. None: for text, the 95th percentile of the training "
            "texts' lengths in WordPiece pieces, rounded up to a multiple of 8, "
            "at most 128 (the few longer texts are cut silently); for token "
            "lists and sequences, the longest training one. Attention costs "
            "the square of the length. With ``backbone``: the sequence length "
            "of the preset's preprocessor (special tokens included); None: the "
            "same rule on its tokens, at most the preset's sequence length.",
        ),
        "input_type": (
            '{"auto", "numeric", "tokens", "text"}',
            'What ``X`` holds (``"auto"``: text if ``X`` holds strings, numbers '
            "otherwise).",
        ),
        "lowercase": (
            "bool",
            "Text only: lowercase before splitting into WordPiece pieces. With "
            "``backbone``, the preset's tokenizer decides (keep the default).",
        ),
    }
    _input_attributes = (
        "input_type_",
        "input_shape_",
        "encoder_",
        "vocabulary_size_",
        "preprocessor_",
        "backbone_inputs_",
        "n_features_in_",
        "input_statistics_",
        "linear_shortcut_",
    )
    _attribute_docs = {
        "input_type_": ("str", '``"numeric"``, ``"tokens"`` or ``"text"``.'),
        "input_shape_": (
            "tuple",
            "One sample as the network reads it: ``(length,)`` token ids or "
            "``(length, channels)`` numbers.",
        ),
        "encoder_": (
            "WordPieceEncoder",
            "Text only: the learned vocabulary (``encoder_.vocabulary_``).",
        ),
        "vocabulary_size_": (
            "int",
            "Text and token ids: the number of ids the embedding covers.",
        ),
        "preprocessor_": (
            "keras_hub.models.TextClassifierPreprocessor",
            "With ``backbone``: the preset's preprocessor, its "
            "``sequence_length`` set to the training length.",
        ),
        "backbone_inputs_": (
            "tuple of str",
            "With ``backbone``: the preprocessor's outputs, in the order they "
            "are stacked on the last axis of the model's input.",
        ),
        "n_features_in_": (
            "int",
            "Numbers and token ids only: ``X.shape[1]`` as validated.",
        ),
    }

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
        if self.backbone is not None and kind != "text":
            raise ValueError(
                f"backbone={self.backbone!r} reads raw text: X must be a 1-D list, "
                f"array or Series of strings, got {kind} input."
            )
        if kind == "numeric" and self.vocabulary_size is not None:
            raise ValueError(
                f"vocabulary_size={self.vocabulary_size!r} applies to token ids and "
                "text; X is numeric. Pass input_type='tokens' if X holds token ids."
            )
        return kind

    def _input_to_array(self, X, reset: bool):
        kind = self._input_kind(X, reset)
        if reset:
            self.input_type_ = kind
            if self.backbone is None:
                for attr in ("preprocessor_", "backbone_inputs_"):
                    self.__dict__.pop(attr, None)
        if kind == "numeric":
            if reset:
                self.__dict__.pop("encoder_", None)
                self.__dict__.pop("vocabulary_size_", None)
            X, facts = super()._input_to_array(X, reset)
            return X, {**facts, "kind": kind}
        if kind == "text" and self._on_pretrained(reset):
            return self._backbone_features(X, reset), {"kind": "pretrained"}
        if kind == "text":
            return self._text_ids(X, reset), {"kind": kind, "listed": True}
        listed = is_sequence_list(X)
        if listed:
            X = pad_list(
                X,
                self.max_length if reset else self.input_shape_[0],
                truncation=self.truncation,
                limit="max_length" if reset else "the training length",
                min_width=0 if reset else self.n_features_in_,
            )
            if X.ndim != 2:
                raise ValueError("Token-id sequences must be 1-D lists of integers.")
        return X, {"kind": kind, "listed": listed}

    def _array_for_model(self, X, reset: bool, facts: dict) -> np.ndarray:
        if facts["kind"] == "numeric":
            return super()._array_for_model(X, reset, facts)
        if facts["kind"] in ("text", "pretrained") and reset:
            # Texts have no columns: the ids' width is the model's business.
            for attr in ("n_features_in_", "feature_names_in_"):
                self.__dict__.pop(attr, None)
            self.X_shape_, self.X_dtype_ = (len(X),), np.dtype(object)
        if facts["kind"] == "pretrained":
            features = X.astype(np.int32)
            if reset:
                self.input_shape_ = features.shape[1:]
            return features
        ids = self._checked_ids(X, reset, facts["listed"])
        if reset:
            self.input_shape_ = ids.shape[1:]
        return ids

    # ------------------------------------------------------------------
    # Text and token ids
    # ------------------------------------------------------------------
    def _on_pretrained(self, reset: bool) -> bool:
        """Whether text goes to a pretrained backbone: in fit, as ``backbone``
        says; in predict, as the fit did."""
        if reset:
            return self.backbone is not None
        return "preprocessor_" in self.__dict__

    def _backbone_features(self, X, reset: bool) -> np.ndarray:
        """Raw text -> the preset preprocessor's features, (n, length, n_features).

        In fit, the preset's preprocessor is loaded and its sequence length
        set: ``max_length``, or the rule of ``default_text_length`` (at most
        the preset's own length).
        """
        texts = as_texts(X)
        if reset:
            for attr in ("encoder_", "vocabulary_size_"):
                self.__dict__.pop(attr, None)
            preprocessor = backbones.load_text_preprocessor(self.backbone)
            lengths = backbones.text_lengths(preprocessor, texts)
            if self.max_length is not None:
                length = self.max_length
                report_long(lengths, length, self.truncation, what="text")
            elif lengths:
                length = min(default_text_length(lengths), preprocessor.sequence_length)
            else:
                length = preprocessor.sequence_length
            preprocessor.sequence_length = length
        else:
            preprocessor = self.preprocessor_
            lengths = backbones.text_lengths(preprocessor, texts)
            report_long(
                lengths,
                preprocessor.sequence_length,
                self.truncation,
                what="text",
                limit="the training length",
            )
        features, names = backbones.encode_texts(preprocessor, texts)
        if reset:
            self.preprocessor_, self.backbone_inputs_ = preprocessor, names
        return features

    def _on_backbone(
        self, backbone: keras.Model, n_outputs: int, **arguments: Any
    ) -> keras.Model:
        arguments.pop("max_length")  # already the preprocessor's length
        return backbones.build_on_backbone(
            backbone,
            self.input_shape_,
            n_outputs,
            feature_names=self.backbone_inputs_,
            **arguments,
        )

    def _text_ids(self, X, reset: bool) -> np.ndarray:
        """Raw text -> (n, length) ids, learning the vocabulary in fit."""
        texts = as_texts(X)
        if reset:
            size = self.vocabulary_size
            encoder = WordPieceEncoder(
                DEFAULT_TEXT_VOCABULARY if size is None else size,
                lowercase=self.lowercase,
            ).fit(texts)
            encoded = encoder.encode(texts)
            truncation, limit = self.truncation, "max_length"
            if self.max_length is not None:
                length = self.max_length
            elif encoded:
                length = default_text_length([len(ids) for ids in encoded])
                truncation = "silent"  # the rule's cut, not the user's limit
            else:
                length = 1
            self.encoder_ = encoder
            self.vocabulary_size_ = encoder.size_
        else:
            encoded = self.encoder_.encode(texts)
            length, limit = self.input_shape_[0], "the training length"
            truncation = self.truncation
        if not encoded:
            return np.zeros((0, length), dtype=np.int32)
        rows = [np.asarray(ids, dtype=np.int32)[:, None] for ids in encoded]
        return pad(
            rows,
            length,
            truncation=truncation,
            dtype=np.int32,
            what="text",
            limit=limit,
        )[:, :, 0]

    def _checked_ids(self, X: np.ndarray, reset: bool, listed: bool) -> np.ndarray:
        """Validated token ids -> (n, length) int32, checked against the vocabulary."""
        name = type(self).__name__
        if np.any(X < 0) or np.any(X != np.round(X)):
            raise ValueError("Token ids must be non-negative integers (0 is padding).")
        if reset:
            length, limit = self.max_length, "max_length"
        else:
            length, limit = self.input_shape_[0], "the training length"
        if length is not None and X.shape[1] > length:
            if not listed:  # lists were cut, and reported, one by one
                report_long([X.shape[1]], length, self.truncation, limit=limit)
            X = X[:, :length]
        ids = X.astype(np.int32)
        empty = np.flatnonzero(~ids.any(axis=1))
        if empty.size:
            raise ValueError(
                f"Row(s) {empty[:5].tolist()} of X hold no tokens (every id is 0, "
                "the padding id): a Transformer needs at least one token per row."
            )
        top = int(ids.max()) if ids.size else 0
        if reset:
            size = self.vocabulary_size
            if size is not None and top >= size:
                raise ValueError(
                    f"X holds token id {top}, but vocabulary_size={size}: ids must "
                    "be below vocabulary_size."
                )
            if self.input_type_ == "tokens":
                self.vocabulary_size_ = top + 1 if size is None else size
                self.__dict__.pop("encoder_", None)
        elif top >= self.vocabulary_size_:
            raise ValueError(
                f"X holds token id {top}, but {name} was fitted with "
                f"vocabulary_size_={self.vocabulary_size_}. Set vocabulary_size to "
                "the size of your tokenizer's vocabulary (e.g. TextTokenizer's "
                "vocabulary_size_) so that every id it can produce fits."
            )
        return ids

    # ------------------------------------------------------------------
    # How long text trains (models/_budget.py)
    # ------------------------------------------------------------------
    def _reads_text(self) -> bool:
        return getattr(self, "input_type_", None) == "text"

    def _resolve_budget(self, fit_args: dict, n_rows: int) -> dict:
        """Text: :func:`_budget.resolve_text`. A numeric series: the families'
        budget, the epochs also capped by the rows times the patches the
        encoder reads (``_budget.TRANSFORMER_WORK``). Token ids: the families'
        budget."""
        if self._reads_text():
            return _budget.resolve_text(fit_args, stop_early=not self.early_stopping)
        positions = None
        if getattr(self, "input_type_", None) == "numeric":
            positions = patch_positions(self.patch_size, self.input_shape_[0])
        return _budget.resolve(
            fit_args, n_rows, positions, work=_budget.TRANSFORMER_WORK
        )

    def _holds_out_text(self, epochs, fit_kwargs) -> bool:
        """Whether this fit holds out texts to stop on: raw text, ``epochs``
        chosen by the budget, no validation data of the user's, one device."""
        if not self._reads_text() or epochs is not None or self.epochs is not None:
            return False
        given = {**route(self._free_and_routed(), "fit"), **(fit_kwargs or {})}
        return (
            given.get("epochs") is None
            and not self.validation_split
            and not given.get("validation_split")
            and given.get("validation_data") is None
            and self.__dict__.get("_placement") is None
        )

    def _train(self, model, X, y, sample_weight, epochs, fit_kwargs):
        """With the text budget, a seeded tenth of the texts is held out as
        ``validation_data`` for the early stop (``_budget.holdout_rows``)."""
        rows = None
        if self._holds_out_text(epochs, fit_kwargs) and isinstance(y, np.ndarray):
            rows = _budget.holdout_rows(len(X))
        if rows is not None:
            keep = np.ones(len(X), dtype=bool)
            keep[rows] = False
            held = (X[rows], y[rows])
            if sample_weight is not None:
                held += (sample_weight[rows],)
                sample_weight = sample_weight[keep]
            fit_kwargs = {**(fit_kwargs or {}), "validation_data": held}
            X, y = X[keep], y[keep]
        return super()._train(model, X, y, sample_weight, epochs, fit_kwargs)

    def _standardizable(self) -> bool:
        """Numeric input only: token ids are not standardized."""
        return self.input_type_ == "numeric" and super()._standardizable()

    def _architecture(self):
        arch = super()._architecture()
        if self.input_type_ == "numeric":
            arch["vocabulary_size"] = None
        else:
            arch["vocabulary_size"] = self.vocabulary_size_
            arch["max_length"] = self.input_shape_[0]
        return arch


@document
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
      training texts (:mod:`kerasbig.models.transformer.vocabulary`) and
      ``predict`` takes raw strings. Each text becomes ``[CLS]`` plus its
      pieces, padded with id 0 (masked) to ``max_length``. Needs
      tensorflow-text, on any Keras backend.
    * ``input_type="tokens"``: integer token ids, ``(n_samples, length)`` or a
      list of variable-length lists, 0 being padding (masked).

    With ``backbone`` (a KerasHub preset name or directory, e.g.
    ``"bert_tiny_en_uncased"``) ``X`` is raw text only: the preset's own
    preprocessor (``preprocessor_``) tokenises it to ``max_length`` tokens,
    and the network is the pretrained text backbone, frozen or fine-tuned
    (``trainable_backbone``), pooled by ``global_pooling`` (``"mean"`` over
    the tokens, or ``"first"``, the ``[CLS]`` token) and followed by the same
    head (``dense_units``, ``dropout``, output layer):
    :func:`kerasbig.models.build_on_backbone`. See docs/backbones.md.

    {parameters_and_attributes}

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
    >>> clf.input_type_, clf.vocabulary_size_ <= 8000
    ('text', True)
    """

    __init__ = family_init(
        build_transformer,
        classifier=True,
        input_parameters=_TransformerMixin._input_parameters,
    )


@document
class TransformerRegressor(_TransformerMixin, KerasRegressor):
    """A Transformer encoder regressor for sequences, token ids or raw text.

    The network is :func:`kerasbig.models.build_transformer` with one linear
    output unit per target column; the loss defaults to mean squared error.
    Input ``X`` as for :class:`TransformerClassifier`: numeric sequences, raw
    text (a WordPiece vocabulary is learned in ``fit``), or token ids with
    ``input_type="tokens"``; with ``backbone``, raw text through a pretrained
    KerasHub backbone, as there.

    {parameters_and_attributes}

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

    __init__ = family_init(
        build_transformer,
        classifier=False,
        input_parameters=_TransformerMixin._input_parameters,
    )
