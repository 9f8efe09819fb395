"""precision=: a per-model dtype policy, never a global one left behind."""

import keras
import numpy as np
import pytest
from helpers import mlp, separable_data
from sklearn.base import clone

from kerasbig import KerasClassifier, KerasRegressor, RNNRegressor
from kerasbig import precision as precision_lib

X, Y = separable_data(n=60)  # two classes, far apart: easy to learn
# A linear target of the same features, standardised: easy to fit.
T = X @ np.array([1.0, -2.0, 0.5, 0.0])
T = (T - T.mean()) / T.std()
# Enough steps (5 epochs of 4 batches) to learn either, in any precision.
TRAIN = dict(
    optimizer="adam",
    optimizer__learning_rate=0.05,
    batch_size=16,
    epochs=5,
    random_state=0,
)


def _fast_bfloat16_device() -> bool:
    """A TPU, or a GPU of compute capability 8.0 (Ampere) or newer."""
    if keras.backend.backend() == "jax":
        import jax  # noqa: PLC0415

        return any(
            d.platform == "tpu"
            or (d.platform == "gpu" and float(d.compute_capability) >= 8.0)
            for d in jax.devices()
        )
    import tensorflow as tf  # noqa: PLC0415

    capabilities = [
        tf.config.experimental.get_device_details(gpu).get("compute_capability")
        for gpu in tf.config.list_physical_devices("GPU")
    ]
    return bool(tf.config.list_logical_devices("TPU")) or any(
        c and c[0] >= 8 for c in capabilities
    )


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16", "float32"])
def test_policy_applies_to_the_model_and_is_restored(policy):
    before = keras.config.dtype_policy().name
    clf = KerasClassifier(mlp, precision=policy, **TRAIN).fit(X, Y)
    assert keras.config.dtype_policy().name == before
    assert clf.model_.layers[-2].dtype_policy.name == policy
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert clf.score(X, Y) >= 0.9


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16", "float32"])
def test_regressor_predicts_float32_in_any_policy(policy):
    # Half-precision outputs are raised to float32, never returned as float16.
    reg = KerasRegressor(mlp, precision=policy, **TRAIN).fit(X, T)
    assert reg.model_.layers[-2].dtype_policy.name == policy
    pred = reg.predict(X)
    assert pred.dtype == np.float32 and pred.shape == T.shape
    assert reg.score(X, T) >= 0.8


def test_auto_is_mixed_bfloat16_with_fast_bfloat16():
    if not _fast_bfloat16_device():
        pytest.skip("no TPU and no Ampere-or-newer GPU here")
    assert precision_lib.resolve("auto") == "mixed_bfloat16"
    clf = KerasClassifier(mlp, precision="auto", **TRAIN).fit(X, Y)
    assert clf.model_.layers[-1].dtype_policy.name == "mixed_bfloat16"
    assert clf.predict_proba(X).dtype == np.float64


def test_float16_gets_loss_scaling():
    clf = KerasClassifier(mlp, precision="mixed_float16", epochs=1, random_state=0)
    clf.fit(X, Y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.LossScaleOptimizer)


def test_auto_is_float32_without_fast_bfloat16():
    if _fast_bfloat16_device():
        pytest.skip("a TPU or an Ampere-or-newer GPU is present: auto is bfloat16")
    assert precision_lib.resolve("auto") == "float32"
    reg = KerasRegressor(mlp, precision="auto", random_state=0).fit(X, Y.astype(float))
    assert reg.model_.layers[-1].dtype_policy.name == "float32"


def test_invalid_precision_is_rejected_before_training():
    clf = KerasClassifier(mlp, precision="float8")
    with pytest.raises(ValueError, match="precision='float8' is invalid"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_precision_with_a_built_model_instance_is_an_error():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, "sigmoid")])
    with pytest.raises(ValueError, match="applies to models the estimator builds"):
        KerasClassifier(model, precision="mixed_bfloat16").fit(X, Y)


# Values with more digits than float32 keeps: rounding them would show.
X_FINE = X.astype(np.float64) + np.random.default_rng(0).normal(0, 1e-4, X.shape)


def _as_list(X):
    return X.tolist()


def _as_objects(X):
    return X.astype(object)


@pytest.mark.parametrize(
    "estimator, to_input",
    [
        (KerasRegressor(mlp, **TRAIN), _as_list),
        (KerasRegressor(mlp, **TRAIN), _as_objects),
        # (a family reads a list as sequences of their own lengths)
        (RNNRegressor(units=4, epochs=2, batch_size=16, random_state=0), _as_objects),
    ],
    ids=["KerasRegressor-list", "KerasRegressor-object", "RNNRegressor-object"],
)
def test_float64_precision_keeps_numbers_in_float64(estimator, to_input):
    # A list or an object array becomes an array of validate_data's first
    # dtype: under precision="float64" that is float64, so the numbers train
    # and predict exactly as the same numbers in a float64 array do.
    estimator = estimator.set_params(precision="float64")
    converted = clone(estimator).fit(to_input(X_FINE), T)
    from_array = clone(estimator).fit(X_FINE, T)
    assert converted.X_dtype_ == np.float64
    np.testing.assert_array_equal(
        converted.predict(to_input(X_FINE)), from_array.predict(X_FINE)
    )
    # Under the default precision they still become float32.
    default = clone(estimator).set_params(precision=None)
    assert default.fit(to_input(X_FINE), T).X_dtype_ == np.float32
