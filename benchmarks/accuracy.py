"""Accuracy of the CNN, RNN and Transformer estimators on real data.

Run from the repository root::

    python -m benchmarks.accuracy            # every task
    python -m benchmarks.accuracy --quick    # fewer epochs, a smoke run
    python benchmarks/accuracy.py --only digits text

Data (nothing is downloaded at run time):

* digits: scikit-learn's bundled 8x8 digits, as (8, 8, 1) images, stratified 25%
  hold-out.
* UCR GunPoint and ItalyPowerDemand, official train/test splits, read with
  :func:`kerasbig.datasets.load_ucr` from an installed sktime, or from a sktime
  wheel or a folder of ``.ts`` files given with ``--ucr-path``
  (``pip download --no-deps sktime`` fetches the wheel).
* text: Debian's fortune files (``apt-get install fortunes``), five categories
  by file, stratified 25% hold-out; TF-IDF + logistic regression is the
  reference.
* sunspots: statsmodels' bundled yearly sunspot numbers (``pip install
  statsmodels``); predict the next year from the previous 12, last 25% of the
  years held out; ridge regression on the same windows is the reference.

It prints one table row per (task, model): metric, value, reference, seconds.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.dummy import DummyClassifier  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, Ridge  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

if __package__ in (None, ""):  # run as a script: python benchmarks/accuracy.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kerasbig.datasets.fortunes import load_fortunes  # noqa: E402
from kerasbig.datasets.ucr import load_ucr  # noqa: E402
from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor  # noqa: E402
from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor  # noqa: E402
from kerasbig.models.transformer.estimators import (  # noqa: E402
    TransformerClassifier,
    TransformerRegressor,
)

TEXT_CATEGORIES = ("computers", "politics", "science", "songs-poems", "food")
ROWS: list[tuple] = []


def _row(task, model, metric, value, reference, seconds):
    ROWS.append((task, model, metric, value, reference, seconds))
    print(
        f"{task:<21} {model:<22} {metric:<9} {value:>7.3f}  {reference:<28} "
        f"{seconds:>6.0f}",
        flush=True,
    )


def _fit_score(estimator, X_train, y_train, X_test, y_test) -> tuple[float, float]:
    """Test score of ``estimator`` fitted on the training data, and seconds."""
    start = time.perf_counter()
    value = estimator.fit(X_train, y_train).score(X_test, y_test)
    return value, time.perf_counter() - start


# ----------------------------------------------------------------------
# Tasks
# ----------------------------------------------------------------------
def digits(quick: bool) -> None:
    X, y = load_digits(return_X_y=True)
    X = X.reshape(-1, 8, 8, 1) / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = CNNClassifier(random_state=0, **({"epochs": 3} if quick else {}))
    acc, seconds = _fit_score(clf, X_train, y_train, X_test, y_test)
    _row("digits 8x8", "CNNClassifier()", "accuracy", acc, "target >= 0.98", seconds)


def ucr(quick: bool, path) -> None:
    references = {
        "GunPoint": "FCN 1.000 / ResNet 0.991",
        "ItalyPowerDemand": "FCN 0.961 / ResNet 0.963",
    }
    for name in ("GunPoint", "ItalyPowerDemand"):
        X_train, y_train = load_ucr(name, "train", path=path)
        X_test, y_test = load_ucr(name, "test", path=path)
        epochs = 5 if quick else None
        cnn = CNNClassifier(
            n_blocks=3,
            filters=(64, 128, 64),
            kernel_size=5,
            pooling=None,
            batch_size=16,
            epochs=epochs or 200,
            optimizer__learning_rate=1e-3,
            random_state=0,
        )
        rnn = RNNClassifier(
            cell="gru",
            units=(64,),
            bidirectional=True,
            global_pooling="mean",
            batch_size=16,
            epochs=epochs or 150,
            optimizer__learning_rate=3e-3,
            random_state=0,
        )
        for label, est in (
            ("CNNClassifier (FCN)", cnn),
            ("RNNClassifier (BiGRU)", rnn),
        ):
            acc, seconds = _fit_score(est, X_train, y_train, X_test, y_test)
            _row(f"UCR {name}", label, "accuracy", acc, references[name], seconds)


def text(quick: bool) -> None:
    texts, labels = load_fortunes(TEXT_CATEGORIES)
    X_train, X_test, y_train, y_test = train_test_split(
        np.array(texts, dtype=object),
        labels,
        test_size=0.25,
        stratify=labels,
        random_state=0,
    )
    baseline = DummyClassifier().fit(X_train, y_train).score(X_test, y_test)
    tfidf = make_pipeline(
        TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10, max_iter=2000)
    )
    reference = tfidf.fit(X_train, y_train).score(X_test, y_test)
    clf = TransformerClassifier(
        vocabulary_size=4000,
        max_length=64,
        truncation="silent",
        num_layers=1,
        num_heads=4,
        model_dim=32,
        ff_dim=64,
        dropout=0.3,
        epochs=3 if quick else 20,
        early_stopping=True,
        patience=3,
        validation_split=0.1,
        optimizer__learning_rate=1e-3,
        random_state=0,
    )
    # validation_split takes the last rows: shuffle once so that they mix classes
    order = np.random.default_rng(0).permutation(len(X_train))
    acc, seconds = _fit_score(clf, X_train[order], y_train[order], X_test, y_test)
    _row(
        f"fortunes ({len(TEXT_CATEGORIES)} cat.)",
        "TransformerClassifier",
        "accuracy",
        acc,
        f"TF-IDF+LR {reference:.3f}; major. {baseline:.3f}",
        seconds,
    )


def sunspots(quick: bool) -> None:
    import statsmodels.api as sm

    series = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    scale = series.std()
    series = series / scale
    window = 12
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)
    y = series[window:]
    cut = int(len(X) * 0.75)
    X_train, X_test, y_train, y_test = X[:cut], X[cut:], y[:cut], y[cut:]
    ridge = Ridge(alpha=1.0).fit(X_train, y_train).score(X_test, y_test)
    epochs = 5 if quick else 150
    common = dict(
        epochs=epochs, batch_size=16, random_state=0, optimizer__learning_rate=3e-3
    )
    models = {
        "CNNRegressor": CNNRegressor(
            n_blocks=2,
            filters=32,
            batch_norm=False,
            global_pooling="flatten",
            dense_units=32,
            **common,
        ),
        "RNNRegressor": RNNRegressor(cell="gru", units=32, **common),
        "TransformerRegressor": TransformerRegressor(
            num_layers=1,
            num_heads=2,
            model_dim=16,
            ff_dim=32,
            dropout=0.0,
            dense_units=16,
            **common,
        ),
    }
    for label, est in models.items():
        r2, seconds = _fit_score(est, X_train, y_train, X_test, y_test)
        _row("sunspots next year", label, "R^2", r2, f"ridge {ridge:.3f}", seconds)


TASKS = ("digits", "ucr", "text", "sunspots")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few epochs: a smoke run")
    parser.add_argument("--only", nargs="+", choices=TASKS, default=list(TASKS))
    parser.add_argument(
        "--ucr-path",
        default=os.environ.get("KERASBIG_UCR_PATH"),
        help="sktime wheel or folder of .ts files (default: installed sktime)",
    )
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    print(
        f"{'task':<21} {'model':<22} {'metric':<9} {'value':>7}  "
        f"{'reference':<28} {'sec':>6}"
    )
    for task in args.only:
        if task == "ucr":
            ucr(args.quick, args.ucr_path)
        else:
            globals()[task](args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
