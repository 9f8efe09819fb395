"""kerasbig.reuse: a dead estimator's compiled model serves the next fit of the
same architecture, starting from exactly the state a fresh build would have."""

from __future__ import annotations

import gc
import pickle
import weakref

import joblib
import keras
import numpy as np
import pytest
from sklearn.model_selection import cross_val_score

from kerasbig import KerasClassifier, KerasRegressor, reuse

pytestmark = pytest.mark.skipif(
    keras.backend.backend() not in reuse.SUPPORTED_BACKENDS,
    reason="models are reused on TensorFlow only (see kerasbig.reuse)",
)


def build(hidden=16, dropout=0.3):
    """Dropout (a seed state) and BatchNormalization (moving statistics): both
    must start as a fresh build's would."""
    return keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.BatchNormalization(),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(3, activation="softmax"),
        ]
    )


def build_regressor():
    return keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(240, 6)).astype("float32")
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def make(**params):
    settings = dict(epochs=3, batch_size=16, random_state=0, verbose=0)
    return KerasClassifier(build, **{**settings, **params})


def fitted_model_ref(X, y, **params):
    """Fit an estimator that then dies, keeping only a weak reference to its
    model (reading ``model_`` would mark it escaped)."""
    est = make(**params).fit(X, y)
    ref = weakref.ref(est._model)
    del est
    gc.collect()
    return ref


def test_cross_validation_scores_equal_with_and_without_reuse(data):
    X, y = data
    with reuse.disabled():
        fresh = cross_val_score(make(), X, y, cv=3)
    reused = cross_val_score(make(), X, y, cv=3)
    again = cross_val_score(make(), X, y, cv=3)
    np.testing.assert_allclose(reused, fresh, atol=1e-6)
    np.testing.assert_allclose(again, fresh, atol=1e-6)


def test_predictions_equal_a_fresh_fit_after_taking_over_a_model(data):
    X, y = data
    old = fitted_model_ref(X, y)
    est = make().fit(X, y)
    assert est._model is old()  # taken over, not rebuilt
    with reuse.disabled():
        fresh = make().fit(X, y)
    np.testing.assert_allclose(est.predict_proba(X), fresh.predict_proba(X), atol=1e-6)


def test_a_model_read_through_model_attribute_is_never_reused(data):
    X, y = data
    est = make().fit(X, y)
    kept = est.model_  # the user now holds the model
    weights = [w.copy() for w in kept.get_weights()]
    del est
    gc.collect()
    other = make(random_state=1).fit(X, y)
    assert other._model is not kept
    for before, after in zip(weights, kept.get_weights()):
        np.testing.assert_array_equal(before, after)


def test_another_architecture_or_compile_setting_builds_its_own(data):
    X, y = data
    old = fitted_model_ref(X, y)
    assert make(model__hidden=8).fit(X, y)._model is not old()
    old = fitted_model_ref(X, y)
    assert make(optimizer="sgd").fit(X, y)._model is not old()


def test_callback_instances_keep_the_model_out_of_the_pool(data):
    X, y = data
    callback = keras.callbacks.EarlyStopping(monitor="loss", patience=5)
    old = fitted_model_ref(X, y, callbacks=[callback])
    assert old() is not None and callback.model is old()
    assert make().fit(X, y)._model is not old()


def test_regressor_and_pickle_after_reuse(data):
    X, y = data
    target = X[:, :2].sum(axis=1)

    def fit_one():
        return KerasRegressor(build_regressor, epochs=2, random_state=0).fit(X, target)

    first = fit_one()
    ref = weakref.ref(first._model)
    del first
    gc.collect()
    second = fit_one()
    assert second._model is ref()
    restored = pickle.loads(pickle.dumps(second))
    np.testing.assert_allclose(restored.predict(X), second.predict(X), atol=1e-6)


def test_threads_never_share_a_model_between_live_estimators(data):
    """Fits in threads (joblib's threading backend, as n_jobs with it gives):
    each live estimator has its own model, and the idle ones are taken over."""
    X, y = data

    def fit_in_threads(n):
        return joblib.Parallel(n_jobs=4, backend="threading")(
            joblib.delayed(make(random_state=i).fit)(X, y) for i in range(n)
        )

    first = fit_in_threads(4)
    assert len({id(est._model) for est in first}) == 4
    first_models = [weakref.ref(est._model) for est in first]
    del first
    gc.collect()
    second = fit_in_threads(6)
    second_ids = {id(est._model) for est in second}
    assert len(second_ids) == 6  # never two estimators on one model
    taken_over = [ref() for ref in first_models if ref() is not None]
    assert {id(model) for model in taken_over} & second_ids  # idle ones reused
    for est in second:
        assert est.predict_proba(X).shape == (len(X), 3)


def test_architecture_key_ignores_layer_names_only():
    def named(prefix, units=4):
        inputs = keras.Input((3,), name=f"{prefix}_in")
        outputs = keras.layers.Dense(units, name=f"{prefix}_dense")(inputs)
        model = keras.Model(inputs, outputs, name=f"{prefix}_model")
        model.compile("adam", "mse")
        return model

    assert reuse.architecture_key(named("a")) == reuse.architecture_key(named("b"))
    assert reuse.architecture_key(named("a")) != reuse.architecture_key(
        named("a", units=5)
    )
