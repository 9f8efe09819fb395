"""scikeras's documented patterns work unchanged (one import changed)."""

import keras
import numpy as np
from helpers import mlp
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier, KerasRegressor

X, Y = make_classification(n_samples=40, n_features=4, random_state=0)


class MLPClassifier(KerasClassifier):
    """scikeras's subclassing pattern: hyperparameters as __init__ arguments."""

    def __init__(
        self,
        hidden_layer_sizes=(8,),
        optimizer="adam",
        epochs=2,
        random_state=0,
        verbose=0,
    ):
        super().__init__()
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.epochs = epochs
        self.random_state = random_state
        self.verbose = verbose

    def _keras_build_fn(self, compile_kwargs, meta):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],))])
        for units in self.hidden_layer_sizes:
            model.add(keras.layers.Dense(units, activation="relu"))
        model.add(keras.layers.Dense(1, activation="sigmoid"))
        model.compile(loss="binary_crossentropy", optimizer=compile_kwargs["optimizer"])
        return model


def test_keras_build_fn_subclass_pattern():
    clf = MLPClassifier(hidden_layer_sizes=(4, 3)).fit(X, Y)
    assert [layer.units for layer in clf.model_.layers] == [4, 3, 1]
    assert clf.get_params()["hidden_layer_sizes"] == (4, 3)


def test_builder_may_ask_for_params_and_scikeras_meta_keys():
    seen = {}

    def build(meta, params):
        seen.update(meta=meta, params=params)
        return mlp(meta)

    KerasClassifier(build, epochs=1, random_state=0).fit(X, Y)
    assert seen["params"]["epochs"] == 1
    meta = seen["meta"]
    assert meta["y_ndim_"] == 1 and meta["n_outputs_expected_"] == 1
    assert meta["y_dtype_"] == Y.dtype


class BatchesPerEpoch(keras.callbacks.Callback):
    """Counts the training batches of every epoch."""

    def on_train_begin(self, logs=None):
        self.counts = []

    def on_epoch_begin(self, epoch, logs=None):
        self.counts.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.counts[-1] += 1


def test_batch_size_minus_one_means_one_batch():
    counter = BatchesPerEpoch()
    clf = KerasClassifier(
        mlp, batch_size=-1, epochs=2, callbacks=[counter], random_state=0
    ).fit(X, Y)
    assert counter.counts == [1, 1]  # the whole training set in one batch
    assert clf.predict(X).shape == (40,)
    # The counter counts: Keras' default batch size (32) makes two batches of 40.
    KerasClassifier(mlp, epochs=1, callbacks=[counter], random_state=0).fit(X, Y)
    assert counter.counts == [2]


def test_predict_takes_keras_predict_arguments():
    reg = KerasRegressor(mlp, epochs=1, random_state=0).fit(X, Y.astype(float))
    np.testing.assert_allclose(reg.predict(X, batch_size=3), reg.predict(X), rtol=1e-5)
