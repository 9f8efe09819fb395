"""WordPieceEncoder: the vocabulary learned from raw text, and the token ids."""

import pickle
import sys

import numpy as np
import pytest

from kerasbig.models.transformer.text import RESERVED_TOKENS, WordPieceEncoder

TEXTS = ["The cat sat on the mat.", "A dog ran home.", "The dog sat."] * 10


@pytest.fixture(scope="module")
def encoder():
    return WordPieceEncoder(vocabulary_size=80).fit(TEXTS)


def test_vocabulary_starts_with_the_reserved_tokens(encoder):
    assert tuple(encoder.vocabulary_[:3]) == RESERVED_TOKENS
    assert 3 < encoder.size_ <= 80
    assert {"the", "cat", "dog", "sat"} <= set(encoder.vocabulary_)


def test_encode_puts_cls_first_and_maps_unknown_pieces_to_unk(encoder):
    vocab = encoder.vocabulary_
    ids = encoder.encode(["the cat", "", "the ¤"])
    assert [vocab[i] for i in ids[0]] == ["[CLS]", "the", "cat"]
    assert ids[1] == [2]
    assert vocab[ids[2][-1]] == "[UNK]"


def test_lowercase(encoder):
    assert encoder.encode(["The Cat"]) == encoder.encode(["the cat"])
    cased = WordPieceEncoder(80, lowercase=False).fit(TEXTS)
    assert cased.encode(["The"]) != cased.encode(["the"])


def test_transform_pads_and_cuts(encoder):
    ids = encoder.transform(["the cat", "a dog ran home"], 4, truncation="silent")
    assert ids.dtype == np.int32 and ids.shape == (2, 4)
    assert ids[0, 3] == 0 and (ids[1] != 0).all()
    with pytest.warns(UserWarning, match="1 text\\(s\\) of X are longer"):
        encoder.transform(["a dog ran home"], 4)
    with pytest.raises(ValueError, match="longer than the training length \\(2\\)"):
        encoder.transform(["a dog"], 2, truncation="error", limit="the training length")
    assert encoder.transform([], 4).shape == (0, 4)


def test_pickles_without_the_tokenizer(encoder):
    encoder.encode(["the cat"])  # builds the keras-hub tokenizer
    state = encoder.__getstate__()
    assert state["_tokenizer"] is None
    twin = pickle.loads(pickle.dumps(encoder))
    assert twin.encode(TEXTS[:3]) == encoder.encode(TEXTS[:3])
    assert "pieces" in repr(twin)


@pytest.mark.parametrize("size", [3, 0, 2.5, True, "100"])
def test_bad_vocabulary_size(size):
    with pytest.raises(ValueError, match="vocabulary_size="):
        WordPieceEncoder(size).fit(TEXTS)


def test_empty_corpus_and_unfitted_encoder():
    with pytest.raises(ValueError, match="Every text in X is empty"):
        WordPieceEncoder().fit(["", " \n"])
    with pytest.raises(ValueError, match="not fitted"):
        WordPieceEncoder().encode(["a"])


def test_missing_tensorflow_text_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow_text", None)
    with pytest.raises(ImportError, match="pip install tensorflow-text"):
        WordPieceEncoder().fit(TEXTS)
