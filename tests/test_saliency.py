"""Saliency (kerasbig/saliency/): gradients and integrated gradients for
every family, on the backend in use (run once more with KERAS_BACKEND=jax).

Each estimator is fitted once per module (``fitted``); tests must not change
them. Checked: plain gradients against finite differences, completeness of
integrated gradients, the informative position standing out, shapes for each
kind of input, the plots, and clear errors for bad arguments, raised before
the network runs.
"""

import functools

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402

from kerasbig import (  # noqa: E402
    CNNClassifier,
    KerasClassifier,
    KerasRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.saliency import plot_saliency, saliency  # noqa: E402

TEXTS = [
    "a good film with great acting",
    "great fun and a fine cast",
    "a dull plot and boring scenes",
    "boring, long and badly acted",
] * 4
TEXT_LABELS = ["pos", "pos", "neg", "neg"] * 4


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def tanh_mlp(meta, seed=None):
    """A smooth perceptron (tanh), so that finite differences are exact enough."""
    init = keras.initializers.GlorotUniform(seed=seed)
    if "classes_" in meta:
        units, activation = meta["n_classes_"], "softmax"
    else:
        units, activation = meta["n_outputs_"], None
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Dense(6, activation="tanh", kernel_initializer=init)(inputs)
    outputs = keras.layers.Dense(units, activation=activation, kernel_initializer=init)(
        x
    )
    return keras.Model(inputs, outputs)


def embedding_model(meta, seed=None):
    """Token ids -> a keras.layers.Embedding -> mean -> softmax."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=meta["X_shape_"][1:], dtype="int32")
    x = keras.layers.Embedding(20, 4, embeddings_initializer="uniform")(inputs)
    x = keras.layers.GlobalAveragePooling1D()(x)
    outputs = keras.layers.Dense(
        meta["n_classes_"], "softmax", kernel_initializer=init
    )(x)
    return keras.Model(inputs, outputs)


def series(seed, n=32, length=10, channels=None):
    shape = (n, length) if channels is None else (n, length, channels)
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


TINY = dict(epochs=2, random_state=0, verbose=0)
TRANSFORMER = dict(model_dim=8, num_heads=1, num_layers=1, ff_dim=8, **TINY)


@functools.cache
def fitted(name):
    """Each estimator fitted once; the tests only read them."""
    X = series(0)
    if name == "mlp_regressor":
        X3 = series(0, length=3)
        return KerasRegressor(tanh_mlp, model__seed=0, **TINY).fit(X3, X3 @ [1, -2, 3])
    if name == "mlp_classifier":
        X3 = series(0, length=3)
        return KerasClassifier(tanh_mlp, model__seed=0, **TINY).fit(
            X3, (X3[:, 0] > 0).astype(int) + (X3[:, 1] > 0)
        )
    if name == "embedding_classifier":
        ids = np.random.default_rng(0).integers(0, 20, size=(32, 5))
        return KerasClassifier(embedding_model, model__seed=0, **TINY).fit(
            ids, ids[:, 0] % 3
        )
    if name == "rnn_binary":
        return RNNClassifier(units=3, **TINY).fit(
            X, np.where(X[:, 2] > 0, "up", "down")
        )
    if name == "rnn_regressor":
        y = np.column_stack([X[:, 2], X[:, 5]]) * 10 + 50
        return RNNRegressor(units=3, **TINY).fit(X, y)
    if name == "rnn_channels":
        X3 = series(0, channels=2)
        return RNNClassifier(units=3, **TINY).fit(X3, (X3[:, 2, 0] > 0).astype(int))
    if name == "cnn_images":
        images = np.random.default_rng(0).uniform(size=(24, 8, 8, 1)).astype("float32")
        labels = np.arange(24) % 3
        return CNNClassifier(n_blocks=1, filters=4, **TINY).fit(images, labels)
    if name == "transformer_numeric":
        return TransformerRegressor(**TRANSFORMER).fit(X, X[:, 2])
    if name == "transformer_tokens":
        ids = np.random.default_rng(0).integers(1, 20, size=(32, 7))
        return TransformerClassifier(input_type="tokens", **TRANSFORMER).fit(
            ids, ids[:, 0] % 2
        )
    if name == "transformer_text":
        return TransformerClassifier(
            max_length=12, truncation="silent", **TRANSFORMER
        ).fit(TEXTS, TEXT_LABELS)
    raise KeyError(name)


# ----------------------------------------------------------------------
# Correctness
# ----------------------------------------------------------------------
def test_gradients_match_finite_differences():
    reg = fitted("mlp_regressor")
    X = series(1, n=4, length=3).astype(np.float64)
    grads = saliency(reg, X, method="gradients")
    eps = 1e-2
    numeric = np.zeros_like(X)
    for j in range(X.shape[1]):
        step = np.zeros_like(X)
        step[:, j] = eps
        up = reg.predict((X + step).astype("float32"))
        down = reg.predict((X - step).astype("float32"))
        numeric[:, j] = (up - down) / (2 * eps)
    np.testing.assert_allclose(grads, numeric, rtol=2e-2, atol=2e-3)


def test_gradients_of_a_class_match_finite_differences():
    clf = fitted("mlp_classifier")
    X = series(2, n=3, length=3)
    grads = saliency(clf, X, method="gradients", target=2)
    eps = 1e-2
    for j in range(3):
        step = np.zeros_like(X)
        step[:, j] = eps
        numeric = (
            clf.predict_proba(X + step)[:, 2] - clf.predict_proba(X - step)[:, 2]
        ) / (2 * eps)
        np.testing.assert_allclose(grads[:, j], numeric, rtol=5e-2, atol=2e-3)


def completeness_gap(attributions, before, after):
    gap = np.abs(
        attributions.reshape(len(attributions), -1).sum(axis=1) - (after - before)
    )
    return gap.max(), np.abs(after - before).max()


def test_integrated_gradients_completeness_classifier():
    clf = fitted("rnn_binary")
    X = series(3, n=5)
    predicted = clf.predict(X)
    attributions = saliency(clf, X, steps=64)
    column = np.searchsorted(clf.classes_, predicted)
    rows = np.arange(len(X))
    after = clf.predict_proba(X)[rows, column]
    before = clf.predict_proba(np.zeros_like(X))[rows, column]
    gap, size = completeness_gap(attributions, before, after)
    assert gap <= 0.02 * size + 1e-4


def test_integrated_gradients_completeness_regressor_in_units_of_y():
    reg = fitted("rnn_regressor")
    X = series(4, n=4)
    baseline = np.full(X.shape[1], 0.5, dtype="float32")
    attributions = saliency(reg, X, target=1, baseline=baseline, steps=64)
    after = reg.predict(X)[:, 1]
    before = reg.predict(np.tile(baseline, (len(X), 1)))[:, 1]
    gap, size = completeness_gap(attributions, before, after)
    assert gap <= 0.02 * size + 1e-3


def test_integrated_gradients_completeness_on_text_embeddings():
    clf = fitted("transformer_text")
    texts = ["a good film", "boring scenes and a dull plot"]
    attributions = saliency(clf, texts, target="pos", steps=64)
    after = clf.predict_proba(texts)[:, 1]
    # The baseline: the padding id's embedding at every position, with the
    # padding mask of the texts; its output is the model's on those embeddings.
    model = clf.model_
    layer = next(lay for lay in model.layers if hasattr(lay, "token_embedding"))
    head = keras.Model([model.inputs[0], layer.output], model.outputs)
    ids = clf._validate_X(texts)
    padding = layer(np.zeros_like(ids))
    before = keras.ops.convert_to_numpy(
        head([keras.ops.convert_to_tensor(ids), padding])
    )
    gap, size = completeness_gap(attributions, before[:, 0], after)
    assert gap <= 0.05 * size + 1e-3


def test_integrated_gradients_completeness_on_a_keras_embedding():
    clf = fitted("embedding_classifier")
    ids = np.array([[1, 2, 3, 4, 5], [7, 7, 0, 19, 2]])
    attributions = saliency(clf, ids, target=1, baseline=0, steps=64)
    assert attributions.shape == ids.shape
    after = clf.predict_proba(ids)[:, 1]
    before = clf.predict_proba(np.zeros_like(ids))[:, 1]
    gap, size = completeness_gap(attributions, before, after)
    assert gap <= 0.02 * size + 1e-5


def test_first_class_of_one_sigmoid_unit_is_explained_through_one_minus_p():
    clf = fitted("rnn_binary")  # one sigmoid unit: p("up")
    X = series(3, n=4)
    up = saliency(clf, X, method="gradients", target="up")
    down = saliency(clf, X, method="gradients", target="down")
    np.testing.assert_allclose(down, -up, rtol=1e-6)
    attributions = saliency(clf, X, target="down", steps=64)
    after = clf.predict_proba(X)[:, 0]
    before = clf.predict_proba(np.zeros_like(X))[:, 0]
    gap, size = completeness_gap(attributions, before, after)
    assert gap <= 0.02 * size + 1e-4


@pytest.mark.parametrize("name", ["rnn_binary", "embedding_classifier"])
@pytest.mark.parametrize("method", ["gradients", "integrated_gradients"])
def test_small_batches_give_the_same_attributions(name, method):
    # batch_size=8 with steps=4: batches of 2 rows, the last one padded.
    est = fitted(name)
    if name == "rnn_binary":
        X = series(9, n=5)
    else:
        X = np.random.default_rng(9).integers(0, 20, size=(5, 5))
    kwargs = dict(method=method, steps=4) if method != "gradients" else {}
    small = saliency(est, X, batch_size=8 if kwargs else 2, **kwargs)
    whole = saliency(est, X, batch_size=256, **kwargs)
    np.testing.assert_allclose(small, whole, rtol=1e-5, atol=1e-7)


FAST_LEARNING = dict(optimizer__learning_rate=0.03, random_state=0, verbose=0)
INFORMATIVE = {
    # name: (columns of X, the one that decides y, estimator, margin)
    "time step of a GRU": (
        8,
        3,
        lambda: RNNRegressor(cell="gru", units=8, epochs=10, **FAST_LEARNING),
        1.5,
    ),
    "feature of a perceptron": (
        4,
        1,
        lambda: KerasRegressor(
            tanh_mlp, model__seed=0, optimizer="adam", epochs=30, **FAST_LEARNING
        ),
        3.0,
    ),
}


@pytest.mark.parametrize("case", list(INFORMATIVE))
def test_informative_input_has_the_largest_attribution(case):
    columns, informative, make, margin = INFORMATIVE[case]
    X = np.random.default_rng(0).normal(size=(200, columns)).astype("float32")
    reg = make().fit(X, 3.0 * X[:, informative])  # only one column matters
    for method in ("gradients", "integrated_gradients"):
        strength = np.abs(saliency(reg, X[:32], method=method, steps=16)).mean(axis=0)
        others = np.delete(strength, informative).max()
        assert strength.argmax() == informative, (method, strength)
        assert strength[informative] > margin * others, (method, strength)


# ----------------------------------------------------------------------
# Shapes: like X, for each kind of input
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "name, X, shape",
    [
        ("mlp_classifier", series(5, n=3, length=3), (3, 3)),
        ("rnn_binary", series(5, n=3), (3, 10)),
        ("rnn_channels", series(5, n=3, channels=2), (3, 10, 2)),
        ("rnn_binary", [np.arange(10.0), np.arange(6.0)], (2, 10)),
        (
            "cnn_images",
            np.random.default_rng(5).uniform(size=(2, 8, 8, 1)).astype("float32"),
            (2, 8, 8, 1),
        ),
        ("transformer_numeric", series(5, n=3), (3, 10)),
        ("transformer_tokens", np.array([[1, 5, 7, 0, 0, 0, 0], [3] * 7]), (2, 7)),
        ("transformer_text", ["a good film", "boring"], (2, 12)),
    ],
)
@pytest.mark.parametrize("method", ["gradients", "integrated_gradients"])
def test_attributions_are_shaped_like_X(name, X, shape, method):
    est = fitted(name)
    attributions = saliency(est, X, method=method, steps=4)
    assert attributions.shape == shape
    assert attributions.dtype == np.float32
    assert np.all(np.isfinite(attributions))


def test_padding_tokens_get_no_attribution():
    clf = fitted("transformer_text")
    ids = clf._validate_X(["a good film"])[0]
    attributions = saliency(clf, ["a good film"], steps=4)[0]
    assert np.all(attributions[ids == 0] == 0)
    assert np.any(attributions[ids != 0] != 0)


# ----------------------------------------------------------------------
# Plots
# ----------------------------------------------------------------------
def test_plot_image_heat_map():
    images = np.random.default_rng(6).uniform(size=(3, 8, 8, 1)).astype("float32")
    fig = plot_saliency(fitted("cnn_images"), images, index=1, steps=4)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["input", "integrated_gradients"]
    assert fig.axes[1].images[-1].get_array().shape == (8, 8)


def test_plot_sequence_along_time_axis():
    X = series(7, n=3)
    fig = plot_saliency(fitted("rnn_binary"), X, index=2, method="gradients")
    assert fig.axes[1].get_title() == "gradients"
    assert fig.axes[1].get_xlabel() == "time step"
    np.testing.assert_allclose(
        fig.axes[1].lines[0].get_ydata(),
        saliency(fitted("rnn_binary"), X[2:], method="gradients")[0],
        rtol=1e-5,
    )


def test_plot_features_one_bar_each():
    reg = fitted("mlp_regressor")
    X = series(7, n=2, length=3)
    fig = plot_saliency(reg, X, index=-1, method="gradients")
    ax = fig.axes[1]
    assert ax.get_xlabel() == "feature"
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(
        heights, saliency(reg, X[1:], method="gradients")[0], rtol=1e-5
    )


def test_plot_token_ids_of_a_keras_embedding_keeps_id_0():
    # Id 0 is padding for the Transformer family only; here it is a token.
    clf = fitted("embedding_classifier")
    ids = np.array([[3, 0, 7, 0, 1]])
    fig = plot_saliency(clf, ids, steps=4)
    labels = [tick.get_text() for tick in fig.axes[0].get_xticklabels()]
    assert labels == ["3", "0", "7", "0", "1"]
    assert len(fig.axes[0].patches) == 5


def test_plot_text_one_bar_per_token_on_given_axes():
    clf = fitted("transformer_text")
    attributions = saliency(clf, ["a good film", "boring"], steps=4)
    fig, ax = plt.subplots()
    assert (
        plot_saliency(clf, ["a good film", "boring"], attributions=attributions, ax=ax)
        is fig
    )
    labels = [tick.get_text() for tick in ax.get_xticklabels()]
    assert labels[0] == "[CLS]" and len(ax.patches) == len(labels)
    assert "".join(labels[1:]).replace("#", "") == "agoodfilm"


# ----------------------------------------------------------------------
# Bad arguments
# ----------------------------------------------------------------------
def test_unknown_method():
    with pytest.raises(ValueError, match=r"method='saliency' is invalid.*integrated"):
        saliency(fitted("rnn_binary"), series(8, n=2), method="saliency")


def test_target_not_in_classes():
    with pytest.raises(ValueError, match=r"target='sideways' is not one of .*'down'"):
        saliency(fitted("rnn_binary"), series(8, n=2), target="sideways")


@pytest.mark.parametrize(
    "target, error, match",
    [
        (None, ValueError, r"target=None is ambiguous.*2 outputs"),
        (2, ValueError, r"target=2 is invalid.*\[0, 1\]"),
        ("y", TypeError, r"target='y' is invalid.*int index"),
    ],
)
def test_regressor_target(target, error, match):
    with pytest.raises(error, match=match):
        saliency(fitted("rnn_regressor"), series(8, n=2), target=target)


def test_unfitted_estimator():
    with pytest.raises(NotFittedError):
        saliency(RNNClassifier(), series(8, n=2))


def test_not_an_estimator():
    with pytest.raises(TypeError, match=r"estimator=.* is invalid; expected a fitted"):
        saliency(object(), series(8, n=2))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(steps=0), ValueError, r"steps=0 is invalid; expected an int >= 1"),
        (dict(steps=2.5), TypeError, r"steps=2.5 is invalid; expected an int"),
        (dict(batch_size=-1), ValueError, r"batch_size=-1 is invalid"),
        (
            dict(baseline=np.zeros(3)),
            ValueError,
            r"baseline of shape \(3,\) is invalid",
        ),
        (
            dict(method="gradients", baseline=0.0),
            ValueError,
            r"baseline=0.0 applies to method='integrated_gradients' only",
        ),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        saliency(fitted("rnn_binary"), series(8, n=2), **kwargs)


def test_text_baseline_must_be_a_token_id():
    with pytest.raises(TypeError, match=r"baseline=0.5 is invalid; for token ids"):
        saliency(fitted("transformer_text"), ["a good film"], baseline=0.5)


def test_text_baseline_outside_the_vocabulary():
    clf = fitted("transformer_text")
    with pytest.raises(ValueError, match=r"baseline=1000 is invalid.*\[0, \d+\]"):
        saliency(clf, ["a good film"], baseline=1000)


@pytest.mark.parametrize(
    "name, X, kwargs, error",
    [
        ("rnn_binary", series(8, n=2), dict(target="sideways"), ValueError),
        ("rnn_regressor", series(8, n=2), dict(target=5), ValueError),
        ("rnn_binary", series(8, n=2), dict(baseline=np.zeros(3)), ValueError),
        ("transformer_text", ["a good film"], dict(baseline=-1), ValueError),
        ("rnn_binary", series(8, n=2), dict(steps=0), ValueError),
        ("rnn_binary", series(8, n=2, length=4), {}, ValueError),
    ],
)
def test_arguments_are_checked_before_the_network_runs(
    name, X, kwargs, error, monkeypatch
):
    def fail(*args, **kwargs):
        raise AssertionError("the network ran before the arguments were checked")

    # The two places where the network runs.
    monkeypatch.setattr("kerasbig.saliency.attribution._network_outputs", fail)
    monkeypatch.setattr("kerasbig.saliency.attribution._gradient_function", fail)
    with pytest.raises(error):
        saliency(fitted(name), X, **kwargs)


def test_X_shaped_unlike_fit():
    with pytest.raises(ValueError):
        saliency(fitted("rnn_binary"), series(8, n=2, length=4, channels=3))


def test_plot_attributions_with_saliency_arguments():
    X = series(8, n=2)
    attributions = saliency(fitted("rnn_binary"), X, method="gradients")
    with pytest.raises(ValueError, match=r"\['method'\] cannot be used with"):
        plot_saliency(
            fitted("rnn_binary"), X, attributions=attributions, method="gradients"
        )
    with pytest.raises(ValueError, match=r"attributions of shape \(10,\)"):
        plot_saliency(fitted("rnn_binary"), X, attributions=attributions[0])


def test_plot_index_out_of_range():
    with pytest.raises(ValueError, match=r"index=5 is invalid; X has 2 rows"):
        plot_saliency(fitted("rnn_binary"), series(8, n=2), index=5)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_a_recurrent_network_with_dropout_is_explained_without_changing_it(cell):
    # Keras' recurrent cells draw a dropout mask even in inference, advancing
    # a seed: under jax.jit that leaked a tracer (the RNN regressor's dropout
    # is 0.4 by default). The attribution must neither fail nor change the model.
    X = series(0)
    clf = RNNClassifier(units=3, cell=cell, dropout=0.3, **TINY).fit(X, X[:, 2] > 0)
    before = clf.predict_proba(X)
    attributions = saliency(clf, X[:4], steps=8)
    assert attributions.shape == (4, X.shape[1]) and np.isfinite(attributions).all()
    np.testing.assert_array_equal(clf.predict_proba(X), before)
