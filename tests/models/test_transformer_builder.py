import pickle
import subprocess
import sys
from collections import Counter

import keras
import keras_hub
import numpy as np
import pytest
from helpers import build_while_random_is_used, values

from kerasbig.models import build_transformer

TINY = {"model_dim": 8, "num_heads": 2, "ff_dim": 16, "num_layers": 1}
TOKENS = {"vocabulary_size": 30, **TINY}


def kinds(model):
    """Count the layer (and op) classes in a functional model."""
    return Counter(op.__class__.__name__ for op in model.operations)


def encoders(model):
    return [
        x for x in model.layers if isinstance(x, keras_hub.layers.TransformerEncoder)
    ]


@pytest.fixture
def no_build(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the builder started building before validating")

    monkeypatch.setattr(keras, "Input", boom)


def test_token_input():
    model = build_transformer((10,), 3, **TOKENS)
    assert isinstance(model, keras.Model)
    assert not model.compiled
    assert model.name == "transformer"
    assert model.input_shape == (None, 10)
    assert model.output_shape == (None, 3)
    assert keras.backend.standardize_dtype(model.input.dtype) == "int32"
    assert kinds(model)["TokenAndPositionEmbedding"] == 1
    assert kinds(model)["NotEqual"] == 1  # the padding mask, ids != 0
    ids = np.array([[1, 2, 3, 0, 0, 0, 0, 0, 0, 0], [4, 5, 6, 7, 8, 9, 1, 2, 3, 4]])
    np.testing.assert_allclose(np.asarray(model(ids)).sum(axis=1), 1.0, rtol=1e-5)


def test_numeric_input():
    model = build_transformer((12, 2), 1, output_activation="linear", **TINY)
    assert model.input_shape == (None, 12, 2)
    assert model.output_shape == (None, 1)
    counts = kinds(model)
    assert counts["PositionEmbedding"] == 1 and counts["TokenAndPositionEmbedding"] == 0
    assert model.layers[1].units == 8  # the Dense projection to model_dim
    assert model.get_layer("head").activation.__name__ == "linear"


@pytest.mark.parametrize("global_pooling", ["mean", "first"])
def test_padding_changes_nothing_for_token_input(global_pooling):
    keras.utils.set_random_seed(0)
    model = build_transformer(
        (None,), 2, max_length=12, global_pooling=global_pooling, dropout=0.0, **TOKENS
    )
    ids = np.array([[5, 7, 9, 11], [3, 4, 0, 0]])
    padded = np.concatenate([ids, np.zeros((2, 5), ids.dtype)], axis=1)
    np.testing.assert_allclose(
        np.asarray(model(ids)), np.asarray(model(padded)), atol=1e-5
    )
    np.testing.assert_allclose(
        np.asarray(model(ids[1:, :2]))[0], np.asarray(model(ids))[1], atol=1e-5
    )


def test_mean_pooling_ignores_padding_positions():
    keras.utils.set_random_seed(0)
    model = build_transformer((6,), 2, dropout=0.0, **TOKENS)
    features = keras.Model(model.input, model.get_layer("head").input)
    sequence = keras.Model(model.input, encoders(model)[-1].output)
    ids = np.array([[5, 7, 9, 0, 0, 0]])
    np.testing.assert_allclose(
        np.asarray(features(ids)),
        np.asarray(sequence(ids))[:, :3].mean(axis=1),
        atol=1e-6,
    )


def test_first_pooling_takes_position_zero():
    keras.utils.set_random_seed(0)
    model = build_transformer((6, 2), 2, global_pooling="first", dropout=0.0, **TINY)
    assert kinds(model)["GetItem"] == 1 and kinds(model)["GlobalAveragePooling1D"] == 0
    features = keras.Model(model.input, model.get_layer("head").input)
    sequence = keras.Model(model.input, encoders(model)[-1].output)
    x = np.random.default_rng(0).normal(size=(2, 6, 2)).astype("float32")
    np.testing.assert_allclose(
        np.asarray(features(x)), np.asarray(sequence(x))[:, 0], atol=1e-6
    )


def test_architecture_parameters_reach_the_layers():
    model = build_transformer(
        (10,),
        2,
        vocabulary_size=30,
        num_layers=3,
        num_heads=4,
        model_dim=16,
        ff_dim=24,
        dropout=0.2,
        max_length=20,
    )
    blocks = encoders(model)
    assert len(blocks) == 3
    assert {b.num_heads for b in blocks} == {4}
    assert {b.intermediate_dim for b in blocks} == {24}
    assert {b.dropout for b in blocks} == {0.2}
    assert blocks[0].output.shape[-1] == 16
    embedding = model.get_layer(index=1)
    assert isinstance(embedding, keras_hub.layers.TokenAndPositionEmbedding)
    assert embedding.token_embedding.input_dim == 30
    assert embedding.position_embedding.sequence_length == 20
    default = build_transformer((10,), 2, **TOKENS).layers[1]
    assert default.position_embedding.sequence_length == 10  # max_length default
    dropouts = [d.rate for d in model.layers if isinstance(d, keras.layers.Dropout)]
    assert dropouts == [0.2]
    assert kinds(build_transformer((10,), 2, dropout=0.0, **TOKENS))["Dropout"] == 0


def test_dense_units():
    model = build_transformer((6, 2), 2, dense_units=(8, 4), dropout=0.1, **TINY)
    dense = [x for x in model.layers if isinstance(x, keras.layers.Dense)]
    assert [d.units for d in dense] == [8, 8, 4, 2]  # projection, hidden, hidden, head
    # embedding dropout and one after each hidden dense layer
    assert kinds(model)["Dropout"] == 3


def test_variable_numeric_length_needs_max_length():
    model = build_transformer((None, 2), 2, max_length=8, **TINY)
    for length in (3, 8):
        assert model(np.zeros((1, length, 2), "float32")).shape == (1, 2)
    with pytest.raises(ValueError, match=r"max_length is required"):
        build_transformer((None, 2), 2)


def test_mixed_precision_outputs_float32_and_float64_stays_float64():
    model = build_transformer((6,), 2, dtype="mixed_bfloat16", **TOKENS)
    assert encoders(model)[0].compute_dtype == "bfloat16"
    out = model(np.array([[1, 2, 3, 0, 0, 0]]))
    assert keras.backend.standardize_dtype(out.dtype) == "float32"
    model = build_transformer((6,), 2, dtype="float64", **TOKENS)
    assert model.get_layer("head").dtype_policy.name == "float64"
    out = model(np.array([[1, 2, 3, 0, 0, 0]]))
    assert keras.backend.standardize_dtype(out.dtype) == "float64"


def test_old_pooling_argument_is_gone():
    with pytest.raises(TypeError, match="pooling"):
        build_transformer((6,), 2, pooling="first", **TOKENS)


@pytest.mark.parametrize(
    "input_shape, kwargs, error, match",
    [
        (
            (10,),
            {},
            ValueError,
            r"input_shape must have 2 dimensions .*vocabulary_size",
        ),
        (
            (10, 2),
            {"vocabulary_size": 30},
            ValueError,
            r"input_shape must have 1 dimensions",
        ),
        (
            (10,),
            {"vocabulary_size": 0},
            ValueError,
            r"vocabulary_size must be a positive integer, got 0",
        ),
        (
            (10, 2),
            {"num_heads": 3, "model_dim": 8},
            ValueError,
            r"num_heads must divide model_dim, got num_heads=3 and model_dim=8",
        ),
        (
            (10, 2),
            {"num_layers": 0},
            ValueError,
            r"num_layers must be a positive integer, got 0",
        ),
        (
            (10, 2),
            {"num_heads": 0},
            ValueError,
            r"num_heads must be a positive integer, got 0",
        ),
        (
            (10, 2),
            {"model_dim": -8},
            ValueError,
            r"model_dim must be a positive integer, got -8",
        ),
        (
            (10, 2),
            {"ff_dim": 0},
            ValueError,
            r"ff_dim must be a positive integer, got 0",
        ),
        (
            (10, 2),
            {"dropout": 1},
            ValueError,
            r"dropout must be a float in \[0, 1\), got 1",
        ),
        (
            (10, 2),
            {"max_length": 5},
            ValueError,
            r"max_length must be at least .*10, got max_length=5",
        ),
        (
            (None,),
            {"vocabulary_size": 30},
            ValueError,
            r"max_length is required .*input_shape=\(None,\)",
        ),
        (
            (10, 2),
            {"global_pooling": "max"},
            ValueError,
            r"global_pooling must be one of 'mean', 'first'; got 'max'",
        ),
        (
            (10, 2),
            {"patch_embedding": "conv2d"},
            ValueError,
            r"patch_embedding must be one of 'linear', 'conv'; got 'conv2d'",
        ),
        (
            (10, 2),
            {"dense_units": (4, -2)},
            ValueError,
            r"dense_units .*entry 1 is -2",
        ),
        (
            (10, 2),
            {"output_activation": "softplus"},
            ValueError,
            r"output_activation .*'softplus'",
        ),
        ((10, 2), {"dtype": "int8x"}, ValueError, r"dtype .*'int8x'"),
        ((10, 2), {"seed": -1}, ValueError, r"seed must be None or a non-negative"),
        ((10, 2), {"seed": True}, TypeError, r"seed .* got True"),
    ],
)
def test_bad_arguments_fail_before_building(
    input_shape, kwargs, error, match, no_build
):
    args = TINY | kwargs
    with pytest.raises(error, match=match):
        build_transformer(input_shape, 2, **args)


def test_zero_outputs_rejected(no_build):
    with pytest.raises(
        ValueError, match=r"n_outputs must be a positive integer, got 0"
    ):
        build_transformer((10,), 0, vocabulary_size=30)


@pytest.mark.parametrize(
    "input_shape, kwargs, x",
    [
        ((None,), dict(max_length=8, **TOKENS), np.array([[3, 4, 5, 0], [1, 2, 0, 0]])),
        (
            (6, 2),
            dict(global_pooling="first", dense_units=(4,), **TINY),
            np.ones((2, 6, 2), "float32"),
        ),
    ],
)
def test_pickle_round_trip_gives_identical_predictions(input_shape, kwargs, x):
    model = build_transformer(input_shape, 3, **kwargs)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )


