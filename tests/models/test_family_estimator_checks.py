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
than tracing a new graph for every network. Measured on 2 cores shared with
other jobs, all six in one run: 15 min 50 s wall, 11.5 min CPU; per family
(summed test durations) CNN 5.4 min, RNN 4.9 min, Transformer 5.4 min, of
which the part not marked slow (see HEAVY) is about 2.5-3 min each.
"""

import functools

import pytest
from sklearn.utils.estimator_checks import estimator_checks_generator

from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor
from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor
from kerasbig.models.transformer.estimators import (
    TransformerClassifier,
    TransformerRegressor,
)

FLOAT64_FULL_BATCH = dict(
    precision="float64",
    loss__dtype="float64",
    optimizer="adam",
    batch_size=1024,
    random_state=0,
)
CNN = dict(
    n_blocks=1,
    filters=8,
    batch_norm=False,
    global_pooling="flatten",
    optimizer__learning_rate=0.05,
    epochs=10,
    **FLOAT64_FULL_BATCH,
)
RNN = dict(
    cell="simple",
    units=16,
    optimizer__learning_rate=0.05,
    epochs=30,  # 15 left the binary class-weight check at 0.8 for one seed
    run_eagerly=True,
    **FLOAT64_FULL_BATCH,
)
TRANSFORMER = dict(
    num_layers=1,
    num_heads=2,
    model_dim=8,
    ff_dim=16,
    dropout=0.0,
    dense_units=8,
    optimizer__learning_rate=0.02,
    epochs=15,
    run_eagerly=True,
    **FLOAT64_FULL_BATCH,
)

ESTIMATORS = {
    "cnn": [CNNClassifier(**CNN), CNNRegressor(**CNN)],
    "rnn": [RNNClassifier(**RNN), RNNRegressor(**RNN)],
    "transformer": [
        TransformerClassifier(**TRANSFORMER),
        TransformerRegressor(**TRANSFORMER),
    ],
}


def _check_id(estimator, check) -> str:
    name = (
        check.func.__name__ if isinstance(check, functools.partial) else check.__name__
    )
    if isinstance(check, functools.partial) and check.keywords:
        name += "(" + ",".join(f"{k}={v}" for k, v in check.keywords.items()) + ")"
    return f"{type(estimator).__name__}-{name}"


# The checks that train on scikit-learn's larger check data (200-300 rows) or
# fit several times: about half of a family's time. Every family took over 4
# minutes on 2 shared cores, so they are marked slow; `-m "not slow"` runs the
# rest.
HEAVY = {
    "check_classifiers_train",
    "check_regressors_train",
    "check_estimators_dtypes",
    "check_classifiers_classes",
    "check_classifier_data_not_an_array",
    "check_regressor_data_not_an_array",
    "check_supervised_y_2d",
    "check_fit_idempotent",
    "check_methods_subset_invariance",
    "check_sample_weight_equivalence_on_dense_data",
}


def _marks(check) -> list:
    name = (
        check.func.__name__ if isinstance(check, functools.partial) else check.__name__
    )
    return [pytest.mark.slow] if name in HEAVY else []


CHECKS = [
    pytest.param(estimator, check, id=_check_id(estimator, check), marks=_marks(check))
    for estimators in ESTIMATORS.values()
    for estimator in estimators
    for estimator, check in estimator_checks_generator(estimator, legacy=True)
]


@pytest.mark.parametrize("estimator, check", CHECKS)
def test_sklearn_estimator_checks(estimator, check):
    """parametrize_with_checks' checks, with no expected failures declared."""
    check(estimator)
