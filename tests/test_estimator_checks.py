"""scikit-learn's own estimator checks, with no expected failures.

The checked estimators train a float64 network full-batch: several checks
compare two fits (sample weights against repeated rows, fitting twice, a
Pipeline against the bare estimator) with a relative tolerance of 1e-7, below
float32's resolution; in float64, with the whole training set in one batch,
weighting a row by k and repeating it k times are the same computation up to
rounding, which is what the checks ask.

Two tiers (helpers.estimator_check_params): the checks that judge what the
network learns, or that train on scikit-learn's 200-300-row check data or fit
several times (helpers.HEAVY_CHECKS, 22 of 128), run in the slow tier with
these settings. The rest check the API (fitted attributes, input validation,
sample weights, pickling, pipelines, ...), which no number of epochs changes,
and run in the default tier on a quick copy (2 eager epochs). Measured on
2 cores: all checks on these settings took 320 s summed (one worker, nothing
else running), the heavy ones about 160 s of that; the default tier's checks
now take about 50 s summed.
"""

import pytest
from helpers import FULL_BATCH_FLOAT64, estimator_check_params, mlp

from kerasbig import KerasClassifier, KerasRegressor

COMMON = dict(
    model=mlp,
    model__dtype="float64",
    model__hidden=32,
    optimizer__learning_rate=0.05,
    epochs=40,
    **FULL_BATCH_FLOAT64,
)


@pytest.mark.parametrize(
    "estimator, check",
    estimator_check_params([KerasClassifier(**COMMON), KerasRegressor(**COMMON)]),
)
def test_sklearn_estimator_checks(estimator, check):
    """parametrize_with_checks' checks, with no expected failures declared."""
    check(estimator)
