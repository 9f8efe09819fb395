"""SequencePadder."""

import pickle
import warnings

import numpy as np
import pytest

from kerasbig.preprocessing import SequencePadder


def test_pads_a_list_to_the_longest_with_value():
    padder = SequencePadder(value=-1.0).fit([[1, 2, 3], [4], [5, 6]])
    assert padder.max_length_ == 3 and padder.n_features_in_ == 3
    out = padder.transform([[7], [8, 9, 10]])
    np.testing.assert_array_equal(out, [[7, -1, -1], [8, 9, 10]])
    assert out.dtype == np.float64


def test_pre_padding_and_pre_truncating():
    padder = SequencePadder(
        max_length=3, padding="pre", truncating="pre", truncation="silent"
    )
    out = padder.fit_transform([[1, 2], [1, 2, 3, 4, 5]])
    np.testing.assert_array_equal(out, [[0, 1, 2], [3, 4, 5]])


def test_multichannel_sequences():
    seqs = [np.ones((2, 3)), np.full((4, 3), 2.0)]
    out = SequencePadder().fit_transform(seqs)
    assert out.shape == (2, 4, 3)
    np.testing.assert_array_equal(out[0, 2:], 0.0)
    with pytest.raises(
        ValueError, match="2 channel\\(s\\); SequencePadder was fitted on 3"
    ):
        SequencePadder().fit(seqs).transform([np.ones((2, 2)), np.ones((3, 2))])


def test_truncation_modes():
    padder = SequencePadder(max_length=2)
    with pytest.warns(
        UserWarning, match="1 sequence\\(s\\) of X are longer than max_length=2"
    ):
        out = padder.fit_transform([[1, 2, 3], [4]])
    np.testing.assert_array_equal(out, [[1, 2], [4, 0]])
    with pytest.raises(ValueError, match="longer than max_length=2"):
        SequencePadder(max_length=2, truncation="error").fit([[1, 2, 3], [4]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SequencePadder(max_length=2, truncation="silent").fit([[1, 2, 3], [4]])


def test_arrays_pass_through_and_are_checked():
    X = np.arange(12.0).reshape(3, 4)
    padder = SequencePadder().fit(X)
    np.testing.assert_array_equal(padder.transform(X), X)
    with pytest.raises(ValueError, match="X has 2 features"):
        padder.transform(X[:, :2])
    # a list of any lengths still works after fitting on an array
    np.testing.assert_array_equal(padder.transform([[1.0]]), [[1, 0, 0, 0]])


def test_feature_names_and_pickle():
    padder = SequencePadder(max_length=3).fit([[1], [2, 3]])
    assert padder.get_feature_names_out().tolist() == [
        "sequencepadder0",
        "sequencepadder1",
        "sequencepadder2",
    ]
    twin = pickle.loads(pickle.dumps(padder))
    np.testing.assert_array_equal(twin.transform([[5]]), padder.transform([[5]]))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"max_length": 0}, "max_length=0"),
        ({"padding": "middle"}, "padding='middle'"),
        ({"truncation": "maybe"}, "truncation='maybe'"),
        ({"value": "x"}, "value='x'"),
    ],
)
def test_bad_parameters(params, match):
    with pytest.raises(ValueError, match=match):
        SequencePadder(**params).fit([[1], [2, 3]])


def test_bad_sequences():
    with pytest.raises(ValueError, match="X\\[1\\] is an empty sequence"):
        SequencePadder().fit([[1.0], []])
    with pytest.raises(ValueError, match="X\\[0\\] has shape \\(1, 1, 1\\)"):
        SequencePadder().fit([[[[1.0]]], [[[2.0]], [[3.0]]]])
