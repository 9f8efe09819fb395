"""RNNClassifier and RNNRegressor: masking, lists of sequences, errors, grid search."""

import keras
import numpy as np
import pytest
from helpers import QUICK_FIT, TINY_RNN
from sklearn.model_selection import GridSearchCV

from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor

TINY = dict(TINY_RNN, **QUICK_FIT)


def sequences(n=40, seed=0, channels=None):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, 9, size=n)
    shape = (lambda k: (k,)) if channels is None else (lambda k: (k, channels))
    X = [rng.normal(0.5, 1.0, size=shape(k)) for k in lengths]
    return X, (lengths > 5).astype(int)


def masking_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.Masking)]


def test_a_list_of_sequences_is_padded_and_masked():
    X, y = sequences()
    clf = RNNClassifier(**TINY).fit(X, y)
    assert clf.mask_value_ == 0.0 and masking_layers(clf.model_)
    assert clf.input_shape_ == (max(map(len, X)), 1)
    alone = clf.predict_proba([X[0]])
    together = clf.predict_proba([X[0], np.ones(8)])[:1]
    np.testing.assert_allclose(alone, together, rtol=1e-6)
    # The same network, taking sequences of any length, on the unpadded one.
    config = clf.model_.get_config()
    config["layers"][0]["config"]["batch_shape"] = (None, None, 1)
    any_length = clf.model_.__class__.from_config(config)
    any_length.set_weights(clf.model_.get_weights())
    unpadded = any_length.predict(X[0][None, :, None], verbose=0)
    np.testing.assert_allclose(alone[:, 1], unpadded[:, 0], rtol=1e-5)


def test_multichannel_lists():
    X, y = sequences(channels=3)
    reg = RNNRegressor(cell="gru", **TINY).fit(X, y.astype(float))
    assert reg.input_shape_ == (max(map(len, X)), 3)
    with pytest.raises(ValueError, match="was fitted on \\(8, 3\\)"):
        reg.predict([np.ones((4, 2))])


def test_arrays_are_masked_only_with_mask_value():
    X = np.random.default_rng(0).normal(size=(20, 6, 2))
    y = np.arange(20) % 2
    plain = RNNClassifier(**TINY).fit(X, y)
    assert plain.mask_value_ is None and not masking_layers(plain.model_)
    masked = RNNClassifier(mask_value=-1.0, **TINY).fit(X, y)
    assert masked.mask_value_ == -1.0
    assert masking_layers(masked.model_)[0].mask_value == -1.0
    # a list is then padded with the mask value, so padding changes nothing
    np.testing.assert_allclose(
        masked.predict_proba([X[0, :3]]),
        masked.predict_proba(np.concatenate([X[:1, :3], -np.ones((1, 3, 2))], 1)),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    "X, match",
    [
        (np.ones((4, 3, 2, 1)), "got a 4-D X"),
        ([np.ones((2, 2, 1)), np.ones((3, 2, 1))], "must be 1-D \\(length,\\)"),
        ([np.ones(3), np.ones(0)], "X\\[1\\] is an empty sequence"),
        ([np.ones((3, 2)), np.ones((3, 1))] * 2, "X\\[1\\] has 1 channel"),
        (["a", "b", "c", "d"], "X is text"),
        ([[1.0, 2.0], ["a", 3.0]], "not a sequence of numbers"),
    ],
)
def test_bad_sequences(X, match):
    with pytest.raises(ValueError, match=match):
        RNNClassifier(**TINY).fit(X, [0, 1, 0, 1][: len(X)])


def test_bad_mask_value():
    with pytest.raises(TypeError, match="mask_value"):
        RNNClassifier(mask_value="pad", **TINY).fit(np.ones((4, 3)), [0, 1, 0, 1])


def test_truncation_of_long_sequences_in_predict():
    X, y = sequences()
    clf = RNNClassifier(max_length=5, truncation="silent", **TINY).fit(X, y)
    assert clf.input_shape_ == (5, 1)
    clf.set_params(truncation="error")
    with pytest.raises(ValueError, match="longer than the training length \\(5\\)"):
        clf.predict([np.ones(6)])
    assert clf.predict([np.ones(5), np.ones(2)]).shape == (2,)


def test_regressor_learns_a_sequence_mean():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    y = X.mean(axis=1)
    reg = RNNRegressor(
        cell="gru", units=16, epochs=40, optimizer__learning_rate=0.01, random_state=0
    ).fit(X, y)
    assert reg.score(X, y) > 0.8


def test_grid_search_over_units():
    X, y = sequences(n=60)
    search = GridSearchCV(
        RNNClassifier(cell="gru", epochs=2, random_state=0), {"units": [4, 8]}, cv=2
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 2
    model = search.best_estimator_.model_
    rnn = [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)][0]
    assert rnn.cell.units == search.best_params_["units"]


def test_float64_simple_rnn_fits_on_every_backend():
    """precision="float64" with cell="simple" failed on JAX (JAX_ENABLE_X64=1):
    Keras 3.15's tanh turned the float64 recurrent state into float32 and
    jax.lax.scan refused it. The JAX pass of .ci/run runs this on JAX."""
    import pickle

    X, y = sequences()
    clf = RNNClassifier(cell="simple", precision="float64", **TINY).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.dtype == np.float64 and np.all(np.isfinite(proba))
    restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), proba)


def _stem_and_dropout(model):
    """Whether the network has the convolutional patch embedding (a Conv1D of
    kernel 8 before the strided one), and its recurrent layer's dropout."""
    kernels = [
        layer.kernel_size[0]
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv1D)
    ]
    recurrent = next(x for x in model.layers if isinstance(x, keras.layers.RNN))
    return 8 in kernels[:1], recurrent.dropout


@pytest.mark.parametrize(
    "estimator, stem, dropout",
    [
        (RNNClassifier(**TINY), True, 0.0),
        (RNNRegressor(**TINY), False, 0.4),  # the regressor's own defaults
        (RNNRegressor(patch_embedding="conv", dropout=0.1, **TINY), True, 0.1),
        (RNNClassifier(patch_embedding="linear", dropout=0.2, **TINY), False, 0.2),
    ],
)
def test_patch_embedding_and_dropout_defaults(estimator, stem, dropout):
    X = np.random.default_rng(0).normal(size=(24, 130))  # 130 steps: patches of 3
    y = np.arange(24) % 2
    estimator.fit(X, y)
    assert _stem_and_dropout(estimator.model_) == (stem, dropout)
    assert estimator.get_params()["dropout"] == dropout
