"""The only place kerasbig touches private APIs of its dependencies.

One private API remains, for one reason: ``keras.utils.set_random_seed`` (the
public way to seed a fit) writes Keras' global seed attributes, and Keras has
no public way to read them back or restore them. :func:`kerasbig.seeding.seeded`
uses these two helpers to put them back after a seeded fit, so that ``fit``
leaves no global state changed. ``tests/test_seeding.py`` fails loudly when
this private API moves.

Nothing here, or anywhere in kerasbig, assigns to attributes of Keras or
TensorFlow modules.
"""

from __future__ import annotations

from typing import Any

from keras.src.backend.common import global_state as _keras_global_state


def get_keras_global(name: str) -> Any:
    """Read a Keras global attribute (e.g. its global seed generator)."""
    return _keras_global_state.get_global_attribute(name)


def set_keras_global(name: str, value: Any) -> None:
    """Write a Keras global attribute back (through Keras' own setter)."""
    _keras_global_state.set_global_attribute(name, value)
