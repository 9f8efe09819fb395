"""Bad input, catalogued, for every public estimator.

Each bad input raises ``ValueError`` or ``TypeError`` whose message names the
argument, the value and what was expected; ``fit`` raises before training
starts (a ``NoTraining`` callback fails the test otherwise), a fitted
estimator is left exactly as it was (same attributes, same weights), an
unfitted one stays unfitted, and the caller's arrays are not modified.

Decisions recorded here (and in docs/troubleshooting.md):

* boolean ``X`` is accepted (as 0.0 / 1.0), as scikit-learn's estimators do;
* sparse ``X`` is accepted by ``KerasClassifier`` / ``KerasRegressor`` (Keras
  batches it) and refused with ``TypeError`` by the CNN, RNN and Transformer
  estimators;
* ragged lists are refused by ``KerasClassifier`` / ``KerasRegressor`` and are
  padded by the families (lists of variable-length sequences are their input);
* ``score`` with labels never seen in ``fit`` warns and counts them as wrong
  (scikit-learn's behaviour; a test fold may hold a class its training folds
  lack); labels of another kind (strings against numbers) raise;
* pandas column names that differ from ``fit``'s raise and missing names warn,
  exactly as in scikit-learn.
"""

import copy
import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers import TINY_CNN, TINY_RNN, TINY_TRANSFORMER, NoTraining, mlp
from sklearn.exceptions import NotFittedError

from kerasbig import (
    CNNClassifier,
    CNNRegressor,
    KerasClassifier,
    KerasRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)

FIT = dict(epochs=1, random_state=0)
ESTIMATORS = {
    "KerasClassifier": lambda: KerasClassifier(mlp, **FIT),
    "KerasRegressor": lambda: KerasRegressor(mlp, **FIT),
    "CNNClassifier": lambda: CNNClassifier(**TINY_CNN, **FIT),
    "CNNRegressor": lambda: CNNRegressor(**TINY_CNN, **FIT),
    "RNNClassifier": lambda: RNNClassifier(**TINY_RNN, **FIT),
    "RNNRegressor": lambda: RNNRegressor(**TINY_RNN, **FIT),
    "TransformerClassifier": lambda: TransformerClassifier(**TINY_TRANSFORMER, **FIT),
    "TransformerRegressor": lambda: TransformerRegressor(**TINY_TRANSFORMER, **FIT),
}
NAMES = list(ESTIMATORS)
GENERAL = {"KerasClassifier", "KerasRegressor"}

RNG = np.random.default_rng(0)
X = RNG.normal(size=(24, 6)).astype("float32")  # 24 rows, 6 features / steps
X3 = RNG.normal(size=(24, 6, 2)).astype("float32")  # 24 series, 6 steps, 2 channels
Y_CLASSES = np.array([0, 1] * 12)
Y_VALUES = RNG.normal(size=24)


def _y(name):
    return Y_CLASSES if name.endswith("Classifier") else Y_VALUES


def _with(a, value, row=3):
    a = np.array(a, dtype=float)
    a[row] = value
    return a


def _mixed():
    mixed = X.astype(object)
    mixed[0, 0] = "a"
    return mixed


