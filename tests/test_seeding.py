"""random_state seeds one fit and leaves the process's random state as it was."""

import random

import keras
import numpy as np
import pytest
import tensorflow as tf
from helpers import mlp
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier
from kerasbig._compat import get_keras_global, set_keras_global
from kerasbig.seeding import seed_from_random_state, seeded

X, Y = make_classification(n_samples=50, n_features=4, random_state=0)


def test_private_keras_global_state_api_still_works():
    """Fails loudly if keras.src.backend.common.global_state moves."""
    keras.utils.set_random_seed(3)
    assert get_keras_global("global_random_seed") == 3
    set_keras_global("global_random_seed", None)
    assert get_keras_global("global_random_seed") is None


def test_seed_from_random_state_conventions():
    assert seed_from_random_state(None) is None
    assert seed_from_random_state(7) == 7
    rs = np.random.RandomState(0)
    assert seed_from_random_state(rs) != seed_from_random_state(rs)  # it advances
    with pytest.raises(ValueError):
        seed_from_random_state(1.5)


def test_fit_restores_python_numpy_tf_and_keras_random_state():
    random.seed(11)
    np.random.seed(11)
    tf.random.set_seed(11)
    keras_seed = get_keras_global("global_random_seed")
    py_state, np_state = random.getstate(), np.random.get_state()
    KerasClassifier(mlp, random_state=0, epochs=1).fit(X, Y)
    assert random.getstate() == py_state
    np.testing.assert_array_equal(np.random.get_state()[1], np_state[1])
    assert tf.compat.v1.random.get_seed(None)[0] == 11
    assert get_keras_global("global_random_seed") == keras_seed


def test_seeded_restores_even_when_the_block_raises():
    state = np.random.get_state()
    with pytest.raises(RuntimeError), seeded(5):
        raise RuntimeError
    np.testing.assert_array_equal(np.random.get_state()[1], state[1])


def test_dropout_and_shuffle_are_reproducible():
    def with_dropout(n_features_in_):
        return keras.Sequential(
            [
                keras.Input((n_features_in_,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dropout(0.5),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )

    fits = [
        KerasClassifier(with_dropout, random_state=4, epochs=3, batch_size=8)
        .fit(X, Y)
        .predict_proba(X)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(fits[0], fits[1])
