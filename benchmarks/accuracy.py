"""The model families with default parameters on a panel of real data.

Run from the repository root::

    python -m benchmarks.accuracy                      # the whole panel, 3 seeds
    python -m benchmarks.accuracy --seeds 0 --only GunPoint digits
    python -m benchmarks.accuracy --models CNN --json out.json
    python -m benchmarks.accuracy --quick              # 2 epochs: a smoke run

Every estimator is built with defaults only (``CNNClassifier(random_state=s)``
and so on: no ``epochs=``, no ``batch_size=``), fitted on the training split
and scored on the test split, for each seed. The table gives the mean and the
min over the seeds, the mean fit+score seconds, and the references.

The panel (nothing is downloaded at run time):

* the UCR/UEA sets bundled in sktime's wheel (``pip install sktime``, or
  ``--ucr-path`` to a wheel or a folder of ``.ts`` files), official splits:
  ACSF1, ArrowHead, BasicMotions, GunPoint, ItalyPowerDemand, JapaneseVowels,
  OSULeaf, PLAID (classification, accuracy) and Covid3Month, Tecator
  (regression, R^2). Unequal-length sets (JapaneseVowels, PLAID) are padded
  with zeros at the end to the longest series of either split, as Fawaz et al.
  did;
* ``digits``: scikit-learn's bundled 8x8 digits as (8, 8, 1) images,
  stratified 25% hold-out;
* ``fortunes``: Debian's fortune files (``apt-get install fortunes``), five
  categories by file, stratified 25% hold-out, raw text in;
* ``sunspots``: statsmodels' bundled yearly sunspot numbers; predict the next
  year from the previous 12, the last 25% of the years held out.

References:

* ``FCN/ResNet``: the published accuracies of Fawaz et al. 2019 (Table 2,
  UCR 2015 archive, mean of 5 runs, 2,000 epochs on a GPU), where published;
* ``plain FCN``: the same FCN (Wang et al. 2017: three Conv1D blocks of 128,
  256 and 128 filters with kernels 8, 5, 3, BatchNormalization, ReLU, global
  average pooling) in plain Keras, trained with the batch size, epochs and
  learning-rate schedule the CNN's defaults choose for that set, one per seed;
* ``TF-IDF+LR`` for text and ``ridge`` (``RidgeCV`` on the flattened,
  standardised windows) for regression; both are deterministic.

Issue 9's targets are checked in the ``target`` column: CNN within 3 points
of the published FCN and not below the plain FCN; RNN and Transformer within
5 points of the CNN; digits >= 0.99; text above TF-IDF+LR; regression at or
above ridge; each fit <= 120 s (60 s for text); no model predicting one class
on a multi-class test set. ``--json`` writes every fit and the table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_digits  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression, RidgeCV  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

if __package__ in (None, ""):  # run as a script: python benchmarks/accuracy.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from kerasbig.datasets.fortunes import load_fortunes  # noqa: E402
from kerasbig.datasets.ucr import load_ucr  # noqa: E402
from kerasbig.models import _budget  # noqa: E402
from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor  # noqa: E402
from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor  # noqa: E402
from kerasbig.models.transformer.estimators import (  # noqa: E402
    TransformerClassifier,
    TransformerRegressor,
)

TEXT_CATEGORIES = ("computers", "politics", "science", "songs-poems", "food")
FIT_SECONDS = 120
TEXT_FIT_SECONDS = 60
CAP_SECONDS = 150  # a fit still running after this is stopped and marked "capped"

# Fawaz et al. 2019, Table 2 (UCR 2015): FCN, ResNet accuracy where published.
PUBLISHED = {
    "ArrowHead": (0.843, 0.845),
    "GunPoint": (1.000, 0.991),
    "ItalyPowerDemand": (0.961, 0.963),
    "JapaneseVowels": (0.993, 0.992),
    "OSULeaf": (0.977, 0.979),
}

PLAIN_FCN = "plain FCN"
FAMILIES = {
    "CNN": (CNNClassifier, CNNRegressor),
    "RNN": (RNNClassifier, RNNRegressor),
    "Transformer": (TransformerClassifier, TransformerRegressor),
}


@dataclass
class Task:
    """One panel entry: how to load it and which models run on it."""

    name: str
    load: Callable[[], tuple]
    classification: bool = True
    models: tuple[str, ...] = ("CNN", "RNN", "Transformer")
    ucr: bool = False  # a UCR set: the plain-Keras FCN runs on it too


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def _pad_to(X: np.ndarray, length: int) -> np.ndarray:
    X = np.nan_to_num(X, nan=0.0)
    return np.pad(X, ((0, 0), (0, length - X.shape[1]), (0, 0)))


def _ucr_loader(name: str, path) -> Callable[[], tuple]:
    def load():
        X_train, y_train = load_ucr(name, "train", path=path)
        X_test, y_test = load_ucr(name, "test", path=path)
        length = max(X_train.shape[1], X_test.shape[1])
        return _pad_to(X_train, length), y_train, _pad_to(X_test, length), y_test

    return load


def _digits():
    X, y = load_digits(return_X_y=True)
    X = (X.reshape(-1, 8, 8, 1) / 16.0).astype("float32")
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    return X_train, y_train, X_test, y_test


def _fortunes():
    texts, labels = load_fortunes(TEXT_CATEGORIES)
    X_train, X_test, y_train, y_test = train_test_split(
        np.array(texts, dtype=object),
        labels,
        test_size=0.25,
        stratify=labels,
        random_state=0,
    )
    return X_train, y_train, X_test, y_test


def _sunspots():
    import statsmodels.api as sm

    series = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    series = (series / series.std()).astype("float32")
    window = 12
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], window)[..., None]
    y = series[window:]
    cut = int(len(X) * 0.75)
    return X[:cut], y[:cut], X[cut:], y[cut:]


def panel(ucr_path) -> list[Task]:
    ucr_classification = (
        "ACSF1 ArrowHead BasicMotions GunPoint ItalyPowerDemand JapaneseVowels "
        "OSULeaf PLAID"
    ).split()
    return [
        *(
            Task(name, _ucr_loader(name, ucr_path), ucr=True)
            for name in ucr_classification
        ),
        *(
            Task(name, _ucr_loader(name, ucr_path), classification=False, ucr=True)
            for name in ("Covid3Month", "Tecator")
        ),
        Task("digits", _digits, models=("CNN",)),
        Task("fortunes", _fortunes, models=("Transformer",)),
        Task("sunspots", _sunspots, classification=False),
    ]


# ----------------------------------------------------------------------
# References
# ----------------------------------------------------------------------
def plain_fcn_accuracy(X_train, y_train, X_test, y_test, seed: int, quick: bool):
    """Wang et al.'s FCN in plain Keras, trained for the CNN defaults' budget."""
    classes, y_train_ids = np.unique(y_train, return_inverse=True)
    y_test_ids = np.searchsorted(classes, y_test)
    keras.utils.set_random_seed(seed)
    inputs = keras.Input(X_train.shape[1:])
    x = inputs
    for filters, kernel in ((128, 8), (256, 5), (128, 3)):
        x = keras.layers.Conv1D(filters, kernel, padding="same")(x)
        x = keras.layers.BatchNormalization()(x)
        x = keras.layers.Activation("relu")(x)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(len(classes), activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    budget = _budget.resolve({"epochs": 2 if quick else None}, len(X_train))
    cap = StopAfter(CAP_SECONDS)
    budget.setdefault("callbacks", []).append(cap)
    start = time.perf_counter()
    model.fit(X_train, y_train_ids, verbose=0, **budget)
    seconds = time.perf_counter() - start
    accuracy = model.evaluate(X_test, y_test_ids, verbose=0, return_dict=True)
    keras.backend.clear_session()
    result = {"score": float(accuracy["accuracy"]), "fit_seconds": round(seconds, 1)}
    return {**result, "capped": True} if cap.capped else result


def text_reference(X_train, y_train, X_test, y_test) -> float:
    tfidf = make_pipeline(
        TfidfVectorizer(sublinear_tf=True), LogisticRegression(C=10, max_iter=2000)
    )
    return float(tfidf.fit(X_train, y_train).score(X_test, y_test))


def ridge_reference(X_train, y_train, X_test, y_test) -> float:
    ridge = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
    flat = (X_train.reshape(len(X_train), -1), X_test.reshape(len(X_test), -1))
    return float(ridge.fit(flat[0], y_train).score(flat[1], y_test))


# ----------------------------------------------------------------------
# The run
# ----------------------------------------------------------------------
class StopAfter(keras.callbacks.Callback):
    """Stop training after ``seconds`` of wall time (checked after each batch).

    Keeps the panel's run time bounded: a default fit that needs much more than
    the 120 s target misses it anyway; the row says it was capped."""

    def __init__(self, seconds: float):
        super().__init__()
        self.seconds, self.capped = seconds, False

    def on_train_begin(self, logs=None):
        self.start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if time.perf_counter() - self.start > self.seconds:
            self.model.stop_training = self.capped = True


def fit_default(family: str, task: Task, data, seed: int, quick: bool) -> dict:
    """Fit one family's default estimator; its score, seconds and predictions."""
    X_train, y_train, X_test, y_test = data
    classifier, regressor = FAMILIES[family]
    est = (classifier if task.classification else regressor)(random_state=seed)
    if quick:
        est.set_params(epochs=2)
    cap = StopAfter(CAP_SECONDS)
    start = time.perf_counter()
    est.fit(X_train, y_train, callbacks=[cap])
    fit_seconds = time.perf_counter() - start
    score = float(est.score(X_test, y_test))
    result = {"score": score, "fit_seconds": round(fit_seconds, 1)}
    if cap.capped:
        result["capped"] = True
    if task.classification:
        result["predicted_classes"] = int(len(np.unique(est.predict(X_test))))
        result["classes"] = int(len(np.unique(y_test)))
    keras.backend.clear_session()
    return result


