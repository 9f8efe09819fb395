import pickle
import threading
from collections import Counter

import keras
import numpy as np
import pytest
from helpers import build_while_random_is_used, values

from kerasbig.models import build_cnn

TINY = {"filters": 4}  # small enough that every test builds in milliseconds


def kinds(model):
    """Count the layer (and op) classes in a functional model."""
    return Counter(op.__class__.__name__ for op in model.operations)


def layers_of(model, cls):
    return [layer for layer in model.layers if isinstance(layer, cls)]


@pytest.fixture
def no_build(monkeypatch):
    """Make any attempt to build a model fail loudly."""

    def boom(*args, **kwargs):
        raise AssertionError("the builder started building before validating")

    monkeypatch.setattr(keras, "Input", boom)


@pytest.mark.parametrize(
    "input_shape, conv",
    [((16, 2), keras.layers.Conv1D), ((8, 8, 1), keras.layers.Conv2D)],
)
def test_output_shape_conv_kind_and_uncompiled(input_shape, conv):
    model = build_cnn(input_shape, 3, **TINY)
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, *input_shape)
    assert model.output_shape == (None, 3)
    assert not model.compiled
    # the defaults: 3 blocks for a series (the FCN), 2 for an image
    assert len(layers_of(model, conv)) == (3 if conv is keras.layers.Conv1D else 2)
    assert model.name == "cnn"
    assert build_cnn(input_shape, 3, name="digits", **TINY).name == "digits"
    x = np.random.default_rng(0).normal(size=(4, *input_shape)).astype("float32")
    probabilities = np.asarray(model(x))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)


def test_defaults_are_the_fcn_for_series_and_a_small_convnet_for_images():
    series = build_cnn((50, 1), 2)
    convs = layers_of(series, keras.layers.Conv1D)
    assert [c.filters for c in convs] == [128, 256, 128]
    assert [c.kernel_size for c in convs] == [(8,), (5,), (3,)]
    assert not layers_of(series, keras.layers.MaxPooling1D)
    images = build_cnn((8, 8, 1), 10)
    convs = layers_of(images, keras.layers.Conv2D)
    assert [c.filters for c in convs] == [32, 64]
    assert [c.kernel_size for c in convs] == [(3, 3), (3, 3)]
    assert len(layers_of(images, keras.layers.MaxPooling2D)) == 1
    four = layers_of(build_cnn((50, 1), 2, n_blocks=4), keras.layers.Conv1D)
    assert [(c.filters, c.kernel_size) for c in four] == [(128, (5,))] * 4


@pytest.mark.parametrize("input_shape", [(8,), (2, 3, 4, 5), ()])
def test_wrong_rank_names_input_shape(input_shape, no_build):
    with pytest.raises(ValueError, match=r"input_shape.*2 or 3"):
        build_cnn(input_shape, 3)


def test_unknown_spatial_size_needs_a_global_pooling():
    model = build_cnn((None, 2), 3, **TINY)
    for length in (5, 11):
        assert model(np.zeros((1, length, 2), "float32")).shape == (1, 3)
    assert build_cnn((None, None, 1), 2, **TINY).output_shape == (None, 2)
    with pytest.raises(ValueError, match="flatten"):
        build_cnn((None, 2), 3, global_pooling="flatten")


@pytest.mark.parametrize(
    "activation, expected",
    [
        ("softmax", "softmax"),
        ("sigmoid", "sigmoid"),
        ("linear", "linear"),
        (None, "linear"),
    ],
)
def test_output_activation(activation, expected):
    model = build_cnn((8, 2), 2, output_activation=activation, **TINY)
    head = model.get_layer("head")
    assert head.activation.__name__ == expected
    assert head.dtype_policy.name == "float32"


@pytest.mark.parametrize("n_blocks", [1, 3])
def test_n_blocks_and_per_block_filters(n_blocks):
    filters = tuple(range(2, 2 + n_blocks))
    model = build_cnn((16, 1), 2, n_blocks=n_blocks, filters=filters)
    convs = layers_of(model, keras.layers.Conv1D)
    assert [c.filters for c in convs] == list(filters)
    model = build_cnn((16, 1), 2, n_blocks=n_blocks, filters=5)
    assert [c.filters for c in layers_of(model, keras.layers.Conv1D)] == [5] * n_blocks


def test_kernel_size():
    model = build_cnn((8, 8, 1), 2, kernel_size=5, **TINY)
    assert {c.kernel_size for c in layers_of(model, keras.layers.Conv2D)} == {(5, 5)}
    model = build_cnn((8, 8, 1), 2, kernel_size=(1, 3), **TINY)
    assert {c.kernel_size for c in layers_of(model, keras.layers.Conv2D)} == {(1, 3)}


