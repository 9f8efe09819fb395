"""Small checks shared by the model builders.

Every builder validates all of its arguments with these helpers *before* it creates
a single layer, so a bad value fails with a message that names the parameter, the
value and what was expected, instead of a stack trace from inside Keras.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np

OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear", None)


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}.")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def check_positive_ints(
    value: Any,
    name: str,
    *,
    length: int | None = None,
    per: str = "block",
    allow_empty: bool = False,
) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints.

    A single integer is repeated ``length`` times (once if ``length`` is None). A
    sequence must have exactly ``length`` entries when ``length`` is given.
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return (check_positive_int(value, name),) * (1 if length is None else length)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name} must be a positive integer or a sequence of positive integers, "
            f"got {value!r}."
        )
    values = tuple(value)
    if length is not None and len(values) != length:
        raise ValueError(
            f"{name} must be an integer or a sequence of {length} positive integers "
            f"(one per {per}), got {value!r} with {len(values)} entries."
        )
    if not values and not allow_empty:
        raise ValueError(f"{name} must not be empty, got {value!r}.")
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v < 1:
            raise ValueError(
                f"{name} must contain only positive integers, got {value!r} "
                f"(entry {i} is {v!r})."
            )
    return tuple(int(v) for v in values)


def check_rate(value: Any, name: str) -> float:
    """Return ``value`` as a float in ``[0, 1)``, else raise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a float in [0, 1), got {value!r}.")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a float in [0, 1), got {value!r}.")
    return float(value)


def check_choice(value: Any, name: str, choices: Sequence[str | None]) -> str | None:
    """Return ``value`` if it is one of ``choices`` (strings or None), else raise."""
    if (value is None or isinstance(value, str)) and value in choices:
        return value
    raise ValueError(
        f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}."
    )


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy bools included), else raise."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_input_shape(
    value: Any, *, ranks: Sequence[int], family: str
) -> tuple[int | None, ...]:
    """Check an ``input_shape`` (batch axis excluded) and return it as a tuple.

    ``ranks`` lists the accepted numbers of dimensions. Every axis must be a
    positive integer, except that the length/spatial axes may be ``None`` (unknown
    size): all axes but the last (the channels) when there are two or more, the
    only axis (a token sequence) when there is one.
    """
    expected = " or ".join(str(r) for r in ranks)
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"input_shape must be a tuple of {expected} dimensions (batch axis "
            f"excluded) for a {family}, got {value!r}."
        )
    shape = tuple(value)
    if len(shape) not in ranks:
        raise ValueError(
            f"input_shape must have {expected} dimensions (batch axis excluded) for "
            f"a {family}, got {value!r} with {len(shape)}."
        )
    n_none_ok = 1 if len(shape) == 1 else len(shape) - 1
    for axis, size in enumerate(shape):
        if size is None and axis < n_none_ok:
            continue
        if isinstance(size, bool) or not isinstance(size, numbers.Integral) or size < 1:
            what = "a positive integer" + (" or None" if axis < n_none_ok else "")
            raise ValueError(
                f"input_shape[{axis}] must be {what}, got {size!r} in "
                f"input_shape={value!r}."
            )
    return tuple(None if s is None else int(s) for s in shape)


def check_output_activation(value: Any) -> str | None:
    """Return the head activation, ``None`` and ``"linear"`` meaning no activation."""
    return check_choice(value, "output_activation", OUTPUT_ACTIVATIONS)


def check_dtype(value: Any) -> Any:
    """Check that ``value`` is ``None`` or something Keras accepts as a dtype policy."""
    if value is None:
        return None
    try:
        keras.dtype_policies.get(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            f"dtype must be None, a dtype policy name such as 'float32', 'float64' "
            f"or 'mixed_bfloat16', or a keras.DTypePolicy; got {value!r} ({exc})"
        ) from None
    return value


def check_real(value: Any, name: str, *, allow_none: bool = True) -> float | None:
    """Return ``value`` as a float that is not NaN (or None when allowed)."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number or None, got {value!r}.")
    if math.isnan(value):
        raise ValueError(f"{name} must not be NaN, got {value!r}.")
    return float(value)


def check_layers(value: Any, name: str) -> list[keras.layers.Layer]:
    """Return ``value`` as a list of Keras layers (``None`` gives an empty list)."""
    if value is None:
        return []
    if isinstance(value, keras.layers.Layer):
        value = [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise TypeError(
            f"{name} must be None or a list of Keras layers, got {value!r}."
        )
    layers = list(value)
    for i, layer in enumerate(layers):
        if not isinstance(layer, keras.layers.Layer):
            raise TypeError(
                f"{name} must contain only Keras layers, got {value!r} "
                f"(entry {i} is {layer!r})."
            )
    return layers
