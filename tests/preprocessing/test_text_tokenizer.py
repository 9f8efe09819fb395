"""TextTokenizer."""

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from kerasbig.preprocessing import TextTokenizer

TEXTS = ["the cat sat on the mat", "a dog ran", "the dog sat", "a cat ran"] * 10


@pytest.fixture(scope="module")
def tokenizer():
    return TextTokenizer(vocabulary_size=60).fit(TEXTS)


def test_ids_are_cls_then_pieces_then_padding(tokenizer):
    ids = tokenizer.transform(["the cat", "a dog ran"])
    assert ids.dtype == np.int32
    assert ids.shape == (2, tokenizer.max_length_)
    assert tokenizer.max_length_ == 7  # [CLS] + the longest text, 6 words
    vocab = tokenizer.vocabulary_
    assert [vocab[i] for i in ids[0] if i] == ["[CLS]", "the", "cat"]
    assert [vocab[i] for i in ids[1] if i] == ["[CLS]", "a", "dog", "ran"]
    assert (ids[0, 3:] == 0).all()
    assert tokenizer.vocabulary_size_ == len(vocab) <= 60


def test_unknown_characters_become_unk(tokenizer):
    ids = tokenizer.transform(["the zebra"])
    vocab = tokenizer.vocabulary_
    assert vocab[ids[0, 2]] == "[UNK]"
    assert ids.max() < tokenizer.vocabulary_size_


def test_series_and_arrays_of_strings(tokenizer):
    texts = ["the cat", "a dog"]
    expected = tokenizer.transform(texts)
    np.testing.assert_array_equal(tokenizer.transform(pd.Series(texts)), expected)
    np.testing.assert_array_equal(
        tokenizer.transform(np.array(texts, dtype=object)), expected
    )


def test_truncation(tokenizer):
    long = " ".join(["the cat"] * 10)
    with pytest.warns(UserWarning, match="1 text\\(s\\) of X are longer"):
        tokenizer.transform([long])
    with pytest.raises(ValueError, match="longer than the training length"):
        clone(tokenizer).set_params(truncation="error").fit(TEXTS).transform([long])
    short = TextTokenizer(vocabulary_size=60, max_length=3, truncation="silent")
    assert short.fit_transform(TEXTS).shape == (len(TEXTS), 3)


def test_feature_names_pickle_and_clone(tokenizer):
    names = tokenizer.get_feature_names_out()
    assert names[0] == "texttokenizer0" and len(names) == tokenizer.max_length_
    twin = pickle.loads(pickle.dumps(tokenizer))
    np.testing.assert_array_equal(
        twin.transform(["a cat sat"]), tokenizer.transform(["a cat sat"])
    )
    assert not hasattr(clone(tokenizer), "vocabulary_")


def test_bad_input():
    with pytest.raises(ValueError, match="single string"):
        TextTokenizer().fit("the cat")
    with pytest.raises(ValueError, match="1-D list, array or pandas Series of strings"):
        TextTokenizer().fit(np.ones((3, 2)))
    with pytest.raises(ValueError, match="Every text in X is empty"):
        TextTokenizer().fit(["", "   "])
    with pytest.raises(ValueError, match="vocabulary_size=2 is invalid"):
        TextTokenizer(vocabulary_size=2).fit(TEXTS)
    with pytest.raises(ValueError, match="mixes strings"):
        TextTokenizer().fit(["a", None])
