import pickle
from collections import Counter

import keras
import numpy as np
import pytest
from helpers import build_while_random_is_used, values

from kerasbig.models import build_rnn

TINY = {"units": 4}


def kinds(model):
    """Count the layer (and op) classes in a functional model."""
    return Counter(op.__class__.__name__ for op in model.operations)


def recurrent_layers(model):
    return [layer for layer in model.layers if isinstance(layer, keras.layers.RNN)]


@pytest.fixture
def no_build(monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("the builder started building before validating")

    monkeypatch.setattr(keras, "Input", boom)


def padded_pair(length=4, pad=3, channels=2, pad_value=0.0, seed=0):
    """A batch of sequences and the same sequences padded at the end."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.5, 1.5, size=(2, length, channels)).astype("float32")
    padding = np.full((2, pad, channels), pad_value, dtype="float32")
    return x, np.concatenate([x, padding], axis=1)


@pytest.mark.parametrize("length", [None, 6])
def test_output_shape_and_uncompiled(length):
    model = build_rnn((length, 3), 5, **TINY)
    assert isinstance(model, keras.Model)
    assert model.input_shape == (None, length, 3)
    assert model.output_shape == (None, 5)
    assert not model.compiled
    assert model.name == "rnn"
    assert build_rnn((length, 3), 5, name="seq", **TINY).name == "seq"
    out = np.asarray(model(np.ones((2, 6, 3), "float32")))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)


@pytest.mark.parametrize("input_shape", [(8,), (8, 8, 1)])
def test_wrong_rank_names_input_shape(input_shape, no_build):
    with pytest.raises(ValueError, match=r"input_shape must have 2 dimensions"):
        build_rnn(input_shape, 3)


@pytest.mark.parametrize(
    "cell, cls",
    [
        ("lstm", keras.layers.LSTM),
        ("gru", keras.layers.GRU),
        ("simple", keras.layers.SimpleRNN),
    ],
)
def test_cell(cell, cls):
    model = build_rnn((5, 2), 2, cell=cell, **TINY)
    (layer,) = recurrent_layers(model)
    assert type(layer) is cls


def test_units_stack_layers():
    model = build_rnn((5, 2), 2, units=(6, 4, 3))
    layers = recurrent_layers(model)
    assert [r.units for r in layers] == [6, 4, 3]
    assert [r.return_sequences for r in layers] == [True, True, False]
    assert [r.units for r in recurrent_layers(build_rnn((5, 2), 2, units=7))] == [7]


def test_bidirectional_wraps_every_layer():
    model = build_rnn((5, 2), 2, units=(4, 3), bidirectional=True)
    wrappers = [x for x in model.layers if isinstance(x, keras.layers.Bidirectional)]
    assert len(wrappers) == 2
    assert model.get_layer("head").input.shape[-1] == 2 * 3
    assert not any(
        isinstance(x, keras.layers.Bidirectional) for x in build_rnn((5, 2), 2).layers
    )


def test_dropout_and_recurrent_dropout():
    model = build_rnn(
        (5, 2), 2, dropout=0.2, recurrent_dropout=0.3, dense_units=(4,), **TINY
    )
    (layer,) = recurrent_layers(model)
    assert layer.dropout == 0.2 and layer.recurrent_dropout == 0.3
    assert [d.rate for d in model.layers if isinstance(d, keras.layers.Dropout)] == [
        0.2
    ]
    (layer,) = recurrent_layers(build_rnn((5, 2), 2, **TINY))
    assert layer.dropout == 0.0 and layer.recurrent_dropout == 0.0


@pytest.mark.parametrize("global_pooling", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_padding_changes_nothing(global_pooling, bidirectional):
    keras.utils.set_random_seed(0)
    model = build_rnn(
        (None, 2),
        3,
        units=(4, 3),
        global_pooling=global_pooling,
        bidirectional=bidirectional,
        mask_value=0.0,
    )
    assert kinds(model)["Masking"] == 1
    x, padded = padded_pair()
    np.testing.assert_allclose(
        np.asarray(model(x)), np.asarray(model(padded)), atol=1e-6
    )
    # Rows of different lengths in one batch.
    short = np.concatenate([x[:1, :2], np.zeros((1, 2, 2), "float32")], axis=1)
    batch = np.concatenate([short, x[1:]], axis=0)
    np.testing.assert_allclose(
        np.asarray(model(batch))[0], np.asarray(model(x[:1, :2]))[0], atol=1e-6
    )


@pytest.mark.parametrize("global_pooling", ["last", "mean", "max"])
def test_without_mask_value_padding_is_data(global_pooling):
    keras.utils.set_random_seed(0)
    model = build_rnn((None, 2), 3, global_pooling=global_pooling, **TINY)
    assert kinds(model)["Masking"] == 0
    x, padded = padded_pair(pad_value=-1.0)
    assert not np.allclose(np.asarray(model(x)), np.asarray(model(padded)), atol=1e-6)


@pytest.mark.parametrize(
    "global_pooling, expected",
    [("last", None), ("mean", "GlobalAveragePooling1D"), ("max", "GlobalMaxPooling1D")],
)
def test_global_pooling(global_pooling, expected):
    model = build_rnn((5, 2), 2, global_pooling=global_pooling, **TINY)
    (layer,) = recurrent_layers(model)
    assert layer.return_sequences is (global_pooling != "last")
    counts = kinds(model)
    assert counts["GlobalAveragePooling1D"] + counts["GlobalMaxPooling1D"] == (
        expected is not None
    )
    if expected:
        assert counts[expected] == 1


def test_mean_and_max_global_pooling_pool_over_time():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(2, 5, 2)).astype("float32")
    for global_pooling in ("mean", "max"):
        model = build_rnn(
            (5, 2), 2, global_pooling=global_pooling, output_activation="linear", **TINY
        )
        features = keras.Model(model.input, model.get_layer("head").input)
        sequence = keras.Model(model.input, recurrent_layers(model)[0].output)
        reduce = np.mean if global_pooling == "mean" else np.max
        np.testing.assert_allclose(
            np.asarray(features(x)), reduce(np.asarray(sequence(x)), axis=1), atol=1e-6
        )


def test_dense_units_and_output_activation():
    model = build_rnn(
        (5, 2), 2, dense_units=(8, 4), output_activation="sigmoid", **TINY
    )
    dense = [x for x in model.layers if isinstance(x, keras.layers.Dense)]
    assert [d.units for d in dense] == [8, 4, 2]
    assert dense[-1].activation.__name__ == "sigmoid"
    assert dense[-1].dtype_policy.name == "float32"


def test_mixed_precision_outputs_float32_and_float64_stays_float64():
    model = build_rnn(
        (None, 2),
        2,
        dtype="mixed_bfloat16",
        mask_value=0.0,
        global_pooling="max",
        **TINY,
    )
    assert recurrent_layers(model)[0].compute_dtype == "bfloat16"
    x, _ = padded_pair()
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    model = build_rnn((None, 2), 2, dtype="float64", **TINY)
    assert recurrent_layers(model)[0].compute_dtype == "float64"
    assert model.get_layer("head").dtype_policy.name == "float64"
    assert keras.backend.standardize_dtype(model(x).dtype) == "float64"


def test_float64_simple_rnn_keeps_float64_and_float32_keeps_tanh():
    """Keras 3.15's ops.tanh on JAX (JAX_ENABLE_X64=1) gives float32 for float64
    input, which broke SimpleRNN's scan: a float64 SimpleRNN gets a tanh that
    keeps the dtype, and saves and pickles by its registered name; float32 and
    the other cells keep Keras' own "tanh"."""
    from kerasbig.models.rnn.builder import tanh_keeping_dtype

    x, padded = padded_pair()
    for cell in ("simple", "gru"):
        layer = recurrent_layers(build_rnn((None, 2), 2, cell=cell, **TINY))[0]
        assert layer.get_config()["activation"] == "tanh"
    model = build_rnn(
        (None, 2),
        2,
        cell="simple",
        dtype="float64",
        bidirectional=True,
        mask_value=0.0,
        seed=0,
        **TINY,
    )
    (layer,) = [la for la in model.layers if isinstance(la, keras.layers.Bidirectional)]
    for direction in (layer.forward_layer, layer.backward_layer):
        activation = direction.get_config()["activation"]
        assert activation["config"] == "kerasbig>tanh_keeping_dtype"
    out = model(padded.astype("float64"))
    assert keras.backend.standardize_dtype(out.dtype) == "float64"
    x64 = np.linspace(-3, 3, 7)
    y = keras.ops.convert_to_numpy(tanh_keeping_dtype(keras.ops.convert_to_tensor(x64)))
    assert y.dtype == np.float64
    np.testing.assert_allclose(y, np.tanh(x64), rtol=1e-15)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(padded, verbose=0), model.predict(padded, verbose=0)
    )