@pytest.mark.parametrize(
    "pooling, cls",
    [("max", "MaxPooling2D"), ("mean", "AveragePooling2D"), (None, None)],
)
def test_pooling_between_blocks(pooling, cls):
    model = build_cnn((8, 8, 1), 2, n_blocks=3, filters=4, pooling=pooling)
    counts = kinds(model)
    pools = counts["MaxPooling2D"] + counts["AveragePooling2D"]
    assert pools == (0 if cls is None else 2)
    if cls:
        assert counts[cls] == 2
    assert model.layers[-2].output.shape[1:] == (4,)


def test_pooling_is_skipped_when_the_map_is_too_small():
    # 8x8 digits with 5 blocks: 8 -> 4 -> 2 -> 1, then no more pooling.
    model = build_cnn((8, 8, 1), 10, n_blocks=5, filters=4)
    assert kinds(model)["MaxPooling2D"] == 3
    assert model.output_shape == (None, 10)
    # Only the axis that can shrink is pooled.
    model = build_cnn((1, 9, 1), 2, n_blocks=3, filters=4)
    pools = layers_of(model, keras.layers.MaxPooling2D)
    assert [p.pool_size for p in pools] == [(1, 2), (1, 2)]
    assert model(np.zeros((2, 1, 9, 1), "float32")).shape == (2, 2)
    model = build_cnn((1, 2), 2, n_blocks=3, filters=4)
    assert kinds(model)["MaxPooling1D"] == 0


def test_normalization_batch_layer_or_none():
    with_bn = build_cnn((8, 8, 1), 2, **TINY)
    with_ln = build_cnn((8, 8, 1), 2, normalization="layer", **TINY)
    without = build_cnn((8, 8, 1), 2, normalization=None, **TINY)
    assert kinds(with_bn)["BatchNormalization"] == 2
    assert kinds(with_ln)["BatchNormalization"] == 0
    assert kinds(with_ln)["LayerNormalization"] == 2
    assert kinds(without)["BatchNormalization"] == 0
    assert kinds(without)["LayerNormalization"] == 0
    for model in (with_bn, with_ln):
        assert not any(c.use_bias for c in layers_of(model, keras.layers.Conv2D))
    assert all(c.use_bias for c in layers_of(without, keras.layers.Conv2D))
    # residual blocks normalise with the same layer
    residual = build_cnn((16, 1), 2, residual=True, normalization="layer", **TINY)
    assert kinds(residual)["LayerNormalization"] >= 4


def test_layer_normalization_computes_the_same_in_training_and_inference():
    x = np.random.default_rng(0).normal(size=(6, 16, 1)).astype("float32")
    model = build_cnn((16, 1), 2, normalization="layer", seed=0)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model(x, training=True)),
        keras.ops.convert_to_numpy(model(x, training=False)),
        rtol=1e-5,
    )


def test_dropout():
    assert kinds(build_cnn((8, 8, 1), 2, **TINY))["Dropout"] == 0
    model = build_cnn((8, 8, 1), 2, dropout=0.25, dense_units=(8,), **TINY)
    rates = [d.rate for d in layers_of(model, keras.layers.Dropout)]
    # after block 1, after global pooling, after the hidden dense layer
    assert rates == [0.25, 0.25, 0.25]


def test_residual_blocks_add_shortcuts():
    plain = build_cnn((8, 8, 1), 2, filters=(4, 4))
    residual = build_cnn((8, 8, 1), 2, filters=(4, 4), residual=True)
    assert kinds(plain)["Add"] == 0
    assert kinds(residual)["Add"] == 2
    # 1 input channel -> 4 filters needs a 1x1 projection; 4 -> 4 does not.
    convs = layers_of(residual, keras.layers.Conv2D)
    assert [c.kernel_size for c in convs].count((1, 1)) == 1
    assert len(convs) == 2 * 2 + 1


@pytest.mark.parametrize(
    "global_pooling, cls",
    [
        ("mean", "GlobalAveragePooling1D"),
        ("max", "GlobalMaxPooling1D"),
        ("flatten", "Flatten"),
    ],
)
def test_global_pooling(global_pooling, cls):
    model = build_cnn((8, 3), 2, global_pooling=global_pooling, **TINY)
    assert kinds(model)[cls] == 1
    assert model.output_shape == (None, 2)


def test_dense_units():
    model = build_cnn((8, 3), 2, dense_units=(16, 8), **TINY)
    assert [d.units for d in layers_of(model, keras.layers.Dense)] == [16, 8, 2]
    model = build_cnn((8, 3), 2, dense_units=7, **TINY)
    assert [d.units for d in layers_of(model, keras.layers.Dense)] == [7, 2]