# ----------------------------------------------------------------------
# The catalogue: name -> (data and parameters for one estimator, error, message)
# ----------------------------------------------------------------------
# ``make(name)`` returns (X, y, params), or None where the input is valid for
# that estimator (see the module docstring and test_valid_corner_cases).
FIT_CASES = {
    "nan in X": (lambda n: (_with(X, np.nan), _y(n), {}), ValueError, "X contains NaN"),
    "inf in X": (
        lambda n: (_with(X, np.inf, 0), _y(n), {}),
        ValueError,
        "X contains infinity",
    ),
    "nan in y": (lambda n: (X, _with(_y(n), np.nan), {}), ValueError, "y contains NaN"),
    "inf in y": (
        lambda n: (X, _with(_y(n), np.inf), {}),
        ValueError,
        "y contains infinity",
    ),
    "mixed-type object X": (
        lambda n: (_mixed(), _y(n), {}),
        ValueError,
        r"X\[0, 0\] = 'a' \(str\) is not a number; expected numbers",
    ),
    "ragged nested list": (
        lambda n: (
            ([[1.0, 2.0, 3.0], [1.0, 2.0]] * 12, _y(n), {}) if n in GENERAL else None
        ),
        ValueError,
        r"X is a ragged nested list: X\[1\] has shape \(2,\) but X\[0\] has shape "
        r"\(3,\); expected a rectangular array",
    ),
    "ragged channels": (
        lambda n: ([np.ones((3, 2)), np.ones((2, 1))] * 12, _y(n), {}),
        ValueError,
        r"X\[1\] has (shape \(2, 1\)|1 channel\(s\)) but X\[0\] has",
    ),
    "sparse X": (
        lambda n: None if n in GENERAL else (sp.csr_matrix(X), _y(n), {}),
        TypeError,
        "Sparse data was passed for X, but dense data is required",
    ),
    "complex X": (
        lambda n: (X + 1j, _y(n), {}),
        ValueError,
        r"X holds complex numbers \(X\[0, 0\] = .*\); expected real numbers",
    ),
    "0 rows": (
        lambda n: (X[:0], _y(n)[:0], {}),
        ValueError,
        r"0 sample\(s\) \(shape=\(0, 6\)\) while a minimum of 1 is required",
    ),
    "0 features": (
        lambda n: (X[:, :0], _y(n), {}),
        ValueError,
        r"0 feature\(s\) \(shape=\(24, 0\)\) while a minimum of 1 is required",
    ),
    "1 row with validation_split": (
        lambda n: (X[:1], _y(n)[:1], {"validation_split": 0.2}),
        ValueError,
        r"1 samples, which is not sufficient to split .*validation_split=0.2",
    ),
    "lengths differ": (
        lambda n: (X, _y(n)[:-1], {}),
        ValueError,
        r"inconsistent numbers of samples: \[24, 23\]",
    ),
    "batch_size 0": (
        lambda n: (X, _y(n), {"batch_size": 0}),
        ValueError,
        r"batch_size=0 is invalid; expected None or an integer >= 1 or -1",
    ),
    "batch_size negative": (
        lambda n: (X, _y(n), {"batch_size": -3}),
        ValueError,
        r"batch_size=-3 is invalid; expected",
    ),
    "batch_size float": (
        lambda n: (X, _y(n), {"batch_size": 2.5}),
        TypeError,  # InvalidParameterError is both
        r"batch_size=2.5 is invalid; expected",
    ),
    "epochs 0": (
        lambda n: (X, _y(n), {"epochs": 0}),
        ValueError,
        r"epochs=0 is invalid; expected (None or )?an integer >= 1",
    ),
    "epochs negative": (
        lambda n: (X, _y(n), {"epochs": -1}),
        ValueError,
        r"epochs=-1 is invalid; expected",
    ),
    "unknown optimizer": (
        lambda n: (X, _y(n), {"optimizer": "adamm"}),
        ValueError,
        r"optimizer='adamm' is not a known Keras optimizer",
    ),
    "unknown loss": (
        lambda n: (X, _y(n), {"loss": "msee"}),
        ValueError,
        r"loss='msee' is not a known Keras loss",
    ),
    "unknown metric": (
        lambda n: (X, _y(n), {"metrics": ["mae", "accuracyy"]}),
        ValueError,
        r"metrics='accuracyy' is not a known Keras metrics name; expected a name",
    ),
    "class_weight names an unseen class": (
        lambda n: (
            (X, _y(n), {"class_weight": {0: 1.0, 5: 2.0}})
            if n.endswith("Classifier")
            else None
        ),
        ValueError,
        r"class_weight has a weight for 5, which is not one of the classes \[0, 1\]",
    ),
}


# ----------------------------------------------------------------------
# Fitted estimators, shared by the module (each fit once)
# ----------------------------------------------------------------------
_FITTED = {}


def fitted(name, kind="2d"):
    """An estimator of ``name`` fitted once on ``X`` (``"2d"``), ``X3``
    (``"3d"``) or ``X`` as a DataFrame (``"pandas"``)."""
    key = (name, kind)
    if key not in _FITTED:
        data = {"2d": X, "3d": X3, "pandas": pd.DataFrame(X, columns=list("abcdef"))}
        _FITTED[key] = ESTIMATORS[name]().fit(data[kind], _y(name))
    return _FITTED[key]


