"""The only place kerasbig touches private APIs of its dependencies.

Each helper here is covered by ``tests/test_compat.py``, which fails loudly
when the private API it relies on moves.
"""

from __future__ import annotations

from typing import Any

from keras.src.backend.common import global_state as _keras_global_state


def get_keras_global(name: str) -> Any:
    """Read a Keras global attribute (e.g. its global seed generator)."""
    return _keras_global_state.get_global_attribute(name)


def set_keras_global(name: str, value: Any) -> None:
    """Write a Keras global attribute back."""
    _keras_global_state.set_global_attribute(name, value)
