"""A loss that becomes NaN or infinite stops the fit with a clear error
(kerasbig/guards.py), and the estimator is left as it was before the call."""

import keras
import numpy as np
import pytest
from helpers import TINY_CNN, mlp, separable_data

from kerasbig import CNNClassifier, KerasClassifier, KerasRegressor, multistep
from kerasbig.guards import (
    NonFiniteLossError,
    NonFiniteLossGuard,
    allowing_non_finite_loss,
)

X, Y = separable_data(n=64)  # 64 rows: 8 batches of 8


class Poison(keras.callbacks.Callback):
    """Sets every trainable weight of the model to NaN before one batch."""

    def __init__(self, epoch, batch):
        super().__init__()
        self.at, self.epoch = (epoch, batch), None

    def _poison(self):
        for variable in self.model.trainable_variables:
            variable.assign(np.full(variable.shape, np.nan, variable.dtype))

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch
        if self.at == (epoch, 0):  # the variables hold the state: any backend
            self._poison()

    def on_train_batch_begin(self, batch, logs=None):
        if batch > 0 and (self.epoch, batch) == self.at:
            if keras.backend.backend() == "jax":
                self.model.jax_state_sync()  # the variables hold the live state
            self._poison()


def _classifier(**params):
    return KerasClassifier(mlp, epochs=4, batch_size=8, random_state=0, **params)


def _weights(est):
    return [np.array(w) for w in est._model.get_weights()]


def test_nan_loss_stops_training_and_names_epoch_and_batch():
    clf = _classifier(callbacks=[Poison(epoch=1, batch=2)])
    with pytest.raises(NonFiniteLossError, match=r"became nan at epoch 2/4, batch 3/8"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_") and not hasattr(clf, "history_")
    assert issubclass(NonFiniteLossError, ValueError)
    assert issubclass(NonFiniteLossError, FloatingPointError)


def test_diverging_learning_rate_is_caught_with_several_steps_per_call():
    # No callback watches single batches: kerasbig.multistep runs 32 steps
    # per call, and the guard still sees the loss go bad in the first epoch.
    X_big = X * 1e4
    reg = KerasRegressor(
        mlp,
        optimizer="sgd",
        optimizer__learning_rate=1e3,
        epochs=5,
        batch_size=8,
        random_state=0,
    )
    with pytest.raises(NonFiniteLossError, match=r"at epoch 1/5, batch \d/8"):
        reg.fit(X_big, Y.astype("float32") * 1e4)
    assert not hasattr(reg, "model_")


def test_the_guard_keeps_multistep_training_on():
    guard = NonFiniteLossGuard()
    assert not multistep.watches_single_batches(guard)
    assert guard.async_safe  # Keras reads the loss on its callback threads


def test_the_earliest_bad_batch_is_named_whatever_order_reports_arrive_in():
    # Keras hands asynchronous batch-end callbacks to a pool of threads, so
    # the report of batch 3 may reach the guard before that of batch 2.
    guard = NonFiniteLossGuard()
    guard.set_model(keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)]))
    guard.on_epoch_begin(1)
    guard.on_train_batch_end(3, {"loss": float("nan")})
    guard.on_train_batch_end(1, {"loss": 0.5})
    guard.on_train_batch_end(2, {"loss": float("inf")})
    guard.on_epoch_end(1, {"loss": float("nan")})
    assert guard.failure[:2] == (1, 2) and guard.failure[2] == float("inf")


def test_a_refit_that_diverges_keeps_the_previous_model():
    clf = _classifier().fit(X, Y)
    model, weights = clf._model, _weights(clf)
    proba, history = clf.predict_proba(X), clf.history_
    clf.set_params(callbacks=[Poison(epoch=1, batch=0)])
    with pytest.raises(NonFiniteLossError, match="epoch 2/4, batch 1/8"):
        clf.fit(X, Y)
    assert clf._model is model and clf.history_ is history
    for old, new in zip(weights, _weights(clf)):
        np.testing.assert_array_equal(old, new)
    np.testing.assert_array_equal(clf.predict_proba(X), proba)


