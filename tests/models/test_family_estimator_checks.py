"""scikit-learn's estimator checks for the six family estimators, with no
expected failures.

As for the general wrappers (tests/test_estimator_checks.py), the checked
networks train in float64 with the whole training set in one batch, so that
checks comparing two fits (sample weights against repeated rows, fitting
twice, a Pipeline against the bare estimator) agree to scikit-learn's 1e-7
tolerance. The networks are tiny and free of what makes one batch differ from
another: no BatchNormalization (its batch statistics differ between repeated
and weighted rows) and no dropout. The checks use 2-D tabular data, read as
short univariate series: ``global_pooling="flatten"`` lets the CNN keep where
a value sits, and ``dense_units`` helps the Transformer single one position
out (check_regressors_train asks for R^2 > 0.5).

The checks fit about 100 networks per estimator, most on 10-30 rows. The CNN
runs in graph mode; the RNN and the Transformer run eagerly
(``run_eagerly=True``), which for these many short full-batch fits costs less
than tracing a new graph for every network.

Two tiers (helpers.estimator_check_params). The checks that judge what the
network learns or train on scikit-learn's larger data (helpers.HEAVY_CHECKS)
run in the slow tier with the settings below. The others check the API, which
no number of epochs changes, and run in the default tier on a quick copy
(helpers.QUICK_CHECKS: 2 eager epochs). Measured on 2 cores with -n 2: the
checks now in the default tier took 700 s summed on the settings below, and
take 89 s summed (54 s wall on their own) on the quick copy; the slow tier's
checks take about 550 s summed.
"""

import pytest
from helpers import (
    FULL_BATCH_FLOAT64,
    TINY_CNN,
    TINY_TRANSFORMER,
    estimator_check_params,
)

from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor
from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor
from kerasbig.models.transformer.estimators import (
    TransformerClassifier,
    TransformerRegressor,
)

FLOAT64 = dict(precision="float64", **FULL_BATCH_FLOAT64)
CNN = dict(
    TINY_CNN,
    filters=8,
    normalization=None,
    global_pooling="flatten",
    optimizer__learning_rate=0.05,
    epochs=10,
    **FLOAT64,
)
RNN = dict(
    cell="simple",
    units=16,
    optimizer__learning_rate=0.05,
    epochs=30,  # 15 left the binary class-weight check at 0.8 for one seed
    run_eagerly=True,
    # Standardized, this SimpleRNN's 30 steps at rate 0.05 amplify the float64
    # rounding between a weighted and a repeated fit to 1e-5 (the sample-weight
    # equivalence check wants 1e-7), though the statistics are equal
    # (test_input_standardization checks them); the five other estimators
    # pass it standardized.
    standardize_inputs=False,
    dropout=0.0,  # the regressor's default is 0.4
    **FLOAT64,
)
TRANSFORMER = dict(
    TINY_TRANSFORMER,
    ff_dim=16,
    dropout=0.0,
    dense_units=8,
    optimizer__learning_rate=0.02,
    epochs=15,
    run_eagerly=True,
    **FLOAT64,
)

# The regressors start at ridge regression (linear_shortcut="auto"), which
# check_regressors_train's R^2 > 0.5 asks for before any training; their rate
# is lower. At 0.05, ten full-batch steps from that start amplified the
# float32 rounding of check_regressor_data_not_an_array's NotAnArray input
# (then converted to float32; under precision="float64" it now stays float64,
# InputPath._checks_of_X) to 0.026 in the predictions, over the check's 0.01.
SLOWER = dict(optimizer__learning_rate=0.005)
ESTIMATORS = {
    "cnn": [CNNClassifier(**CNN), CNNRegressor(**{**CNN, **SLOWER})],
    "rnn": [RNNClassifier(**RNN), RNNRegressor(**{**RNN, **SLOWER})],
    "transformer": [
        TransformerClassifier(**TRANSFORMER),
        # From the ridge start the Transformer fits the residual noise, and
        # each epoch multiplied that difference by about 1.6 (0.0003 after
        # one, 0.21 after 15); three keep it at 0.0008.
        TransformerRegressor(**{**TRANSFORMER, **SLOWER, "epochs": 3}),
    ],
}


# The checks named in helpers.HEAVY_CHECKS (scikit-learn's larger check data,
# or several fits) run in the slow tier; `python -m pytest` runs the rest.
@pytest.mark.parametrize(
    "estimator, check",
    estimator_check_params(
        [estimator for pair in ESTIMATORS.values() for estimator in pair]
    ),
)
def test_sklearn_estimator_checks(estimator, check):
    """parametrize_with_checks' checks, with no expected failures declared."""
    check(estimator)
