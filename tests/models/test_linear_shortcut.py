"""linear_shortcut: a linear model of the input beside the network, and the
regressors' start at ridge regression (kerasbig/models/_shortcut.py)."""

import pickle

import keras
import numpy as np
import pytest
from helpers import TINY_CNN, TINY_RNN, TINY_TRANSFORMER
from sklearn.base import clone
from sklearn.linear_model import Ridge

from kerasbig import (
    CNNClassifier,
    CNNRegressor,
    KerasRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.models import build_cnn, build_rnn, build_transformer
from kerasbig.models._shortcut import (
    ALPHAS,
    MAX_VALUES,
    WEIGHT_DECAY,
    ridge_coefficients,
)
from kerasbig.parameters import InvalidParameterError

BUILDERS = {
    "cnn": lambda shape, n, **kw: build_cnn(shape, n, **TINY_CNN, **kw),
    "rnn": lambda shape, n, **kw: build_rnn(shape, n, **TINY_RNN, **kw),
    "transformer": lambda shape, n, **kw: build_transformer(
        shape, n, **TINY_TRANSFORMER, **kw
    ),
}
REGRESSORS = [
    (CNNRegressor, TINY_CNN),
    (RNNRegressor, TINY_RNN),
    (TransformerRegressor, TINY_TRANSFORMER),
]
CLASSIFIERS = [
    (CNNClassifier, TINY_CNN),
    (RNNClassifier, TINY_RNN),
    (TransformerClassifier, TINY_TRANSFORMER),
]


def _linear_data(n=60, length=12, seed=0):
    """Series far from unit scale whose target is linear in them, plus noise."""
    rng = np.random.default_rng(seed)
    X = 50.0 + 10.0 * rng.normal(size=(n, length))
    y = X @ rng.normal(size=length) + rng.normal(size=n)
    return X, y


# -- the builders --------------------------------------------------------------
@pytest.mark.parametrize("family", BUILDERS)
def test_builders_add_the_shortcut_only_when_asked(family):
    plain = BUILDERS[family]((12, 2), 1, output_activation="linear", seed=0)
    assert "linear_shortcut" not in [layer.name for layer in plain.layers]
    model = BUILDERS[family](
        (12, 2), 1, output_activation="linear", linear_shortcut=True, seed=0
    )
    shortcut = model.get_layer("linear_shortcut")
    assert shortcut.kernel.shape == (24, 1)  # every value of a row
    assert not np.any(shortcut.get_weights()[0])  # starts at zero
    assert shortcut.trainable


@pytest.mark.parametrize("family", BUILDERS)
def test_the_shortcut_is_added_before_the_output_activation(family):
    model = BUILDERS[family](
        (12, 1), 3, output_activation="softmax", linear_shortcut=True, seed=0
    )
    assert model.get_layer("head").activation.__name__ == "linear"
    assert model.layers[-1].__class__.__name__ == "Activation"
    out = model.predict(np.random.default_rng(0).normal(size=(4, 12, 1)), verbose=0)
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize(
    "family, shape, kwargs, message",
    [
        ("rnn", (None, 1), {}, "known shape"),
        ("cnn", (None, 1), {}, "known shape"),
        ("transformer", (12,), {"vocabulary_size": 50}, "token ids"),
        ("cnn", (12, 1), {"linear_shortcut": 1}, "True or False"),
    ],
)
def test_builders_refuse_a_shortcut_they_cannot_build(family, shape, kwargs, message):
    kwargs = {"linear_shortcut": True, **kwargs}
    with pytest.raises(InvalidParameterError, match=message):
        BUILDERS[family](shape, 1, output_activation="linear", **kwargs)


# -- the ridge regression ---------------------------------------------------------
def test_ridge_is_sklearns_ridge_at_one_of_the_penalties():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 10))
    y = X @ rng.normal(size=10) + rng.normal(size=40)
    kernel, bias = ridge_coefficients(X[:, :, None], y, None)
    gaps = []
    for alpha in ALPHAS:
        ridge = Ridge(alpha=alpha).fit(X, y)
        gaps.append(
            max(
                np.abs(ridge.coef_ - kernel[:, 0]).max(),
                abs(ridge.intercept_ - bias[0]),
            )
        )
    assert min(gaps) < 1e-10


