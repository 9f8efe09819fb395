"""How many steps of a numeric series make one patch (``patch_size="auto"``).

The RNN and the Transformer read a long series in patches: a strided
``Conv1D`` turns each run of ``patch_size`` steps into one position, as
time-series Transformers do (Nie et al. 2023, PatchTST). The recurrence or
the attention then spans ``length / patch_size`` positions, at most
``PATCHES``: a 1,460-step series costs what a 64-step one does, and each
position carries a local shape instead of one noisy value. With
``patch_embedding="conv"`` (the RNN classifier's default) a convolution reads
the series at full resolution before it is cut into patches.

The CNN (``downsample="auto"``) averages each run of steps into one instead
(piecewise aggregate approximation): a series longer than ``CNN_POSITIONS``
steps becomes at most that many positions. Its cost grows with the length
times the filters squared, and a 1,460-step series at full resolution does
not train in two minutes on a CPU.
"""

from __future__ import annotations

import keras

PATCHES = 64  # patch_size="auto": at most this many patches
# The CNN's downsample="auto": series of up to CNN_POSITIONS steps are read
# whole (as Wang et al.'s FCN does), longer ones averaged down to at most
# CNN_POSITIONS positions. A convolution keeps the local shape itself, so it
# reads finer series than attention. 256 rather than 128 (3 seeds, 2026-12-06):
# OSULeaf 0.932 -> 0.945, ACSF1 0.540 -> 0.603, PLAID 0.276 -> 0.287, fits of
# 57-92 s on 2 cores, the epochs capped by _budget.CNN_WORK.
CNN_POSITIONS = 256


def auto_patch_size(length: int, positions: int = PATCHES) -> int:
    """The fewest steps per patch that give at most ``positions`` patches.

    Examples
    --------
    >>> [auto_patch_size(n) for n in (24, 64, 65, 150, 1460)]
    [1, 1, 2, 3, 23]
    >>> [auto_patch_size(n, CNN_POSITIONS) for n in (256, 427, 1460)]
    [1, 2, 6]
    """
    return max(1, -(-int(length) // positions))


def patch_positions(patch_size: int | str, length: int | None) -> int | None:
    """The positions a series of ``length`` steps becomes in patches of
    ``patch_size`` (``"auto"``: :func:`auto_patch_size`); None for an unknown
    length.

    Examples
    --------
    >>> patch_positions("auto", 1344), patch_positions(4, 10), patch_positions(2, None)
    (64, 3, None)
    """
    if length is None:
        return None
    size = auto_patch_size(length) if patch_size == "auto" else int(patch_size)
    return -(-int(length) // max(1, size))


PATCH_EMBEDDINGS = ("linear", "conv")
# patch_embedding="conv": the width of the convolution that reads the series
# at full resolution before it is cut into patches.
STEM_KERNEL_SIZE = 8


def patch_projection(
    x, units: int, patch_size: int, seeds, dtype=None, embedding: str = "linear"
):
    """Project each run of ``patch_size`` steps of ``x`` to ``units`` features.

    A ``Conv1D`` with stride ``patch_size`` and ``padding="same"``: the output
    has ``ceil(length / patch_size)`` positions, the missing steps zero-padded
    (split between the two ends). That is a linear map of each patch's steps
    (``embedding="linear"``, PatchTST's). With ``embedding="conv"`` a
    ``Conv1D(units, STEM_KERNEL_SIZE, activation="relu")`` reads the series at
    full resolution first, so that each patch carries features of the local
    shape around its steps, as a CNN's first layer finds them, rather than
    the raw values (a convolutional stem, as in Foumani et al. 2024's
    ConvTran). ``seeds`` is the build's :class:`~kerasbig.models._seeds.Seeds`.
    """
    if embedding == "conv":
        x = keras.layers.Conv1D(
            units,
            STEM_KERNEL_SIZE,
            padding="same",
            activation="relu",
            kernel_initializer=seeds.initializer("he_uniform"),
            dtype=dtype,
        )(x)
    return keras.layers.Conv1D(
        units,
        patch_size,
        strides=patch_size,
        padding="same",
        kernel_initializer=seeds.initializer("glorot_uniform"),
        dtype=dtype,
    )(x)
