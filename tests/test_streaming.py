"""Large arrays are fed batch by batch from the caller's memory (kerasbig.streaming).

The threshold is lowered to 0 bytes here, so tiny arrays take the streamed
path; the memory it saves is measured by ``benchmarks/speed.py``.
"""

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier, streaming

X, Y = make_classification(90, 5, n_informative=3, n_classes=3, random_state=0)
X = X.astype("float32")
FIT = dict(epochs=3, batch_size=8, random_state=0)

needs_tf = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="only TensorFlow's fit copies NumPy arrays; JAX slices them as given",
)


@pytest.fixture
def streamed(monkeypatch):
    monkeypatch.setattr(streaming, "MIN_BYTES", 0)


def _weights(est):
    return [np.asarray(w) for w in est.model_.get_weights()]


@needs_tf
@pytest.mark.parametrize(
    "settings",
    [
        {"shuffle": False},
        {"shuffle": False, "validation_split": 0.2},
        {"shuffle": False, "class_weight": {0: 1.0, 1: 2.0, 2: 0.5}},
    ],
    ids=["in order", "validation split", "class weight"],
)
def test_unshuffled_streaming_trains_as_keras_does_on_the_arrays(settings, monkeypatch):
    weights = np.linspace(0.5, 1.5, len(Y))
    whole = KerasClassifier(mlp, **FIT, **settings).fit(X, Y, sample_weight=weights)
    monkeypatch.setattr(streaming, "MIN_BYTES", 0)
    est = KerasClassifier(mlp, **FIT, **settings)
    est.fit(X, Y, sample_weight=weights)
    for a, b in zip(_weights(whole), _weights(est)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert whole.history_.keys() == est.history_.keys()
    for key in whole.history_:
        np.testing.assert_allclose(whole.history_[key], est.history_[key], rtol=1e-5)


@needs_tf
@pytest.mark.parametrize("shuffle", [True, "batch"])
def test_a_fixed_random_state_gives_the_same_streamed_model(shuffle, streamed):
    first = KerasClassifier(mlp, **FIT, shuffle=shuffle).fit(X, Y)
    second = KerasClassifier(mlp, **FIT, shuffle=shuffle).fit(X, Y)
    other = KerasClassifier(mlp, **{**FIT, "random_state": 1}, shuffle=shuffle)
    other.fit(X, Y)
    for a, b in zip(_weights(first), _weights(second)):
        np.testing.assert_array_equal(a, b)
    assert first.history_["loss"][-1] < first.history_["loss"][0]
    assert not all(
        np.array_equal(a, b) for a, b in zip(_weights(first), _weights(other))
    )


@needs_tf
def test_the_callers_arrays_are_given_to_keras_unchanged_and_uncopied(monkeypatch):
    monkeypatch.setattr(streaming, "MIN_BYTES", 0)
    seen = {}
    original = keras.Model.fit

    def fit(model, x=None, y=None, **kwargs):
        seen["x"], seen["y"] = x, y
        return original(model, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", fit)
    X_before = X.copy()
    KerasClassifier(mlp, **FIT).fit(X, Y)
    assert isinstance(seen["x"], streaming.ArrayBatches) and seen["y"] is None
    assert np.shares_memory(seen["x"]._data[0], X)  # the caller's array itself
    np.testing.assert_array_equal(X, X_before)


@pytest.mark.parametrize("shuffle", [False, True, "batch"])
def test_every_row_is_in_exactly_one_batch_per_epoch(shuffle):
    rows = np.arange(23)
    batches = streaming.ArrayBatches(rows, rows * 10, batch_size=5, shuffle=shuffle)
    assert len(batches) == 5
    for _ in range(3):
        seen = np.concatenate([batches[i][0] for i in range(len(batches))])
        assert sorted(seen) == list(rows)
        for i in range(len(batches)):
            x, y = batches[i]
            np.testing.assert_array_equal(y, x * 10)
        batches.on_epoch_begin()


def test_small_arrays_and_other_backends_go_to_keras_as_given():
    args = {"batch_size": 8, "shuffle": True}
    out = streaming.prepare(X, Y, None, args, placement=None)
    assert out[0] is X and out[1] is Y and out[3] is args