def test_unpickles_in_a_fresh_process_without_kerasbig(tmp_path):
    # Only built-in Keras / keras-hub layers and ops: nothing to register first.
    model = build_transformer((None,), 2, max_length=8, **TOKENS)
    ids = np.array([[3, 4, 5, 0]])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(model))
    np.save(tmp_path / "expected.npy", model.predict(ids, verbose=0))
    code = (
        "import pickle, sys, numpy as np\n"
        f"model = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        "assert 'kerasbig' not in sys.modules\n"
        f"expected = np.load({str(tmp_path / 'expected.npy')!r})\n"
        "got = model.predict(np.array([[3, 4, 5, 0]]), verbose=0)\n"
        "np.testing.assert_array_equal(got, expected)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]


@pytest.mark.parametrize("tokens", [True, False])
def test_two_epoch_fit_runs(tokens):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    if tokens:
        x = rng.integers(1, 30, size=(16, 8))
        x[::2, 5:] = 0  # some padded rows
        model = build_transformer((8,), 2, **TOKENS)
    else:
        x = rng.normal(size=(16, 8, 2)).astype("float32")
        model = build_transformer((8, 2), 2, **TINY)
    y = rng.integers(0, 2, size=16)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))


# -- explicit seeds ----------------------------------------------------------
SEEDED = {**TOKENS, "num_layers": 2, "dropout": 0.2, "dense_units": (4,)}


