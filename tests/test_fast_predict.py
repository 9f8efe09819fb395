"""Predictions skip ``keras.Model.predict`` and give its results (issue 10).

Each case compares the estimator's fast path with plain Keras's
``model.predict`` on the same fitted network, for row counts that fit one
batch (1, 3, 32) and ones that need several (33, 80: full batches and a
padded last one), and checks which path ran.
"""

import keras
import numpy as np
import pytest
import scipy.sparse as sp
from helpers import TINY_CNN, TINY_RNN, TINY_TRANSFORMER, mlp
from sklearn.datasets import make_classification

from kerasbig import (
    CNNClassifier,
    KerasClassifier,
    KerasRegressor,
    RNNRegressor,
    TransformerClassifier,
)
from kerasbig import fast_predict as fp

X, Y = make_classification(80, 8, n_informative=5, n_classes=3, random_state=0)
X = X.astype("float32")
SERIES = np.random.default_rng(0).normal(size=(80, 12, 2)).astype("float32")
TOKENS = np.random.default_rng(1).integers(1, 30, size=(80, 10))
FIT = dict(epochs=1, random_state=0)


def fitted(name):
    if name == "classifier":
        return KerasClassifier(mlp, **FIT).fit(X, Y), X, "predict_proba"
    if name == "regressor":
        return KerasRegressor(mlp, **FIT).fit(X, Y.astype(float)), X, "predict"
    if name == "cnn":
        return CNNClassifier(**TINY_CNN, **FIT).fit(SERIES, Y), SERIES, "predict_proba"
    if name == "rnn":
        est = RNNRegressor(**TINY_RNN, **FIT).fit(SERIES, Y.astype(float))
        return est, SERIES, "predict"
    est = TransformerClassifier(**TINY_TRANSFORMER, **FIT).fit(TOKENS, Y)
    return est, TOKENS, "predict_proba"


class CountingPredict:
    """Counts calls of ``model.predict`` (the slow path) on one model."""

    def __init__(self, model, monkeypatch):
        self.calls = 0
        original = model.predict

        def predict(*args, **kwargs):
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(model, "predict", predict)


@pytest.mark.parametrize(
    "name", ["classifier", "regressor", "cnn", "rnn", "transformer"]
)
def test_fast_path_matches_keras_predict(name, monkeypatch):
    est, data, method = fitted(name)
    reference = est.model_.predict(data, verbose=0)
    counter = CountingPredict(est.model_, monkeypatch)
    for n_rows in (1, 3, 32, 33, 80):
        got = getattr(est, method)(data[:n_rows])
        want = reference[:n_rows]
        if method == "predict":  # the network's outputs, decoded (the family
            # regressors train on standardized targets)
            want = est.target_encoder_.inverse_transform(want)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert counter.calls == 0  # all went the fast way


def test_every_row_count_up_to_a_batch_traces_a_few_shapes_only():
    est, data, _ = fitted("classifier")
    reference = est.model_.predict(data, verbose=0)
    for n_rows in range(1, 33):
        np.testing.assert_allclose(
            est.predict_proba(data[:n_rows]), reference[:n_rows], rtol=1e-5, atol=1e-6
        )
    assert fp._bucket(32) == 32 and fp._bucket(17) == 32


def test_batch_size_sets_the_batches_of_the_fast_path(monkeypatch):
    est = KerasClassifier(mlp, **FIT, batch_size=7).fit(X, Y)
    reference = est.model_.predict(X, verbose=0)
    sizes = []
    original = est.model_.predict_on_batch

    def predict_on_batch(batch):
        sizes.append(len(batch))
        return original(batch)

    monkeypatch.setattr(est.model_, "predict_on_batch", predict_on_batch)
    np.testing.assert_allclose(est.predict_proba(X), reference, rtol=1e-5, atol=1e-6)
    # 80 rows: 11 batches of 7, then 3 rows padded to 4
    assert sizes == [7] * 11 + [4]


@pytest.mark.parametrize(
    "change",
    [
        {"predict__verbose": 1},
        {"predict__callbacks": [keras.callbacks.Callback()]},
        {"callbacks": [keras.callbacks.Callback()]},
        {"predict__steps": 1},
    ],
    ids=["progress bar", "predict callbacks", "callbacks", "predict steps"],
)
def test_what_needs_keras_predict_gets_it(change, monkeypatch):
    est = KerasClassifier(mlp, **FIT, **change).fit(X, Y)
    counter = CountingPredict(est.model_, monkeypatch)
    est.predict(X[:3])
    assert counter.calls == 1


def test_sparse_input_goes_through_keras_predict(monkeypatch):
    sparse = sp.csr_matrix(np.where(X > 0.5, X, 0.0))
    est = KerasClassifier(mlp, **FIT).fit(sparse, Y)
    counter = CountingPredict(est.model_, monkeypatch)
    np.testing.assert_allclose(
        est.predict_proba(sparse[:3]), est.predict_proba(sparse[:3].toarray())
    )
    assert counter.calls == 1  # the sparse call; the dense one was fast


def test_a_model_with_two_outputs_is_fast_too(monkeypatch):
    class TwoColumns:
        """A target encoder that feeds each column of y to its own output."""

        def get_params(self, deep=True):
            return {}

        def fit(self, y):
            return self

        def transform(self, y):
            return [y[:, 0], y[:, 1]]

        def inverse_transform(self, outputs):
            return np.column_stack([o.ravel() for o in outputs])

    class TwoOutputs(KerasRegressor):
        @property
        def target_encoder(self):
            return TwoColumns()

    def build(meta):
        inp = keras.Input((meta["n_features_in_"],))
        return keras.Model(
            inp, [keras.layers.Dense(1)(inp), keras.layers.Dense(1)(inp)]
        )

    T = np.column_stack([X[:, 0], X[:, 1]])
    est = TwoOutputs(build, loss="mse", **FIT).fit(X, T)
    reference = np.column_stack(
        [o.ravel() for o in est.model_.predict(X[:5], verbose=0)]
    )
    counter = CountingPredict(est.model_, monkeypatch)
    np.testing.assert_allclose(est.predict(X[:5]), reference, rtol=1e-5, atol=1e-6)
    assert counter.calls == 0
