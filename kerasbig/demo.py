"""The main job: a convolutional network in a scikit-learn Pipeline, cross-validated.

Run it with ``python -m kerasbig demo``. It trains a :class:`~kerasbig.CNNClassifier`
(two Conv2D blocks) on scikit-learn's bundled digits (1,797 images of 8x8 pixels,
shipped offline) inside ``Pipeline([ImageScaler, CNNClassifier])``, with 5-fold
stratified cross-validation, and prints each fold's accuracy and time, the mean
and the wall time: about 25 s on 2 CPU cores.

What it shows: a Keras network is an ordinary scikit-learn estimator (cloned for
each fold, fitted, scored), its architecture is constructor parameters, and the
folds after the first reuse the first fold's compiled model (``kerasbig.reuse``),
so they do not pay for tracing the train step again.

On a terminal, a status line shows each fold's epochs as they finish; written to
a file or a pipe, the output is plain lines only (no ``\\r``, no progress bars).
"""

from __future__ import annotations

import sys
import time

import keras
import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline

from kerasbig import CNNClassifier
from kerasbig.preprocessing import ImageScaler


class EpochProgress(keras.callbacks.Callback):
    """Rewrites one status line per epoch (fold, epoch, loss) on a terminal;
    writes nothing when the stream is not a terminal."""

    def __init__(self, label: str = "", stream=None):
        super().__init__()
        self.label = label
        self.stream = stream

    def on_epoch_end(self, epoch, logs=None):
        stream = sys.stdout if self.stream is None else self.stream
        if not _isatty(stream):
            return  # a log file gets the per-fold lines only
        loss = (logs or {}).get("loss", float("nan"))
        total = self.params.get("epochs", "?")
        stream.write(f"\r{self.label}: epoch {epoch + 1}/{total} loss {loss:.3f}")
        stream.flush()


def make_demo_pipeline(epochs: int = 15):
    """``Pipeline([ImageScaler(max_value=16), CNNClassifier(...)])``: pixels
    0..16 scaled to 0..1, then two Conv2D blocks (32 and 64 filters), global
    mean pooling and a softmax head."""
    return make_pipeline(
        ImageScaler(max_value=16),
        CNNClassifier(
            filters=(32, 64),
            epochs=epochs,
            batch_size=64,
            callbacks={"progress": EpochProgress},
            random_state=0,
        ),
    )


def run_demo(n_splits: int = 5, epochs: int = 15, stream=None) -> dict:
    """Cross-validate the pipeline on load_digits and report as it goes.

    Parameters
    ----------
    n_splits : int, default=5
        Number of stratified folds.
    epochs : int, default=15
        Training epochs in each fold.
    stream : text stream, default=None
        Where to report; None: ``sys.stdout``.

    Returns
    -------
    dict
        ``{"scores": [...], "mean": float, "seconds": float}``.
    """
    stream = sys.stdout if stream is None else stream
    digits = load_digits()
    X, y = digits.images[..., None], digits.target  # (1797, 8, 8, 1)
    pipeline = make_demo_pipeline(epochs)
    print(
        f"kerasbig demo: {X.shape[0]} digit images of {X.shape[1]}x{X.shape[2]} "
        f"pixels; Pipeline(ImageScaler, CNNClassifier) x {n_splits}-fold "
        f"stratified cross-validation, {epochs} epochs per fold (keras "
        f"{keras.__version__}, backend {keras.backend.backend()})",
        file=stream,
        flush=True,
    )
    tty = _isatty(stream)
    start = time.perf_counter()
    scores = []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    for i, (train, test) in enumerate(folds.split(X, y), start=1):
        fold_start = time.perf_counter()
        label = f"fold {i}/{n_splits}"
        model = clone(pipeline).set_params(
            cnnclassifier__callbacks__progress__label=label,
            cnnclassifier__callbacks__progress__stream=stream,
        )
        model.fit(X[train], y[train])
        score = model.score(X[test], y[test])
        scores.append(score)
        seconds = time.perf_counter() - fold_start
        line = f"{label}: accuracy {score:.4f} ({seconds:.1f} s)"
        stream.write(f"\r{line}{' ' * 20}\n" if tty else f"{line}\n")
        stream.flush()
    elapsed = time.perf_counter() - start
    mean = float(np.mean(scores))
    print(
        f"mean accuracy {mean:.4f} (+/- {np.std(scores):.4f}); "
        f"wall time {elapsed:.1f} s",
        file=stream,
        flush=True,
    )
    return {"scores": scores, "mean": mean, "seconds": elapsed}


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
