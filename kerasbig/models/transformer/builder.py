"""A Transformer encoder for token sequences or numeric sequences (keras-hub layers)."""

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
    shared_docstring,
)
from kerasbig.models._patches import (
    PATCH_EMBEDDINGS,
    auto_patch_size,
    patch_positions,
    patch_projection,
)
from kerasbig.models._standardize import check_statistics, standardize


@shared_docstring("transformer")
def build_transformer(
    input_shape: Sequence[int | None],
    n_outputs: int,
    *,
    output_activation: Literal["softmax", "sigmoid", "linear"] | None = "softmax",
    vocabulary_size: int | None = None,
    num_layers: int = 2,
    num_heads: int = 4,
    model_dim: int = 64,
    ff_dim: int = 128,
    dropout: float = 0.1,
    max_length: int | None = None,
    patch_size: int | Literal["auto"] = "auto",
    patch_embedding: Literal["linear", "conv"] = "linear",
    global_pooling: Literal["mean", "first"] = "mean",
    dense_units: int | Sequence[int] = (),
    linear_shortcut: bool = False,
    input_statistics: tuple[Sequence[float], Sequence[float]] | None = None,
    seed: int | None = None,
    dtype: str | keras.DTypePolicy | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build an uncompiled Transformer encoder.

    Two kinds of input:

    * tokens, when ``vocabulary_size`` is given: ``input_shape=(max_length,)`` of
      integer ids, ``0`` being padding. Ids go through
      ``keras_hub.layers.TokenAndPositionEmbedding``; the padding mask
      (``ids != 0``) is passed to every ``TransformerEncoder`` and to the pooling,
      so padding changes nothing.
    * numbers, otherwise: ``input_shape=(length, channels)``. The series is
      standardized (with ``input_statistics``) and cut into patches of
      ``patch_size`` steps (zero-padded to a whole number), each patch
      projected to ``model_dim`` (a ``Conv1D`` with ``patch_size`` strides; a
      Dense projection per step when ``patch_size=1``), plus
      ``keras_hub.layers.PositionEmbedding``. No masking. Patches are what
      time-series Transformers read (Nie et al. 2023, PatchTST): attention
      then costs the square of ``length / patch_size``, and each position
      carries a local shape, not one noisy value.

    Then ``Dropout -> num_layers x TransformerEncoder -> global pooling ->
    dense_units -> Dense(n_outputs)``.

    Parameters
    ----------
    input_shape : tuple
        ``(length,)`` for tokens or ``(length, channels)`` for numbers, batch axis
        excluded. ``length`` may be ``None`` if ``max_length`` is given.
    {output_parameters}
    vocabulary_size : int, optional
        Number of token ids (ids run from 0, the padding id, to
        ``vocabulary_size - 1``). ``None`` means numeric input.
    num_layers : int, default=2
        Number of encoder blocks.
    num_heads : int, default=4
        Attention heads per block; must divide ``model_dim``.
    model_dim : int, default=64
        Width of the embeddings and of every block.
    ff_dim : int, default=128
        Width of the feed-forward layer inside each block.
    dropout : float, default=0.1
        Dropout after the embedding, inside each block and after each hidden dense
        layer.
    max_length : int, optional
        Longest sequence the position embedding covers; defaults to
        ``input_shape[0]``. Required when that is ``None``.
    patch_size : int or "auto", default="auto"
        Numbers only: steps per patch. ``"auto"``: ``ceil(max_length / 64)``,
        so that the encoder reads at most 64 patches (1, one step per
        position, for series up to 64 steps). Must be 1 or ``"auto"`` for
        token ids.
    patch_embedding : {"linear", "conv"}, default="linear"
        Numbers only, with ``patch_size`` above 1: how a patch becomes one
        position. ``"linear"``, a strided ``Conv1D`` of its steps' values
        (PatchTST's); ``"conv"``, the same after a ``Conv1D(model_dim, 8,
        activation="relu")`` over the whole series, so that each patch carries
        features of the local shape (the RNN's default; for the Transformer it
        scored lower on ArrowHead, 3 seeds, so it is not the default here).
    global_pooling : {"mean", "first"}, default="mean"
        How the sequence becomes one vector: ``"mean"`` averages over the
        positions that are not padding; ``"first"`` takes the first position (a
        ``[CLS]``-style token, if you put one there).
    dense_units : int or sequence of int, default=()
        Sizes of hidden ReLU Dense layers after the pooling, before the output.
    {linear_shortcut}
    {input_statistics}
    {model_parameters}

    {returns_and_raises}

    Examples
    --------
    >>> from kerasbig.models import build_transformer
    >>> build_transformer((24, 1), 1, output_activation=None).output_shape
    (None, 1)

    On token ids, padding changes nothing:

    >>> import numpy as np
    >>> model = build_transformer(
    ...     (None,), 2, vocabulary_size=50, max_length=16, model_dim=16, num_heads=2
    ... )
    >>> ids = np.array([[5, 7, 9]])
    >>> padded = np.array([[5, 7, 9, 0, 0, 0]])
    >>> bool(np.allclose(model(ids), model(padded), atol=1e-5))
    True
    >>> first, again = (
    ...     build_transformer((6,), 2, vocabulary_size=50, model_dim=8, seed=3)
    ...     for _ in "ab"
    ... )
    >>> all(map(np.array_equal, first.get_weights(), again.get_weights()))
    True
    """
    # -- validate everything before building anything ------------------------
    common = check_common(
        n_outputs, output_activation, dense_units, seed, dtype, name, "transformer"
    )
    if vocabulary_size is not None:
        vocabulary_size = v.check_positive_int(vocabulary_size, "vocabulary_size")
        shape = v.check_input_shape(
            input_shape, ranks=(1,), family="Transformer on token ids"
        )
    else:
        shape = v.check_input_shape(
            input_shape,
            ranks=(2,),
            family="Transformer on numeric input (pass vocabulary_size for tokens)",
        )
    num_layers = v.check_positive_int(num_layers, "num_layers")
    num_heads = v.check_positive_int(num_heads, "num_heads")
    model_dim = v.check_positive_int(model_dim, "model_dim")
    if model_dim % num_heads:
        raise v.InvalidParameterError(
            f"num_heads must divide model_dim, got num_heads={num_heads} and "
            f"model_dim={model_dim}."
        )
    ff_dim = v.check_positive_int(ff_dim, "ff_dim")
    dropout = v.check_rate(dropout, "dropout")
    if max_length is None:
        if shape[0] is None:
            raise v.InvalidParameterError(
                f"max_length is required when the sequence length is unknown, got "
                f"input_shape={tuple(input_shape)!r} and max_length=None."
            )
        max_length = shape[0]
    max_length = v.check_positive_int(max_length, "max_length")
    if shape[0] is not None and shape[0] > max_length:
        raise v.InvalidParameterError(
            f"max_length must be at least the sequence length input_shape[0]="
            f"{shape[0]}, got max_length={max_length}."
        )
    global_pooling = v.check_choice(global_pooling, "global_pooling", ("mean", "first"))
    patch_embedding = v.check_choice(
        patch_embedding, "patch_embedding", PATCH_EMBEDDINGS
    )
    if patch_size == "auto":
        patch_size = 1 if vocabulary_size is not None else auto_patch_size(max_length)
    else:
        patch_size = v.check_positive_int(patch_size, "patch_size")
    if vocabulary_size is not None and input_statistics is not None:
        raise v.InvalidParameterError(
            "input_statistics standardize numeric input; token ids "
            f"(vocabulary_size={vocabulary_size}) are not. Leave "
            "input_statistics=None."
        )
    statistics = check_statistics(input_statistics, shape[-1])
    linear_shortcut = check_linear_shortcut(
        linear_shortcut, shape, token_ids=vocabulary_size is not None
    )
    if vocabulary_size is not None and patch_size != 1:
        raise v.InvalidParameterError(
            f"patch_size applies to numeric sequences; token ids are read one "
            f"per position. Got patch_size={patch_size} with vocabulary_size="
            f"{vocabulary_size}; leave patch_size='auto'."
        )

    # Imported here so the CNN and RNN builders work without keras-hub and its
    # tensorflow-text dependency (e.g. on a JAX-only machine).
    import keras_hub

    # -- build ---------------------------------------------------------------
    # keras-hub's layers share one initializer between their sublayers (one
    # seed would make the query, key and value kernels equal), so a seeded
    # build redraws their weights and dropout seeds once they are built.
    seeds, dtype = common.seeds, common.dtype
    if vocabulary_size is not None:
        inputs = keras.Input(shape=shape, dtype="int32")
        # TokenAndPositionEmbedding(mask_zero=True) loses its mask in the position
        # embedding, so the mask is computed here and passed explicitly.
        padding_mask = ops.not_equal(inputs, 0)
        embedding = keras_hub.layers.TokenAndPositionEmbedding(
            vocabulary_size=vocabulary_size,
            sequence_length=max_length,
            embedding_dim=model_dim,
            dtype=dtype,
        )
        x = embedding(inputs)
        linear_input = None
        seeds.redraw(embedding, embedding.embeddings_initializer, {"embeddings"})
    else:
        inputs = keras.Input(shape=shape)
        padding_mask = None
        x = standardize(inputs, statistics, dtype)
        linear_input = x if linear_shortcut else None
        if patch_size == 1:
            x = keras.layers.Dense(
                model_dim,
                kernel_initializer=seeds.initializer("glorot_uniform"),
                dtype=dtype,
            )(x)
        else:
            x = patch_projection(
                x, model_dim, patch_size, seeds, dtype, patch_embedding
            )
        positions = keras_hub.layers.PositionEmbedding(
            sequence_length=patch_positions(patch_size, max_length),
            initializer=seeds.initializer("glorot_uniform"),
            dtype=dtype,
        )(x)
        x = keras.layers.Add(dtype=dtype)([x, positions])
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seeds.next(), dtype=dtype)(x)

    for _ in range(num_layers):
        encoder = keras_hub.layers.TransformerEncoder(
            intermediate_dim=ff_dim,
            num_heads=num_heads,
            dropout=dropout,
            dtype=dtype,
        )
        x = encoder(x, padding_mask=padding_mask)
        seeds.redraw(encoder, encoder.kernel_initializer, {"kernel"})

    if global_pooling == "mean":
        x = keras.layers.GlobalAveragePooling1D(dtype=dtype)(x, mask=padding_mask)
    else:
        x = x[:, 0, :]
    outputs = dense_head(x, common, dropout=dropout, linear_input=linear_input)
    return keras.Model(inputs, outputs, name=common.name)
