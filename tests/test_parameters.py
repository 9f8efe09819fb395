"""One error type and one way of declaring what a parameter accepts."""

import numpy as np
import pytest

from kerasbig import CNNClassifier, KerasClassifier
from kerasbig.parameters import (
    NONE,
    Boolean,
    Interval,
    InvalidParameterError,
    Options,
    check_positive_int,
    validate_params,
)
from kerasbig.preprocessing import ImageResizer, SequencePadder, TextTokenizer


def test_the_error_is_both_a_value_and_a_type_error():
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize(
    "constraint, good, bad",
    [
        (Interval(int, 1), [1, 5, np.int64(3)], [0, 1.5, True, "1", None]),
        (Interval(float, 0, 1, closed="left"), [0, 0.5], [1, -0.1, float("nan")]),
        (Options("a", None), ["a", None], ["b", 0, ["a"]]),
        (Boolean(), [True, np.bool_(False)], [0, 1, "yes"]),
    ],
)
def test_constraints_accept_and_reject(constraint, good, bad):
    assert all(constraint.accepts(v) for v in good)
    assert not any(constraint.accepts(v) for v in bad)


def test_message_names_owner_parameter_value_and_expectation():
    with pytest.raises(InvalidParameterError) as info:
        validate_params({"epochs": 0}, {"epochs": [NONE, Interval(int, 1)]}, "Est")
    assert str(info.value) == (
        "Est: epochs=0 is invalid; expected None or an integer >= 1."
    )
    with pytest.raises(InvalidParameterError, match="n_outputs must be a positive"):
        check_positive_int(0, "n_outputs")


@pytest.mark.parametrize(
    "estimator, name, value",
    [
        (KerasClassifier(), "epochs", 0),
        (KerasClassifier(), "batch_size", 2.5),
        (KerasClassifier(), "validation_split", 1.0),
        (KerasClassifier(), "shuffle", "yes"),
        (KerasClassifier(), "precision", "float8"),
        (CNNClassifier(), "truncation", "cut"),
        (CNNClassifier(), "patience", -1),
        (SequencePadder(), "padding", "middle"),
        (TextTokenizer(), "max_length", 0),
        (ImageResizer(), "interpolation", "cubic"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, (str, int, float)) else str(v),
)
def test_estimators_and_transformers_raise_the_same_error(estimator, name, value):
    estimator.set_params(**{name: value})
    X = ["a text"] if isinstance(estimator, TextTokenizer) else np.ones((4, 3))
    with pytest.raises(InvalidParameterError, match=f"{name}={value!r} is invalid"):
        estimator.fit(X, [0, 1, 0, 1])
    assert not hasattr(estimator, "model_")