def test_ridge_counts_a_weight_as_repeated_rows_and_zero_as_removed():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(30, 8, 1))
    y = X[:, :, 0] @ rng.normal(size=8) + rng.normal(size=30)
    weights = rng.integers(0, 3, size=30)
    weighted = ridge_coefficients(X, y, None, weights.astype(float))
    repeated = ridge_coefficients(X.repeat(weights, axis=0), y.repeat(weights), None)
    for got, expected in zip(weighted, repeated):
        np.testing.assert_allclose(got, expected, atol=1e-10)


def test_ridge_reads_the_input_as_the_network_standardizes_it():
    rng = np.random.default_rng(3)
    X = 100.0 + 5.0 * rng.normal(size=(25, 6, 2))
    y = rng.normal(size=(25, 2))  # two outputs
    mean, variance = X.reshape(-1, 2).mean(axis=0), X.reshape(-1, 2).var(axis=0)
    kernel, bias = ridge_coefficients(X, y, (mean, variance))
    standardized = ((X - mean) / np.sqrt(variance)).reshape(25, -1)
    assert kernel.shape == (12, 2) and bias.shape == (2,)
    np.testing.assert_allclose(
        standardized @ kernel + bias, _best_ridge(standardized, y)
    )


def _best_ridge(X, y):
    """Predictions of the sklearn Ridge (over ALPHAS) closest to ours."""
    kernel, bias = ridge_coefficients(X[:, :, None], y, None)
    ours = X @ kernel + bias
    fits = [Ridge(alpha=alpha).fit(X, y).predict(X) for alpha in ALPHAS]
    return min(fits, key=lambda fit: np.abs(fit - ours).max())


# -- the estimators ------------------------------------------------------------
@pytest.mark.parametrize(
    "cls, tiny", REGRESSORS, ids=lambda x: getattr(x, "__name__", "")
)
def test_a_regressor_starts_at_ridge_with_the_shortcut_frozen(cls, tiny):
    X, y = _linear_data()
    reg = cls(**tiny, random_state=0).initialize(X, y)
    assert reg.linear_shortcut_ is True
    assert not reg.model_.get_layer("linear_shortcut").trainable
    assert not np.any(reg.model_.get_layer("head").get_weights()[0])
    # Untrained, the network predicts what ridge on the standardized series does.
    mean, variance = X.mean(), X.var()
    kernel, bias = ridge_coefficients(X, y, ([mean], [variance]))
    np.testing.assert_allclose(
        reg.predict(X),
        (X - mean) / np.sqrt(variance) @ kernel[:, 0] + bias,
        rtol=1e-4,
        atol=1e-3,
    )


@pytest.mark.parametrize(
    "cls, tiny", REGRESSORS, ids=lambda x: getattr(x, "__name__", "")
)
def test_the_ridge_start_fits_a_linear_target_that_the_bare_network_misses(cls, tiny):
    X, y = _linear_data()
    with_shortcut = cls(**tiny, epochs=2, random_state=0).fit(X, y)
    without = cls(**tiny, epochs=2, random_state=0, linear_shortcut=False).fit(X, y)
    assert with_shortcut.score(X, y) > 0.95
    assert without.linear_shortcut_ is False
    assert "linear_shortcut" not in [layer.name for layer in without.model_.layers]
    assert with_shortcut.score(X, y) > without.score(X, y)


@pytest.mark.parametrize(
    "cls, tiny", CLASSIFIERS, ids=lambda x: getattr(x, "__name__", "")
)
def test_a_classifier_has_no_shortcut_unless_asked_and_then_trains_it(cls, tiny):
    X, y = _linear_data()
    labels = (y > np.median(y)).astype(int)
    assert (
        cls(**tiny, epochs=1, random_state=0).fit(X, labels).linear_shortcut_ is False
    )
    clf = cls(**tiny, epochs=1, random_state=0, linear_shortcut=True).fit(X, labels)
    shortcut = clf.model_.get_layer("linear_shortcut")
    assert clf.linear_shortcut_ is True and shortcut.trainable
    assert np.any(shortcut.get_weights()[0])  # trained away from zero


# -- weight decay from the ridge start ----------------------------------------
@pytest.mark.parametrize(
    "cls, tiny", REGRESSORS, ids=lambda x: getattr(x, "__name__", "")
)
def test_from_the_ridge_start_the_deep_part_decays_and_the_shortcut_does_not(cls, tiny):
    X, y = _linear_data()
    reg = cls(**tiny, epochs=2, random_state=0)
    reg.initialize(X, y)
    assert reg.model_.optimizer.weight_decay == WEIGHT_DECAY
    shortcut = reg.model_.get_layer("linear_shortcut").get_weights()
    reg.partial_fit(X, y)
    for before, after in zip(
        shortcut, reg.model_.get_layer("linear_shortcut").get_weights()
    ):
        np.testing.assert_array_equal(before, after)
    # Without the ridge start, Keras' default: no decay.
    bare = cls(**tiny, linear_shortcut=False, random_state=0).initialize(X, y)
    assert bare.model_.optimizer.weight_decay is None


