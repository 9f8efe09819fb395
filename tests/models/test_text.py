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
    # Learning the vocabulary is plain Python; tokenizing needs the library.
    encoder = WordPieceEncoder().fit(TEXTS)
    monkeypatch.setitem(sys.modules, "tensorflow_text", None)
    with pytest.raises(ImportError, match="pip install tensorflow-text"):
        encoder.encode(TEXTS)


# ----------------------------------------------------------------------
# The vocabulary learner (kerasbig.models.transformer.vocabulary)
# ----------------------------------------------------------------------
PROSE = [
    "Programmers refactor the refactoring of refactored programs.",
    "Gardening: gardeners garden in gardens; unknowable words stay knowable.",
    "Zyxwvut qrstu, x-ray 42!",
] * 3


def test_learned_pieces_cover_every_training_word_without_unk():
    encoder = WordPieceEncoder(vocabulary_size=60).fit(PROSE)
    unk = encoder.vocabulary_.index("[UNK]")
    assert all(unk not in ids for ids in encoder.encode(PROSE))
    # the room is filled: characters, then whole words, then pieces
    assert encoder.size_ == 60


def test_frequent_words_are_one_piece_and_rare_words_a_few():
    once = "refactorable gardenless"  # each word seen once
    encoder = WordPieceEncoder(vocabulary_size=120).fit([*PROSE, once])
    vocab = encoder.vocabulary_
    assert [vocab[i] for i in encoder.encode(["gardens"])[0]] == ["[CLS]", "gardens"]
    for rare in ("refactorable", "gardenless"):
        pieces = [vocab[i] for i in encoder.encode([rare])[0][1:]]
        assert 1 < len(pieces) < len(rare) / 2  # not one piece per character
        assert "".join(p.removeprefix("##") for p in pieces) == rare


def test_the_vocabulary_depends_only_on_the_texts():
    first = WordPieceEncoder(vocabulary_size=70).fit(PROSE).vocabulary_
    again = WordPieceEncoder(vocabulary_size=70).fit(list(PROSE)).vocabulary_
    assert first == again


def test_words_are_split_as_the_tokenizer_splits_them():
    from kerasbig.models.transformer.vocabulary import words_of

    assert words_of("Don't PANIC... ça va") == [
        "don",
        "'",
        "t",
        "panic",
        ".",
        ".",
        ".",
        "ça",
        "va",
    ]
    assert words_of("Ça", strip_accents=True, lowercase=False) == ["Ca"]
