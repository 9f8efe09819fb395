"""kerasbig against plain Keras, side by side in one process: time ratios.

Run from the repository root::

    python -m benchmarks.speed                  # every measure, ~5 min on 2 cores
    python -m benchmarks.speed --quick          # fewer repeats, a smoke run
    python -m benchmarks.speed --json out.json  # also write the table as JSON

Every row times kerasbig and its plain-Keras counterpart with the same model
(a 50 -> 64 -> 3 MLP), data and settings, alternating the two, and reports
the median ratio kerasbig / plain Keras over the repeats, with its min and
max. Ratios, not absolute times: machines are shared and noisy. Below 1 is
faster than plain Keras.

Rows (issue 10's targets in brackets):

* ``fit``: ``est.fit`` / ``model.fit``, 3,000 rows, 3 epochs [<= 1.05];
* ``predict 1 row`` and ``predict 32 rows``: ``est.predict_proba`` /
  ``model.predict`` [<= 0.10];
* ``predict 100k rows`` [<= 1.05];
* ``5-fold CV``: ``cross_val_score`` / a plain-Keras loop that builds,
  trains and scores a model per fold [<= 0.60];
* ``grid search``: ``GridSearchCV``, 4 candidates x 3 folds / the same loop
  [<= 0.70];
* ``memory``: RSS growth over 50 consecutive fits of new estimators, in MB
  [<= 100];
* ``import``: ``import kerasbig`` / ``import keras, sklearn``, in fresh
  processes [<= 1.2].

Peers and families (``--peers``, ``--families``; both on by default):

* ``scikeras fit`` / ``keras.wrappers fit``, ``... predict 1 row`` and
  ``... 5-fold CV``: the same ratios for scikeras 0.13 and Keras's own
  ``keras.wrappers.SKLearnClassifier`` (where installed and running), against
  the same plain-Keras baselines, for comparison with kerasbig's rows;
* ``CNN fit``, ``CNN predict 1 row`` (and RNN, Transformer): each family's
  estimator against its builder's model trained in plain Keras with the same
  settings, on 600 series of length 32 [fit <= 1.05, predict <= 0.10].

Input copies (``--input-gb``, 2 by default; 0.5 with ``--quick``):

* ``input copies``: peak RSS growth during one epoch of ``fit`` on a float32
  array of that size (the array included, the runtime's own memory before it
  not) / the array's size, in a fresh process each for kerasbig and plain
  Keras [<= 1.3: the array itself is 1.0; kerasbig does not copy it];
  ``peak_over_size`` is the whole process's peak over the array's size.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.metrics import accuracy_score  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    StratifiedKFold,
    cross_val_score,
)

from kerasbig import KerasClassifier  # noqa: E402

N_FEATURES, N_CLASSES = 50, 3


def build(hidden=64, seed=None):
    return keras.Sequential(
        [
            keras.Input((N_FEATURES,)),
            keras.layers.Dense(hidden, activation="relu"),
            keras.layers.Dense(N_CLASSES, activation="softmax"),
        ]
    )


def compiled(hidden=64):
    model = build(hidden)
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy")
    return model


def data(n_rows: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_rows, N_FEATURES)).astype("float32")
    y = (X[:, 0] > 0).astype(int) + (X[:, 1] > 0.5)
    return X, y


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def ratio(ours, theirs, repeats: int, warmup: int = 1) -> dict:
    """Median, min and max of time(ours) / time(theirs), alternating them."""
    for _ in range(warmup):
        ours(), theirs()
    ratios, ours_s, theirs_s = [], [], []
    for _ in range(repeats):
        a, b = timed(ours), timed(theirs)
        ratios.append(a / b)
        ours_s.append(a)
        theirs_s.append(b)
    return {
        "ratio": statistics.median(ratios),
        "min": min(ratios),
        "max": max(ratios),
        "kerasbig_s": statistics.median(ours_s),
        "keras_s": statistics.median(theirs_s),
    }


def fit_overhead(repeats):
    X, y = data(3000)
    settings = dict(epochs=3, batch_size=32, verbose=0)
    est = KerasClassifier(build, optimizer="rmsprop", **settings)
    return ratio(
        lambda: est.fit(X, y), lambda: compiled().fit(X, y, **settings), repeats
    )


def small_predict(n_rows, repeats):
    X, y = data(3000)
    est = KerasClassifier(build, epochs=1, random_state=0).fit(X, y)
    rows = X[:n_rows]
    return ratio(
        lambda: est.predict_proba(rows),
        lambda: est.model_.predict(rows, verbose=0),
        repeats,
        warmup=3,
    )


def large_predict(repeats):
    X, y = data(100_000)
    est = KerasClassifier(build, epochs=1, random_state=0).fit(X[:3000], y[:3000])
    return ratio(
        lambda: est.predict_proba(X),
        lambda: est.model_.predict(X, verbose=0),
        repeats,
    )


def plain_keras_cv(X, y, folds, hidden=64, epochs=3):
    scores = []
    for train, test in folds:
        model = compiled(hidden)
        model.fit(X[train], y[train], epochs=epochs, batch_size=32, verbose=0)
        pred = model.predict(X[test], verbose=0).argmax(axis=1)
        scores.append(accuracy_score(y[test], pred))
    return scores


def cross_validation(repeats):
    X, y = data(3000)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    est = KerasClassifier(build, optimizer="rmsprop", epochs=3, batch_size=32)
    return ratio(
        lambda: cross_val_score(est, X, y, cv=cv),
        lambda: plain_keras_cv(X, y, folds),
        repeats,
        warmup=0,
    )


def grid_search(repeats):
    X, y = data(3000)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    grid = {"model__hidden": [16, 32], "epochs": [2, 3]}
    est = KerasClassifier(build, optimizer="rmsprop", batch_size=32)

    def plain():
        for hidden in grid["model__hidden"]:
            for epochs in grid["epochs"]:
                plain_keras_cv(X, y, folds, hidden, epochs)

    return ratio(
        lambda: GridSearchCV(est, grid, cv=cv, refit=False).fit(X, y),
        plain,
        repeats,
        warmup=0,
    )


# ----------------------------------------------------------------------
# Peers: scikeras and keras.wrappers, against the same plain-Keras baselines
# ----------------------------------------------------------------------
def _peer_estimators() -> dict:
    """Peer wrappers of the MLP that construct and fit here, by name."""
    peers = {}
    try:
        from scikeras.wrappers import KerasClassifier as ScikerasClassifier

        peers["scikeras"] = lambda **fit: ScikerasClassifier(
            build,
            loss="sparse_categorical_crossentropy",
            optimizer="rmsprop",
            verbose=0,
            **fit,
        )
    except ImportError:
        pass
    try:
        from keras.wrappers import SKLearnClassifier

        def model_fn(X, y):  # it one-hot encodes the labels
            model = build()
            model.compile(optimizer="rmsprop", loss="categorical_crossentropy")
            return model

        peers["keras.wrappers"] = lambda **fit: SKLearnClassifier(
            model=model_fn, fit_kwargs={"verbose": 0, **fit}
        )
    except ImportError:
        pass
    return peers


def quietly(fn):
    """``fn`` with stdout discarded (keras.wrappers' predict prints a progress
    bar it has no setting for)."""

    def call():
        with open(os.devnull, "w") as devnull, contextlib.redirect_stdout(devnull):
            return fn()

    return call


def peer_rows(repeats: int, many: int) -> dict:
    rows = {}
    for name, make in _peer_estimators().items():
        try:
            rows.update(_peer(name, make, repeats, many))
        except Exception as err:  # noqa: BLE001 - a peer that does not run
            print(f"({name} does not run here: {type(err).__name__}: {err})")
    return rows


def _peer(name: str, make, repeats: int, many: int) -> dict:
    X, y = data(3000)
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    folds = list(cv.split(X, y))
    settings = dict(epochs=3, batch_size=32)
    est = make(**settings)
    fitted = make(epochs=1).fit(X, y)
    plain = compiled()
    plain.fit(X, y, epochs=1, verbose=0)
    return {
        f"{name} fit": ratio(
            quietly(lambda: est.fit(X, y)),
            lambda: compiled().fit(X, y, verbose=0, **settings),
            repeats,
        ),
        f"{name} predict 1 row": ratio(
            quietly(lambda: fitted.predict(X[:1])),
            lambda: plain.predict(X[:1], verbose=0),
            many,
            warmup=3,
        ),
        f"{name} 5-fold CV": ratio(
            quietly(lambda: cross_val_score(make(**settings), X, y, cv=cv)),
            lambda: plain_keras_cv(X, y, folds),
            repeats,
            warmup=0,
        ),
    }


# ----------------------------------------------------------------------
# Families: each estimator against its builder's model in plain Keras
# ----------------------------------------------------------------------
def family_rows(repeats: int, many: int) -> dict:
    from kerasbig.models import build_cnn, build_rnn, build_transformer
    from kerasbig.models.cnn.estimators import CNNClassifier
    from kerasbig.models.rnn.estimators import RNNClassifier
    from kerasbig.models.transformer.estimators import TransformerClassifier

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 32, 1)).astype("float32")
    y = (X[:, :16, 0].mean(axis=1) > 0).astype(int) + (X[:, 16:, 0].mean(axis=1) > 0)
    settings = dict(epochs=3, batch_size=32)
    families = {
        "CNN": (CNNClassifier, build_cnn),
        "RNN": (RNNClassifier, build_rnn),
        "Transformer": (TransformerClassifier, build_transformer),
    }
    rows = {}
    for name, (estimator, builder) in families.items():

        def plain_model(builder=builder):
            model = builder(X.shape[1:], N_CLASSES, seed=0)
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            return model

        est = estimator(random_state=0, **settings)
        rows[f"{name} fit"] = ratio(
            lambda est=est: est.fit(X, y),
            lambda plain_model=plain_model: plain_model().fit(
                X, y, verbose=0, **settings
            ),
            repeats,
        )
        fitted = estimator(random_state=0, epochs=1).fit(X, y)
        model = plain_model()
        rows[f"{name} predict 1 row"] = ratio(
            lambda fitted=fitted: fitted.predict_proba(X[:1]),
            lambda model=model: model.predict(X[:1], verbose=0),
            many,
            warmup=3,
        )
    return rows


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def memory_growth(n_fits: int) -> dict:
    X, y = data(500)
    KerasClassifier(build, epochs=1).fit(X, y)  # warm the libraries up
    gc.collect()
    before = rss_mb()
    for _ in range(n_fits):
        KerasClassifier(build, epochs=1).fit(X, y).predict(X[:5])
    gc.collect()
    return {"growth_mb": rss_mb() - before, "fits": n_fits}


def _vm_rss() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) * 1024
    return 0


def _input_copies_child(who: str, gigabytes: float) -> None:
    """In a fresh process: the peak RSS of one epoch of fit on a float32
    array of ``gigabytes``, printed as JSON."""
    import threading

    n_features = 250
    n_rows = int(gigabytes * 2**30 / 4 / n_features)

    def net(meta=None):
        return keras.Sequential(
            [
                keras.Input((n_features,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dense(2, activation="softmax"),
            ]
        )

    def fit(X, y, batch_size):
        if who == "kerasbig":
            KerasClassifier(net, epochs=1, batch_size=batch_size).fit(X, y)
        else:
            model = net()
            model.compile("rmsprop", "sparse_categorical_crossentropy")
            model.fit(X, y, epochs=1, batch_size=batch_size, verbose=0)

    fit(np.zeros((64, n_features), "float32"), np.arange(64) % 2, 32)  # warm up
    gc.collect()
    before = _vm_rss()
    X = np.random.default_rng(0).random((n_rows, n_features), dtype=np.float32)
    y = (X[:, 0] > 0.5).astype("int64")
    peak, done = [_vm_rss()], threading.Event()

    def watch():
        while not done.is_set():
            peak[0] = max(peak[0], _vm_rss())
            time.sleep(0.005)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    fit(X, y, 8192)
    done.set()
    watcher.join()
    print(
        json.dumps(
            {
                "growth_over_size": (peak[0] - before) / X.nbytes,
                "peak_over_size": peak[0] / X.nbytes,
                "array_gb": X.nbytes / 2**30,
            }
        )
    )


def input_copies(gigabytes: float) -> dict:
    """Peak RSS growth over the array's size, kerasbig and plain Keras."""
    result = {}
    for who in ("kerasbig", "keras"):
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.speed",
                "--input-copies-child",
                who,
                str(gigabytes),
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result[who] = json.loads(out.strip().splitlines()[-1])
    return {
        "ratio": result["kerasbig"]["growth_over_size"],
        "keras_ratio": result["keras"]["growth_over_size"],
        "peak_over_size": result["kerasbig"]["peak_over_size"],
        "keras_peak_over_size": result["keras"]["peak_over_size"],
        "array_gb": result["kerasbig"]["array_gb"],
    }