def run(tasks, models, seeds, quick, done=frozenset()):
    """Every (task, model, seed) fit as a record, seed-major: one full pass of
    the panel comes before the next seed. ``done`` holds the (task, model,
    seed) triples to skip (``--resume``)."""
    loaded = {}

    def data_of(task):
        if task.name not in loaded:
            loaded[task.name] = task.load()
        return loaded[task.name]

    for seed in seeds:
        for task in tasks:
            wanted = [
                model
                for model in (*task.models, PLAIN_FCN)
                if model in models
                and (model != PLAIN_FCN or (task.classification and task.ucr))
                and (task.name, model, seed) not in done
            ]
            if not wanted:
                continue
            data = data_of(task)
            for name, value in _deterministic_references(task, data).items():
                if (task.name, name, None) not in done:
                    done = done | {(task.name, name, None)}
                    yield {
                        "task": task.name,
                        "model": name,
                        "seed": None,
                        "score": value,
                    }
            for model in wanted:
                if model == PLAIN_FCN:
                    result = plain_fcn_accuracy(*data, seed=seed, quick=quick)
                else:
                    result = fit_default(model, task, data, seed, quick)
                yield {"task": task.name, "model": model, "seed": seed, **result}


def _deterministic_references(task: Task, data) -> dict:
    if task.name == "fortunes":
        return {"TF-IDF+LR": text_reference(*data)}
    if not task.classification:
        return {"ridge": ridge_reference(*data)}
    return {}


