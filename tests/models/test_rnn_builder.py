import pickle
from collections import Counter

import keras
import numpy as np
import pytest

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


@pytest.mark.parametrize("head", ["last", "mean", "max"])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_masked_padding_changes_nothing(head, bidirectional):
    keras.utils.set_random_seed(0)
    model = build_rnn(
        (None, 2),
        3,
        units=(4, 3),
        head=head,
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


@pytest.mark.parametrize("head", ["last", "mean", "max"])
def test_without_mask_value_padding_is_data(head):
    keras.utils.set_random_seed(0)
    model = build_rnn((None, 2), 3, head=head, **TINY)
    assert kinds(model)["Masking"] == 0
    x, padded = padded_pair(pad_value=-1.0)
    assert not np.allclose(np.asarray(model(x)), np.asarray(model(padded)), atol=1e-6)


@pytest.mark.parametrize(
    "head, expected",
    [("last", None), ("mean", "GlobalAveragePooling1D"), ("max", "GlobalMaxPooling1D")],
)
def test_head(head, expected):
    model = build_rnn((5, 2), 2, head=head, **TINY)
    (layer,) = recurrent_layers(model)
    assert layer.return_sequences is (head != "last")
    counts = kinds(model)
    assert counts["GlobalAveragePooling1D"] + counts["GlobalMaxPooling1D"] == (
        expected is not None
    )
    if expected:
        assert counts[expected] == 1


def test_mean_and_max_heads_pool_over_time():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(1).normal(size=(2, 5, 2)).astype("float32")
    for head in ("mean", "max"):
        model = build_rnn((5, 2), 2, head=head, output_activation="linear", **TINY)
        features = keras.Model(model.input, model.get_layer("head").input)
        sequence = keras.Model(model.input, recurrent_layers(model)[0].output)
        reduce = np.mean if head == "mean" else np.max
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


def test_mixed_precision_outputs_float32():
    model = build_rnn(
        (None, 2), 2, dtype="mixed_bfloat16", mask_value=0.0, head="max", **TINY
    )
    assert recurrent_layers(model)[0].compute_dtype == "bfloat16"
    x, _ = padded_pair()
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"
    model = build_rnn((None, 2), 2, dtype="float64", **TINY)
    assert recurrent_layers(model)[0].compute_dtype == "float64"


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
            {"head": "first"},
            ValueError,
            r"head must be one of 'last', 'mean', 'max'; got 'first'",
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
        ({"mask_value": float("nan")}, ValueError, r"mask_value must not be NaN"),
        (
            {"mask_value": "0"},
            TypeError,
            r"mask_value must be a number or None, got '0'",
        ),
        ({"dense_units": (0,)}, ValueError, r"dense_units .*entry 0 is 0"),
        ({"output_activation": "tanh"}, ValueError, r"output_activation .*'tanh'"),
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


@pytest.mark.parametrize("head", ["last", "max"])
def test_pickle_round_trip_gives_identical_predictions(head):
    model = build_rnn(
        (None, 2),
        3,
        cell="gru",
        units=(4, 3),
        bidirectional=True,
        mask_value=0.0,
        head=head,
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
        head="mean",
        dropout=0.1,
        **TINY,
    )
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2
    assert np.all(np.isfinite(history.history["loss"]))