@pytest.mark.parametrize("given", [0.01, None])
def test_the_users_weight_decay_wins(given):
    X, y = _linear_data()
    reg = CNNRegressor(
        **TINY_CNN, optimizer__weight_decay=given, random_state=0
    ).initialize(X, y)
    assert reg.model_.optimizer.weight_decay == given


def test_an_optimizer_instance_or_a_classifier_gets_no_decay():
    X, y = _linear_data()
    instance = keras.optimizers.Adam(learning_rate=0.01)
    reg = CNNRegressor(**TINY_CNN, optimizer=instance, random_state=0)
    assert reg.initialize(X, y).model_.optimizer.weight_decay is None
    assert reg.optimizer is instance and instance.weight_decay is None
    labels = (y > np.median(y)).astype(int)
    clf = CNNClassifier(**TINY_CNN, random_state=0).initialize(X, labels)
    assert clf.model_.optimizer.weight_decay is None


def test_the_general_wrapper_keeps_keras_defaults():
    def build():
        model = keras.Sequential([keras.Input((12,)), keras.layers.Dense(1)])
        return model

    X, y = _linear_data()
    reg = KerasRegressor(build, random_state=0).initialize(X, y)
    assert reg.model_.optimizer.weight_decay is None


def test_auto_is_off_where_a_linear_model_of_the_values_is_not_one():
    rng = np.random.default_rng(0)
    # Padded, masked series (the RNN on a list of variable-length series).
    series = [rng.normal(size=length) for length in (5, 8, 6, 7) * 5]
    y = rng.normal(size=20)
    assert RNNRegressor(**TINY_RNN, epochs=1).fit(series, y).linear_shortcut_ is False
    # Text.
    texts = ["a good film", "a bad film", "fine", "not good at all"] * 5
    text_reg = TransformerRegressor(**TINY_TRANSFORMER, epochs=1).fit(texts, y)
    assert text_reg.linear_shortcut_ is False
    # More values per row than MAX_VALUES.
    side = int(np.sqrt(MAX_VALUES)) + 1
    images = rng.normal(size=(8, side, side, 1))
    big = CNNRegressor(**TINY_CNN, epochs=1).fit(images, y[:8])
    assert big.linear_shortcut_ is False


def test_a_bad_value_is_refused_before_training_leaving_the_estimator_unfitted():
    X, y = _linear_data()
    reg = CNNRegressor(**TINY_CNN, linear_shortcut="yes")
    with pytest.raises(
        ValueError, match="linear_shortcut='yes'.*'auto' or True or False"
    ):
        reg.fit(X, y)
    assert not hasattr(reg, "model_") and not hasattr(reg, "linear_shortcut_")


def test_the_started_regressor_survives_clone_and_pickle():
    X, y = _linear_data()
    reg = CNNRegressor(**TINY_CNN, epochs=2, random_state=0).fit(X, y)
    restored = pickle.loads(pickle.dumps(reg))
    np.testing.assert_allclose(restored.predict(X), reg.predict(X), rtol=1e-6)
    assert not restored.model_.get_layer("linear_shortcut").trainable
    again = clone(reg).fit(X, y)  # same data and seed: the same model
    np.testing.assert_allclose(again.predict(X), reg.predict(X), rtol=1e-5)


def test_sample_weight_two_is_a_repeated_row_for_the_start():
    X, y = _linear_data(n=30)
    weights = np.r_[np.full(10, 2.0), np.ones(20)]
    weighted = CNNRegressor(**TINY_CNN, epochs=1, random_state=0)
    weighted.fit(X, y, sample_weight=weights)
    repeated = CNNRegressor(**TINY_CNN, epochs=1, random_state=0)
    repeated.fit(np.r_[X[:10], X], np.r_[y[:10], y])
    np.testing.assert_allclose(
        weighted.model_.get_layer("linear_shortcut").get_weights()[0],
        repeated.model_.get_layer("linear_shortcut").get_weights()[0],
        rtol=1e-6,
        atol=1e-8,
    )
