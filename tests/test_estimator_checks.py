"""scikit-learn's own estimator checks, with no expected failures.

The checked estimators train a float64 network full-batch: several checks
compare two fits (sample weights against repeated rows, fitting twice, a
Pipeline against the bare estimator) with a relative tolerance of 1e-7, below
float32's resolution; in float64, with the whole training set in one batch,
weighting a row by k and repeating it k times are the same computation up to
rounding, which is what the checks ask.
"""

import functools

import pytest
from helpers import mlp
from sklearn.utils.estimator_checks import estimator_checks_generator

from kerasbig import KerasClassifier, KerasRegressor

COMMON = dict(
    model=mlp,
    model__dtype="float64",
    model__hidden=32,
    loss__dtype="float64",
    optimizer="adam",
    optimizer__learning_rate=0.05,
    batch_size=1024,
    epochs=40,
    random_state=0,
)


ESTIMATORS = [KerasClassifier(**COMMON), KerasRegressor(**COMMON)]


def _check_id(estimator, check) -> str:
    """Stable test ids (the default ones hold a function's address)."""
    name = (
        check.func.__name__ if isinstance(check, functools.partial) else check.__name__
    )
    if isinstance(check, functools.partial) and check.keywords:
        name += "(" + ",".join(f"{k}={v}" for k, v in check.keywords.items()) + ")"
    return f"{type(estimator).__name__}-{name}"


CHECKS = [
    pair
    for estimator in ESTIMATORS
    for pair in estimator_checks_generator(estimator, legacy=True)
]


@pytest.mark.parametrize(
    "estimator, check", CHECKS, ids=[_check_id(*pair) for pair in CHECKS]
)
def test_sklearn_estimator_checks(estimator, check):
    """parametrize_with_checks' checks, with no expected failures declared."""
    check(estimator)