# ----------------------------------------------------------------------
# The table
# ----------------------------------------------------------------------
def summarise(records: list[dict]) -> list[dict]:
    """One row per (task, model): mean, min, seconds and the target check."""
    groups: dict[tuple, list[dict]] = {}
    for record in records:
        groups.setdefault((record["task"], record["model"]), []).append(record)
    means = {key: statistics.mean(r["score"] for r in rs) for key, rs in groups.items()}
    rows = []
    for (task, model), runs in groups.items():
        scores = [r["score"] for r in runs]
        seconds = [r["fit_seconds"] for r in runs if "fit_seconds" in r]
        row = {
            "task": task,
            "model": model,
            "seeds": len(runs),
            "mean": round(statistics.mean(scores), 4),
            "min": round(min(scores), 4),
            "fit_seconds": round(statistics.mean(seconds), 1) if seconds else None,
            "capped": sum(bool(r.get("capped")) for r in runs),
        }
        if model in FAMILIES:
            row["target"], row["met"] = _target(task, model, runs, means)
        rows.append(row)
    tasks = list(dict.fromkeys(r["task"] for r in records))
    order = [PLAIN_FCN, "TF-IDF+LR", "ridge", *FAMILIES]
    return sorted(
        rows,
        key=lambda r: (
            tasks.index(r["task"]),
            order.index(r["model"]) if r["model"] in order else -1,
        ),
    )


def _target(task: str, model: str, runs: list[dict], means: dict) -> tuple[str, bool]:
    mean = means[(task, model)]
    checks: list[tuple[str, bool]] = []
    if task == "digits":
        checks.append((">= 0.99", mean >= 0.99))
    elif task == "fortunes":
        reference = means.get((task, "TF-IDF+LR"))
        if reference is not None:
            checks.append((f"> TF-IDF {reference:.3f}", mean > reference))
    elif (task, "ridge") in means:
        reference = means[(task, "ridge")]
        checks.append((f">= ridge {reference:.3f}", mean >= reference))
    elif model == "CNN":
        if task in PUBLISHED:
            published = PUBLISHED[task][0]
            checks.append((f">= FCN {published:.3f}-0.03", mean >= published - 0.03))
        if (task, "plain FCN") in means:
            plain = means[(task, "plain FCN")]
            checks.append((f">= plain {plain:.3f}", mean >= plain - 1e-9))
    elif (task, "CNN") in means:
        cnn = means[(task, "CNN")]
        checks.append((f">= CNN {cnn:.3f}-0.05", mean >= cnn - 0.05))
    limit = TEXT_FIT_SECONDS if task == "fortunes" else FIT_SECONDS
    slowest = max(r.get("fit_seconds", 0) for r in runs)
    checks.append((f"fit <= {limit}s", slowest <= limit))
    if any(r.get("classes", 0) > 1 and r.get("predicted_classes") == 1 for r in runs):
        checks.append(("not one class", False))
    text = "; ".join(f"{check} {'ok' if ok else 'NO'}" for check, ok in checks)
    return text, all(ok for _, ok in checks)