@pytest.mark.parametrize(
    "input_shape, kwargs, x",
    [
        ((6,), SEEDED, np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6]])),
        ((6, 2), {**SEEDED, "vocabulary_size": None}, np.ones((2, 6, 2), "float32")),
    ],
)
def test_a_seed_fixes_weights_and_dropout_masks_whatever_random_does(
    input_shape, kwargs, x
):
    first, second = build_while_random_is_used(
        lambda: build_transformer(input_shape, 2, seed=5, **kwargs)
    )
    for a, b in zip(values(first), values(second), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(first(x, training=True), second(x, training=True))


def test_different_seeds_give_different_weights():
    a = build_transformer((6,), 2, seed=0, **SEEDED)
    b = build_transformer((6,), 2, seed=1, **SEEDED)
    for x, y in zip(a.trainable_variables, b.trainable_variables, strict=True):
        if x.name in ("kernel", "embeddings"):
            assert not np.array_equal(x, y), x.path


def test_seeded_kernels_are_distinct_and_glorot_uniform():
    model = build_transformer((6,), 2, seed=0, **{**SEEDED, "model_dim": 32})
    for encoder in encoders(model):
        kernels = {
            v.path.split("/")[-2]: v
            for v in encoder.trainable_variables
            if v.name == "kernel"
        }
        query, key, value = (np.asarray(kernels[n]) for n in ("query", "key", "value"))
        assert not np.array_equal(query, key)
        assert not np.array_equal(query, value)
        assert not np.array_equal(key, value)
        # The biases of the attention projections (2-D) stay zeros.
        biases = [v for v in encoder.trainable_variables if v.name == "bias"]
        assert all(not np.any(np.asarray(b)) for b in biases)
        # The distribution of keras-hub's default, GlorotUniform(shape).
        for name in ("query", "attention_output", "feedforward_output_dense"):
            kernel = np.asarray(kernels[name])
            expected = np.asarray(keras.initializers.GlorotUniform(0)(kernel.shape))
            assert np.abs(kernel).max() <= np.abs(expected).max() * 1.05
            np.testing.assert_allclose(kernel.std(), expected.std(), rtol=0.1)
    # Token and position embeddings: the same range, distinct draws.
    embedding = model.layers[1]
    token = np.asarray(embedding.token_embedding.embeddings)
    position = np.asarray(embedding.position_embedding.position_embeddings)
    assert not np.array_equal(token[: len(position)], position)
    assert 0.04 < np.abs(token).max() <= 0.05  # RandomUniform(-0.05, 0.05)


def test_dropout_layers_carry_distinct_seeds():
    model = build_transformer((6,), 2, seed=0, **SEEDED)
    dropouts = [d for d in model.layers if isinstance(d, keras.layers.Dropout)]
    assert len(dropouts) == 2 and all(isinstance(d.seed, int) for d in dropouts)
    states = [
        tuple(np.asarray(v)) for v in model.variables if v.name.startswith("seed")
    ]
    # The two Dropout layers, and three inside each encoder (attention scores,
    # attention output, feed-forward output).
    assert len(states) == 2 + 3 * 2
    assert len(set(states)) == len(states)
    assert {d.seed for d in dropouts} <= {s for s, _ in states}


def test_without_seed_keras_global_seed_still_decides():
    keras.utils.set_random_seed(0)
    first = build_transformer((6,), 2, **SEEDED)
    keras.utils.set_random_seed(0)
    second = build_transformer((6,), 2, **SEEDED)
    for a, b in zip(values(first), values(second), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "length, patch_size, positions",
    [
        (64, "auto", 64),
        (150, "auto", 50),
        (150, 1, 150),
        (10, 4, 3),
        (1460, "auto", 64),
    ],
)
def test_numeric_series_are_read_in_patches(length, patch_size, positions):
    model = build_transformer((length, 2), 2, patch_size=patch_size, **TINY)
    embedding = next(
        x for x in model.layers if isinstance(x, keras_hub.layers.PositionEmbedding)
    )
    assert embedding.output.shape[1] == positions
    assert model(np.ones((3, length, 2), "float32")).shape == (3, 2)


@pytest.mark.parametrize(
    "patch_embedding, convolutions",
    [("linear", [(3, 3)]), ("conv", [(8, 1), (3, 3)])],
)
def test_patch_embedding(patch_embedding, convolutions):
    model = build_transformer(
        (150, 2), 2, patch_embedding=patch_embedding, seed=0, **TINY
    )
    found = [
        (layer.kernel_size[0], layer.strides[0], layer.filters)
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv1D)
    ]
    assert found == [(*c, TINY["model_dim"]) for c in convolutions]
    x = np.random.default_rng(0).normal(size=(2, 150, 2)).astype("float32")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored(x), model(x))


def test_patches_of_variable_length_series_and_their_pickle():
    model = build_transformer((None, 1), 2, max_length=20, patch_size=3, **TINY)
    for length in (7, 20):  # ceil(7 / 3) = 3 and 7 patches
        x = np.random.default_rng(0).normal(size=(2, length, 1)).astype("float32")
        restored = pickle.loads(pickle.dumps(model))
        np.testing.assert_array_equal(
            restored.predict(x, verbose=0), model.predict(x, verbose=0)
        )


def test_patch_size_is_for_numbers_only():
    with pytest.raises(ValueError, match="patch_size applies to numeric sequences"):
        build_transformer((8,), 2, patch_size=2, **TOKENS)
    with pytest.raises(ValueError, match="patch_size"):
        build_transformer((8, 1), 2, patch_size=0, **TINY)
