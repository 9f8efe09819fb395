"""Large arrays reach the network batch by batch, straight from the caller's memory.

On TensorFlow, ``keras.Model.fit`` turns NumPy inputs into one tensor and a
``tf.data`` pipeline holding another: a fit on a 2 GB float32 array needs
about 6 GB (measured: peak RSS over the runtime's own grows by 3.1 times the
array). On JAX, Keras slices the NumPy arrays batch by batch and copies
nothing.

So on TensorFlow, when the dense arrays of a fit (``X``, ``y``, sample
weights) hold :data:`MIN_BYTES` or more, the estimator gives Keras a
:class:`ArrayBatches` instead: a ``keras.utils.PyDataset`` that gathers each
batch from the caller's arrays as Keras asks for it. Only a batch, and the
permutation of row indices, is ever copied (peak growth about 1.1 times the
array, the array itself included).

What Keras would do with the arrays is done the same way here:
``validation_split`` keeps the last rows, unshuffled, for validation (views,
not copies); ``shuffle=True`` draws a new order of the rows every epoch,
``shuffle="batch"`` shuffles the order of the batches only. The order is drawn
from NumPy's global random state, which ``random_state`` seeds for the fit, so
a fixed ``random_state`` gives the same model every time; it is not the order
TensorFlow's own shuffle would draw, so the model differs from the one the
same fit on a smaller array copy would give, as models of two seeds differ.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

__all__ = ["MIN_BYTES", "ArrayBatches", "prepare"]

MIN_BYTES = 256 * 2**20
DEFAULT_BATCH_SIZE = 32  # keras.Model.fit's


class ArrayBatches(keras.utils.PyDataset):
    """Batches of ``(x, y[, sample_weight])`` gathered from arrays, one at a time.

    Parameters
    ----------
    x, y, sample_weight : arrays or nested structures of arrays
        The data, first axis the rows (``y`` and ``sample_weight`` may be None).
    batch_size : int
        Rows per batch; the last batch holds the rest.
    shuffle : bool or "batch"
        Draw a new order of the rows (True) or of the batches ("batch") at
        every epoch, from NumPy's global random state.

    Examples
    --------
    >>> import numpy as np
    >>> batches = ArrayBatches(np.arange(10.0).reshape(5, 2), np.arange(5),
    ...                        batch_size=2, shuffle=False)
    >>> len(batches), batches[2]
    (3, (array([[8., 9.]]), array([4])))
    """

    def __init__(self, x, y=None, sample_weight=None, *, batch_size, shuffle):
        super().__init__()
        self._data = tuple(d for d in (x, y, sample_weight) if d is not None)
        self._n_rows = keras.tree.flatten(x)[0].shape[0]
        self._batch_size = batch_size
        self._shuffle = shuffle
        self._order = None
        self.on_epoch_begin()

    def __len__(self) -> int:
        return math.ceil(self._n_rows / self._batch_size)

    def __getitem__(self, index: int):
        start = index * self._batch_size
        stop = min(start + self._batch_size, self._n_rows)
        if self._order is None:
            rows = slice(start, stop)
        else:
            rows = np.sort(self._order[start:stop])  # gathers read forward
        batch = tuple(
            keras.tree.map_structure(lambda a: a[rows], d) for d in self._data
        )
        return batch if len(batch) > 1 else batch[0]

    def on_epoch_begin(self) -> None:
        if self._shuffle is True:
            self._order = np.random.permutation(self._n_rows)
        elif self._shuffle == "batch":
            starts = np.random.permutation(len(self)) * self._batch_size
            self._order = np.concatenate(
                [np.arange(s, min(s + self._batch_size, self._n_rows)) for s in starts]
            )


def _arrays_bytes(data: Any) -> int | None:
    """Total bytes of the NumPy arrays in ``data``, None if anything else is there."""
    total = 0
    for leaf in keras.tree.flatten(data):
        if leaf is None:
            continue
        if not isinstance(leaf, np.ndarray):
            return None
        total += leaf.nbytes
    return total


def prepare(X, y, sample_weight, fit_args: dict, placement) -> tuple:
    """``X, y, sample_weight, fit_args`` for ``keras.Model.fit``: the same, or
    (for large arrays on TensorFlow) an :class:`ArrayBatches` and the fit
    arguments Keras reads for datasets."""
    if placement is not None or keras.backend.backend() != "tensorflow":
        return X, y, sample_weight, fit_args
    size = _arrays_bytes((X, y, sample_weight))
    if size is None or size < MIN_BYTES or fit_args.get("validation_data") is not None:
        return X, y, sample_weight, fit_args
    args = dict(fit_args)
    batch_size = args.pop("batch_size", None) or DEFAULT_BATCH_SIZE
    validation_batch_size = args.pop("validation_batch_size", None) or batch_size
    shuffle = args.pop("shuffle", True)
    split = args.pop("validation_split", 0.0) or 0.0
    n_rows = keras.tree.flatten(X)[0].shape[0]
    if split:
        at = int(math.floor(n_rows * (1.0 - split)))
        if at in (0, n_rows):
            return X, y, sample_weight, fit_args  # Keras's own error says why
        head = keras.tree.map_structure(
            lambda a: None if a is None else a[:at], (X, y, sample_weight)
        )
        tail = keras.tree.map_structure(
            lambda a: None if a is None else a[at:], (X, y, sample_weight)
        )
        (X, y, sample_weight) = head
        args["validation_data"] = ArrayBatches(
            *tail, batch_size=validation_batch_size, shuffle=False
        )
    batches = ArrayBatches(X, y, sample_weight, batch_size=batch_size, shuffle=shuffle)
    args["shuffle"] = False  # Keras would shuffle the batches' order as well
    return batches, None, None, args
