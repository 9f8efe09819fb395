"""The dense head shared by every builder: hidden Dense layers, then the output."""

from __future__ import annotations

from typing import Any

import keras


def dense_head(
    x: Any,
    n_outputs: int,
    *,
    output_activation: str | None,
    dense_units: tuple[int, ...],
    dropout: float,
    dtype: Any,
) -> Any:
    """Apply ``Dense(relu) [-> Dropout]`` per entry of ``dense_units``, then the output.

    The output layer is named ``"head"`` and always computes in float32, so a mixed
    precision policy (``dtype="mixed_bfloat16"``) still gives float32 predictions.
    """
    for units in dense_units:
        x = keras.layers.Dense(units, activation="relu", dtype=dtype)(x)
        if dropout > 0:
            x = keras.layers.Dropout(dropout, dtype=dtype)(x)
    activation = None if output_activation == "linear" else output_activation
    return keras.layers.Dense(
        n_outputs, activation=activation, dtype="float32", name="head"
    )(x)
