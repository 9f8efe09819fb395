"""Small predictions without ``keras.Model.predict``'s per-call set-up.

``keras.Model.predict`` builds a data adapter, an epoch iterator and a
callback list at every call: about 50 ms on a CPU, whatever the size of the
input. A scikit-learn user pays that on every small call (serving one row,
``cross_val_predict`` on small folds, permutation importance, calibration).
When the input fits in one batch, and nothing needs ``predict``'s machinery
(no callbacks, no progress bar, no distribution, no sparse input), the
estimator runs the model's own compiled predict function on it directly
(``predict_on_batch``), the function ``predict`` itself calls per batch.

The rows are padded (repeating them) to the next power of two, so
that the compiled function sees at most ``log2(batch_size) + 1`` input shapes
and is not traced or compiled again for every new row count; the padding is
cut off. A row's prediction does not depend on the other rows of its batch
in inference mode, so the results are ``predict``'s, up to float rounding.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasbig import distribute

DEFAULT_BATCH_SIZE = 32  # keras.Model.predict's


def _bucket(n_rows: int) -> int:
    """The next power of two at or above ``n_rows``.

    Examples
    --------
    >>> [_bucket(n) for n in (1, 2, 3, 32, 33)]
    [1, 2, 4, 32, 64]
    """
    return 1 << max(n_rows - 1, 0).bit_length()


def is_eligible(X: Any, predict_args: dict, placement) -> bool:
    """True when ``X`` is one batch of dense arrays and nothing needs
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
    batch_size = predict_args.get("batch_size") or DEFAULT_BATCH_SIZE
    return 0 < leaves[0].shape[0] <= batch_size


def predict(model: keras.Model, X: Any, predict_args: dict, placement) -> Any:
    """The model's outputs for ``X``: directly for one small batch, else
    through :func:`kerasbig.distribute.predict`."""
    if not is_eligible(X, predict_args, placement):
        return distribute.predict(model, X, predict_args, placement)
    n_rows = keras.tree.flatten(X)[0].shape[0]
    rows = np.arange(_bucket(n_rows)) % n_rows
    padded = keras.tree.map_structure(lambda a: a[rows], X)
    out = model.predict_on_batch(padded)
    return keras.tree.map_structure(lambda a: np.asarray(a)[:n_rows], out)
