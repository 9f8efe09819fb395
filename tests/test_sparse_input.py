"""scipy.sparse X reaches Keras as it is: Keras batches it (issue 8)."""

import keras
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from kerasbig import CNNClassifier, KerasClassifier, KerasRegressor

TEXTS = [
    "a good film with great acting",
    "a dull plot and awful acting",
    "great story, good music",
    "boring, long and awful",
] * 15
LABELS = [1, 0, 1, 0] * 15


def dense_net(n_features_in_, meta, sparse=False):
    units = 1 if meta.get("classes_") is None or meta["n_classes_"] == 2 else 3
    activation = None if meta.get("classes_") is None else "sigmoid"
    return keras.Sequential(
        [
            keras.Input((n_features_in_,), sparse=sparse),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(units, activation=activation),
        ]
    )


FAST_ADAM = dict(optimizer="adam", optimizer__learning_rate=0.05, random_state=0)


def test_tfidf_into_a_keras_classifier():
    clf = KerasClassifier(dense_net, epochs=10, **FAST_ADAM)
    pipe = make_pipeline(TfidfVectorizer(), clf).fit(TEXTS, LABELS)
    assert pipe.score(TEXTS, LABELS) > 0.9
    assert pipe.predict_proba(["good music"]).shape == (1, 2)


def test_one_hot_into_a_keras_regressor():
    rng = np.random.default_rng(0)
    cities = rng.choice(["paris", "rome", "oslo"], size=(90, 1))
    y = (cities[:, 0] == "oslo") * 2.0 + rng.normal(0, 0.05, 90)
    reg = KerasRegressor(dense_net, epochs=30, **FAST_ADAM)
    pipe = make_pipeline(OneHotEncoder(), reg).fit(cities, y)
    assert pipe.score(cities, y) > 0.8


def test_a_matrix_too_large_to_densify_trains():
    """4,000 x 2,000,000 float32 would be 32 GB dense: more than the machine."""
    rng = np.random.default_rng(0)
    n, d, per_row = 4_000, 2_000_000, 10
    X = sp.csr_matrix(
        (
            rng.random(n * per_row, dtype=np.float32),
            rng.integers(0, d, n * per_row),
            np.arange(0, n * per_row + 1, per_row),
        ),
        shape=(n, d),
    )
    y = np.arange(n) % 2
    clf = KerasClassifier(
        dense_net, model__sparse=True, epochs=1, batch_size=500, random_state=0
    )
    assert clf.fit(X, y).predict_proba(X[:5]).shape == (5, 2)
    assert clf.n_features_in_ == d


def test_families_ask_for_dense_input():
    X = sp.random(20, 8, density=0.5, format="csr", random_state=0)
    with pytest.raises(TypeError, match="dense data is required"):
        CNNClassifier(epochs=1).fit(X, np.arange(20) % 2)