def test_old_head_argument_is_gone():
    with pytest.raises(TypeError, match="head"):
        build_rnn((None, 2), 2, head="mean", **TINY)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (
            {"n_outputs": -1},
            ValueError,
            r"n_outputs must be a positive integer, got -1",
        ),
        ({"units": 0}, ValueError, r"units must be a positive integer, got 0"),
        ({"units": ()}, ValueError, r"units must not be empty"),
        ({"units": (8, 0)}, ValueError, r"units .*entry 1 is 0"),
        (
            {"cell": "transformer"},
            ValueError,
            r"cell must be one of 'lstm', 'gru', 'simple'; got 'transformer'",
        ),
        (
            {"global_pooling": "first"},
            ValueError,
            r"global_pooling must be one of 'last', 'mean', 'max'; got 'first'",
        ),
        (
            {"dropout": 1.5},
            ValueError,
            r"dropout must be a float in \[0, 1\), got 1\.5",
        ),
        ({"recurrent_dropout": -0.5}, ValueError, r"recurrent_dropout .* got -0\.5"),
        (
            {"bidirectional": 1},
            TypeError,
            r"bidirectional must be True or False, got 1",
        ),
        (
            {"mask_value": float("nan")},
            ValueError,
            r"mask_value must be a number \(not NaN\) or None, got nan",
        ),
        (
            {"mask_value": "0"},
            TypeError,
            r"mask_value must be a number \(not NaN\) or None, got '0'",
        ),
        ({"dense_units": (0,)}, ValueError, r"dense_units .*entry 0 is 0"),
        (
            {"patch_embedding": "dense"},
            ValueError,
            r"patch_embedding must be one of 'linear', 'conv'; got 'dense'",
        ),
        ({"output_activation": "tanh"}, ValueError, r"output_activation .*'tanh'"),
        ({"seed": -3}, ValueError, r"seed must be None or a non-negative .* -3"),
        ({"seed": "1"}, TypeError, r"seed .* got '1'"),
        (
            {"input_shape": (None, None)},
            ValueError,
            r"input_shape\[1\] must be a positive integer, got None",
        ),
        (
            {"input_shape": (0, 2)},
            ValueError,
            r"input_shape\[0\] must be a positive integer or None, got 0",
        ),
    ],
)
def test_bad_arguments_fail_before_building(kwargs, error, match, no_build):
    args = {"input_shape": (None, 2), "n_outputs": 2} | kwargs
    with pytest.raises(error, match=match):
        build_rnn(args.pop("input_shape"), args.pop("n_outputs"), **args)


