"""What every builder shares: its common arguments, their docs, the dense head.

Each builder (:func:`~kerasbig.models.build_cnn`, ``build_rnn``,
``build_transformer``) checks ``n_outputs``, ``output_activation``,
``dense_units``, ``seed``, ``dtype`` and ``name`` with :func:`check_common`,
ends its network with :func:`dense_head`, and has the descriptions of those
arguments filled into its docstring by :func:`shared_docstring`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

import keras

from kerasbig import parameters as v
from kerasbig.models._seeds import Seeds

_OUTPUT_PARAMETERS = """\
n_outputs : int
    Units of the output Dense layer (named ``"head"``).
output_activation : {"softmax", "sigmoid", "linear", None}, default="softmax"
    Activation of the output layer; ``"linear"`` and ``None`` mean none."""

_INPUT_STATISTICS = """\
input_statistics : tuple of two sequences of float, optional
    Numeric input only: each channel's (last axis') ``(mean, variance)``.
    Given, the network's first layer (after any ``Masking``) is a
    ``keras.layers.Rescaling`` named ``"input_standardization"`` that
    standardizes each channel with them (a channel of variance 0 is only
    centred), e.g. statistics of the training data
    (:func:`kerasbig.models.channel_statistics`; the estimators pass them
    with ``standardize_inputs=True``). ``None``: the input is read as it is."""

_LINEAR_SHORTCUT = """\
linear_shortcut : bool, default=False
    Numeric input of a known length only: add a linear model of the
    (standardized) input to the output, before its activation: a ``Dense``
    named ``"linear_shortcut"`` on the flattened input, starting at zero, as
    the autoregressive "highway" of LSTNet (Lai et al. 2018) and the wide part
    of wide-and-deep models. The network then learns what a linear model of
    the raw values misses; the regressors start it at a ridge regression
    (``linear_shortcut="auto"``)."""

_MODEL_PARAMETERS = """\
seed : int, optional
    Seed of everything random in the model. With an int, every random weight
    initializer and every dropout (those inside Keras and keras-hub layers
    included) gets a seed of its own, derived from ``seed``: two builds with
    one seed have identical weights and dropout masks, in any thread and
    whatever the state of Python's ``random``. ``None`` keeps Keras' defaults,
    seeds drawn from Python's process-wide ``random``.
dtype : str or keras.DTypePolicy, optional
    Dtype policy of the layers, e.g. ``"float64"`` or ``"mixed_bfloat16"``;
    ``None`` uses the global policy. The output layer computes in float64
    when the policy does and in float32 otherwise, so mixed precision still
    gives float32 outputs.
name : str, optional
    Name of the model; defaults to ``"{default_name}"``."""

_RETURNS_AND_RAISES = """\
Returns
-------
keras.Model
    An uncompiled functional model.

Raises
------
ValueError, TypeError
    Before any layer is built, when an argument is out of range or of the
    wrong type (:class:`kerasbig.parameters.InvalidParameterError`)."""

_Builder = TypeVar("_Builder", bound=Callable[..., keras.Model])

# The names of the output layer and of the linear shortcut beside it.
HEAD_NAME = "head"
SHORTCUT_NAME = "linear_shortcut"


def shared_docstring(default_name: str) -> Callable[[_Builder], _Builder]:
    """Fill the shared parts into a builder's docstring.

    A line of the docstring that is only ``{output_parameters}`` becomes the
    descriptions of ``n_outputs`` and ``output_activation``; one that is only
    ``{model_parameters}``, those of ``seed``, ``dtype`` and ``name`` (whose
    default is ``default_name``); one that is only ``{input_statistics}``,
    that of ``input_statistics``; ``{linear_shortcut}``, that of
    ``linear_shortcut``; one that is only ``{returns_and_raises}``,
    the Returns and Raises sections. Each is indented like its line.

    Examples
    --------
    >>> @shared_docstring("net")
    ... def build(name=None):
    ...     '''Build.
    ...
    ...     {returns_and_raises}
    ...     '''
    >>> print(build.__doc__.splitlines()[2:5])
    ['    Returns', '    -------', '    keras.Model']
    """
    parts = {
        "{output_parameters}": _OUTPUT_PARAMETERS,
        "{input_statistics}": _INPUT_STATISTICS,
        "{linear_shortcut}": _LINEAR_SHORTCUT,
        "{model_parameters}": _MODEL_PARAMETERS.replace("{default_name}", default_name),
        "{returns_and_raises}": _RETURNS_AND_RAISES,
    }

    def fill(builder: _Builder) -> _Builder:
        if builder.__doc__:  # None under ``python -OO``
            lines = []
            for line in builder.__doc__.split("\n"):
                part = parts.get(line.strip())
                if part is None:
                    lines.append(line)
                    continue
                indent = line[: len(line) - len(line.lstrip())]
                lines.extend(indent + x if x else x for x in part.split("\n"))
            builder.__doc__ = "\n".join(lines)
        return builder

    return fill


class Common(NamedTuple):
    """The checked arguments that every builder takes."""

    n_outputs: int
    output_activation: str | None
    dense_units: tuple[int, ...]
    seeds: Seeds
    dtype: Any
    name: str


def check_common(
    n_outputs: Any,
    output_activation: Any,
    dense_units: Any,
    seed: Any,
    dtype: Any,
    name: Any,
    default_name: str,
) -> Common:
    """Check the arguments every builder shares; raise ``InvalidParameterError``.

    ``name=None`` becomes ``default_name``; ``seed`` becomes the
    :class:`~kerasbig.models._seeds.Seeds` of the build.

    Examples
    --------
    >>> check_common(2, None, 8, None, None, None, "cnn").dense_units
    (8,)
    >>> check_common(2, "relu", (), None, None, None, "cnn")
    Traceback (most recent call last):
    ...
    kerasbig.parameters.InvalidParameterError: output_activation must be one of \
