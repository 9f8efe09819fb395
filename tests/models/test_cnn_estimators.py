"""CNNClassifier and CNNRegressor: inputs, errors, grid search, digits accuracy."""

import warnings

import keras
import numpy as np
import pytest
from helpers import QUICK_FIT, TINY_CNN
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, train_test_split

from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor

TINY = dict(TINY_CNN, **QUICK_FIT)


def conv_layers(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X.reshape(-1, 8, 8, 1) / 16.0, y


def test_images_build_a_conv2d_network(digits):
    X, y = digits
    clf = CNNClassifier(**TINY).fit(X[:100], y[:100])
    assert clf.input_shape_ == (8, 8, 1)
    assert clf.n_features_in_ == 8
    assert clf.model_.input_shape == (None, 8, 8, 1)
    assert conv_layers(clf.model_, keras.layers.Conv2D)
    assert not conv_layers(clf.model_, keras.layers.Conv1D)
    assert clf.predict_proba(X[:5]).shape == (5, 10)


@pytest.mark.parametrize(
    "shape, model_input", [((30, 12), (12, 1)), ((30, 12, 2), (12, 2))]
)
def test_series_build_a_conv1d_network(shape, model_input):
    X = np.random.default_rng(0).normal(size=shape)
    reg = CNNRegressor(**TINY).fit(X, X.reshape(30, -1).mean(axis=1))
    assert reg.input_shape_ == model_input
    assert reg.model_.input_shape == (None, *model_input)
    assert conv_layers(reg.model_, keras.layers.Conv1D)
    assert reg.predict(X).shape == (30,)


def test_wrong_number_of_dimensions(digits):
    X, y = digits
    clf = CNNClassifier(**TINY).fit(X[:50], y[:50])
    with pytest.raises(ValueError, match="fitted on images .* X is 2-D"):
        clf.predict(X[:5].reshape(5, 64))
    series = CNNClassifier(**TINY).fit(X[:50].reshape(50, 64), y[:50])
    with pytest.raises(ValueError, match="fitted on univariate sequences .* X is 4-D"):
        series.predict(X[:5])
    with pytest.raises(ValueError, match="got a 5-D X"):
        CNNClassifier(**TINY).fit(X[:50, None], y[:50])
    with pytest.raises(ValueError, match="fitted on \\(8, 8, 1\\)"):
        clf.predict(np.ones((2, 8, 8, 3)))


def test_images_of_different_shapes_are_rejected():
    images = [np.ones((8, 8, 1)), np.ones((8, 8, 1)), np.ones((10, 9, 1))]
    with pytest.raises(ValueError, match="X\\[0\\] is \\(8, 8, 1\\) and X\\[2\\] is"):
        CNNClassifier(**TINY).fit(images, [0, 1, 0])


def test_a_list_of_same_shaped_images_works(digits):
    X, y = digits
    clf = CNNClassifier(**TINY).fit(list(X[:40]), y[:40])
    assert clf.input_shape_ == (8, 8, 1)


def test_text_is_rejected_with_a_pointer_to_the_transformer():
    with pytest.raises(ValueError, match="X is text.*TransformerClassifier"):
        CNNClassifier(**TINY).fit(["a cat", "a dog"], [0, 1])
    with pytest.raises(ValueError, match="X is text"):
        CNNRegressor(**TINY).fit(np.array(["1.0", "2.0"]), [0.0, 1.0])


def test_variable_length_series_are_padded_with_zeros():
    rng = np.random.default_rng(0)
    series = [rng.normal(size=n) for n in (5, 9, 7, 3) * 5]
    y = [0, 1, 1, 0] * 5
    clf = CNNClassifier(**TINY).fit(series, y)
    assert clf.input_shape_ == (9, 1) and clf.n_features_in_ == 9
    padded = np.zeros((2, 9))
    padded[0, :5], padded[1, :3] = series[0], series[3]
    np.testing.assert_array_equal(
        clf.predict_proba([series[0], series[3]]), clf.predict_proba(padded)
    )
    with pytest.warns(UserWarning, match="longer than the training length \\(9\\)"):
        clf.predict([rng.normal(size=12)])
    clf.set_params(truncation="error")
    with pytest.raises(ValueError, match="longer than the training length"):
        clf.predict([rng.normal(size=12)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clf.set_params(truncation="silent").predict([rng.normal(size=12)])


def test_max_length_cuts_arrays_and_lists():
    X = np.random.default_rng(0).normal(size=(20, 10))
    y = np.arange(20) % 2
    with pytest.warns(UserWarning, match="longer than max_length=6"):
        clf = CNNClassifier(max_length=6, **TINY).fit(X, y)
    assert clf.input_shape_ == (6, 1) and clf.n_features_in_ == 10
    with pytest.raises(ValueError, match="longer than max_length=6"):
        CNNClassifier(max_length=6, truncation="error", **TINY).fit(X, y)
    listed = CNNClassifier(max_length=12, **TINY).fit(list(X[:, :4]), y)
    assert listed.input_shape_ == (12, 1)
    with pytest.raises(ValueError, match="max_length=4 applies to sequences"):
        CNNClassifier(max_length=4, **TINY).fit(np.ones((4, 8, 8, 1)), [0, 1, 0, 1])


def test_grid_search_over_filters(digits):
    X, y = digits
    search = GridSearchCV(
        CNNClassifier(n_blocks=1, epochs=2, random_state=0),
        {"filters": [4, 8]},
        cv=2,
    ).fit(X[:200], y[:200])
    assert len(search.cv_results_["params"]) == 2
    best = search.best_params_["filters"]
    assert best in (4, 8)
    conv = conv_layers(search.best_estimator_.model_, keras.layers.Conv2D)[0]
    assert conv.filters == best
    assert set(search.predict(X[200:300])) <= set(range(10))
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@pytest.mark.slow
def test_digits_accuracy_with_defaults(digits):
    """CNNClassifier's defaults on 8x8 digits, stratified 25% hold-out: >= 0.98."""
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=0
    )
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.98


def test_the_regressor_normalises_the_same_in_training_and_inference():
    """CNNRegressor's LayerNormalization: the network computes in inference
    what it computed in training, on heavy-tailed input too (with
    BatchNormalization, a batch holding one outlier row is normalised unlike
    the moving statistics, and a regressor's output carries the gap)."""
    rng = np.random.default_rng(0)
    X = rng.lognormal(sigma=2.0, size=(40, 16, 1)).astype("float32")
    y = np.log1p(X[:, :, 0]).mean(axis=1)
    reg = CNNRegressor(**TINY_CNN, epochs=3, random_state=0).fit(X, y)
    kinds = {type(layer).__name__ for layer in reg.model_.layers}
    assert "LayerNormalization" in kinds and "BatchNormalization" not in kinds
    training = keras.ops.convert_to_numpy(reg.model_(X, training=True))
    inference = keras.ops.convert_to_numpy(reg.model_(X, training=False))
    np.testing.assert_allclose(training, inference, rtol=1e-5, atol=1e-6)
    batch = CNNRegressor(**TINY_CNN, normalization="batch", epochs=3, random_state=0)
    batch.fit(X, y)
    assert not np.allclose(
        keras.ops.convert_to_numpy(batch.model_(X, training=True)),
        keras.ops.convert_to_numpy(batch.model_(X, training=False)),
        rtol=1e-3,
    )
    assert reg.normalization_ == "layer" and batch.normalization_ == "batch"


def _spiky(share, n=100, seed=0):
    """n smooth series, ``share`` of them holding one spike of 40."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 16, 1)).astype("float32")
    X[: int(round(share * n)), 3, 0] = 40.0
    return X, np.arange(n) % 2


@pytest.mark.parametrize(
    "share, expected", [(0.0, "batch"), (0.01, "batch"), (0.05, "layer")]
)
def test_auto_normalization_chooses_layer_for_heavy_tailed_rows(share, expected):
    """normalization="auto": BatchNormalization unless more than 1% of the
    training rows hold a value beyond 5 standard deviations of its channel."""
    X, y = _spiky(share)
    before = X.copy()
    clf = CNNClassifier(**TINY_CNN, epochs=1, random_state=0).fit(X, y)
    assert clf.normalization == "auto" and clf.normalization_ == expected
    kinds = {type(layer).__name__ for layer in clf.model_.layers}
    other = {"batch": "LayerNormalization", "layer": "BatchNormalization"}[expected]
    assert other not in kinds
    assert {"batch": "BatchNormalization", "layer": "LayerNormalization"}[
        expected
    ] in kinds
    np.testing.assert_array_equal(X, before)


def test_auto_normalization_leaves_out_rows_of_weight_zero():
    X, y = _spiky(0.05)
    weights = np.ones(len(X))
    weights[:5] = 0.0  # the spiky rows
    clf = CNNClassifier(**TINY_CNN, epochs=1, random_state=0)
    assert clf.fit(X, y, sample_weight=weights).normalization_ == "batch"


@pytest.mark.parametrize("value", ["batch", "layer", None])
def test_an_explicit_normalization_wins(value):
    X, y = _spiky(0.05)
    clf = CNNClassifier(**TINY_CNN, normalization=value, epochs=1).fit(X, y)
    assert clf.normalization_ == value


def test_an_unknown_normalization_is_refused_before_training():
    X, y = _spiky(0.0)
    clf = CNNClassifier(**TINY_CNN, normalization="group", epochs=1)
    with pytest.raises(
        ValueError,
        match=r"normalization='group' is invalid; expected None or one of 'auto'",
    ):
        clf.fit(X, y)
    assert not hasattr(clf, "model_") and clf.normalization == "group"