def test_augmentation_is_active_in_training_only():
    keras.utils.set_random_seed(0)
    flip = keras.layers.RandomFlip("horizontal", seed=1)
    model = build_cnn((8, 8, 1), 2, normalization=None, augmentation=[flip], **TINY)
    flips = layers_of(model, keras.layers.RandomFlip)
    assert len(flips) == 1 and flips[0] is not flip  # a copy: the list is reusable
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 1)).astype("float32")
    y = np.arange(16) % 2
    inference = np.asarray(model(x, training=False))
    # predict (and evaluate) run in inference mode: no augmentation.
    np.testing.assert_allclose(model.predict(x, verbose=0), inference, rtol=1e-5)
    # Training mode flips some rows: the network sees either x or its mirror.
    trained = np.asarray(model(x, training=True))
    assert not np.allclose(trained, inference)
    flipped = np.asarray(model(x[:, :, ::-1], training=False))
    for row in range(len(x)):
        assert np.allclose(trained[row], inference[row], atol=1e-5) or np.allclose(
            trained[row], flipped[row], atol=1e-5
        )
    # Keras' own semantics: a bare model(x) uses the layer's default, and the
    # augmentation layers default to training=True. Callers wanting inference
    # must pass training=False (or use predict).
    assert not np.allclose(np.asarray(model(x)), inference)
    # fit trains on augmented data: with a zero learning rate the weights stay
    # put, so the training loss differs from the inference loss only because of
    # the flips.
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),
        loss="sparse_categorical_crossentropy",
    )
    fit_loss = model.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"][0]
    eval_loss = model.evaluate(x, y, batch_size=16, verbose=0)
    assert not np.isclose(fit_loss, eval_loss, rtol=1e-6)
    plain = build_cnn((8, 8, 1), 2, normalization=None, **TINY)
    plain.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.0),
        loss="sparse_categorical_crossentropy",
    )
    fit_loss = plain.fit(x, y, batch_size=16, epochs=1, verbose=0).history["loss"][0]
    assert np.isclose(
        fit_loss, plain.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-5
    )


def test_dtype_policies():
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:  # float64 is float32 then (CI sets it)
            pytest.skip("float64 on JAX needs JAX_ENABLE_X64=1")
    x = np.zeros((2, 8, 8, 1))
    model = build_cnn((8, 8, 1), 2, dtype="float64", **TINY)
    assert layers_of(model, keras.layers.Conv2D)[0].compute_dtype == "float64"
    # A float64 network keeps float64 to the end...
    assert model.get_layer("head").dtype_policy.name == "float64"
    assert keras.backend.standardize_dtype(model(x).dtype) == "float64"
    assert model.predict(x, verbose=0).dtype == np.float64
    # ... while mixed precision still gives float32 outputs.
    model = build_cnn((8, 8, 1), 2, dtype="mixed_bfloat16", **TINY)
    assert layers_of(model, keras.layers.Conv2D)[0].compute_dtype == "bfloat16"
    assert model.get_layer("head").dtype_policy.name == "float32"
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    assert model.predict(x, verbose=0).dtype == np.float32


