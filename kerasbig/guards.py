"""Stop a fit whose loss is no longer a finite number, and say where.

A loss that becomes NaN or infinite (a learning rate too high, targets of a
huge scale, the log of a zero probability, an overflow in float16) turns
every weight it reaches into NaN; Keras keeps training on, and the model
predicts NaN or one class forever after. Every kerasbig fit therefore runs
with a :class:`NonFiniteLossGuard` (Keras' ``TerminateOnNaN`` only stops),
and once ``keras.Model.fit`` returns, :func:`raise_if_diverged` raises
:class:`NonFiniteLossError` naming the epoch and the batch.

After the error the estimator is as it was before the call: unfitted after a
first ``fit``, its previous model after a refit, and, for a fit that
continues a model (``warm_start=True``, ``partial_fit``), that model with the
weights and optimizer state it had before the call.

The guard costs nothing measurable: it reads the loss after each compiled
call (each batch, or each group of batches :mod:`kerasbig.multistep` runs in
one call) on Keras' callback threads (``async_safe``), so that the training
loop never waits for the device to report it, and once more at each epoch's
end. On TensorFlow training stops right after the bad batch; on JAX at the
end of its epoch (stopping within an epoch from Keras' callback threads is not
safe there), the error naming the bad batch all the same.
With several steps per call, the batch named is the last of the call in
which the loss went bad.
:func:`allowing_non_finite_loss` turns the guard off within a block.

A device that runs out of memory (a batch too large for the GPU) raises, on
TensorFlow, a ``ResourceExhaustedError`` and on JAX an ``XlaRuntimeError``,
each with an allocator report of many lines. :func:`reporting_out_of_memory`
turns them into one :class:`DeviceMemoryError` that names the batch size and
what to try instead.

Examples
--------
>>> import keras, numpy as np
>>> from kerasbig import KerasRegressor
>>> def build(n_features_in_):
...     return keras.Sequential([keras.Input((n_features_in_,)),
...                              keras.layers.Dense(1)])
>>> X = np.ones((8, 2)); y = np.full(8, 1e30)  # squares overflow float32
>>> reg = KerasRegressor(build, optimizer="sgd", epochs=3, batch_size=4)
>>> reg.fit(X, y)  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
kerasbig.guards.NonFiniteLossError: KerasRegressor: the training loss became \
inf at epoch 1/3, batch .../2; training stopped there. ...
>>> hasattr(reg, "model_")  # as before the call: unfitted
False
"""

from __future__ import annotations

import contextlib
import math
import threading
from collections.abc import Iterator
from typing import Any

import keras

__all__ = [
    "DeviceMemoryError",
    "NonFiniteLossError",
    "NonFiniteLossGuard",
    "allowing_non_finite_loss",
    "guard_for",
    "raise_if_diverged",
]

_off = threading.local()


class NonFiniteLossError(FloatingPointError, ValueError):
    """The training loss became NaN or infinite; training stopped.

    A ``FloatingPointError`` (what NumPy raises for invalid arithmetic) and
    a ``ValueError`` (what scikit-learn's tools expect of bad settings).
    """


@contextlib.contextmanager
def allowing_non_finite_loss() -> Iterator[None]:
    """Within the block (in this thread), fits train on through a NaN or
    infinite loss, as plain Keras does."""
    previous = getattr(_off, "value", False)
    _off.value = True
    try:
        yield
    finally:
        _off.value = previous


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):  # not a scalar: nothing to judge
        return True


class NonFiniteLossGuard(keras.callbacks.Callback):
    """Stops training at the first batch whose running loss is NaN or infinite.

    It records where (``failure``: epoch, batch, value, all 0-based) and, for
    a model that was trained before (its optimizer has taken steps), keeps
    the weights and optimizer state training started from, which
    :func:`raise_if_diverged` puts back.
    """

    # Keras may run on_train_batch_end on a pool of callback threads: reading the
    # loss there never stalls the training loop.
    async_safe = True
    # On JAX, stopping from those threads in the middle of an epoch makes Keras
    # read metric buffers the next step has already donated (Keras 3.15): the
    # guard records the batch there and stops at the epoch's end.
    _stop_within_epochs = keras.backend.backend() != "jax"
    # The loss Keras reports is the epoch's running mean, non-finite from the
    # first bad batch on: the last batch of each multi-step call is enough
    # (kerasbig.multistep keeps running several steps per call).
    watches_single_batches = False

    def __init__(self):
        super().__init__()
        self.failure: tuple[int, int | None, float] | None = None
        self._epoch = 0
        self._start: tuple[list, list] | None = None
        # Keras runs asynchronous batch-end callbacks on a pool of threads:
        # the reports of two batches may arrive in either order.
        self._lock = threading.Lock()

    def on_train_begin(self, logs=None):
        self.failure, self._start = None, None
        optimizer = getattr(self.model, "optimizer", None)
        try:
            continuing = int(optimizer.iterations) > 0
        except (AttributeError, TypeError, ValueError):
            continuing = False
        if continuing:  # a warm fit: its starting point must survive a failure
            self._start = (
                self.model.get_weights(),
                [keras.ops.convert_to_numpy(v) for v in optimizer.variables],
            )

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not _finite(loss):
            with self._lock:  # the earliest bad batch wins, whatever the order
                if self.failure is None or (self._epoch, batch) < self.failure[:2]:
                    self.failure = (self._epoch, batch, float(loss))
            if self._stop_within_epochs:
                self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if self.failure is None and loss is not None and not _finite(loss):
            self.failure = (epoch, None, float(loss))
        if self.failure is not None:
            self.model.stop_training = True

    def restore_start(self) -> None:
        """Put back the weights and optimizer state training started from."""
        if self._start is None:
            return
        weights, optimizer_values = self._start
        self.model.set_weights(weights)
        for variable, value in zip(self.model.optimizer.variables, optimizer_values):
            variable.assign(value)


