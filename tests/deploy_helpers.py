"""Tiny fitted estimators of every family, shared by the saving, export and
serving tests (test_saving.py, test_export.py, test_serving.py).

Each is fitted once per process (``fitted``); tests must not change them.
Fresh inputs (``fresh_X``) are drawn from another seed than the training data.
"""

import functools

import keras
import numpy as np

TEXTS = [
    "a good film with great acting",
    "great fun and a fine cast",
    "a dull plot and boring scenes",
    "boring, long and badly acted",
    "the music was lovely",
    "an awful script",
    "lovely photography, fine story",
    "the worst film of the year",
]
TEXT_LABELS = ["pos", "pos", "neg", "neg", "pos", "neg", "pos", "neg"]
FRESH_TEXTS = [
    "a great cast and a lovely film",
    "dull, awful and long",
    "words never seen: zyzzyva quokka",
    "",
    "film " * 40,  # longer than the training length: cut
]


@keras.saving.register_keras_serializable(package="kerasbig_tests")
def registered_mlp(meta, hidden=8, seed=None):
    """A small perceptron whose head fits the target; registered with Keras,
    so that safe-mode loading resolves it."""
    if "classes_" not in meta:
        units, activation = meta["n_outputs_"], None
    elif meta["target_type_"] == "binary":
        units, activation = 1, "sigmoid"
    else:
        units, activation = meta["n_classes_"], "softmax"
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Dense(hidden, activation="relu", kernel_initializer=init)(inputs)
    outputs = keras.layers.Dense(units, activation=activation)(x)
    return keras.Model(inputs, outputs)


def _rng(seed):
    return np.random.default_rng(seed)


def _series(seed, n=32, length=12, channels=None):
    shape = (n, length) if channels is None else (n, length, channels)
    return _rng(seed).normal(size=shape).astype("float32")


def _images(seed, n=32):
    return _rng(seed).uniform(size=(n, 8, 8, 1)).astype("float32")


# name -> (make the estimator, training X, y, fresh X)
def _cases():
    from kerasbig import (
        CNNClassifier,
        CNNRegressor,
        KerasClassifier,
        KerasRegressor,
        RNNClassifier,
        RNNRegressor,
        TransformerClassifier,
        TransformerRegressor,
    )

    small = dict(epochs=2, random_state=0)
    labels3 = np.array(["ant", "bee", "cat"])[_rng(1).integers(0, 3, 32)]
    tab = _rng(2).normal(size=(32, 4)).astype("float32")
    series = _series(3)
    return {
        "cnn_classifier": (
            lambda: CNNClassifier(filters=4, dense_units=(), **small),
            _images(4),
            labels3,
            _images(40, n=7),
        ),
        "cnn_regressor": (
            lambda: CNNRegressor(filters=4, **small),
            series,
            1000 + 50 * series[:, -4:].mean(axis=1),  # far from 0: standardized
            _series(41, n=7),
        ),
        "rnn_classifier": (
            lambda: RNNClassifier(units=4, **small),
            _series(5, channels=2),
            (_series(5, channels=2)[:, :, 0].mean(axis=1) > 0).astype(int),
            _series(42, n=7, channels=2),
        ),
        "rnn_regressor": (
            lambda: RNNRegressor(units=4, **small),
            series,
            np.column_stack([series.sum(axis=1), -3 * series[:, 0] + 7]),
            _series(43, n=7),
        ),
        "transformer_classifier": (
            lambda: TransformerClassifier(
                model_dim=8, num_heads=1, num_layers=1, ff_dim=8, **small
            ),
            TEXTS * 3,
            TEXT_LABELS * 3,
            FRESH_TEXTS,
        ),
        "transformer_regressor": (
            lambda: TransformerRegressor(
                model_dim=8, num_heads=1, num_layers=1, ff_dim=8, **small
            ),
            TEXTS * 3,
            np.arange(24.0) * 10,
            FRESH_TEXTS,
        ),
        "transformer_numeric": (
            lambda: TransformerClassifier(
                model_dim=8, num_heads=1, num_layers=1, ff_dim=8, **small
            ),
            series,
            (series[:, 0] > 0).astype(int),
            _series(44, n=7),
        ),
        "keras_classifier": (
            lambda: KerasClassifier(registered_mlp, **small),
            tab,
            labels3,
            _rng(45).normal(size=(7, 4)).astype("float32"),
        ),
        "keras_regressor": (
            lambda: KerasRegressor(registered_mlp, loss="mse", **small),
            tab,
            tab @ np.array([1.0, -2.0, 0.5, 0.0]),
            _rng(46).normal(size=(7, 4)).astype("float32"),
        ),
    }


CASES = (
    "cnn_classifier",
    "cnn_regressor",
    "rnn_classifier",
    "rnn_regressor",
    "transformer_classifier",
    "transformer_regressor",
    "transformer_numeric",
    "keras_classifier",
    "keras_regressor",
)
TEXT_CASES = ("transformer_classifier", "transformer_regressor")


def unfitted(name):
    return _cases()[name][0]()


def data(name):
    """(X, y, fresh X) of the case ``name``."""
    _, X, y, fresh = _cases()[name]
    return X, y, fresh


@functools.cache
def fitted(name):
    make, X, y, _ = _cases()[name]
    return make().fit(X, y)


def expected_output(est, X):
    """What an export must return: ``predict_proba`` or ``predict``."""
    if hasattr(est, "predict_proba"):
        return est.predict_proba(X)
    return est.predict(X)