def test_output_dtype_follows_the_global_policy_when_dtype_is_none():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float64")
    try:
        model = build_cnn((8, 8, 1), 2, **TINY)
    finally:
        keras.config.set_dtype_policy(previous)
    assert model.get_layer("head").dtype_policy.name == "float64"
    assert build_cnn((8, 8, 1), 2, **TINY).get_layer("head").dtype == "float32"


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"n_outputs": 0}, ValueError, r"n_outputs must be a positive integer, got 0"),
        ({"n_outputs": 2.5}, TypeError, r"n_outputs .* got 2\.5"),
        ({"n_blocks": 0}, ValueError, r"n_blocks must be a positive integer, got 0"),
        ({"filters": 0}, ValueError, r"filters must be a positive integer, got 0"),
        ({"filters": (8, -1)}, ValueError, r"filters .*\(8, -1\).*entry 1 is -1"),
        (
            {"filters": (8, 8, 8)},
            ValueError,
            r"filters .*2 positive integers.*3 entries",
        ),
        (
            {"n_blocks": 3, "filters": (32, 64)},
            ValueError,
            r"filters .*3 positive integers.*2 entries",
        ),
        ({"filters": "8"}, TypeError, r"filters .*'8'"),
        ({"kernel_size": 0}, ValueError, r"kernel_size .* got 0"),
        ({"kernel_size": (3, 3, 3)}, ValueError, r"kernel_size .*2 positive"),
        (
            {"pooling": "min"},
            ValueError,
            r"pooling must be one of 'auto', 'max', 'mean', None; got 'min'",
        ),
        ({"pooling": "avg"}, ValueError, r"pooling .*'max', 'mean', None; got 'avg'"),
        ({"global_pooling": "sum"}, ValueError, r"global_pooling .*'sum'"),
        (
            {"global_pooling": "avg"},
            ValueError,
            r"global_pooling must be one of 'mean', 'max', 'flatten'; got 'avg'",
        ),
        (
            {"dropout": 1.0},
            ValueError,
            r"dropout must be a float in \[0, 1\), got 1\.0",
        ),
        ({"dropout": -0.1}, ValueError, r"dropout .* got -0\.1"),
        ({"dense_units": (16, 0)}, ValueError, r"dense_units .*entry 1 is 0"),
        ({"output_activation": "relu"}, ValueError, r"output_activation .*'relu'"),
        ({"residual": "yes"}, TypeError, r"residual must be True or False, got 'yes'"),
        (
            {"normalization": "group"},
            ValueError,
            r"normalization must be one of 'batch', 'layer', None; got 'group'",
        ),
        ({"augmentation": ["flip"]}, TypeError, r"augmentation .*entry 0 is 'flip'"),
        ({"dtype": "float13"}, ValueError, r"dtype .*'float13'"),
        ({"seed": -1}, ValueError, r"seed must be None or a non-negative .* -1"),
        ({"seed": 1.5}, TypeError, r"seed .* got 1\.5"),
        ({"name": 3}, TypeError, r"name must be None or a string, got 3"),
        ({"input_shape": (8, 0, 1)}, ValueError, r"input_shape\[1\] .* got 0"),
        (
            {"input_shape": (8, 8, None)},
            ValueError,
            r"input_shape\[2\] must be a positive integer, got None",
        ),
        ({"input_shape": "8x8"}, TypeError, r"input_shape .*'8x8'"),
        (
            {"downsample": 0},
            ValueError,
            r"downsample must be a positive integer, got 0",
        ),
        ({"downsample": "half"}, ValueError, r"downsample .*int or 'auto', got 'half'"),
        ({"downsample": 2}, ValueError, r"downsample=2 averages the steps of a series"),
    ],
)
def test_bad_arguments_fail_before_building(kwargs, error, match, no_build):
    args = {"input_shape": (8, 8, 1), "n_outputs": 2} | kwargs
    with pytest.raises(error, match=match):
        build_cnn(args.pop("input_shape"), args.pop("n_outputs"), **args)


def test_pickle_round_trip_gives_identical_predictions():
    model = build_cnn(
        (8, 8, 1),
        3,
        filters=(4, 6),
        residual=True,
        dropout=0.1,
        dense_units=(5,),
        augmentation=[keras.layers.RandomFlip("horizontal")],
    )
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )


@pytest.mark.parametrize("input_shape", [(12, 2), (8, 8, 1)])
def test_two_epoch_fit_runs(input_shape):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, *input_shape)).astype("float32")
    y = rng.integers(0, 3, size=16)
    model = build_cnn(input_shape, 3, filters=4, dropout=0.1)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))


# -- explicit seeds ----------------------------------------------------------
SEEDED = {
    "filters": (4, 6),
    "residual": True,
    "dropout": 0.2,
    "dense_units": (5,),
    "augmentation": [keras.layers.RandomFlip("horizontal", seed=1)],
}


def test_a_seed_fixes_weights_and_dropout_masks_whatever_random_does():
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 1)).astype("float32")
    first, second = build_while_random_is_used(
        lambda: build_cnn((8, 8, 1), 3, seed=7, **SEEDED)
    )
    # A build in another thread is the same as well.
    in_thread = []
    thread = threading.Thread(
        target=lambda: in_thread.append(build_cnn((8, 8, 1), 3, seed=7, **SEEDED))
    )
    thread.start()
    thread.join()
    for other in (second, in_thread[0]):
        for a, b in zip(values(first), values(other), strict=True):
            np.testing.assert_array_equal(a, b)
    # The same flips and dropout masks in training, too.
    np.testing.assert_array_equal(first(x, training=True), second(x, training=True))


def test_different_seeds_give_different_weights():
    a = build_cnn((8, 8, 1), 3, seed=0, **SEEDED)
    b = build_cnn((8, 8, 1), 3, seed=1, **SEEDED)
    for x, y in zip(a.trainable_variables, b.trainable_variables, strict=True):
        if x.name == "kernel":
            assert not np.array_equal(x, y), x.path


