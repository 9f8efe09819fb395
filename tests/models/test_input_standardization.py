"""standardize_inputs / input_statistics (kerasbig/models/_standardize.py)."""

import pickle

import keras
import numpy as np
import pytest
from helpers import TINY_CNN, TINY_RNN, TINY_TRANSFORMER
from sklearn.base import clone

from kerasbig import (
    CNNClassifier,
    CNNRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.models import build_cnn, build_rnn, build_transformer, channel_statistics
from kerasbig.models._standardize import LAYER_NAME

BUILDERS = {
    "cnn": lambda shape, **kw: build_cnn(shape, 2, **TINY_CNN, **kw),
    "rnn": lambda shape, **kw: build_rnn(shape, 2, **TINY_RNN, **kw),
    "transformer": lambda shape, **kw: build_transformer(
        shape, 2, **TINY_TRANSFORMER, **kw
    ),
}
ESTIMATORS = [
    (CNNClassifier, TINY_CNN),
    (CNNRegressor, TINY_CNN),
    (RNNClassifier, TINY_RNN),
    (RNNRegressor, TINY_RNN),
    (TransformerClassifier, TINY_TRANSFORMER),
    (TransformerRegressor, TINY_TRANSFORMER),
]


def _far_from_unit_scale(n=60, length=12, seed=0):
    """Two channels: counts around 1,000 and values around 3.2 +- 0.01."""
    rng = np.random.default_rng(seed)
    X = np.stack(
        [
            1000.0 + 50.0 * rng.normal(size=(n, length)),
            3.2 + 0.01 * rng.normal(size=(n, length)),
        ],
        axis=-1,
    ).astype("float32")
    return X


def _standardized(model, X):
    layer = model.get_layer(LAYER_NAME)
    return keras.Model(model.input, layer.output).predict(X, verbose=0)


@pytest.mark.parametrize("family", sorted(BUILDERS))
def test_builders_standardize_each_channel_with_the_statistics(family):
    X = _far_from_unit_scale()
    model = BUILDERS[family](X.shape[1:], input_statistics=channel_statistics(X))
    Z = _standardized(model, X)
    np.testing.assert_allclose(Z.mean(axis=(0, 1)), [0.0, 0.0], atol=1e-3)
    np.testing.assert_allclose(Z.std(axis=(0, 1)), [1.0, 1.0], rtol=1e-3)
    # without statistics, no such layer: the input is read as it is
    plain = BUILDERS[family](X.shape[1:])
    assert LAYER_NAME not in [layer.name for layer in plain.layers]


def test_images_are_standardized_per_channel_after_the_augmentation():
    rng = np.random.default_rng(0)
    images = rng.uniform(0, 255, size=(20, 8, 8, 3)).astype("float32")
    flip = keras.layers.RandomFlip("horizontal")
    model = build_cnn(
        (8, 8, 3),
        2,
        **TINY_CNN,
        augmentation=[flip],
        input_statistics=channel_statistics(images),
    )
    names = [layer.name for layer in model.layers]
    assert names.index(LAYER_NAME) == names.index(model.layers[1].name) + 1
    Z = _standardized(model, images)
    np.testing.assert_allclose(Z.mean(axis=(0, 1, 2)), 0.0, atol=1e-3)


def test_a_constant_channel_is_centred_not_divided_by_zero():
    X = _far_from_unit_scale()
    X[:, :, 1] = 7.0
    statistics = channel_statistics(X)
    assert statistics[1][1] == 0.0
    Z = _standardized(build_cnn(X.shape[1:], 2, input_statistics=statistics), X)
    assert np.all(np.isfinite(Z)) and np.all(Z[:, :, 1] == 0.0)


def test_the_rnn_standardizes_after_masking_and_padding_changes_nothing():
    X = _far_from_unit_scale(n=4, length=6)
    statistics = channel_statistics(X)
    model = build_rnn(
        (None, 2), 2, units=4, mask_value=0.0, input_statistics=statistics, seed=0
    )
    # (by class: Keras names a second Masking layer of the process "masking_1")
    masking = next(
        i for i, x in enumerate(model.layers) if isinstance(x, keras.layers.Masking)
    )
    assert model.layers[masking + 1].name == LAYER_NAME
    padded = np.concatenate([X, np.zeros((4, 3, 2), "float32")], axis=1)
    np.testing.assert_allclose(model(X), model(padded), atol=1e-5)
    # the padding is left out of the statistics
    mean, _ = channel_statistics(padded, mask_value=0.0)
    np.testing.assert_allclose(mean, statistics[0], rtol=1e-6)


def test_the_layer_computes_in_float32_under_mixed_precision():
    X = 20_000.0 * _far_from_unit_scale()  # variance ~1e12: inf in float16
    model = build_cnn(
        X.shape[1:], 2, input_statistics=channel_statistics(X), dtype="mixed_float16"
    )
    assert model.get_layer(LAYER_NAME).compute_dtype == "float32"
    assert np.all(np.isfinite(model.predict(X, verbose=0)))


@pytest.mark.parametrize(
    "statistics, match",
    [
        (([0.0], [1.0]), "2 finite floats each"),
        (([0.0, 1.0], [1.0, -1.0]), "variances >= 0"),
        (([0.0, np.nan], [1.0, 1.0]), "finite"),
        ((None, [1.0, 1.0]), "input_statistics must be"),
        ("mean and variance", "input_statistics must be"),
    ],
)
def test_bad_statistics_are_rejected_before_building(statistics, match):
    with pytest.raises(ValueError, match=match):
        build_cnn((12, 2), 2, input_statistics=statistics)


def test_token_ids_take_no_statistics():
    with pytest.raises(ValueError, match="token ids .* Leave input_statistics=None"):
        build_transformer((16,), 2, vocabulary_size=50, input_statistics=([0], [1]))


@pytest.mark.parametrize(
    "cls, tiny", ESTIMATORS, ids=lambda c: getattr(c, "__name__", "")
)
def test_estimators_standardize_with_the_training_statistics_by_default(cls, tiny):
    X = _far_from_unit_scale()
    y = (X[:, :, 0].mean(axis=1) > 1000.0).astype(int)
    if "Regressor" in cls.__name__:
        y = X[:, :, 0].mean(axis=1)
    est = cls(**tiny, epochs=1, random_state=0)
    assert est.get_params()["standardize_inputs"] is True
    est.fit(X, y)
    config = est.model_.get_layer(LAYER_NAME).get_config()
    mean, variance = channel_statistics(X)
    assert est.input_statistics_ == (mean, variance)
    np.testing.assert_allclose(config["scale"], 1 / np.sqrt(variance), rtol=1e-6)
    np.testing.assert_allclose(
        config["offset"], -np.array(mean) / np.sqrt(variance), rtol=1e-6
    )
    # the statistics are config: pickle and clone-and-refit carry the same
    again = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(again.predict(X[:5]), est.predict(X[:5]))
    refit = clone(est).fit(X, y)
    assert refit.model_.get_layer(LAYER_NAME).get_config() == config
    off = cls(**tiny, epochs=1, random_state=0, standardize_inputs=False).fit(X, y)
    assert LAYER_NAME not in [layer.name for layer in off.model_.layers]
    assert off.input_statistics_ is None


def test_standardize_inputs_must_be_a_bool():
    X = _far_from_unit_scale()
    est = CNNRegressor(standardize_inputs="yes", epochs=1)
    with pytest.raises(ValueError, match="standardize_inputs"):
        est.fit(X, X[:, 0, 0])
    assert not hasattr(est, "model_")


def test_raw_text_is_not_standardized():
    texts = ["a good day", "a bad day", "good good", "bad bad"] * 5
    clf = TransformerClassifier(**TINY_TRANSFORMER, epochs=1, random_state=0)
    clf.fit(texts, [1, 0, 1, 0] * 5)
    assert LAYER_NAME not in [layer.name for layer in clf.model_.layers]
    assert clf.input_statistics_ is None


def test_the_rnn_learns_series_far_from_unit_scale():
    """An LSTM reading counts around 1,000 saturates; standardized, it learns
    which of two channel means is larger."""
    X = _far_from_unit_scale(n=200, seed=1)
    X[:100, :, 0] += 60.0
    y = np.r_[np.ones(100, int), np.zeros(100, int)]
    clf = RNNClassifier(units=8, epochs=20, batch_size=16, random_state=0)
    assert clf.fit(X, y).score(X, y) >= 0.9


def test_weights_count_as_repeated_rows_in_the_statistics():
    rng = np.random.default_rng(42)
    X = rng.random((15, 30, 2))
    weights = rng.integers(0, 5, size=15)
    repeated = channel_statistics(X.repeat(weights, axis=0))
    assert channel_statistics(X, sample_weight=weights) == repeated
    order = rng.permutation(15)
    assert channel_statistics(X[order], sample_weight=weights[order]) == repeated


def test_fit_weighs_the_statistics_with_sample_weight():
    X = _far_from_unit_scale(n=20)
    weights = np.r_[np.zeros(10), np.full(10, 2.0)]
    est = CNNRegressor(**TINY_CNN, epochs=1, random_state=0)
    est.fit(X, X[:, 0, 0], sample_weight=weights)
    assert est.input_statistics_ == channel_statistics(X[10:])
    assert est.input_statistics_ != channel_statistics(X)


def test_a_family_whose_builder_cannot_standardize_has_no_such_parameter():
    """A family of one's own (docs/architecture.md) on a builder without
    input_statistics: no standardize_inputs that would do nothing."""
    from kerasbig import KerasRegressor
    from kerasbig.models._family import FamilyMixin, family_init

    def build_dense(
        input_shape, n_outputs, *, output_activation="linear", seed=None, dtype=None
    ):
        inputs = keras.Input(input_shape)
        flat = keras.layers.Flatten()(inputs)
        outputs = keras.layers.Dense(n_outputs, activation=output_activation)(flat)
        return keras.Model(inputs, outputs)

    class DenseRegressor(FamilyMixin, KerasRegressor):
        _builder = staticmethod(build_dense)
        __init__ = family_init(build_dense, classifier=False)

    est = DenseRegressor(epochs=1, random_state=0)
    assert "standardize_inputs" not in est.get_params()
    X = _far_from_unit_scale(n=20)
    est.fit(X, X[:, 0, 0])
    assert not hasattr(est, "input_statistics_")
    assert LAYER_NAME not in [layer.name for layer in est.model_.layers]