def import_ratio(repeats: int) -> dict:
    def run(code):
        return lambda: subprocess.run(
            [sys.executable, "-c", code], check=True, capture_output=True
        )

    return ratio(
        run("import kerasbig; kerasbig.KerasClassifier"),
        run("import keras, sklearn"),
        repeats,
        warmup=1,
    )


FAMILY_NAMES = ("CNN", "RNN", "Transformer")
TARGETS = {
    "fit": 1.05,
    "predict 1 row": 0.10,
    "predict 32 rows": 0.10,
    "predict 100k rows": 1.05,
    "5-fold CV": 0.60,
    "grid search": 0.70,
    "import": 1.2,
}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--no-peers", action="store_true", help="skip scikeras / keras.wrappers"
    )
    parser.add_argument(
        "--no-families", action="store_true", help="skip the CNN/RNN/Transformer"
    )
    parser.add_argument(
        "--input-gb",
        type=float,
        default=None,
        help="size of the float32 array of the input-copies row (default 2)",
    )
    parser.add_argument("--input-copies-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.input_copies_child:
        who, gigabytes = args.input_copies_child
        _input_copies_child(who, float(gigabytes))
        return {}
    few = 1 if args.quick else 3
    many = 10 if args.quick else 30
    rows = {
        "fit": lambda: fit_overhead(few + 2),
        "predict 1 row": lambda: small_predict(1, many),
        "predict 32 rows": lambda: small_predict(32, many),
        "predict 100k rows": lambda: large_predict(few),
        "5-fold CV": lambda: cross_validation(few),
        "grid search": lambda: grid_search(1),
        "import": lambda: import_ratio(few),
    }
    results = {}
    print(f"{'measure':<18} {'ratio':>7} {'min':>7} {'max':>7} {'target':>7}")
    for name, measure in rows.items():
        r = measure()
        results[name] = {**r, "target": TARGETS[name]}
        print(
            f"{name:<18} {r['ratio']:7.3f} {r['min']:7.3f} {r['max']:7.3f} "
            f"{TARGETS[name]:7.2f}",
            flush=True,
        )
    extra = {}
    if not args.no_families:
        extra.update(family_rows(few + 2, many))
    if not args.no_peers:
        extra.update(peer_rows(few, many))
    for name, r in extra.items():
        target = TARGETS.get(
            name.split(" ", 1)[-1]
            if "CNN" in name or "RNN" in name or "Transformer" in name
            else "",
            None,
        )
        results[name] = {**r, "target": target}
        print(
            f"{name:<18} {r['ratio']:7.3f} {r['min']:7.3f} {r['max']:7.3f} "
            f"{'' if target is None else f'{target:7.2f}'}",
            flush=True,
        )
    mem = memory_growth(10 if args.quick else 50)
    results["memory"] = {**mem, "target_mb": 100}
    print(f"{'memory':<18} {mem['growth_mb']:7.1f} MB over {mem['fits']} fits")
    gigabytes = args.input_gb or (0.5 if args.quick else 2.0)
    copies = input_copies(gigabytes)
    results["input copies"] = {**copies, "target": 1.3}
    print(
        f"{'input copies':<18} {copies['ratio']:7.3f} x the array's "
        f"{copies['array_gb']:.1f} GB (plain Keras {copies['keras_ratio']:.2f}; "
        f"whole process {copies['peak_over_size']:.2f})"
    )
    results["_meta"] = {
        "date": time.strftime("%Y-%m-%d"),
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "cpus": os.cpu_count(),
    }
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=2)
    return results


if __name__ == "__main__":
    main()