@pytest.mark.parametrize("how", ["partial_fit", "warm_start"])
def test_a_continued_fit_that_diverges_puts_weights_and_optimizer_back(how):
    clf = _classifier(optimizer="adam").fit(X, Y)
    weights = _weights(clf)
    optimizer = [keras.ops.convert_to_numpy(v) for v in clf._model.optimizer.variables]
    proba = clf.predict_proba(X)
    clf.set_params(callbacks=[Poison(epoch=0, batch=0)], warm_start=True)
    with pytest.raises(NonFiniteLossError, match="epoch 1/(1|4), batch 1/8"):
        if how == "partial_fit":
            clf.partial_fit(X, Y)
        else:
            clf.fit(X, Y)
    for old, new in zip(weights, _weights(clf)):
        np.testing.assert_array_equal(old, new)
    for old, new in zip(optimizer, clf._model.optimizer.variables):
        np.testing.assert_array_equal(old, keras.ops.convert_to_numpy(new))
    np.testing.assert_array_equal(clf.predict_proba(X), proba)
    # and training goes on from there
    clf.set_params(callbacks=None).partial_fit(X, Y)
    assert np.all(np.isfinite(clf.predict_proba(X)))


def test_the_model_families_are_guarded_too():
    clf = CNNClassifier(
        **TINY_CNN,
        epochs=3,
        batch_size=8,
        random_state=0,
        callbacks=[Poison(epoch=2, batch=0)],
    )
    with pytest.raises(
        NonFiniteLossError, match=r"CNNClassifier: .* epoch 3/3, batch 1"
    ):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_the_guard_can_be_turned_off_for_a_block():
    clf = _classifier(callbacks=[Poison(epoch=1, batch=0)])
    with allowing_non_finite_loss():
        clf.fit(X, Y)
    assert len(clf.history_["loss"]) == 4
    assert np.isnan(clf.history_["loss"][-1])
    with pytest.raises(NonFiniteLossError):  # on again after the block
        clf.fit(X, Y)


def test_a_healthy_fit_is_unchanged_by_the_guard():
    guarded = _classifier().fit(X, Y)
    with allowing_non_finite_loss():
        plain = _classifier().fit(X, Y)
    np.testing.assert_allclose(guarded.history_["loss"], plain.history_["loss"])
    np.testing.assert_array_equal(guarded.predict_proba(X), plain.predict_proba(X))


# ----------------------------------------------------------------------
# Device out of memory. A CPU test machine has no device memory to exhaust;
# the callbacks below raise the exact error each backend raises when a batch
# does not fit (TensorFlow's ResourceExhaustedError, XLA's RESOURCE_EXHAUSTED
# runtime error), from inside keras.Model.fit / predict, as the allocator would.
# ----------------------------------------------------------------------
def _backend_out_of_memory_error():
    message = (
        "OOM when allocating tensor with shape[4096,65536] and type float on "
        "/job:localhost/replica:0/task:0/device:GPU:0 by allocator GPU_0_bfc"
    )
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        return tf.errors.ResourceExhaustedError(None, None, message)
    import jax

    return jax.errors.JaxRuntimeError(
        "RESOURCE_EXHAUSTED: Out of memory while trying to allocate 1073741824 "
        "bytes.\nBufferAssignment OOM Debugging.\n" + "allocation 0: ...\n" * 50
    )


class ExhaustMemory(keras.callbacks.Callback):
    def on_train_batch_begin(self, batch, logs=None):
        raise _backend_out_of_memory_error()

    def on_predict_batch_begin(self, batch, logs=None):
        raise _backend_out_of_memory_error()


def test_out_of_memory_in_fit_names_the_batch_size_and_what_to_try():
    from kerasbig.guards import DeviceMemoryError

    clf = _classifier(callbacks=[ExhaustMemory()])
    with pytest.raises(DeviceMemoryError) as caught:
        clf.fit(X, Y)
    message = str(caught.value)
    assert "ran out of memory during fit with batch_size=8" in message
    assert "batch_size=2" in message and "mixed_bfloat16" in message
    assert len(message.splitlines()) == 1  # not the allocator's report
    assert caught.value.__suppress_context__ and caught.value.original is not None
    assert isinstance(caught.value, MemoryError)
    assert not hasattr(clf, "model_")  # as before the call


def test_out_of_memory_in_predict_names_the_batch_size():
    from kerasbig.guards import DeviceMemoryError

    clf = _classifier().set_params(batch_size=16).fit(X, Y)
    expected = clf.predict_proba(X)
    with pytest.raises(DeviceMemoryError, match="during predict with batch_size=16"):
        clf.predict(X, callbacks=[ExhaustMemory()])
    np.testing.assert_allclose(clf.predict_proba(X), expected)  # still usable


def test_other_errors_pass_through_unchanged():
    class Broken(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            raise RuntimeError("a bug in a callback")

    with pytest.raises(RuntimeError, match="a bug in a callback"):
        _classifier(callbacks=[Broken()]).fit(X, Y)
