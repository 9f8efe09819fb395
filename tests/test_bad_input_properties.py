"""Property tests: whatever shape and dtype ``X`` and ``y`` have, ``fit`` and
``predict`` either work (predictions of the right shape, labels from
``classes_``) or raise one of the clear errors: ``ValueError`` or
``TypeError`` raised by kerasbig, scikit-learn or NumPy, never an error from
inside Keras, TensorFlow or JAX, never another exception type.

Examples are few, derandomized and not stored (``database=None``), so the
module runs in well under a minute and the same way everywhere.
"""

import os
import traceback

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from helpers import TINY_CNN, TINY_RNN, mlp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kerasbig import (
    CNNClassifier,
    KerasClassifier,
    KerasRegressor,
    RNNRegressor,
)

FIT = dict(epochs=1, random_state=0, batch_size=8)
SETTINGS = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# Where a clear error may come from; anything raised deeper is a bug.
DEEP = tuple(
    os.sep + name + os.sep
    for name in ("keras", "tensorflow", "jax", "jaxlib", "tf_keras")
)


def _assert_clear_error(error: BaseException) -> None:
    assert isinstance(error, (ValueError, TypeError)), repr(error)
    origin = traceback.extract_tb(error.__traceback__)[-1].filename
    assert not any(part in origin for part in DEEP), (origin, repr(error))
    assert str(error), repr(error)


# ----------------------------------------------------------------------
# Strategies: arrays of any small shape and of many dtypes
# ----------------------------------------------------------------------
NUMERIC = {
    "float32": st.floats(-1e6, 1e6, width=32),
    "float64": st.floats(allow_nan=True, allow_infinity=True),
    "int64": st.integers(-1000, 1000),
    "uint8": st.integers(0, 255),
    "bool": st.booleans(),
    "complex128": st.complex_numbers(max_magnitude=10),
}


@st.composite
def arrays(draw, n_rows=None, min_dims=1, max_dims=4):
    """An array (or a list, or a mixed object array) of a drawn shape and dtype."""
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, max_side=5))
    if n_rows is not None:
        shape = (n_rows, *shape[1:])
    kind = draw(st.sampled_from([*NUMERIC, "object", "text", "list"]))
    if kind in NUMERIC:
        return draw(hnp.arrays(kind, shape, elements=NUMERIC[kind]))
    base = draw(hnp.arrays("float64", shape, elements=st.floats(-10, 10)))
    if kind == "list":
        return base.tolist()
    values = base.astype(object)
    if values.size:
        values.flat[draw(st.integers(0, values.size - 1))] = (
            "a" if kind == "object" else None
        )
    return values.astype(str) if kind == "text" else values


def labels(n_rows, classifier):
    kinds = ["ints", "strings", "floats", "nan"] if classifier else ["floats", "nan"]
    return st.sampled_from(kinds).flatmap(lambda kind: _labels(kind, n_rows))


def _labels(kind, n_rows):
    if kind == "ints":
        return hnp.arrays("int64", n_rows, elements=st.integers(0, 2))
    if kind == "strings":
        return st.lists(
            st.sampled_from(["ant", "bee"]), min_size=n_rows, max_size=n_rows
        )
    elements = st.floats(-5, 5) if kind == "floats" else st.floats(allow_nan=True)
    return hnp.arrays("float64", n_rows, elements=elements)


@st.composite
def training_data(draw, classifier):
    X = draw(arrays())
    n_rows = len(X)
    if draw(st.booleans()) and n_rows:  # now and then a y of the wrong length
        n_rows = draw(st.integers(0, 6))
    return X, draw(labels(n_rows, classifier))


def _check_fit_then_predict(est, X, y):
    try:
        est.fit(X, y)
    except Exception as error:  # noqa: BLE001 - the property is about the type
        _assert_clear_error(error)
        assert not hasattr(est, "model_")
        return
    pred = est.predict(X)
    assert pred.shape[0] == len(X)
    if hasattr(est, "classes_") and pred.ndim == 1:
        assert set(np.unique(pred)) <= set(est.classes_)


@pytest.mark.parametrize(
    "make",
    [
        lambda: KerasClassifier(mlp, **FIT),
        lambda: KerasRegressor(mlp, **FIT),
    ],
    ids=["KerasClassifier", "KerasRegressor"],
)
@settings(max_examples=20, **SETTINGS)
@given(data=st.data())
def test_fit_and_predict_work_or_raise_clear_errors(make, data):
    est = make()
    X, y = data.draw(training_data(classifier=hasattr(est, "predict_proba")))
    _check_fit_then_predict(est, X, y)


@pytest.mark.parametrize(
    "make",
    [
        lambda: CNNClassifier(**TINY_CNN, **FIT),
        lambda: RNNRegressor(**TINY_RNN, **FIT),
    ],
    ids=["CNNClassifier", "RNNRegressor"],
)
@settings(max_examples=10, **SETTINGS)
@given(data=st.data())
def test_families_fit_and_predict_work_or_raise_clear_errors(make, data):
    est = make()
    X, y = data.draw(training_data(classifier=hasattr(est, "predict_proba")))
    _check_fit_then_predict(est, X, y)


# ----------------------------------------------------------------------
# predict: a fitted estimator, any input
# ----------------------------------------------------------------------
_RNG = np.random.default_rng(0)
X_FIT = _RNG.normal(size=(24, 4)).astype("float32")
_FITTED = {}


def _fitted(name):
    if name not in _FITTED:
        y = np.array([0, 1] * 12)
        make = {
            "KerasClassifier": lambda: KerasClassifier(mlp, **FIT),
            "CNNClassifier": lambda: CNNClassifier(**TINY_CNN, **FIT),
        }[name]
        _FITTED[name] = make().fit(X_FIT, y)
    return _FITTED[name]


@pytest.mark.parametrize("name", ["KerasClassifier", "CNNClassifier"])
@settings(max_examples=40, **SETTINGS)
@given(X=arrays(max_dims=4))
def test_predict_works_or_raises_clear_errors_and_changes_nothing(name, X):
    est = _fitted(name)
    before = dict(est.__dict__)
    try:
        pred = est.predict(X)
    except Exception as error:  # noqa: BLE001
        _assert_clear_error(error)
    else:
        assert pred.shape == (len(X),)
        assert set(np.unique(pred)) <= set(est.classes_)
        # only what fit saw gets predictions: 2-D, 4 columns (a list too)
        assert np.ndim(X) == 2 and np.shape(X)[1] == 4
    assert est.__dict__.keys() == before.keys()
    assert all(est.__dict__[k] is v for k, v in before.items())
