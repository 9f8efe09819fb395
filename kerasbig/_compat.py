"""The only place kerasbig touches private APIs of its dependencies.

Each helper here is covered by ``tests/test_seeding.py``, which fails loudly
when the private API it relies on moves.
"""

from __future__ import annotations

import contextlib
import random
import threading
from collections.abc import Iterator
from typing import Any

from keras.src.backend.common import global_state as _keras_global_state
from keras.src.random import seed_generator as _keras_seed_generator


def get_keras_global(name: str) -> Any:
    """Read a Keras global attribute (e.g. its global seed generator)."""
    return _keras_global_state.get_global_attribute(name)


def set_keras_global(name: str, value: Any) -> None:
    """Write a Keras global attribute back."""
    _keras_global_state.set_global_attribute(name, value)


class _PerThreadRandom:
    """Stands in for the ``random`` module inside Keras' seed generator.

    Keras draws every default seed (initializers, ``SeedGenerator()``) from
    the process-wide ``random`` module, which any other thread may draw from
    meanwhile: a dask worker's event loop, a second fit under joblib's
    threading backend. A thread inside :func:`keras_default_seeds` draws from
    its own generator instead; other threads fall through to ``random``.
    """

    def __init__(self) -> None:
        self._local = threading.local()

    def __getattr__(self, name: str) -> Any:
        rng = getattr(self._local, "rng", None)
        return getattr(random if rng is None else rng, name)


_PER_THREAD_RANDOM = _PerThreadRandom()


@contextlib.contextmanager
def keras_default_seeds(seed: int) -> Iterator[None]:
    """Draw Keras' default seeds in this thread from ``random.Random(seed)``."""
    if _keras_seed_generator.python_random is not _PER_THREAD_RANDOM:
        _keras_seed_generator.python_random = _PER_THREAD_RANDOM
    local = _PER_THREAD_RANDOM._local
    saved = getattr(local, "rng", None)
    local.rng = random.Random(seed)
    try:
        yield
    finally:
        local.rng = saved
