"""A stacked recurrent network (LSTM, GRU or SimpleRNN) for sequences."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import keras
from keras import ops

from kerasbig import parameters as v
from kerasbig.models._head import (
    check_common,
    check_linear_shortcut,
    dense_head,
    output_dtype,
    shared_docstring,
)
from kerasbig.models._patches import (
    PATCH_EMBEDDINGS,
    auto_patch_size,
    patch_projection,
)
from kerasbig.models._standardize import check_statistics, standardize

_CELLS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple": keras.layers.SimpleRNN,
}


@keras.saving.register_keras_serializable(package="kerasbig")
def tanh_keeping_dtype(x):
    """``tanh`` that returns the dtype it is given, float64 included.

    The activation of a float64 ``SimpleRNN``. Keras 3.15's ``ops.tanh`` on
    JAX with ``JAX_ENABLE_X64=1`` returns float32 for float64 input, so the
    recurrent state would change dtype between steps and ``jax.lax.scan``
    refuses it; there this calls ``jax.numpy.tanh``, which keeps float64.
    Elsewhere it is ``keras.ops.tanh``. Registered with Keras, so a model using
    it saves, loads and pickles like one using ``"tanh"``.

    >>> import numpy as np
    >>> tanh_keeping_dtype(np.zeros(2, "float32")).dtype == "float32"
    True
    """
    if (
        keras.backend.backend() == "jax"
        and keras.backend.standardize_dtype(getattr(x, "dtype", None) or "float32")
        == "float64"
    ):
        import jax.numpy as jnp  # noqa: PLC0415

        return jnp.tanh(x)
    return ops.tanh(x)


@shared_docstring("rnn")
def build_rnn(
    input_shape: Sequence[int | None],
    n_outputs: int,
    *,
    output_activation: Literal["softmax", "sigmoid", "linear"] | None = "softmax",
    cell: Literal["lstm", "gru", "simple"] = "lstm",
    units: int | Sequence[int] = (64,),
    bidirectional: bool = False,
    dropout: float = 0.0,
    recurrent_dropout: float = 0.0,
    mask_value: float | None = None,
    patch_size: int | Literal["auto"] = "auto",
    patch_embedding: Literal["linear", "conv"] = "conv",
    global_pooling: Literal["last", "mean", "max"] = "last",
    dense_units: int | Sequence[int] = (),
    linear_shortcut: bool = False,
    input_statistics: tuple[Sequence[float], Sequence[float]] | None = None,
    seed: int | None = None,
    dtype: str | keras.DTypePolicy | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build an uncompiled stacked recurrent network.

    The model is ``Input -> [Masking] -> [standardization (with
    input_statistics)] -> [patches] -> recurrent layers -> global
    pooling -> dense_units -> Dense(n_outputs)``. Long series are read in
    patches of ``patch_size`` steps, each projected by a strided ``Conv1D``
    to ``units[0]`` channels (Nie et al. 2023's patching): the recurrence
    then runs over ``length / patch_size`` steps, which is faster, and
    carries information across fewer steps.

    Parameters
    ----------
    input_shape : tuple of (int or None, int)
        ``(length, channels)`` of one sample, batch axis excluded. ``length`` may
        be ``None`` for variable-length sequences.
    {output_parameters}
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
    patch_size : int or "auto", default="auto"
        Steps per patch. ``"auto"``: ``ceil(length / 64)`` for a known length
        (1, no patches, up to 64 steps, for variable lengths, and with
        ``mask_value``). A patch size above 1 cannot be combined with
        ``mask_value``.
    patch_embedding : {"linear", "conv"}, default="conv"
        How a patch becomes one step of the recurrence (with ``patch_size``
        above 1): ``"linear"``, a strided ``Conv1D`` of its steps' values;
        ``"conv"``, the same after a ``Conv1D(units[0], 8, activation="relu")``
        over the whole series, so that each patch carries features of the
        local shape (a convolutional stem). The classifier with ``"conv"``,
        3 seeds: ACSF1 0.660 -> 0.787, ArrowHead 0.661 -> 0.724, OSULeaf
        0.607 -> 0.712 (``RNNRegressor`` keeps ``"linear"``).
    global_pooling : {"last", "mean", "max"}, default="last"
        How the sequence becomes one vector: the last layer's final state, or
        the mean / max of its outputs over the time steps that are not masked.
    dense_units : int or sequence of int, default=()
        Sizes of hidden ReLU Dense layers between the pooled vector and the
        output layer.
    {linear_shortcut}
    {input_statistics}
    {model_parameters}

    {returns_and_raises}

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig.models import build_rnn
    >>> model = build_rnn((None, 2), 3, cell="gru", units=8, mask_value=0.0)
    >>> series = np.ones((1, 4, 2), dtype="float32")
    >>> padded = np.concatenate([series, np.zeros((1, 3, 2), "float32")], axis=1)
    >>> bool(np.allclose(model(series), model(padded), atol=1e-6))
    True
    >>> first, again = (build_rnn((None, 2), 3, units=4, seed=7) for _ in "ab")
    >>> bool(np.array_equal(first(series), again(series)))
    True
    """
    # -- validate everything before building anything ------------------------
    shape = v.check_input_shape(input_shape, ranks=(2,), family="RNN")
    common = check_common(
        n_outputs, output_activation, dense_units, seed, dtype, name, "rnn"
    )
    cell = v.check_choice(cell, "cell", tuple(_CELLS))
    units = v.check_positive_ints(units, "units")
    bidirectional = v.check_bool(bidirectional, "bidirectional")
    dropout = v.check_rate(dropout, "dropout")
    recurrent_dropout = v.check_rate(recurrent_dropout, "recurrent_dropout")
    mask_value = v.check_real(mask_value, "mask_value")
    statistics = check_statistics(input_statistics, shape[-1])
    linear_shortcut = check_linear_shortcut(linear_shortcut, shape)
    global_pooling = v.check_choice(
        global_pooling, "global_pooling", ("last", "mean", "max")
    )
    if patch_size == "auto":
        auto = mask_value is None and shape[0] is not None
        patch_size = auto_patch_size(shape[0]) if auto else 1
    else:
        patch_size = v.check_positive_int(patch_size, "patch_size")
    patch_embedding = v.check_choice(
        patch_embedding, "patch_embedding", PATCH_EMBEDDINGS
    )
    if patch_size > 1 and mask_value is not None:
        raise v.InvalidParameterError(
            f"patch_size={patch_size} cannot be combined with mask_value="
            f"{mask_value}: a patch mixes masked and unmasked steps. Use "
            "patch_size=1 (or 'auto') with mask_value."
        )

    # -- build ---------------------------------------------------------------
    seeds, dtype = common.seeds, common.dtype
    inputs = keras.Input(shape=shape)
    x = inputs
    mask = None
    if mask_value is not None:
        x = keras.layers.Masking(mask_value=mask_value, dtype=dtype)(x)
        # The same rule as Masking, as a tensor, for the pooling below.
        mask = ops.any(ops.not_equal(inputs, mask_value), axis=-1)
    # After Masking, which compares the user's values with mask_value.
    x = standardize(x, statistics, dtype)
    linear_input = x if linear_shortcut else None
    if patch_size > 1:
        x = patch_projection(x, units[0], patch_size, seeds, dtype, patch_embedding)

    # SimpleRNN in float64 gets a tanh that keeps float64 on JAX (see
    # tanh_keeping_dtype); every other build keeps Keras' default activation.
    extra = {}
    if cell == "simple" and output_dtype(dtype) == "float64":
        extra["activation"] = tanh_keeping_dtype

    def recurrent(
        n_units: int, return_sequences: bool, backward_of: str | None = None
    ) -> keras.layers.Layer:
        return _CELLS[cell](
            n_units,
            **extra,
            kernel_initializer=seeds.initializer("glorot_uniform"),
            recurrent_initializer=seeds.initializer("orthogonal"),
            dropout=dropout,
            recurrent_dropout=recurrent_dropout,
            seed=seeds.next(),
            return_sequences=return_sequences,
            go_backwards=backward_of is not None,
            dtype=dtype,
            name=None if backward_of is None else f"backward_{backward_of}",
        )

    for i, n_units in enumerate(units):
        return_sequences = global_pooling != "last" or i < len(units) - 1
        layer = recurrent(n_units, return_sequences)
        if bidirectional:
            # Bidirectional makes the backward layer from the forward one's
            # config, seeds included: a seeded build gives it seeds of its own.
            backward = None
            if seeds.seed is not None:
                backward = recurrent(n_units, return_sequences, layer.name)
            layer = keras.layers.Bidirectional(
                layer, backward_layer=backward, dtype=dtype
            )
            if "seed" not in layer.forward_layer.get_config():
                # SimpleRNN leaves its seed out of its config, so the copy
                # Bidirectional makes of it has a default one: replace it.
                seeds.redraw(layer.forward_layer)
        x = layer(x)

    if global_pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(dtype=dtype)(x, mask=mask)
    elif global_pooling == "max":
        if mask is None:
            x = keras.layers.GlobalMaxPooling1D(dtype=dtype)(x)
        else:
            # Built-in ops, not a custom layer, so the model unpickles anywhere.
            x = ops.where(ops.expand_dims(mask, -1), x, float("-inf"))
            x = ops.max(x, axis=1)
    outputs = dense_head(x, common, dropout=dropout, linear_input=linear_input)
    return keras.Model(inputs, outputs, name=common.name)
