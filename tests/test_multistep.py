"""Several training steps per call (kerasbig.multistep, issue 10): the same
training as one step per call, and single-batch watchers still see every batch.
"""

import keras
import numpy as np
import pytest
from sklearn.datasets import make_classification

from kerasbig import CNNClassifier, KerasClassifier, multistep

X, Y = make_classification(120, 6, n_informative=4, n_classes=3, random_state=0)
X = X.astype("float32")
WEIGHTS = np.random.default_rng(0).uniform(0.5, 2.0, size=len(Y))


def dropout_mlp(meta):
    return keras.Sequential(
        [
            keras.Input((meta["n_features_in_"],)),
            keras.layers.Dense(16, activation="relu"),
            keras.layers.Dropout(0.3),
            keras.layers.Dense(meta["n_classes_"], activation="softmax"),
        ]
    )


SETTINGS = dict(
    epochs=3, batch_size=8, validation_split=0.2, random_state=0, optimizer="adam"
)


class BatchCounter(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.batches = 0

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1


class StepsSeen(keras.callbacks.Callback):
    """Records the model's steps_per_execution during fit (an epoch-level
    callback: it does not stop several steps per call)."""

    def on_train_begin(self, logs=None):
        self.steps = self.model.steps_per_execution


def _fit(make, monkeypatch, steps, **extra):
    monkeypatch.setattr(multistep, "STEPS_PER_CALL", steps)
    est = make(**extra).fit(X, Y, sample_weight=WEIGHTS)
    weights = [np.asarray(w) for w in est.model_.get_weights()]
    return est, weights


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: KerasClassifier(dropout_mlp, **SETTINGS, **kw),
        lambda **kw: CNNClassifier(n_blocks=1, filters=4, **SETTINGS, **kw),
    ],
    ids=["mlp with dropout", "cnn family"],
)
def test_several_steps_per_call_train_exactly_as_one(make, monkeypatch):
    seen = StepsSeen()
    one, one_weights = _fit(make, monkeypatch, 1)
    many, many_weights = _fit(make, monkeypatch, 32, callbacks=[seen])
    assert seen.steps == 32  # it did run several steps per call
    for a, b in zip(one_weights, many_weights):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    assert one.history_.keys() == many.history_.keys()
    for key in one.history_:
        np.testing.assert_allclose(one.history_[key], many.history_[key], rtol=1e-6)


def test_a_callback_watching_batches_sees_every_batch():
    counter = BatchCounter()
    est = KerasClassifier(dropout_mlp, **SETTINGS, callbacks=[counter]).fit(X, Y)
    # 96 training rows in batches of 8, 3 epochs
    assert counter.batches == 3 * 12
    assert est.model_.steps_per_execution == 1


def test_the_model_leaves_fit_as_keras_would_give_it():
    est = KerasClassifier(dropout_mlp, **SETTINGS).fit(X, Y)
    model = est.model_
    assert model.steps_per_execution == 1
    counter = BatchCounter()
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0, callbacks=[counter])
    assert counter.batches == 15  # the user's own fit: one step per call


def test_a_model_compiled_with_its_own_steps_keeps_them():
    def compiled(meta):
        model = dropout_mlp(meta)
        model.compile("adam", "sparse_categorical_crossentropy", steps_per_execution=5)
        return model

    seen = StepsSeen()
    KerasClassifier(compiled, **SETTINGS, callbacks=[seen]).fit(X, Y)
    assert seen.steps == 5


@pytest.mark.parametrize(
    "fit_args, expected",
    [
        ({"verbose": 0, "callbacks": []}, multistep.STEPS_PER_CALL),
        ({"verbose": 2, "callbacks": [keras.callbacks.EarlyStopping()]}, 32),
        ({"verbose": 1, "callbacks": []}, 1),
        ({"verbose": "auto", "callbacks": []}, 1),
        ({"verbose": 0, "callbacks": [BatchCounter()]}, 1),
        ({"verbose": 0, "callbacks": [keras.callbacks.TerminateOnNaN()]}, 1),
    ],
    ids=["quiet", "per-epoch lines", "progress bar", "auto", "batch hook", "nan"],
)
def test_what_watches_single_batches_keeps_one_step_per_call(fit_args, expected):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    assert multistep.steps_for(model, fit_args, placement=None) == expected
