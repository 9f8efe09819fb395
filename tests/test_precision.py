"""precision=: a per-model dtype policy, never a global one left behind."""

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier, KerasRegressor
from kerasbig import precision as precision_lib

X, Y = make_classification(n_samples=40, n_features=4, random_state=0)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16", "float32"])
def test_policy_applies_to_the_model_and_is_restored(policy):
    before = keras.config.dtype_policy().name
    clf = KerasClassifier(mlp, precision=policy, epochs=2, random_state=0).fit(X, Y)
    assert keras.config.dtype_policy().name == before
    assert clf.model_.layers[-2].dtype_policy.name == policy
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert 0.0 <= clf.score(X, Y) <= 1.0


def test_float16_gets_loss_scaling():
    clf = KerasClassifier(mlp, precision="mixed_float16", epochs=1, random_state=0)
    clf.fit(X, Y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.LossScaleOptimizer)


def test_auto_is_float32_on_a_cpu():
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
