"""Reproducible fits without leaving global random state changed.

Two mechanisms, one for what the estimator builds and one for what Keras
draws while training:

* **explicit seeds**: the seed drawn from ``random_state`` is handed to the
  model's builder. The family builders give every initializer and dropout
  layer its own seed derived from it, so the same ``random_state`` builds the
  same network in any thread, whatever other threads draw meanwhile. A
  user's model-building function receives it too if it names a ``seed``
  argument.
* **global seeds for the fit**: Keras draws default initializer seeds (for
  layers built without one), shuffling orders and dropout masks from
  Python's ``random``, NumPy's global generator, TensorFlow's global seed and
  Keras' own global seed generator. ``seeded(seed)`` seeds all of them for
  the duration of a fit and puts every one back afterwards.

A model built without explicit seeds takes its initial weights from Python's
process-wide ``random``: reproducible in one thread, but another thread
drawing from ``random`` during the build (a dask worker's event loop) changes
them. Builders that take ``seed`` are reproducible everywhere.
"""

from __future__ import annotations

import contextlib
import random
import sys
from collections.abc import Iterator

import keras
import numpy as np

from kerasbig._compat import get_keras_global, set_keras_global
from kerasbig.parameters import Satisfies

_KERAS_SEED_ATTRS = ("global_random_seed", "global_seed_generator")


def is_random_state(value) -> bool:
    """True for the ``random_state`` values scikit-learn accepts."""
    return (
        value is None
        or isinstance(
            value, (int, np.integer, np.random.RandomState, np.random.Generator)
        )
        and not isinstance(value, bool)
    )


RANDOM_STATE = [
    Satisfies(
        is_random_state, "None, an int, a numpy.random.RandomState or a Generator"
    )
]


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
    """TensorFlow if it is imported (always on its backend; on JAX only when
    something used it, e.g. text tokenization), else None: a fit on JAX does
    not import TensorFlow just to seed it."""
    return sys.modules.get("tensorflow")


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
        yield
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
        for name, value in keras_attrs.items():
            set_keras_global(name, value)
        if tf is not None:
            tf.random.set_seed(tf_seed)
