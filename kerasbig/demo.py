"""The main job: a Keras network in a scikit-learn Pipeline, cross-validated.

Run it with ``python -m kerasbig demo``. It trains a small dense network on
scikit-learn's bundled ``load_digits`` (1,797 8x8 images of digits, shipped
offline) inside ``Pipeline([StandardScaler, KerasClassifier])``, with 5-fold
stratified cross-validation, and prints each fold's accuracy, the mean and
the wall time.
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
from sklearn.preprocessing import StandardScaler

from kerasbig import KerasClassifier


def build_dense_network(n_features_in_, n_classes_, hidden=128, dropout=0.2):
    """A dense network: one hidden ReLU layer with dropout, softmax head."""
    return keras.Sequential(
        [
            keras.Input((n_features_in_,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(n_classes_, activation="softmax"),
        ]
    )


class _EpochProgress(keras.callbacks.Callback):
    """Rewrites one status line per epoch: fold, epoch, loss."""

    def __init__(self, label: str, stream):
        super().__init__()
        self.label = label
        self.stream = stream

    def on_epoch_end(self, epoch, logs=None):
        if not self.stream.isatty():
            return  # a log file gets the per-fold lines only
        loss = (logs or {}).get("loss", float("nan"))
        total = self.params.get("epochs", "?")
        self.stream.write(f"\r{self.label}: epoch {epoch + 1}/{total} loss {loss:.3f}")
        self.stream.flush()


def run_demo(n_splits: int = 5, epochs: int = 30, stream=None) -> dict:
    """Cross-validate the pipeline on load_digits and report as it goes.

    Returns
    -------
    dict
        ``{"scores": [...], "mean": float, "seconds": float}``.
    """
    stream = sys.stdout if stream is None else stream
    X, y = load_digits(return_X_y=True)
    pipeline = make_pipeline(
        StandardScaler(),
        KerasClassifier(
            build_dense_network,
            optimizer="adam",
            optimizer__learning_rate=1e-3,
            metrics=["accuracy"],
            epochs=epochs,
            batch_size=64,
            random_state=0,
        ),
    )
    print(
        f"kerasbig demo: {X.shape[0]} digit images, {X.shape[1]} pixels each; "
        f"Pipeline(StandardScaler, KerasClassifier) x {n_splits}-fold "
        f"stratified cross-validation, {epochs} epochs per fold (keras "
        f"{keras.__version__}, backend {keras.backend.backend()})",
        file=stream,
    )
    start = time.perf_counter()
    scores = []
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=0)
    for i, (train, test) in enumerate(folds.split(X, y), start=1):
        fold_start = time.perf_counter()
        model = clone(pipeline)
        label = f"fold {i}/{n_splits}"
        model.fit(
            X[train],
            y[train],
            kerasclassifier__callbacks=[_EpochProgress(label, stream)],
        )
        score = model.score(X[test], y[test])
        scores.append(score)
        seconds = time.perf_counter() - fold_start
        stream.write(f"\r{label}: accuracy {score:.4f} ({seconds:.1f} s){' ' * 20}\n")
    elapsed = time.perf_counter() - start
    mean = float(np.mean(scores))
    print(
        f"mean accuracy {mean:.4f} (+/- {np.std(scores):.4f}); "
        f"wall time {elapsed:.1f} s",
        file=stream,
    )
    return {"scores": scores, "mean": mean, "seconds": elapsed}