def test_seeded_kernels_differ_from_each_other_and_keep_their_distribution():
    model = build_cnn((8, 8, 1), 3, filters=(4, 4), residual=True, seed=3)
    kernels = [np.asarray(v) for v in model.trainable_variables if v.name == "kernel"]
    same_shape = [k for k in kernels if k.shape == (3, 3, 4, 4)]
    assert len(same_shape) == 3
    for i, kernel in enumerate(same_shape):
        assert not any(np.array_equal(kernel, k) for k in same_shape[i + 1 :])
    for kernel in kernels:  # Keras' default, GlorotUniform, only seeded
        fan_in, fan_out = np.prod(kernel.shape[:-1]), kernel.shape[-1]
        fan_out *= np.prod(kernel.shape[:-2])
        assert np.abs(kernel).max() <= np.sqrt(6 / (fan_in + fan_out))


def test_dropout_and_augmentation_layers_carry_distinct_seeds():
    model = build_cnn((8, 8, 1), 3, seed=0, **SEEDED)
    dropouts = layers_of(model, keras.layers.Dropout)
    (flip,) = layers_of(model, keras.layers.RandomFlip)
    seeds = [d.seed for d in dropouts] + [flip.seed]
    assert len(dropouts) == 3
    assert all(isinstance(s, int) for s in seeds)
    assert len(set(seeds)) == len(seeds)
    assert flip.seed != SEEDED["augmentation"][0].seed  # derived from seed=0
    # Unseeded, Keras' defaults stay: no seed, and the user's augmentation seed.
    model = build_cnn((8, 8, 1), 3, **SEEDED)
    assert {d.seed for d in layers_of(model, keras.layers.Dropout)} == {None}
    assert layers_of(model, keras.layers.RandomFlip)[0].seed == 1


def test_without_seed_keras_global_seed_still_decides():
    keras.utils.set_random_seed(0)
    first = build_cnn((8, 8, 1), 3, **SEEDED)
    keras.utils.set_random_seed(0)
    second = build_cnn((8, 8, 1), 3, **SEEDED)
    keras.utils.set_random_seed(1)
    third = build_cnn((8, 8, 1), 3, **SEEDED)
    for a, b in zip(values(first), values(second), strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(
        first.trainable_variables[0], third.trainable_variables[0]
    )


def test_seeded_float64_and_mixed_precision_builds():
    model = build_cnn((8, 8, 1), 3, dtype="float64", seed=0, **SEEDED)
    assert {v.dtype for v in model.trainable_variables} == {"float64"}
    model = build_cnn((8, 8, 1), 3, dtype="mixed_bfloat16", seed=0, **SEEDED)
    assert {v.dtype for v in model.trainable_variables} == {"float32"}


def test_batch_norm_momentum_suits_few_updates_and_is_checked():
    model = build_cnn((16, 1), 2, seed=0)
    norms = [
        layer
        for layer in model.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and all(layer.momentum == 0.9 for layer in norms)
    residual = build_cnn((16, 1), 2, residual=True, batch_norm_momentum=0.5)
    assert {
        layer.momentum
        for layer in residual.layers
        if isinstance(layer, keras.layers.BatchNormalization)
    } == {0.5}
    with pytest.raises(ValueError, match="batch_norm_momentum must be a float"):
        build_cnn((16, 1), 2, batch_norm_momentum=1.5)


def test_series_longer_than_256_steps_are_averaged_down_to_256_positions():
    def averaging(model):
        return [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.AveragePooling1D)
        ]

    model = build_cnn((1460, 1), 3, seed=0)
    (pool,) = averaging(model)
    assert pool.pool_size == (6,) and pool.strides == (6,)
    assert pool.output.shape[1] == 244  # ceil(1460 / 6)
    # each position is the mean of its run of steps; the 4 steps of padding
    # (2 at each end) are left out of the means
    x = np.arange(1460, dtype="float32").reshape(1, 1460, 1)
    means = keras.Model(model.input, pool.output).predict(x, verbose=0)
    np.testing.assert_allclose(means[0, :3, 0], [1.5, 6.5, 12.5])
    np.testing.assert_allclose(means[0, -1, 0], 1457.5)
    assert not averaging(build_cnn((256, 1), 3))  # read whole, as before
    assert averaging(build_cnn((257, 1), 3))[0].output.shape[1] == 129
    assert not averaging(build_cnn((None, 1), 3))  # variable lengths
    assert not averaging(build_cnn((1460, 1), 3, downsample=1))
    (pool,) = averaging(build_cnn((100, 2), 3, downsample=4))
    assert pool.output.shape[1:] == (25, 2)
