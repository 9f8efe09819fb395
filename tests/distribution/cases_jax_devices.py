"""keras.distribution on 4 JAX CPU devices (run in its own process).

Run by test_multi_device.py with KERAS_BACKEND=jax and
XLA_FLAGS=--xla_force_host_platform_device_count=4.
"""

import pickle

import helpers
import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.base import clone
from sklearn.model_selection import cross_val_score

from kerasbig import KerasClassifier, KerasRegressor

X, Y = helpers.device_data()
SETTINGS = helpers.DEVICE_SETTINGS


def test_four_devices_are_visible():
    assert keras.backend.backend() == "jax"
    assert len(keras.distribution.list_devices()) == 4


@pytest.mark.parametrize("Estimator", [KerasClassifier, KerasRegressor])
@pytest.mark.parametrize("distribution", ["data_parallel", "model_parallel"])
def test_predictions_match_the_single_device_model(Estimator, distribution):
    y = Y if Estimator is KerasClassifier else Y.astype(float)
    est = Estimator(mlp, model__hidden=8, distribution=distribution, **SETTINGS)
    est.fit(X, y)
    single = Estimator(mlp, model__hidden=8, **SETTINGS).fit(X, y)
    out = "predict_proba" if Estimator is KerasClassifier else "predict"
    np.testing.assert_allclose(
        getattr(est, out)(X), getattr(single, out)(X), rtol=1e-4, atol=1e-5
    )
    assert est.predict(X[:3]).shape[0] == 3  # not divisible by 4: padded
    assert keras.distribution.distribution() is None  # no global left behind


def test_model_parallel_shards_divisible_kernels():
    est = KerasClassifier(
        mlp, model__hidden=8, distribution="model_parallel", **SETTINGS
    ).fit(X, Y)
    hidden_kernel = est.model_.layers[-2].kernel.value
    assert len(hidden_kernel.sharding.device_set) == 4
    assert hidden_kernel.addressable_shards[0].data.shape == (5, 2)


def test_explicit_distribution_objects_and_factories():
    data_parallel = keras.distribution.DataParallel(
        devices=keras.distribution.list_devices()
    )
    est = KerasClassifier(mlp, distribution=data_parallel, **SETTINGS).fit(X, Y)
    assert est._placement.replicas == 4
    made = KerasClassifier(
        mlp, distribution=lambda: keras.distribution.DataParallel(), **SETTINGS
    ).fit(X, Y)
    assert made._placement.replicas == 4


def test_padded_training_stays_close():
    helpers.assert_padded_training_stays_close(X, Y)


def test_pickle_and_clone_of_a_used_distribution():
    dist = keras.distribution.DataParallel()
    est = KerasClassifier(mlp, distribution=dist, **SETTINGS).fit(X, Y)
    assert clone(est).distribution is dist
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(
        restored.predict_proba(X), est.predict_proba(X), rtol=1e-6
    )


def test_cross_validation_with_small_folds():
    est = KerasClassifier(mlp, distribution="data_parallel", **SETTINGS)
    scores = cross_val_score(est, X[:14], Y[:14], cv=3)
    assert np.all(np.isfinite(scores))


def test_tf_strategy_on_jax_is_a_clear_error():
    import tensorflow as tf

    est = KerasClassifier(
        mlp, distribution=tf.distribute.MirroredStrategy(), **SETTINGS
    )
    with pytest.raises(ValueError, match="needs the tensorflow backend"):
        est.fit(X, Y)
    assert not hasattr(est, "model_")


FAMILIES = helpers.TINY_FAMILIES


@pytest.mark.parametrize("distribution", ["data_parallel", "model_parallel"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_family_matches_the_single_device_model(family, distribution):
    import kerasbig

    name, arch = FAMILIES[family]
    Estimator = getattr(kerasbig, name)
    settings = {**SETTINGS, "epochs": 2, **arch}
    est = Estimator(distribution=distribution, **settings).fit(X, Y)
    single = Estimator(**settings).fit(X, Y)
    np.testing.assert_allclose(
        est.predict_proba(X), single.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    assert est.predict_proba(X[:3]).shape[0] == 3


@pytest.mark.parametrize("case", list(helpers.BATCH_NORM_CASES))
def test_same_weights_predict_the_same_on_one_device(case):
    helpers.assert_same_weights_predict_the_same(case, "data_parallel", X, Y)