def _state(est):
    """The estimator's attributes (by identity) and its model's weights."""
    weights = [np.array(w) for w in est._model.get_weights()]
    return dict(est.__dict__), weights


def _assert_unchanged(est, before, ignore=()):
    attributes, weights = before
    now = {k: v for k, v in est.__dict__.items() if k not in ignore}
    assert now.keys() == {k for k in attributes if k not in ignore}
    for key, value in now.items():
        assert value is attributes[key], key
    for old, new in zip(weights, est._model.get_weights()):
        np.testing.assert_array_equal(old, new)


def _copy(data):
    return data.copy() if sp.issparse(data) else copy.deepcopy(data)


def _assert_same_data(data, original):
    if sp.issparse(data):
        assert (data != original).nnz == 0
    elif isinstance(data, list):
        assert len(data) == len(original)
        for a, b in zip(data, original):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    else:
        np.testing.assert_array_equal(data, original)


def _cases(table):
    return [
        pytest.param(name, case, id=f"{name}-{case}")
        for name in NAMES
        for case in table
    ]


@pytest.mark.parametrize("name, case", _cases(FIT_CASES))
def test_bad_fit_input_raises_before_training_and_changes_nothing(name, case):
    make, error, message = FIT_CASES[case]
    made = make(name)
    if made is None:
        pytest.skip(f"valid input for {name} (test_valid_corner_cases)")
    Xb, yb, params = made
    X_copy, y_copy = _copy(Xb), _copy(yb)

    # An unfitted estimator stays unfitted.
    fresh = ESTIMATORS[name]().set_params(callbacks=[NoTraining()], **params)
    with pytest.raises(error, match=message):
        fresh.fit(Xb, yb)
    assert not hasattr(fresh, "model_") and not hasattr(fresh, "n_features_in_")

    # A fitted one keeps its attributes and weights.
    est = fitted(name)
    saved = est.get_params()
    before = _state(est)
    est.set_params(callbacks=[NoTraining()], **params)
    try:
        with pytest.raises(error, match=message):
            est.fit(Xb, yb)
        _assert_unchanged(est, before, ignore=["callbacks", "_kwargs", *params])
    finally:
        est.set_params(**{k: saved[k] for k in ["callbacks", *params]})
    _assert_same_data(Xb, X_copy)
    _assert_same_data(yb, y_copy)


# ----------------------------------------------------------------------
# predict (and score) with input unlike fit's
# ----------------------------------------------------------------------
PREDICT_CASES = {
    "nan in X": ("2d", lambda n: _with(X, np.nan), ValueError, "X contains NaN"),
    "fewer features": (
        "2d",
        lambda n: X[:, :5],
        ValueError,
        r"X has 5 features, but \w+ is expecting 6 features",
    ),
    "more features": (
        "2d",
        lambda n: np.hstack([X, X[:, :1]]),
        ValueError,
        r"X has 7 features, but \w+ is expecting 6 features",
    ),
    "3-D X after a 2-D fit": (
        "2d",
        lambda n: X[:, :, None],
        ValueError,
        r"X has 3 dimensions, but this \w+ was fitted with 2 dimensions|"
        r"fitted on univariate sequences \(n_samples, length\), shape \(6,\) per "
        r"sample; X is 3-D",
    ),
    "3-D nested list after a 2-D fit": (
        "2d",
        lambda n: X[:, :, None].tolist(),
        ValueError,
        r"X has 3 dimensions, but this \w+ was fitted with 2 dimensions|"
        r"shape \(6,\) per sample; X is 3-D",
    ),
    "2-D X after a 3-D fit": (
        "3d",
        lambda n: X,
        ValueError,
        r"X has 2 dimensions, but this \w+ was fitted with 3|"
        r"fitted on sequences \(n_samples, length, channels\), shape \(6, 2\)",
    ),
    "other channel count": (
        "3d",
        lambda n: X3[:, :, :1],
        ValueError,
        r"X has samples of shape \(6, 1\).*fitted on (samples of shape )?\(6, 2\)",
    ),
    "other sequence length": (
        "3d",
        lambda n: X3[:, :5],
        ValueError,
        r"X has 5 features, but \w+ is expecting 6 features",
    ),
    "mixed-type object X": (
        "2d",
        lambda n: _mixed(),
        ValueError,
        r"X\[0, 0\] = 'a' \(str\) is not a number",
    ),
    "complex X": ("2d", lambda n: X + 1j, ValueError, "X holds complex numbers"),
    "ragged nested list": (
        "2d",
        lambda n: [[1.0] * 6, [1.0] * 5] * 3 if n in GENERAL else None,
        ValueError,
        r"X is a ragged nested list: X\[1\] has shape \(5,\)",
    ),
    "sparse X": (
        "2d",
        lambda n: None if n in GENERAL else sp.csr_matrix(X),
        TypeError,
        "Sparse data was passed for X, but dense data is required",
    ),
}


