"""A convolutional network for images (Conv2D) and series (Conv1D).

With the defaults, a series gets Wang et al.'s fully convolutional network
(FCN, 2017: three blocks of 128, 256 and 128 filters with windows 8, 5 and 3,
no pooling between blocks, global average pooling), the time-series baseline
of Fawaz et al. 2019; an image gets two blocks of 32 and 64 3x3 filters with
max pooling between them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Literal

import keras

from kerasbig import parameters as v
from kerasbig.models._head import (
    check_common,
    check_linear_shortcut,
    dense_head,
    shared_docstring,
)
from kerasbig.models._patches import CNN_POSITIONS, auto_patch_size
from kerasbig.models._standardize import check_statistics, standardize


@shared_docstring("cnn")
def build_cnn(
    input_shape: Sequence[int | None],
    n_outputs: int,
    *,
    output_activation: Literal["softmax", "sigmoid", "linear"] | None = "softmax",
    n_blocks: int | None = None,
    filters: int | Sequence[int] | None = None,
    kernel_size: int | Sequence[int] | None = None,
    pooling: Literal["auto", "max", "mean"] | None = "auto",
    normalization: Literal["batch", "layer"] | None = "batch",
    batch_norm_momentum: float = 0.9,
    dropout: float = 0.0,
    residual: bool = False,
    global_pooling: Literal["mean", "max", "flatten"] = "mean",
    dense_units: int | Sequence[int] = (),
    augmentation: Sequence[keras.layers.Layer] | None = None,
    downsample: int | Literal["auto"] = "auto",
    linear_shortcut: bool = False,
    input_statistics: tuple[Sequence[float], Sequence[float]] | None = None,
    seed: int | None = None,
    dtype: str | keras.DTypePolicy | None = None,
    name: str | None = None,
) -> keras.Model:
    """Build an uncompiled convolutional network.

    The model is ``Input -> augmentation -> standardization (with
    input_statistics) -> downsampling (long series) -> n_blocks conv blocks
    -> global pooling -> dense_units -> Dense(n_outputs)``.
    A plain block is ``Conv -> Norm -> ReLU``; a residual block is
    ``Conv -> Norm -> ReLU -> Conv -> Norm`` added to a shortcut (a
    1x1 convolution when the channel count changes), then ReLU. Convolutions
    use ``padding="same"``.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample, batch axis excluded: ``(length, channels)`` builds a
        Conv1D network, ``(height, width, channels)`` a Conv2D one. Spatial sizes
        may be ``None`` unless ``global_pooling="flatten"``.
    {output_parameters}
    n_blocks : int or None, default=None
        Number of convolutional blocks. None: 3 for series, 2 for images.
    filters : int or sequence of int or None, default=None
        Filters per block: one int for every block, or one entry per block.
        None: for series, 128, 256, 128 with three blocks (the FCN) and 128
        per block otherwise; for images, 32, 64, 128, ... (doubling).
    kernel_size : int or tuple of int or None, default=None
        Convolution window, the same for every block; a tuple gives one size per
        spatial axis. None: for series, 8, 5, 3 in the FCN's three blocks and 5
        otherwise; for images, 3.
    pooling : {"auto", "max", "mean", None}, default="auto"
        Pooling (size 2) between blocks: max or average pooling, or none
        (``"auto"``: none for series, as in the FCN, max for images). An
        axis already of size 1 is not pooled, and pooling is skipped when no axis
        can be, so small inputs (8x8 digits) work with many blocks.
    normalization : {"batch", "layer"} or None, default="batch"
        The normalisation after each convolution (convolutions then have no
        bias): ``"batch"``, BatchNormalization, as in the FCN and ResNet of
        Fawaz et al.; ``"layer"``, LayerNormalization over the channels at each
        position, which computes the same in training and inference (what
        the estimators' ``normalization="auto"`` picks for a regressor, whose
        continuous output carries BatchNormalization's gap between batch and
        moving statistics straight into its predictions, and for heavy-tailed
        input); None: none. After a convolution
        without bias, LayerNormalization sees the shape of each window, not
        its scale: where the target is the level of the series, compare
        with ``"batch"`` and None.
    batch_norm_momentum : float, default=0.9
        With ``normalization="batch"``: the momentum of BatchNormalization's
        moving mean and variance, which
        inference uses. Keras's default, 0.99, needs hundreds of updates to
        catch up with the data; on small training sets (a few batches per
        epoch) its statistics lag and predictions fall to chance level, so
        kerasbig uses 0.9 (PyTorch's default).
    dropout : float, default=0.0
        Dropout rate after each block but the last, after global pooling and after
        each hidden dense layer. ``0`` adds no Dropout layer.
    residual : bool, default=False
        Use ResNet-style residual blocks (two convolutions and a shortcut).
    global_pooling : {"mean", "max", "flatten"}, default="mean"
        How the last feature map becomes one vector: its mean or maximum over
        the spatial axes, or all of it flattened.
    dense_units : int or sequence of int, default=()
        Sizes of hidden ReLU Dense layers between the pooling and the output.
    augmentation : list of keras.layers.Layer, optional
        Preprocessing layers applied right after the input, e.g.
        ``[keras.layers.RandomFlip("horizontal")]``. Keras' augmentation layers
        change the data in ``fit`` and pass it through unchanged in ``predict`` and
        ``evaluate``. Note that they default to ``training=True``, so a bare
        ``model(x)`` call augments too: call ``model(x, training=False)`` for
        inference. Each layer is copied from its config, so one list can build
        many models; with ``seed``, a copy whose config has a ``"seed"`` gets
        one derived from ``seed`` instead.
    downsample : int or "auto", default="auto"
        Series only: average each run of ``downsample`` steps into one
        position (``AveragePooling1D``, piecewise aggregate approximation)
        before the convolutions. ``"auto"``: series of up to 256 steps (and
        of variable lengths) are read whole; a longer one is averaged down to
        at most 256 positions (``ceil(length / 256)`` steps each: 6 for
        1,460 steps), so that it trains in about a minute on a CPU.
    {linear_shortcut}
    {input_statistics}
    {model_parameters}

    {returns_and_raises}

    Examples
    --------
    >>> from kerasbig.models import build_cnn
    >>> model = build_cnn((8, 8, 1), 10, filters=16, residual=True)
    >>> model.output_shape
    (None, 10)
    >>> build_cnn((100, 3), 1, output_activation="linear").output_shape
    (None, 1)

    Two builds with one ``seed`` have the same weights:

    >>> import numpy as np
    >>> first, again = (build_cnn((8, 8, 1), 10, filters=4, seed=0) for _ in "ab")
    >>> all(map(np.array_equal, first.get_weights(), again.get_weights()))
    True
    """
    # -- validate everything before building anything ------------------------
    shape = v.check_input_shape(input_shape, ranks=(2, 3), family="CNN")
    spatial_rank = len(shape) - 1
    common = check_common(
        n_outputs, output_activation, dense_units, seed, dtype, name, "cnn"
    )
    series = spatial_rank == 1
    if n_blocks is None:
        n_blocks = 3 if series else 2
    n_blocks = v.check_positive_int(n_blocks, "n_blocks")
    fcn = series and n_blocks == 3
    if filters is None:
        filters = (128, 256, 128) if fcn else _default_filters(series, n_blocks)
    filters = v.check_positive_ints(filters, "filters", length=n_blocks)
    if kernel_size is None:
        kernel_sizes = [8, 5, 3] if fcn else [5 if series else 3] * n_blocks
    elif isinstance(kernel_size, Sequence) and not isinstance(kernel_size, str):
        size = v.check_positive_ints(
            kernel_size, "kernel_size", length=spatial_rank, per="spatial axis"
        )
        kernel_sizes = [size] * n_blocks
    else:
        kernel_sizes = [v.check_positive_int(kernel_size, "kernel_size")] * n_blocks
    pooling = v.check_choice(pooling, "pooling", ("auto", "max", "mean", None))
    if pooling == "auto":
        pooling = None if series else "max"
    normalization = v.check_choice(
        normalization, "normalization", ("batch", "layer", None)
    )
    momentum = v.check_rate(batch_norm_momentum, "batch_norm_momentum")
    dropout = v.check_rate(dropout, "dropout")
    residual = v.check_bool(residual, "residual")
    global_pooling = v.check_choice(
        global_pooling, "global_pooling", ("mean", "max", "flatten")
    )
    augmentation = v.check_layers(augmentation, "augmentation")
    downsample = steps_per_position(downsample, shape, series)
    statistics = check_statistics(input_statistics, shape[-1])
    linear_shortcut = check_linear_shortcut(linear_shortcut, shape)
    if global_pooling == "flatten" and None in shape:
        raise v.InvalidParameterError(
            f"global_pooling='flatten' needs every spatial size of input_shape to "
            f"be known, got input_shape={tuple(input_shape)!r}; use 'mean' or "
            f"'max'."
        )

    # -- build ---------------------------------------------------------------
    seeds, dtype = common.seeds, common.dtype
    layers = _LAYERS[spatial_rank]
    inputs = keras.Input(shape=shape)
    x = inputs
    for layer in augmentation:
        x = seeds.copy_layer(layer)(x)
    # After the augmentation, which may expect the user's value range.
    x = standardize(x, statistics, dtype)
    linear_input = x if linear_shortcut else None
    if downsample > 1:
        x = keras.layers.AveragePooling1D(downsample, padding="same", dtype=dtype)(x)

    def conv(n_filters: int, size: int | tuple[int, ...]) -> Any:
        return layers["conv"](
            n_filters,
            kernel_size=size,
            padding="same",
            use_bias=normalization is None,
            kernel_initializer=seeds.initializer("glorot_uniform"),
            dtype=dtype,
        )

    def batch_normalization() -> keras.layers.Layer:
        return keras.layers.BatchNormalization(momentum=momentum, dtype=dtype)

    def layer_normalization() -> keras.layers.Layer:
        return keras.layers.LayerNormalization(dtype=dtype)

    norm = {"batch": batch_normalization, "layer": layer_normalization}.get(
        normalization
    )
    sizes = list(shape[:-1])
    for block in range(n_blocks):
        if residual:
            x = _residual_block(
                x, filters[block], kernel_sizes[block], conv, norm, dtype
            )
        else:
            x = conv(filters[block], kernel_sizes[block])(x)
            if norm is not None:
                x = norm()(x)
            x = keras.layers.ReLU(dtype=dtype)(x)
        if block == n_blocks - 1:
            break
        # Pool by 2 along every axis that is unknown or at least 2 long.
        pool_size = tuple(2 if s is None or s >= 2 else 1 for s in sizes)
        if pooling is not None and max(pool_size) > 1:
            x = layers["pooling"][pooling](pool_size=pool_size, dtype=dtype)(x)
            sizes = [None if s is None else s // p for s, p in zip(sizes, pool_size)]
        if dropout > 0:
            x = keras.layers.Dropout(dropout, seed=seeds.next(), dtype=dtype)(x)

    x = layers["global_pooling"][global_pooling](dtype=dtype)(x)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=seeds.next(), dtype=dtype)(x)
    outputs = dense_head(x, common, dropout=dropout, linear_input=linear_input)
    return keras.Model(inputs, outputs, name=common.name)


_LAYERS = {
    # spatial rank -> the layer classes of that rank
    1: {
        "conv": keras.layers.Conv1D,
        "pooling": {
            "max": keras.layers.MaxPooling1D,
            "mean": keras.layers.AveragePooling1D,
        },
        "global_pooling": {
            "mean": keras.layers.GlobalAveragePooling1D,
            "max": keras.layers.GlobalMaxPooling1D,
            "flatten": keras.layers.Flatten,
        },
    },
    2: {
        "conv": keras.layers.Conv2D,
        "pooling": {
            "max": keras.layers.MaxPooling2D,
            "mean": keras.layers.AveragePooling2D,
        },
        "global_pooling": {
            "mean": keras.layers.GlobalAveragePooling2D,
            "max": keras.layers.GlobalMaxPooling2D,
            "flatten": keras.layers.Flatten,
        },
    },
}


def _default_filters(series: bool, n_blocks: int) -> list[int]:
    """Filters per block when ``filters`` is None and the network is not the FCN."""
    return [128] * n_blocks if series else [32 * 2**block for block in range(n_blocks)]


def _residual_block(
    x: Any,
    filters: int,
    kernel_size: int | tuple[int, ...],
    conv: Callable[..., keras.layers.Layer],
    norm: Callable[[], keras.layers.Layer] | None,
    dtype: Any,
) -> Any:
    """Two convolutions plus a shortcut (1x1 convolution if channels change).

    ``conv(filters, kernel_size)`` makes a convolution, ``conv(filters, 1)`` a
    1x1 one; ``norm()`` a normalisation layer
    (None: no normalisation).
    """
    shortcut = x
    y = conv(filters, kernel_size)(x)
    if norm is not None:
        y = norm()(y)
    y = keras.layers.ReLU(dtype=dtype)(y)
    y = conv(filters, kernel_size)(y)
    if norm is not None:
        y = norm()(y)
    if x.shape[-1] != filters:
        shortcut = conv(filters, 1)(x)
        if norm is not None:
            shortcut = norm()(shortcut)
    y = keras.layers.Add(dtype=dtype)([y, shortcut])
    return keras.layers.ReLU(dtype=dtype)(y)


def steps_per_position(
    downsample: int | str, shape: Sequence[int | None], series: bool
) -> int:
    """The steps averaged into one position: ``downsample`` checked, or for
    ``"auto"`` the fewest that leave at most ``CNN_POSITIONS`` positions.

    Examples
    --------
    >>> steps_per_position("auto", (1460, 1), True), steps_per_position(
    ...     "auto", (8, 8, 1), False)
    (6, 1)
    """
    if downsample == "auto":
        known = series and shape[0] is not None
        return auto_patch_size(shape[0], CNN_POSITIONS) if known else 1
    if isinstance(downsample, str):
        raise v.InvalidParameterError(
            f"downsample must be a positive int or 'auto', got {downsample!r}."
        )
    downsample = v.check_positive_int(downsample, "downsample")
    if downsample > 1 and not series:
        raise v.InvalidParameterError(
            f"downsample={downsample} averages the steps of a series; images "
            "(input_shape of rank 3) take downsample=1 or 'auto'. Use pooling "
            "or augmentation layers to shrink images."
        )
    return downsample


def series_positions(downsample: int | str, shape: Sequence[int | None]) -> int | None:
    """The positions the convolutions read for a series of ``shape`` ``(length,
    channels)``: ``ceil(length / steps)`` (``AveragePooling1D`` with
    ``padding="same"``), or None when the length varies.

    Examples
    --------
    >>> [series_positions("auto", (n, 1)) for n in (100, 1460)]
    [100, 244]
    >>> series_positions(4, (10, 2)), series_positions("auto", (None, 1))
    (3, None)
    """
    if shape[0] is None:
        return None
    steps = steps_per_position(downsample, shape, series=True)
    return -(-int(shape[0]) // steps)
