"""Reproducible fits without leaving global random state changed.

Keras draws weight initialisations, dropout masks and shuffling orders from
Python's ``random``, NumPy's global generator, TensorFlow's global seed and
Keras' own global seed generator. ``seeded(random_state)`` seeds all of them
for the duration of a fit and puts every one back afterwards.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator

import keras
import numpy as np

from kerasbig._compat import get_keras_global, keras_default_seeds, set_keras_global

_KERAS_SEED_ATTRS = ("global_random_seed", "global_seed_generator")


def seed_from_random_state(random_state) -> int | None:
    """An int seed from scikit-learn's ``random_state`` convention, or None.

    ``None`` means "do not seed"; an int is used as is; a
    ``numpy.random.RandomState`` yields a fresh draw (and advances, as
    scikit-learn estimators do).
    """
    if random_state is None:
        return None
    if isinstance(random_state, (int, np.integer)) and not isinstance(
        random_state, bool
    ):
        return int(random_state) % (2**32 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    raise ValueError(
        f"random_state={random_state!r} is invalid; expected None, an int, a "
        "numpy.random.RandomState or a numpy.random.Generator."
    )


def _tf():
    try:
        import tensorflow as tf
    except ImportError:  # the JAX backend may run without TensorFlow
        return None
    return tf


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seed every random source Keras uses, and restore them on exit.

    With ``seed=None`` nothing is touched.
    """
    if seed is None:
        yield
        return
    py_state = random.getstate()
    np_state = np.random.get_state()
    keras_attrs = {name: get_keras_global(name) for name in _KERAS_SEED_ATTRS}
    tf = _tf()
    tf_seed = tf.compat.v1.random.get_seed(None)[0] if tf is not None else None
    keras.utils.set_random_seed(seed)
    try:
        # Keras draws default seeds from the process-wide ``random``, which
        # other threads (a dask worker's event loop, a concurrent fit) may
        # draw from too; give this thread a generator of its own.
        with keras_default_seeds(seed):
            yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        for name, value in keras_attrs.items():
            set_keras_global(name, value)
        if tf is not None:
            tf.random.set_seed(tf_seed)