def print_table(rows: list[dict]) -> None:
    print(
        f"\n{'task':<17} {'model':<12} {'n':>2} {'mean':>7} {'min':>7} "
        f"{'fit s':>6}  target"
    )
    for row in rows:
        seconds = "" if row["fit_seconds"] is None else f"{row['fit_seconds']:.0f}"
        if row["capped"]:  # stopped at CAP_SECONDS: the score is a lower bound
            seconds += "*"
        target = ""
        if "target" in row:
            target = ("ok   " if row["met"] else "MISS ") + row["target"]
        published = PUBLISHED.get(row["task"])
        if row["model"] == "CNN" and published:
            target += (
                f"  (published FCN {published[0]:.3f} / ResNet {published[1]:.3f})"
            )
        print(
            f"{row['task']:<17} {row['model']:<12} {row['seeds']:>2} "
            f"{row['mean']:>7.3f} {row['min']:>7.3f} {seconds:>6}  {target}"
        )


def markdown_table(rows: list[dict]) -> str:
    """The table as Markdown, for docs/benchmarks.md."""
    lines = [
        "| task | model | seeds | mean | min | fit s | target |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        seconds = "" if row["fit_seconds"] is None else f"{row['fit_seconds']:.0f}"
        if row["capped"]:
            seconds += "*"
        target = ""
        if "target" in row:
            target = ("met: " if row["met"] else "**missed**: ") + row["target"]
        lines.append(
            f"| {row['task']} | {row['model']} | {row['seeds']} | {row['mean']:.3f} "
            f"| {row['min']:.3f} | {seconds} | {target} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--only", nargs="+", metavar="TASK", help="task names")
    parser.add_argument(
        "--models",
        nargs="+",
        choices=[*FAMILIES, PLAIN_FCN],
        help=f"default: all ({', '.join(FAMILIES)}, '{PLAIN_FCN}')",
    )
    parser.add_argument("--markdown", help="also write the table as Markdown here")
    parser.add_argument(
        "--resume",
        action="store_true",
        help="keep the fits already in --json and run only the missing ones",
    )
    parser.add_argument("--quick", action="store_true", help="2 epochs: a smoke run")
    parser.add_argument("--json", help="write every fit and the table here")
    parser.add_argument(
        "--ucr-path",
        default=os.environ.get("KERASBIG_UCR_PATH"),
        help="sktime wheel or folder of .ts files (default: installed sktime)",
    )
    args = parser.parse_args(argv)
    print(f"(* in 'fit s': stopped after {CAP_SECONDS} s; the score is from then)")
    warnings.filterwarnings("ignore", category=UserWarning)
    tasks = panel(args.ucr_path)
    if args.only:
        unknown = set(args.only) - {task.name for task in tasks}
        if unknown:
            parser.error(f"unknown task(s) {sorted(unknown)}")
        tasks = [task for task in tasks if task.name in args.only]
    records: list[dict] = []
    if args.resume and args.json and os.path.exists(args.json):
        with open(args.json) as file:
            records = json.load(file)["records"]
    done = frozenset((r["task"], r["model"], r["seed"]) for r in records)
    models = args.models or [*FAMILIES, PLAIN_FCN]
    for record in run(tasks, models, args.seeds, args.quick, done):
        records.append(record)
        print(json.dumps(record), flush=True)
        if args.json:  # rewritten as we go: an interrupted run keeps its fits
            _write(args.json, records, None)
    rows = summarise(records)
    print_table(rows)
    if args.json:
        _write(args.json, records, rows)
    if args.markdown:
        with open(args.markdown, "w") as file:
            file.write(markdown_table(rows))
    return 0


def _write(path: str, records: list[dict], rows) -> None:
    payload = {
        "seeds": sorted({r["seed"] for r in records if r["seed"] is not None}),
        "keras": keras.__version__,
        "backend": keras.backend.backend(),
        "records": records,
        "table": rows,
    }
    with open(path, "w") as file:
        json.dump(payload, file, indent=1)


if __name__ == "__main__":
    raise SystemExit(main())