'softmax', 'sigmoid', 'linear', None; got 'relu'.
    """
    if name is not None and not isinstance(name, str):
        raise v.InvalidParameterError(f"name must be None or a string, got {name!r}.")
    return Common(
        n_outputs=v.check_positive_int(n_outputs, "n_outputs"),
        output_activation=v.check_output_activation(output_activation),
        dense_units=v.check_positive_ints(dense_units, "dense_units", allow_empty=True),
        seeds=Seeds(v.check_seed(seed)),
        dtype=v.check_dtype(dtype),
        name=default_name if name is None else name,
    )


def output_dtype(dtype: Any) -> str:
    """``"float64"`` when the policy ``dtype`` (``None``: the global one) computes
    in float64, else ``"float32"`` (mixed precision included).

    Examples
    --------
    >>> output_dtype("float64"), output_dtype("mixed_bfloat16"), output_dtype(None)
    ('float64', 'float32', 'float32')
    """
    if dtype is None:
        policy = keras.config.dtype_policy()
    else:
        policy = keras.dtype_policies.get(dtype)
    return "float64" if policy.compute_dtype == "float64" else "float32"


def dense_head(
    x: Any, common: Common, *, dropout: float, linear_input: Any = None
) -> Any:
    """Apply ``Dense(relu) [-> Dropout]`` per entry of ``dense_units``, then the output.

    The output layer is named ``"head"``; it computes in float64 when the
    network does and in float32 otherwise (see :func:`output_dtype`).
    With ``linear_input`` (a tensor of known shape: the standardized input),
    a ``Dense`` named ``"linear_shortcut"`` on it, flattened and starting at
    zero, is added to the output before its activation (then a separate
    ``Activation`` layer, where there is one).
    """
    seeds, dtype = common.seeds, common.dtype
    for units in common.dense_units:
        x = keras.layers.Dense(
            units,
            activation="relu",
            kernel_initializer=seeds.initializer("glorot_uniform"),
            dtype=dtype,
        )(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, seed=seeds.next(), dtype=dtype)(x)
    activation = common.output_activation
    activation = None if activation == "linear" else activation
    head = keras.layers.Dense(
        common.n_outputs,
        activation=activation if linear_input is None else None,
        kernel_initializer=seeds.initializer("glorot_uniform"),
        dtype=output_dtype(dtype),
        name=HEAD_NAME,
    )(x)
    if linear_input is None:
        return head
    flat = keras.layers.Flatten(dtype=dtype)(linear_input)
    shortcut = keras.layers.Dense(
        common.n_outputs,
        kernel_initializer="zeros",
        dtype=output_dtype(dtype),
        name=SHORTCUT_NAME,
    )(flat)
    x = keras.layers.Add(dtype=output_dtype(dtype))([head, shortcut])
    if activation is not None:
        x = keras.layers.Activation(activation, dtype=output_dtype(dtype))(x)
    return x


def check_linear_shortcut(
    value: Any, shape: Sequence[int | None], *, token_ids: bool = False
) -> bool:
    """``linear_shortcut`` checked against the input: a bool, and True only for
    numeric input of a known shape (a ``Dense`` needs its flattened size).

    Examples
    --------
    >>> check_linear_shortcut(True, (12, 1))
    True
    >>> check_linear_shortcut(True, (None, 1))
    Traceback (most recent call last):
    ...
    kerasbig.parameters.InvalidParameterError: linear_shortcut=True needs \
input of a known shape (a linear model of every value); got input_shape \
(None, 1). Give the length, or linear_shortcut=False.
    """
    value = v.check_bool(value, "linear_shortcut")
    if value and token_ids:
        raise v.InvalidParameterError(
            "linear_shortcut=True needs numeric input (a linear model of its "
            "values); token ids have none. Use linear_shortcut=False."
        )
    if value and any(size is None for size in shape):
        raise v.InvalidParameterError(
            "linear_shortcut=True needs input of a known shape (a linear model "
            f"of every value); got input_shape {tuple(shape)}. Give the length, "
            "or linear_shortcut=False."
        )
    return value