def guard_for(estimator: Any) -> list[keras.callbacks.Callback]:
    """The guard for one fit (none within :func:`allowing_non_finite_loss`)."""
    return [] if getattr(_off, "value", False) else [NonFiniteLossGuard()]


_ADVICE = (
    "Common causes: a learning rate too high (lower optimizer__learning_rate, "
    "or add optimizer__clipnorm=1.0), features or targets of a large scale "
    "(standardize them), a loss that takes the log of 0 (check the output "
    "activation against the loss, e.g. from_logits), or float16 overflow "
    "(precision='float32')."
)


def raise_if_diverged(callbacks, estimator: Any, fit_args: dict) -> None:
    """After ``keras.Model.fit``: raise :class:`NonFiniteLossError` if a guard
    among ``callbacks`` stopped training, after putting back the starting
    state of a model that was trained before."""
    for guard in callbacks:
        if isinstance(guard, NonFiniteLossGuard) and guard.failure is not None:
            guard.restore_start()
            epoch, batch, value = guard.failure
            epochs = fit_args.get("epochs")
            steps = guard.params.get("steps") if guard.params else None
            if batch is not None and steps:  # several steps per call: the last
                batch = min(batch, steps - 1)
            where = f"epoch {epoch + 1}" + (f"/{epochs}" if epochs else "")
            if batch is None:
                where = f"the end of {where}"
            else:
                where += f", batch {batch + 1}" + (f"/{steps}" if steps else "")
            raise NonFiniteLossError(
                f"{type(estimator).__name__}: the training loss became {value} at "
                f"{where}; training stopped there. The estimator is left as it "
                f"was before this fit. {_ADVICE}"
            )


class DeviceMemoryError(MemoryError):
    """The device ran out of memory in a fit or a prediction.

    The message names the batch size and what to try; ``original`` holds
    the backend's own error (its allocator report).
    """

    def __init__(self, message: str, original: BaseException | None = None):
        super().__init__(message)
        self.original = original


# How each backend words running out of device memory: TensorFlow's
# ResourceExhaustedError ("OOM when allocating tensor ..."), XLA's
# RESOURCE_EXHAUSTED status (JAX), PyTorch's OutOfMemoryError.
_OUT_OF_MEMORY_TYPES = ("ResourceExhaustedError", "OutOfMemoryError")
_OUT_OF_MEMORY_TEXT = ("RESOURCE_EXHAUSTED", "OOM when allocating", "out of memory")


def is_out_of_memory(error: BaseException) -> bool:
    """Whether ``error`` is a backend's report of exhausted device memory."""
    if isinstance(error, DeviceMemoryError):
        return False
    if type(error).__name__ in _OUT_OF_MEMORY_TYPES:
        return True
    text = str(error)[:2000]
    return any(marker.lower() in text.lower() for marker in _OUT_OF_MEMORY_TEXT)


@contextlib.contextmanager
def reporting_out_of_memory(
    estimator: Any, during: str, batch_size: int | None
) -> Iterator[None]:
    """Within the block, a backend's out-of-memory error becomes a
    :class:`DeviceMemoryError` naming ``batch_size`` and what to try."""
    try:
        yield
    except Exception as error:
        if not is_out_of_memory(error):
            raise
        size = 32 if batch_size is None else batch_size  # Keras' default
        smaller = max(size // 4, 1)
        first_line = next(iter(str(error).strip().splitlines()), "")[:300]
        raise DeviceMemoryError(
            f"{type(estimator).__name__}: the device ran out of memory during "
            f"{during} with batch_size={size}. Try a smaller batch_size (e.g. "
            f"batch_size={smaller}), precision='mixed_bfloat16' (half the "
            f"activation memory), a smaller network, or distribution= to "
            f"spread each batch over several devices. The backend said: "
            f"{first_line}",
            original=error,
        ) from None
