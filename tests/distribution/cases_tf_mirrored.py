"""MirroredStrategy over 2 logical CPU devices (run in its own process).

Run by test_multi_device.py: TensorFlow's logical devices must be configured
before TensorFlow initialises, which the main test process has long done.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration()] * 2
)

import pickle  # noqa: E402

import helpers  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from helpers import mlp  # noqa: E402
from sklearn.base import clone  # noqa: E402
from sklearn.model_selection import GridSearchCV, cross_val_score  # noqa: E402

from kerasbig import KerasClassifier, KerasRegressor  # noqa: E402

X, Y = helpers.device_data()
SETTINGS = helpers.DEVICE_SETTINGS


def strategy():
    return tf.distribute.MirroredStrategy(
        [d.name for d in tf.config.list_logical_devices("CPU")],
        cross_device_ops=tf.distribute.ReductionToOneDevice(),
    )


@pytest.mark.parametrize("Estimator", [KerasClassifier, KerasRegressor])
@pytest.mark.parametrize("distribution", ["data_parallel", "mirrored", "strategy"])
def test_fit_predict_score_match_single_device(Estimator, distribution):
    y = Y if Estimator is KerasClassifier else Y.astype(float)
    spec = strategy() if distribution == "strategy" else distribution
    est = Estimator(mlp, distribution=spec, **SETTINGS).fit(X, y)
    assert est._placement.replicas == 2
    assert est.model_.distribute_strategy.num_replicas_in_sync == 2
    single = Estimator(mlp, **SETTINGS).fit(X, y)
    out = "predict_proba" if Estimator is KerasClassifier else "predict"
    np.testing.assert_allclose(
        getattr(est, out)(X), getattr(single, out)(X), rtol=1e-4, atol=1e-5
    )
    assert np.isfinite(est.score(X, y))
    # fewer rows than replicas, and an odd count, at predict time
    assert est.predict(X[:1]).shape[0] == 1
    assert est.predict(X[:3]).shape[0] == 3


def test_padded_training_stays_close():
    helpers.assert_padded_training_stays_close(X, Y)


def test_pickle_clone_deepcopy_with_a_live_strategy():
    import copy

    est = KerasClassifier(mlp, distribution=strategy(), **SETTINGS)
    twin = clone(est)
    assert twin.distribution is est.distribution  # a resource, shared
    est.fit(X, Y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(
        restored.predict_proba(X), est.predict_proba(X), rtol=1e-6
    )
    assert type(restored.distribution).__name__ == "DistributionSpec"
    copied = copy.deepcopy(est)
    copied.fit(X, Y)  # the spec resolves again to 2 replicas
    assert copied._placement.replicas == 2


def test_tiny_training_set_and_small_cv_folds():
    est = KerasClassifier(mlp, distribution="data_parallel", **SETTINGS)
    est.fit(X[:3], np.array([0, 1, 0]))  # first batch smaller than... padded
    scores = cross_val_score(est, X[:10], Y[:10], cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))


def test_validation_split_under_a_strategy():
    est = KerasClassifier(
        mlp, distribution="data_parallel", validation_split=0.2, **SETTINGS
    ).fit(X, Y)
    assert len(est.history_["val_loss"]) == 3


def test_options_that_break_under_mirrored_are_dropped_with_a_warning():
    est = KerasClassifier(
        mlp,
        distribution="data_parallel",
        compile__jit_compile=True,
        compile__steps_per_execution=4,
        **SETTINGS,
    )
    with pytest.warns(UserWarning) as record:
        est.fit(X, Y)
    text = " ".join(str(w.message) for w in record)
    assert "jit_compile" in text and "steps_per_execution" in text


def test_grid_search_in_processes_with_a_distributed_estimator():
    est = KerasClassifier(mlp, distribution=strategy(), **SETTINGS)
    search = GridSearchCV(est, {"model__hidden": [4, 8]}, cv=2, n_jobs=2).fit(X, Y)
    assert search.best_params_["model__hidden"] in (4, 8)


def test_mixed_bfloat16_under_mirrored_returns_float64():
    est = KerasClassifier(
        mlp, distribution="data_parallel", precision="mixed_bfloat16", **SETTINGS
    ).fit(X, Y)
    assert est.model_.layers[-1].dtype_policy.name == "mixed_bfloat16"
    assert est.predict_proba(X).dtype == np.float64


FAMILIES = helpers.TINY_FAMILIES


@pytest.mark.parametrize("family", list(FAMILIES))
def test_each_family_under_mirrored(family):
    import kerasbig

    name, arch = FAMILIES[family]
    Estimator = getattr(kerasbig, name)
    settings = {**SETTINGS, "epochs": 2, **arch}
    est = Estimator(distribution="data_parallel", **settings).fit(X, Y)
    assert est._placement.replicas == 2
    single = Estimator(**settings).fit(X, Y)
    np.testing.assert_allclose(
        est.predict_proba(X), single.predict_proba(X), rtol=1e-4, atol=1e-5
    )
    assert 0.0 <= est.score(X, Y) <= 1.0
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(
        restored.predict_proba(X), est.predict_proba(X), rtol=1e-6
    )
    assert clone(est).get_params()["distribution"] == "data_parallel"
    scores = cross_val_score(
        Estimator(distribution="data_parallel", **settings), X[:15], Y[:15], cv=3
    )
    assert np.all(np.isfinite(scores))


@pytest.mark.parametrize("case", list(helpers.BATCH_NORM_CASES))
def test_same_weights_predict_the_same_on_one_device(case):
    helpers.assert_same_weights_predict_the_same(case, "data_parallel", X, Y)
