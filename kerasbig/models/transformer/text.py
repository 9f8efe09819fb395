"""Raw text to token ids: a WordPiece vocabulary learned from the training texts.

:class:`WordPieceEncoder` learns its vocabulary with
:func:`kerasbig.models.transformer.vocabulary.learn_word_pieces` (one count
of the words, milliseconds) and tokenizes with keras-hub's
``WordPieceTokenizer``. It is used by the Transformer estimators (raw text in
``fit`` and ``predict``) and by :class:`kerasbig.preprocessing.TextTokenizer`.

keras-hub's WordPiece code runs on tensorflow-text on every Keras backend, so raw
text needs ``tensorflow`` and ``tensorflow-text`` installed even under JAX or
PyTorch; numeric and token-id input does not.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np

from kerasbig import startup
from kerasbig.models._inputs import pad
from kerasbig.models.transformer.vocabulary import learn_word_pieces

PAD, UNK, CLS = "[PAD]", "[UNK]", "[CLS]"
RESERVED_TOKENS = (PAD, UNK, CLS)  # ids 0, 1, 2: the builder pads with id 0


def _text_libraries():
    """Import TensorFlow and keras-hub for WordPiece, or say what to install."""
    try:
        startup.import_tensorflow_quietly()  # on JAX: without its start-up lines
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (keras-hub's WordPiece needs its ops)
    except ImportError as err:
        raise ImportError(
            "Raw text input needs keras-hub's WordPiece tokenizer, which runs on "
            "tensorflow-text on every Keras backend: `pip install tensorflow-text` "
            f"(it brings TensorFlow). ({err})"
        ) from err
    import keras_hub

    return tf, keras_hub


class WordPieceEncoder:
    """Learn a WordPiece vocabulary from texts and turn texts into token ids.

    Every encoded text starts with the ``[CLS]`` id (2), so no text encodes to
    an empty sequence and ``global_pooling="first"`` has a summary position; id 0 is
    padding and id 1 stands for pieces outside the vocabulary.

    Parameters
    ----------
    vocabulary_size : int, default=8000
        Largest vocabulary to learn, reserved tokens included; a small corpus
        may give fewer pieces.
    lowercase : bool, default=True
        Lowercase the text before splitting it into pieces.
    strip_accents : bool, default=False
        Remove accents before splitting.

    Attributes
    ----------
    vocabulary_ : list of str
        The learned pieces; a piece's id is its index.

    Examples
    --------
    >>> encoder = WordPieceEncoder(vocabulary_size=40).fit(["a cat sat", "a dog"])
    >>> ids = encoder.encode(["a cat", ""])
    >>> ids[1], ids[0][0] == encoder.vocabulary_.index("[CLS]")
    ([2], True)
    """

    def __init__(
        self,
        vocabulary_size: int = 8000,
        *,
        lowercase: bool = True,
        strip_accents: bool = False,
    ):
        self.vocabulary_size = vocabulary_size
        self.lowercase = lowercase
        self.strip_accents = strip_accents

    def fit(self, texts: Sequence[str]) -> WordPieceEncoder:
        """Learn the vocabulary from ``texts`` (a list of ``str``)."""
        size = self.vocabulary_size
        if (
            isinstance(size, bool)
            or not isinstance(size, numbers.Integral)
            or size <= len(RESERVED_TOKENS)
        ):
            raise ValueError(
                f"vocabulary_size={size!r} is invalid for text; expected an integer "
                f"> {len(RESERVED_TOKENS)} (the reserved tokens {RESERVED_TOKENS} "
                "come first)."
            )
        texts = list(texts)
        if not any(t.strip() for t in texts):
            raise ValueError(
                "Every text in X is empty (or only whitespace): there is nothing to "
                "learn a vocabulary from."
            )
        self.vocabulary_ = learn_word_pieces(
            texts,
            int(size),
            reserved=RESERVED_TOKENS,
            lowercase=self.lowercase,
            strip_accents=self.strip_accents,
        )
        self._tokenizer = None
        return self

    def _get_tokenizer(self):
        if getattr(self, "_tokenizer", None) is None:
            _, keras_hub = _text_libraries()
            self._tokenizer = keras_hub.tokenizers.WordPieceTokenizer(
                vocabulary=self.vocabulary_,
                lowercase=self.lowercase,
                strip_accents=self.strip_accents,
                oov_token=UNK,
            )
        return self._tokenizer

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, ``[CLS]`` first, unpadded."""
        if not hasattr(self, "vocabulary_"):
            raise ValueError("This WordPieceEncoder is not fitted; call fit first.")
        texts = list(texts)
        if not texts:
            return []
        pieces = self._get_tokenizer()(texts)
        if hasattr(pieces, "to_list"):  # a tf.RaggedTensor
            pieces = pieces.to_list()
        cls = self.vocabulary_.index(CLS)
        return [[cls, *np.asarray(p, dtype=np.int64).tolist()] for p in pieces]

    def transform(
        self,
        texts: Sequence[str],
        length: int,
        *,
        truncation: str = "warn",
        limit: str = "max_length",
    ) -> np.ndarray:
        """Token ids padded with 0 (or cut, as ``truncation`` says) to ``length``.

        ``limit`` names ``length`` in the warning or error.
        """
        ids = [np.asarray(seq, dtype=np.int32)[:, None] for seq in self.encode(texts)]
        if not ids:
            return np.zeros((0, length), dtype=np.int32)
        padded = pad(
            ids, length, truncation=truncation, dtype=np.int32, what="text", limit=limit
        )
        return padded[:, :, 0]

    @property
    def size_(self) -> int:
        """Number of ids the vocabulary uses (the model's ``vocabulary_size``)."""
        return len(self.vocabulary_)

    def __getstate__(self) -> dict[str, Any]:
        # The keras-hub tokenizer holds TensorFlow lookup tables; it is rebuilt
        # from the vocabulary on first use after unpickling.
        state = dict(self.__dict__)
        state["_tokenizer"] = None
        return state

    def __repr__(self) -> str:
        fitted = f", {self.size_} pieces" if hasattr(self, "vocabulary_") else ""
        return (
            f"WordPieceEncoder(vocabulary_size={self.vocabulary_size}, "
            f"lowercase={self.lowercase}{fitted})"
        )