@pytest.mark.parametrize("global_pooling", ["last", "max"])
def test_pickle_round_trip_gives_identical_predictions(global_pooling):
    model = build_rnn(
        (None, 2),
        3,
        cell="gru",
        units=(4, 3),
        bidirectional=True,
        mask_value=0.0,
        global_pooling=global_pooling,
    )
    _, padded = padded_pair()
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(padded, verbose=0), model.predict(padded, verbose=0)
    )


def test_two_epoch_fit_on_padded_variable_length_data():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 6, 2)).astype("float32")
    for i, length in enumerate(rng.integers(2, 7, size=16)):
        x[i, length:] = 0.0
    y = rng.normal(size=(16, 1)).astype("float32")
    model = build_rnn(
        (None, 2),
        1,
        output_activation="linear",
        mask_value=0.0,
        global_pooling="mean",
        dropout=0.1,
        **TINY,
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))


# -- explicit seeds ----------------------------------------------------------
SEEDED = {
    "units": (4, 3),
    "bidirectional": True,
    "dropout": 0.2,
    "recurrent_dropout": 0.1,
    "dense_units": (4,),
}


@pytest.mark.parametrize("cell", ["lstm", "gru", "simple"])
def test_a_seed_fixes_weights_and_dropout_masks_whatever_random_does(cell):
    first, second = build_while_random_is_used(
        lambda: build_rnn((None, 2), 3, cell=cell, seed=11, **SEEDED)
    )
    for a, b in zip(values(first), values(second), strict=True):
        np.testing.assert_array_equal(a, b)
    x, _ = padded_pair()
    np.testing.assert_array_equal(first(x, training=True), second(x, training=True))


def test_different_seeds_give_different_weights():
    a = build_rnn((None, 2), 3, seed=0, **SEEDED)
    b = build_rnn((None, 2), 3, seed=1, **SEEDED)
    for x, y in zip(a.trainable_variables, b.trainable_variables, strict=True):
        if "kernel" in x.name:
            assert not np.array_equal(x, y), x.path


def test_seeded_forward_and_backward_layers_differ():
    model = build_rnn((None, 2), 3, seed=0, **SEEDED)
    for wrapper in model.layers:
        if isinstance(wrapper, keras.layers.Bidirectional):
            forward, backward = wrapper.forward_layer, wrapper.backward_layer
            assert backward.go_backwards and not forward.go_backwards
            for f, b in zip(forward.weights, backward.weights, strict=True):
                if "kernel" in f.name:
                    assert not np.array_equal(f, b), f.path
    kernels = {
        v.path: np.asarray(v) for v in model.trainable_variables if "kernel" in v.name
    }
    recurrent = [k for p, k in kernels.items() if "recurrent_kernel" in p]
    for kernel in recurrent:  # Keras' default, Orthogonal, only seeded
        np.testing.assert_allclose(kernel @ kernel.T, np.eye(len(kernel)), atol=1e-5)


