"""Predictions without ``keras.Model.predict``'s per-call set-up.

``keras.Model.predict`` builds a data adapter, an epoch iterator and a
callback list at every call, and dispatches callbacks after every batch:
about 50 ms a call on a CPU, whatever the size of the input, and about 1 ms a
batch. A scikit-learn user pays that on every small call (serving one row,
``cross_val_predict`` on small folds, permutation importance, calibration)
and on every scoring of a fold. When the input is dense arrays and nothing
needs ``predict``'s machinery (no callbacks, no progress bar, no
distribution, no sparse input), the estimator runs the model's own compiled
predict function (``predict_on_batch``, the function ``predict`` itself calls
per batch) on each batch of ``batch_size`` rows directly.

The last, partial batch is padded (repeating its rows) to the next power of
two, so that the compiled function sees at most ``log2(batch_size) + 2``
input shapes and is not traced or compiled again for every new row count;
the padding is cut off. A row's prediction does not depend on the other rows
of its batch in inference mode, so the results are ``predict``'s, up to
float rounding.

Predictions are thread-safe: on JAX, Keras' predict step takes the model's
variables as donated buffers and writes them back, so two threads predicting
with one model at once would read buffers the other has given away ("Buffer
has been deleted or donated"); each model's predictions there run one at a
time (:func:`one_at_a_time`). TensorFlow's compiled functions need no lock.
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

from kerasbig import distribute

DEFAULT_BATCH_SIZE = 32  # keras.Model.predict's

_locks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> lock
_locks_lock = threading.Lock()


@contextlib.contextmanager
def one_at_a_time(model: keras.Model) -> Iterator[None]:
    """Within the block, no other thread predicts with ``model`` (on JAX,
    whose predict step donates the model's state; elsewhere a no-op)."""
    if keras.backend.backend() != "jax":
        yield
        return
    with _locks_lock:
        lock = _locks.setdefault(model, threading.Lock())
    with lock:
        yield


def _bucket(n_rows: int) -> int:
    """The next power of two at or above ``n_rows``.

    Examples
    --------
    >>> [_bucket(n) for n in (1, 2, 3, 32, 33)]
    [1, 2, 4, 32, 64]
    """
    return 1 << max(n_rows - 1, 0).bit_length()


def _rows(data: Any, rows: slice | np.ndarray) -> Any:
    """The ``rows`` of every array in ``data``."""
    return keras.tree.map_structure(lambda a: a[rows], data)


def is_eligible(X: Any, predict_args: dict, placement) -> bool:
    """True when ``X`` is dense arrays and nothing needs
    ``keras.Model.predict``: no callbacks, no progress bar, no distribution."""
    leaves = keras.tree.flatten(X)
    if placement is not None or not leaves:
        return False
    if not all(isinstance(leaf, np.ndarray) for leaf in leaves):
        return False  # sparse matrices, tensors, datasets: predict handles them
    if predict_args.get("callbacks") or predict_args.get("verbose") not in (0, False):
        return False
    if set(predict_args) - {"batch_size", "verbose", "callbacks"}:
        return False  # e.g. steps: predict's business
    return leaves[0].shape[0] > 0


def predict(model: keras.Model, X: Any, predict_args: dict, placement) -> Any:
    """The model's outputs for ``X``: batch by batch through the compiled
    predict function, or through :func:`kerasbig.distribute.predict`."""
    with one_at_a_time(model):
        if not is_eligible(X, predict_args, placement):
            return distribute.predict(model, X, predict_args, placement)
        return _predict_batches(model, X, predict_args)


def _predict_batches(model: keras.Model, X: Any, predict_args: dict) -> Any:
    batch_size = predict_args.get("batch_size") or DEFAULT_BATCH_SIZE
    n_rows = keras.tree.flatten(X)[0].shape[0]
    outputs = []
    for start in range(0, n_rows, batch_size):
        n_batch = min(batch_size, n_rows - start)
        if n_batch == batch_size:
            batch = _rows(X, slice(start, start + batch_size))  # a view
        else:  # padded to a power of two
            batch = _rows(X, start + np.arange(_bucket(n_batch)) % n_batch)
        out = keras.tree.map_structure(np.asarray, model.predict_on_batch(batch))
        outputs.append(_rows(out, slice(0, n_batch)))
    if len(outputs) == 1:
        return outputs[0]
    return keras.tree.map_structure(
        lambda *parts: np.concatenate(parts, axis=0), *outputs
    )