@pytest.mark.parametrize("name, case", _cases(PREDICT_CASES))
def test_bad_predict_input_raises_and_changes_nothing(name, case):
    kind, make, error, message = PREDICT_CASES[case]
    Xb = make(name)
    if Xb is None:
        pytest.skip(f"valid input for {name}")
    X_copy = _copy(Xb)
    est = fitted(name, kind)
    before = _state(est)
    with pytest.raises(error, match=message):
        est.predict(Xb)
    _assert_unchanged(est, before)
    _assert_same_data(Xb, X_copy)
    # and the estimator still predicts on good input
    assert est.predict(X3 if kind == "3d" else X).shape[0] == len(X)


@pytest.mark.parametrize("name", NAMES)
def test_predict_before_fit(name):
    est = ESTIMATORS[name]()
    with pytest.raises(NotFittedError, match=f"This {name} instance is not fitted"):
        est.predict(X)
    assert issubclass(NotFittedError, ValueError)


CLASSIFIERS = [n for n in NAMES if n.endswith("Classifier")]


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_score_with_unseen_labels_warns_and_counts_them_wrong(name):
    est = fitted(name)
    y = np.where(Y_CLASSES == 1, 7, 0)  # label 7 never seen in fit
    with pytest.warns(UserWarning, match=r"labels never seen in fit: \[7\]"):
        score = est.score(X, y)
    assert score == pytest.approx(np.mean(est.predict(X) == y))
    assert score <= np.mean(y == 0)


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_score_with_labels_of_another_kind_raises(name):
    est = fitted(name)
    with pytest.raises(ValueError, match=r"y holds strings \(e.g. 'a'\), but the"):
        est.score(X, np.array(["a", "b"] * 12))


@pytest.mark.parametrize("name", NAMES)
def test_pandas_column_names_are_checked_as_scikit_learn_does(name):
    est = fitted(name, "pandas")
    df = pd.DataFrame(X, columns=list("abcdef"))
    renamed = df.rename(columns={"a": "z"})
    with pytest.raises(ValueError, match="feature names should match"):
        est.predict(renamed)
    with pytest.raises(ValueError, match="same order as they were in fit"):
        est.predict(df[list("bacdef")])
    with pytest.warns(UserWarning, match="X does not have valid feature names"):
        est.predict(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert est.predict(df).shape[0] == len(X)


# ----------------------------------------------------------------------
# Corner cases that are valid input, and what becomes of them
# ----------------------------------------------------------------------
VALID = [
    *[pytest.param(n, "boolean X", id=f"{n}-boolean X") for n in NAMES],
    *[pytest.param(n, "sparse X", id=f"{n}-sparse X") for n in sorted(GENERAL)],
    *[
        pytest.param(n, "ragged list", id=f"{n}-ragged list")
        for n in NAMES
        if n not in GENERAL
    ],
]


@pytest.mark.parametrize("name, case", VALID)
def test_valid_corner_cases(name, case):
    data = {
        "boolean X": X > 0,  # taken as 0.0 / 1.0
        "sparse X": sp.csr_matrix(np.where(X > 0.5, X, 0)),
        "ragged list": [row[: 3 + i % 4] for i, row in enumerate(X)],  # padded
    }[case]
    original = _copy(data)
    est = ESTIMATORS[name]().fit(data, _y(name))
    assert est.predict(data).shape == (len(X),)
    _assert_same_data(data, original)
