"""Checking parameter values: one error type, one way to declare what is valid.

Every kerasbig object checks its parameters here, before any work:

* estimators and preprocessing transformers declare, per class, what each
  parameter accepts in ``_parameter_constraints`` (as scikit-learn does) and
  call :func:`validate_params` at the start of ``fit``;
* the pure-Keras builders check their arguments with the ``check_*`` helpers
  below before they create a single layer.

Both raise :class:`InvalidParameterError`, a subclass of ``ValueError`` *and*
``TypeError`` (as scikit-learn's error of the same name), whose message names
the parameter, the value and what was expected.

Examples
--------
>>> from kerasbig.parameters import Interval, Options, validate_params
>>> constraints = {"epochs": [Interval(int, 1)], "truncation": [Options("warn")]}
>>> validate_params({"epochs": 0, "truncation": "warn"}, constraints, "Model")
Traceback (most recent call last):
...
kerasbig.parameters.InvalidParameterError: Model: epochs=0 is invalid; expected an \
integer >= 1.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np


class InvalidParameterError(ValueError, TypeError):
    """A parameter's value is not one its owner accepts.

    A subclass of both ``ValueError`` and ``TypeError``, so code that catches
    either (as scikit-learn's own checks do) catches it.
    """


# ----------------------------------------------------------------------
# Constraints: what one parameter accepts
# ----------------------------------------------------------------------
class Constraint:
    """Something a parameter value may satisfy, with a description of it."""

    def accepts(self, value: Any) -> bool:
        raise NotImplementedError

    def __str__(self) -> str:
        raise NotImplementedError


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(
        value, (bool, np.bool_)
    )


def _is_real(value: Any) -> bool:
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, (bool, np.bool_))
        and not math.isnan(value)
    )


class Interval(Constraint):
    """An integer (``kind=int``) or a real number (``kind=float``) in a range.

    ``closed`` says which ends belong to the range: ``"both"``, ``"left"``,
    ``"right"`` or ``"neither"``. ``None`` for an end means unbounded.
    """

    def __init__(
        self,
        kind: type,
        low: float | None = None,
        high: float | None = None,
        closed: str = "both",
    ):
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def accepts(self, value: Any) -> bool:
        if not (_is_int(value) if self.kind is int else _is_real(value)):
            return False
        low_ok = self.low is None or (
            value >= self.low if self.closed in ("both", "left") else value > self.low
        )
        high_ok = self.high is None or (
            value <= self.high
            if self.closed in ("both", "right")
            else value < self.high
        )
        return low_ok and high_ok

    def __str__(self) -> str:
        what = "an integer" if self.kind is int else "a number"
        left = ">=" if self.closed in ("both", "left") else ">"
        right = "<=" if self.closed in ("both", "right") else "<"
        if self.low is not None and self.high is not None:
            lo = "[" if left == ">=" else "("
            hi = "]" if right == "<=" else ")"
            return f"{what} in {lo}{self.low}, {self.high}{hi}"
        if self.low is not None:
            return f"{what} {left} {self.low}"
        if self.high is not None:
            return f"{what} {right} {self.high}"
        return what


class Options(Constraint):
    """One of a fixed set of values (strings, None, ...), compared with ``==``."""

    def __init__(self, *values: Any):
        self.values = values

    def accepts(self, value: Any) -> bool:
        if isinstance(value, (np.ndarray, list, dict)):
            return False
        return any(
            value is option or (type(value) is type(option) and value == option)
            for option in self.values
        )

    def __str__(self) -> str:
        shown = ", ".join(repr(v) for v in self.values)
        return f"one of {shown}" if len(self.values) > 1 else shown


class Boolean(Constraint):
    """True or False (NumPy booleans included)."""

    def accepts(self, value: Any) -> bool:
        return isinstance(value, (bool, np.bool_))

    def __str__(self) -> str:
        return "True or False"


class Satisfies(Constraint):
    """Any value for which ``predicate`` returns True; ``description`` says which."""

    def __init__(self, predicate: Callable[[Any], bool], description: str):
        self.predicate, self.description = predicate, description

    def accepts(self, value: Any) -> bool:
        return bool(self.predicate(value))

    def __str__(self) -> str:
        return self.description


NONE = Options(None)
INTS_OR_SEQUENCE = Satisfies(
    lambda v: (
        _is_int(v)
        or (
            isinstance(v, Iterable)
            and not isinstance(v, (str, bytes))
            and all(_is_int(x) for x in v)
        )
    ),
    "an integer or a sequence of integers",
)


def validate_params(
    params: Mapping[str, Any],
    constraints: Mapping[str, Sequence[Constraint]],
    owner: str,
) -> None:
    """Raise :class:`InvalidParameterError` for the first value no constraint takes.

    Only the parameters named in ``constraints`` are checked; a value is valid
    when any one of its constraints accepts it.
    """
    for name, allowed in constraints.items():
        if name not in params:
            continue
        value = params[name]
        if not any(constraint.accepts(value) for constraint in allowed):
            expected = " or ".join(str(c) for c in allowed)
            raise InvalidParameterError(
                f"{owner}: {name}={value!r} is invalid; expected {expected}."
            )


def validate_estimator_params(estimator: Any) -> None:
    """Check an estimator's parameters against its ``_parameter_constraints``.

    The declarations of its classes are merged, subclasses winning.
    """
    validate_params(
        estimator.get_params(deep=False),
        merged_constraints(type(estimator)),
        type(estimator).__name__,
    )


def merged_constraints(cls: type) -> dict[str, list[Constraint]]:
    """``_parameter_constraints`` of ``cls`` and its bases, subclasses winning."""
    merged: dict[str, list[Constraint]] = {}
    for klass in reversed(cls.__mro__):
        merged.update(klass.__dict__.get("_parameter_constraints", {}))
    return merged


# ----------------------------------------------------------------------
# Checks for the builders' arguments (value in, normalised value out)
# ----------------------------------------------------------------------
OUTPUT_ACTIVATIONS = ("softmax", "sigmoid", "linear", None)


def check_positive_int(value: Any, name: str) -> int:
    """Return ``value`` as an ``int`` if it is a positive integer, else raise."""
    if not _is_int(value) or value < 1:
        raise InvalidParameterError(
            f"{name} must be a positive integer, got {value!r}."
        )
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
    if _is_int(value):
        return (check_positive_int(value, name),) * (1 if length is None else length)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidParameterError(
            f"{name} must be a positive integer or a sequence of positive integers, "
            f"got {value!r}."
        )
    values = tuple(value)
    if length is not None and len(values) != length:
        raise InvalidParameterError(
            f"{name} must be an integer or a sequence of {length} positive integers "
            f"(one per {per}), got {value!r} with {len(values)} entries."
        )
    if not values and not allow_empty:
        raise InvalidParameterError(f"{name} must not be empty, got {value!r}.")
    for i, v in enumerate(values):
        if not _is_int(v) or v < 1:
            raise InvalidParameterError(
                f"{name} must contain only positive integers, got {value!r} "
                f"(entry {i} is {v!r})."
            )
    return tuple(int(v) for v in values)


def check_rate(value: Any, name: str) -> float:
    """Return ``value`` as a float in ``[0, 1)``, else raise."""
    if not _is_real(value) or not 0.0 <= value < 1.0:
        raise InvalidParameterError(f"{name} must be a float in [0, 1), got {value!r}.")
    return float(value)


def check_choice(value: Any, name: str, choices: Sequence[str | None]) -> str | None:
    """Return ``value`` if it is one of ``choices`` (strings or None), else raise."""
    if (value is None or isinstance(value, str)) and value in choices:
        return value
    raise InvalidParameterError(
        f"{name} must be one of {', '.join(repr(c) for c in choices)}; got {value!r}."
    )


def check_bool(value: Any, name: str) -> bool:
    """Return ``value`` if it is a bool (numpy bools included), else raise."""
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidParameterError(f"{name} must be True or False, got {value!r}.")
    return bool(value)


def check_real(value: Any, name: str, *, allow_none: bool = True) -> float | None:
    """Return ``value`` as a float that is not NaN (or None when allowed)."""
    if value is None and allow_none:
        return None
    if not _is_real(value):
        raise InvalidParameterError(
            f"{name} must be a number (not NaN) or None, got {value!r}."
        )
    return float(value)


def check_seed(value: Any) -> int | None:
    """Return ``value`` if it is None or a non-negative integer, else raise."""
    if value is None:
        return None
    if not _is_int(value) or value < 0:
        raise InvalidParameterError(
            f"seed must be None or a non-negative integer, got {value!r}."
        )
    return int(value)


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
    if _is_int(value):
        value = (value,)
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidParameterError(
            f"input_shape must be a tuple of {expected} dimensions (batch axis "
            f"excluded) for a {family}, got {value!r}."
        )
    shape = tuple(value)
    if len(shape) not in ranks:
        raise InvalidParameterError(
            f"input_shape must have {expected} dimensions (batch axis excluded) for "
            f"a {family}, got {value!r} with {len(shape)}."
        )
    n_none_ok = 1 if len(shape) == 1 else len(shape) - 1
    for axis, size in enumerate(shape):
        if size is None and axis < n_none_ok:
            continue
        if not _is_int(size) or size < 1:
            what = "a positive integer" + (" or None" if axis < n_none_ok else "")
            raise InvalidParameterError(
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
    import keras  # noqa: PLC0415 - the rest of this module is plain Python

    try:
        keras.dtype_policies.get(value)
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError(
            f"dtype must be None, a dtype policy name such as 'float32', 'float64' "
            f"or 'mixed_bfloat16', or a keras.DTypePolicy; got {value!r} ({exc})"
        ) from None
    return value


def check_layers(value: Any, name: str) -> list:
    """Return ``value`` as a list of Keras layers (``None`` gives an empty list)."""
    import keras  # noqa: PLC0415

    if value is None:
        return []
    if isinstance(value, keras.layers.Layer):
        value = [value]
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise InvalidParameterError(
            f"{name} must be None or a list of Keras layers, got {value!r}."
        )
    layers = list(value)
    for i, layer in enumerate(layers):
        if not isinstance(layer, keras.layers.Layer):
            raise InvalidParameterError(
                f"{name} must contain only Keras layers, got {value!r} "
                f"(entry {i} is {layer!r})."
            )
    return layers
