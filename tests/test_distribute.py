"""distribution=: resolution, errors, and the helpers that fit data to replicas.

Fits on several devices run in their own processes: see test_multi_device.py.
"""

import pickle

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import mlp
from sklearn.base import clone
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier, distribute

X, Y = make_classification(n_samples=30, n_features=4, random_state=0)


def test_none_and_auto_without_accelerators_mean_no_distribution():
    assert distribute.resolve(None) is None
    assert distribute.resolve("auto") is None  # no GPU here
    clf = KerasClassifier(mlp, distribution="auto", random_state=0).fit(X, Y)
    assert clf._placement is None


def test_data_parallel_on_one_device_still_works():
    clf = KerasClassifier(mlp, distribution="mirrored", random_state=0).fit(X, Y)
    assert clf._placement.replicas == 1
    assert clf.predict(X).shape == (30,)


@pytest.mark.parametrize(
    "spec, error, message",
    [
        ("everywhere", ValueError, "distribution=.everywhere. is invalid"),
        (42, TypeError, "distribution=42"),
        ("model_parallel", ValueError, "needs the jax backend"),
        (lambda: "nope", TypeError, "returned 'nope'"),
        ("tpu", ValueError, "distribution='tpu' but .* no TPU"),
    ],
)
def test_invalid_or_impossible_distributions_fail_before_training(spec, error, message):
    if keras.backend.backend() != "tensorflow" and spec == "model_parallel":
        pytest.skip("model_parallel is valid on JAX")
    clf = KerasClassifier(mlp, distribution=spec)
    with pytest.raises(error, match=message):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_a_live_strategy_is_shared_by_clone_and_pickled_as_a_spec():
    strategy = tf.distribute.MirroredStrategy()
    clf = KerasClassifier(mlp, distribution=strategy, random_state=0)
    assert clone(clf).distribution is strategy
    restored = pickle.loads(pickle.dumps(clf))
    assert restored.distribution == distribute.DistributionSpec("data_parallel")
    assert clf.distribution is strategy  # pickling did not touch the original


def test_padding_helpers():
    np.testing.assert_array_equal(distribute.pad_rows(5, 4), [0, 1, 2, 3, 4, 0, 1, 2])
    Xp, yp, w = distribute.pad_for_training(np.arange(3), np.arange(3), None, 2)
    np.testing.assert_array_equal(w, [1, 1, 1, 0])
    assert len(Xp) == len(yp) == 4
    assert distribute.round_batch_size(None, 3) == 33
    with pytest.warns(UserWarning, match="rounded up to 8"):
        assert distribute.round_batch_size(5, 4) == 8