def test_dropout_layers_carry_distinct_seeds():
    model = build_rnn((None, 2), 3, seed=0, **SEEDED)
    cells = [
        rnn.cell
        for wrapper in model.layers
        if isinstance(wrapper, keras.layers.Bidirectional)
        for rnn in (wrapper.forward_layer, wrapper.backward_layer)
    ]
    seeds = [cell.seed for cell in cells]
    seeds += [d.seed for d in model.layers if isinstance(d, keras.layers.Dropout)]
    assert len(seeds) == 2 * 2 + 1
    assert all(isinstance(s, int) for s in seeds) and len(set(seeds)) == len(seeds)
    states = [
        tuple(np.asarray(v)) for v in model.variables if v.name.startswith("seed")
    ]
    assert len(states) == len(seeds) and len(set(states)) == len(states)
    # Unseeded, Keras' defaults stay.
    model = build_rnn((None, 2), 3, **SEEDED)
    assert {d.seed for d in model.layers if isinstance(d, keras.layers.Dropout)} == {
        None
    }


def test_without_seed_keras_global_seed_still_decides():
    keras.utils.set_random_seed(0)
    first = build_rnn((None, 2), 3, **SEEDED)
    keras.utils.set_random_seed(0)
    second = build_rnn((None, 2), 3, **SEEDED)
    for a, b in zip(values(first), values(second), strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "input_shape, kwargs, steps",
    [
        ((64, 2), {}, 64),  # up to 64 steps: no patches
        ((150, 2), {}, 50),  # auto: 3 steps per patch
        ((150, 2), {"patch_size": 1}, 150),
        ((10, 2), {"patch_size": 4}, 3),  # the last patch zero-padded
        ((None, 2), {}, None),  # variable length: no patches
        ((150, 2), {"mask_value": 0.0}, 150),  # masking: no patches
    ],
)
def test_long_series_are_read_in_patches(input_shape, kwargs, steps):
    model = build_rnn(input_shape, 2, **TINY, **kwargs)
    recurrent = recurrent_layers(model)[0]
    inputs = recurrent.input  # with a mask: [sequences, mask]
    assert (inputs[0] if isinstance(inputs, list) else inputs).shape[1] == steps
    length = input_shape[0] or 7
    assert model(np.ones((3, length, 2), "float32")).shape == (3, 2)


def test_patches_pickle_and_refuse_a_mask():
    model = build_rnn((30, 1), 2, patch_size=4, **TINY)
    x = np.random.default_rng(0).normal(size=(2, 30, 1)).astype("float32")
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(
        restored.predict(x, verbose=0), model.predict(x, verbose=0)
    )
    with pytest.raises(
        ValueError, match="patch_size=2 cannot be combined with mask_value"
    ):
        build_rnn((30, 1), 2, patch_size=2, mask_value=0.0, **TINY)


def _convolutions(model):
    return [
        (layer.kernel_size[0], layer.strides[0])
        for layer in model.layers
        if isinstance(layer, keras.layers.Conv1D)
    ]


@pytest.mark.parametrize(
    "input_shape, kwargs, convolutions",
    [
        ((150, 2), {}, [(8, 1), (3, 3)]),  # conv: full resolution, then patches
        ((150, 2), {"patch_embedding": "linear"}, [(3, 3)]),
        ((64, 2), {}, []),  # no patches: no embedding at all
        ((150, 2), {"mask_value": 0.0}, []),  # masking: no patches
    ],
)
def test_patch_embedding(input_shape, kwargs, convolutions):
    model = build_rnn(input_shape, 2, **TINY, **kwargs)
    assert _convolutions(model) == convolutions
    stem = [x for x in model.layers if isinstance(x, keras.layers.Conv1D)][:1]
    if convolutions[:1] == [(8, 1)]:
        assert stem[0].filters == TINY["units"]
        assert stem[0].activation is keras.activations.relu
    x = np.random.default_rng(0).normal(size=(2, *input_shape)).astype("float32")
    assert np.isfinite(model(x)).all()


def test_conv_patch_embedding_is_seeded_and_pickles():
    first, second = (
        build_rnn((40, 1), 2, patch_size=4, seed=3, **SEEDED) for _ in "ab"
    )
    x = np.random.default_rng(0).normal(size=(2, 40, 1)).astype("float32")
    np.testing.assert_array_equal(first(x), second(x))
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(restored(x), first(x))
