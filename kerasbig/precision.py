"""``precision=``: the dtype policy of the models an estimator builds.

The model families pass the policy to their builder, which gives it to every
layer (``build_cnn(..., dtype=policy)``); the output layer computes in float32,
or float64 when the network does. For a model-building function of the user's,
the general wrappers set the policy only while it runs, then put it back, so no
global policy is left behind; Keras records the policy in each layer. With
``"mixed_float16"`` Keras wraps the optimizer in a ``LossScaleOptimizer``.
Predictions, probabilities and scores always come back as float64 NumPy
arrays, whatever the compute dtype.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras

PRECISIONS = ("float32", "float64", "mixed_bfloat16", "mixed_float16", "auto")


def _has_fast_bfloat16() -> bool:
    """True on TPUs and on GPUs of compute capability 8.0 (Ampere) or newer."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax  # noqa: PLC0415

        for device in jax.devices():
            if device.platform == "tpu":
                return True
            if device.platform == "gpu":
                capability = getattr(device, "compute_capability", "0")
                if float(capability) >= 8.0:
                    return True
        return False
    if backend == "tensorflow":
        import tensorflow as tf  # noqa: PLC0415

        if tf.config.list_logical_devices("TPU"):
            return True
        for gpu in tf.config.list_physical_devices("GPU"):
            major, _ = tf.config.experimental.get_device_details(gpu).get(
                "compute_capability", (0, 0)
            )
            if major >= 8:
                return True
    return False


def resolve(precision) -> str | None:
    """The dtype policy name for ``precision`` (None: leave Keras' policy)."""
    if precision == "auto":
        return "mixed_bfloat16" if _has_fast_bfloat16() else "float32"
    return precision


@contextlib.contextmanager
def policy(name: str | None) -> Iterator[None]:
    """Use dtype policy ``name`` inside the block; restore the previous one."""
    if name is None:
        yield
        return
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)
