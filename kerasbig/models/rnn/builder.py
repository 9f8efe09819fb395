"""A stacked recurrent network (LSTM, GRU or SimpleRNN) for sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
from keras import ops

from kerasbig.models import _validation as v
from kerasbig.models._head import dense_head

_CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple": keras.layers.SimpleRNN,
}


def build_rnn(
    input_shape: Sequence[int | None],
    n_outputs: int,
    *,
    output_activation: str | None = "softmax",
    cell: str = "lstm",
    units: int | Sequence[int] = (64,),
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    mask_value: float | None = None,
    head: str = "last",
    dense_units: int | Sequence[int] = (),
    dtype: Any = None,
    name: str | None = None,
) -> keras.Model:
    """Build an uncompiled stacked recurrent network.

    The model is ``Input -> [Masking] -> recurrent layers -> head -> dense_units ->
    Dense(n_outputs)``.

    Parameters
    ----------
    input_shape : tuple of (int or None, int)
        ``(length, channels)`` of one sample, batch axis excluded. ``length`` may
        be ``None`` for variable-length sequences.
    n_outputs : int
        Units of the output Dense layer.
    output_activation : {"softmax", "sigmoid", "linear", None}, default="softmax"
        Activation of the output layer; ``"linear"`` and ``None`` mean none. The
        output layer always computes in float32.
    cell : {"lstm", "gru", "simple"}, default="lstm"
        Recurrent layer: ``keras.layers.LSTM``, ``GRU`` or ``SimpleRNN``.
    units : int or sequence of int, default=(64,)
        Units of each stacked recurrent layer (an int means one layer).
    bidirectional : bool, default=False
        Wrap every recurrent layer in ``keras.layers.Bidirectional``.
    dropout : float, default=0.0
        Input dropout of the recurrent layers, and dropout after each hidden
        dense layer.
    recurrent_dropout : float, default=0.0
        Dropout on the recurrent state.
    mask_value : float, optional
        If given, a ``keras.layers.Masking(mask_value)`` follows the input: a time
        step whose channels all equal ``mask_value`` is skipped, so sequences
        padded with it give the same output as unpadded ones. It must not be NaN
        (NaN never compares equal); pad with a number instead.
    head : {"last", "mean", "max"}, default="last"
        How the sequence becomes a vector: the last layer's final state, or the
        mean / max of its outputs over the time steps that are not masked.
    dense_units : int or sequence of int, default=()
        Sizes of hidden ReLU Dense layers before the output.
    dtype : str or keras.DTypePolicy, optional
        Dtype policy of every layer but the output one; ``None`` uses the global
        policy.
    name : str, optional
        Name of the model; defaults to ``"rnn"``.

    Returns
    -------
    keras.Model
        An uncompiled functional model.

    Raises
    ------
    ValueError, TypeError
        Before any layer is built, when an argument is out of range or of the
        wrong type.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig.models import build_rnn
    >>> model = build_rnn((None, 2), 3, cell="gru", units=8, mask_value=0.0)
    >>> series = np.ones((1, 4, 2), dtype="float32")
    >>> padded = np.concatenate([series, np.zeros((1, 3, 2), "float32")], axis=1)
    >>> bool(np.allclose(model(series), model(padded), atol=1e-6))
    True
    """
    # -- validate everything before building anything ------------------------
    shape = v.check_input_shape(input_shape, ranks=(2,), family="RNN")
    n_outputs = v.check_positive_int(n_outputs, "n_outputs")
    output_activation = v.check_output_activation(output_activation)
    cell = v.check_choice(cell, "cell", tuple(_CELLS))
    units = v.check_positive_ints(units, "units")
    bidirectional = v.check_bool(bidirectional, "bidirectional")
    dropout = v.check_rate(dropout, "dropout")
    recurrent_dropout = v.check_rate(recurrent_dropout, "recurrent_dropout")
    mask_value = v.check_real(mask_value, "mask_value")
    head = v.check_choice(head, "head", ("last", "mean", "max"))
    dense_units = v.check_positive_ints(dense_units, "dense_units", allow_empty=True)
    dtype = v.check_dtype(dtype)

    # -- build ---------------------------------------------------------------
    inputs = keras.Input(shape=shape)
    x = inputs
    mask = None
    if mask_value is not None:
        x = keras.layers.Masking(mask_value=mask_value, dtype=dtype)(x)
        # The same rule as Masking, as a tensor, for the pooled heads below.
        mask = ops.any(ops.not_equal(inputs, mask_value), axis=-1)

    for i, n_units in enumerate(units):
        layer = _CELLS[cell](
            n_units,
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            return_sequences=head != "last" or i < len(units) - 1,
            dtype=dtype,
        )
        if bidirectional:
            layer = keras.layers.Bidirectional(layer, dtype=dtype)
        x = layer(x)

    if head == "mean":
        x = keras.layers.GlobalAveragePooling1D(dtype=dtype)(x, mask=mask)
    elif head == "max":
        if mask is None:
            x = keras.layers.GlobalMaxPooling1D(dtype=dtype)(x)
        else:
            # Built-in ops, not a custom layer, so the model unpickles anywhere.
            x = ops.where(ops.expand_dims(mask, -1), x, float("-inf"))
            x = ops.max(x, axis=1)
    outputs = dense_head(
        x,
        n_outputs,
        output_activation=output_activation,
        dense_units=dense_units,
        dropout=dropout,
        dtype=dtype,
    )
    return keras.Model(inputs, outputs, name=name or "rnn")
