"""KerasRegressor: single and multi-output targets, weights, partial_fit."""

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.datasets import make_regression

from kerasbig import KerasRegressor

FAST = {
    "optimizer": "adam",
    "optimizer__learning_rate": 0.05,
    "epochs": 30,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_regression(n_samples=120, n_features=5, noise=1.0, random_state=0)
    return X, y / y.std()


def test_single_output_predicts_1d_float32_and_scores_r2(data):
    X, y = data
    reg = KerasRegressor(mlp, **FAST).fit(X, y)
    pred = reg.predict(X)
    assert pred.shape == (len(X),) and pred.dtype == np.float32
    assert reg.score(X, y) > 0.8
    assert reg.n_outputs_ == 1
    assert reg.model_.loss.name == "mean_squared_error"


def test_multi_output_keeps_columns(data):
    X, y = data
    Y = np.column_stack([y, -y, 2 * y])
    reg = KerasRegressor(mlp, **FAST).fit(X, Y)
    assert reg.n_outputs_ == 3
    assert reg.predict(X).shape == (len(X), 3)
    assert reg.score(X, Y) > 0.7


def test_column_vector_target_predicts_a_column(data):
    X, y = data
    reg = KerasRegressor(mlp, **FAST).fit(X, y.reshape(-1, 1))
    assert reg.predict(X).shape == (len(X), 1)


def test_sample_weight_in_fit_and_score(data):
    X, y = data
    w = np.where(X[:, 0] > 0, 5.0, 0.2)
    plain = KerasRegressor(mlp, **FAST).fit(X, y)
    weighted = KerasRegressor(mlp, **FAST).fit(X, y, sample_weight=w)
    assert not np.allclose(plain.predict(X), weighted.predict(X))
    assert weighted.score(X, y, sample_weight=w) != weighted.score(X, y)


def test_named_loss_with_routed_arguments(data):
    X, y = data
    reg = KerasRegressor(mlp, loss="huber", loss__delta=0.5, **FAST).fit(X, y)
    assert isinstance(reg.model_.loss, keras.losses.Huber)
    # Huber.get_config() omits delta (a Keras quirk); the wrapped arguments hold it.
    assert reg.model_.loss._fn_kwargs["delta"] == 0.5


def test_partial_fit_builds_then_continues(data):
    X, y = data
    reg = KerasRegressor(mlp, **FAST)
    reg.partial_fit(X, y)
    model = reg.model_
    reg.partial_fit(X, y)
    assert reg.model_ is model and len(reg.history_["loss"]) == 2
    with pytest.raises(ValueError, match="y has 2 dimensions, but this"):
        reg.partial_fit(X, np.column_stack([y, y]))
    two = KerasRegressor(**{**reg.get_params(), "warm_start": False})
    two.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="column"):
        two.partial_fit(X, np.column_stack([y, y, y]))


def test_output_units_must_match_targets(data):
    X, y = data

    def three_outputs(n_features_in_):
        return keras.Sequential([keras.Input((n_features_in_,)), keras.layers.Dense(3)])

    with pytest.raises(ValueError, match="3 output unit.*1 column"):
        KerasRegressor(three_outputs, **FAST).fit(X, y)
