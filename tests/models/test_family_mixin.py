"""What the six family estimators share (kerasbig/models/_family.py)."""

import inspect

import keras
import numpy as np
import pytest
from helpers import ESTIMATOR_DEFAULTS, TINY_CNN, TINY_RNN, TINY_TRANSFORMER
from sklearn.base import clone

from kerasbig.models._family import DATA_KEYWORDS
from kerasbig.models.cnn.builder import build_cnn
from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor
from kerasbig.models.rnn.builder import build_rnn
from kerasbig.models.rnn.estimators import RNNClassifier, RNNRegressor
from kerasbig.models.transformer.builder import build_transformer
from kerasbig.models.transformer.estimators import (
    TransformerClassifier,
    TransformerRegressor,
)

FAMILIES = [
    (CNNClassifier, build_cnn),
    (CNNRegressor, build_cnn),
    (RNNClassifier, build_rnn),
    (RNNRegressor, build_rnn),
    (TransformerClassifier, build_transformer),
    (TransformerRegressor, build_transformer),
]
TINY = {
    CNNClassifier: TINY_CNN,
    CNNRegressor: TINY_CNN,
    RNNClassifier: TINY_RNN,
    RNNRegressor: TINY_RNN,
    TransformerClassifier: TINY_TRANSFORMER,
    TransformerRegressor: TINY_TRANSFORMER,
}
TRAINING = {
    "class_weight",
    "optimizer",
    "loss",
    "metrics",
    "epochs",
    "batch_size",
    "validation_batch_size",
    "validation_split",
    "shuffle",
    "early_stopping",
    "patience",
    "callbacks",
    "warm_start",
    "random_state",
    "verbose",
    "run_eagerly",
    "distribution",
    "precision",
}


def data(n=24, length=6, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, length))
    return X, (X[:, 0] > 0).astype(int)


@pytest.mark.parametrize("cls, builder", FAMILIES, ids=lambda x: x.__name__)
def test_every_builder_keyword_is_a_parameter_with_the_builder_default(cls, builder):
    params = cls().get_params()
    own = ESTIMATOR_DEFAULTS.get(cls.__name__, {})
    for name, p in inspect.signature(builder).parameters.items():
        if p.kind is not p.KEYWORD_ONLY or name in DATA_KEYWORDS:
            continue
        assert name in params, f"{cls.__name__} lacks the builder argument {name}"
        assert params[name] == own.get(name, p.default), name
    assert TRAINING - {"class_weight"} <= set(params)
    assert ("class_weight" in params) == cls.__name__.endswith("Classifier")
    assert "model" not in params and "build_fn" not in params
    assert params["optimizer"] == "adam"


@pytest.mark.parametrize("cls", TINY, ids=lambda c: c.__name__)
def test_init_only_stores(cls):
    est = cls(filters="nonsense", epochs=-3, truncation=42)
    assert est.get_params()["filters"] == "nonsense"
    assert clone(est).get_params()["epochs"] == -3


@pytest.mark.parametrize(
    "cls, bad, match",
    [
        (CNNClassifier, {"filters": 0}, "filters"),
        (CNNRegressor, {"kernel_size": -1}, "kernel_size"),
        (RNNClassifier, {"units": (4, 0)}, "units"),
        (RNNRegressor, {"cell": "transformer"}, "cell"),
        (TransformerClassifier, {"num_heads": 3}, "num_heads must divide"),
        (TransformerRegressor, {"model_dim": 0}, "model_dim"),
    ],
    ids=lambda x: getattr(x, "__name__", None) or str(x),
)
@pytest.mark.usefixtures("no_training")
def test_bad_architecture_fails_before_training(cls, bad, match):
    X, y = data()
    est = cls(**{**TINY[cls], **bad})
    with pytest.raises((ValueError, TypeError), match=match):
        est.fit(X, y)
    assert not hasattr(est, "model_")


@pytest.mark.parametrize("cls", [CNNClassifier, RNNRegressor, TransformerClassifier])
def test_model_and_free_hyperparameters_are_rejected(cls):
    X, y = data()
    with pytest.raises(ValueError, match="takes no model__ or free hyperparameters"):
        cls(**TINY[cls], model__filters=4).fit(X, y)
    with pytest.raises(ValueError, match="\\['hidden'\\]"):
        cls(**TINY[cls], hidden=3).fit(X, y)


@pytest.mark.parametrize(
    "bad, match",
    [
        ({"max_length": 0}, "max_length=0"),
        ({"truncation": "cut"}, "truncation='cut'"),
        ({"early_stopping": "yes"}, "early_stopping"),
        ({"patience": -1}, "patience=-1"),
    ],
)
def test_bad_data_and_training_parameters(bad, match):
    X, y = data()
    with pytest.raises((ValueError, TypeError), match=match):
        CNNClassifier(**TINY[CNNClassifier], **bad).fit(X, y)


def test_output_layer_follows_the_target():
    X, y = data(n=30)
    rng = np.random.default_rng(1)
    kw = dict(TINY[CNNClassifier], epochs=1)
    binary = CNNClassifier(**kw).fit(X, y)
    assert binary.model_.output_shape == (None, 1)
    assert binary.model_.layers[-1].activation is keras.activations.sigmoid
    multi = CNNClassifier(**kw).fit(X, np.arange(30) % 3)
    assert multi.model_.output_shape == (None, 3)
    assert multi.model_.layers[-1].activation is keras.activations.softmax
    labels = rng.integers(0, 2, size=(30, 4))
    multilabel = CNNClassifier(**kw).fit(X, labels)
    assert multilabel.model_.output_shape == (None, 4)
    assert multilabel.model_.layers[-1].activation is keras.activations.sigmoid
    assert multilabel.predict(X).shape == (30, 4)
    regressor = CNNRegressor(**kw).fit(X, rng.normal(size=(30, 2)))
    assert regressor.model_.output_shape == (None, 2)
    assert regressor.model_.get_layer("head").activation is keras.activations.linear
    # The head's output plus the linear shortcut (linear_shortcut="auto").
    assert regressor.model_.get_layer("linear_shortcut").output.shape == (None, 2)


def test_float64_network_has_a_float64_head_and_float32_stays_float32():
    X, y = data()
    kw = dict(TINY[RNNClassifier], epochs=1)
    wide = RNNClassifier(precision="float64", **kw).fit(X, y)
    assert wide.model_.get_layer("head").compute_dtype == "float64"
    assert wide.model_.get_layer("head").kernel.dtype == "float64"
    plain = RNNClassifier(**kw).fit(X, y)
    assert plain.model_.get_layer("head").compute_dtype == "float32"


def test_early_stopping_stops_and_monitors_validation_loss():
    X, y = data(n=40)
    kw = dict(
        TINY[CNNClassifier],
        normalization=None,
        batch_size=64,
        optimizer="sgd",
        optimizer__learning_rate=0.0,
        shuffle=False,  # shuffled rows change the summation order: the loss wobbles
    )
    stopped = CNNClassifier(early_stopping=True, patience=2, epochs=50, **kw).fit(X, y)
    # nothing improves with a zero learning rate: patience + 1 epochs
    assert len(stopped.history_["loss"]) == 3
    validated = CNNClassifier(
        early_stopping=True, patience=1, epochs=50, validation_split=0.25, **kw
    ).fit(X, y)
    assert len(validated.history_["val_loss"]) == 2
    full = CNNClassifier(epochs=4, **kw).fit(X, y)
    assert len(full.history_["loss"]) == 4


def test_early_stopping_keeps_user_callbacks():
    seen = []

    class Count(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(epoch)

    X, y = data()
    CNNClassifier(
        **TINY[CNNClassifier],
        normalization=None,
        optimizer="sgd",
        optimizer__learning_rate=0.0,
        early_stopping=True,
        patience=1,
        epochs=10,
        callbacks=[Count()],
        # Same batches every epoch: with a zero learning rate the loss is then
        # exactly the same, so early stopping ends after epoch 1. (Shuffled,
        # the summation order made it wobble, and early stopping sometimes
        # saw an "improvement".)
        shuffle=False,
        random_state=0,
    ).fit(X, y)
    assert seen == [0, 1]  # the user's callback saw the epochs early stopping let run


def test_learning_rate_routes_to_the_optimizer():
    X, y = data()
    clf = CNNClassifier(**TINY[CNNClassifier], epochs=1, optimizer__learning_rate=0.123)
    clf.fit(X, y)
    assert clf.model_.optimizer.learning_rate.numpy() == pytest.approx(0.123)
    assert isinstance(clf.model_.optimizer, keras.optimizers.Adam)


def test_warm_start_continues_the_same_network():
    X, y = data()
    clf = RNNClassifier(**TINY[RNNClassifier], epochs=2, warm_start=True).fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    # The same network trained on; history_ holds this fit's epochs.
    assert clf.model_ is model and len(clf.history_["loss"]) == 2
    with pytest.raises(ValueError, match="fitted on univariate sequences"):
        clf.fit(X[:, :, None, None], y)


def test_training_budget_scales_with_the_data_and_explicit_values_win():
    from kerasbig.models import _budget

    est = CNNClassifier(random_state=0)
    small = est._fit_args(36, None, None)  # a UCR-sized training set
    assert small["batch_size"] == 4 and small["epochs"] == 334
    schedules = [
        c
        for c in small["callbacks"]
        if isinstance(c, keras.callbacks.ReduceLROnPlateau)
    ]
    assert len(schedules) == 1 and schedules[0].monitor == "loss"
    large = est._fit_args(100_000, None, None)
    assert large["batch_size"] == 32 and large["epochs"] == _budget.MIN_EPOCHS
    explicit = CNNClassifier(epochs=5, batch_size=8)._fit_args(36, None, None)
    assert (explicit["batch_size"], explicit["epochs"]) == (8, 5)
    assert not any(
        isinstance(c, keras.callbacks.ReduceLROnPlateau) for c in explicit["callbacks"]
    )
    # partial_fit's one epoch and fit(..., epochs=) are explicit too.
    assert est._fit_args(36, 1, None)["epochs"] == 1
    assert est._fit_args(36, None, {"epochs": 3})["epochs"] == 3


def test_the_cnn_caps_the_epochs_by_rows_times_positions_on_any_series():
    from kerasbig.models import _budget

    est = CNNClassifier(random_state=0)
    est.input_shape_ = (24, 1)  # short series: the 3,000 steps decide
    assert est._fit_args(67, None, None)["epochs"] == 250
    est.input_shape_ = (100, 1)  # Tecator-sized, read whole: capped, 174 not 273
    expected = _budget.CNN_WORK // (172 * 100)
    assert est._fit_args(172, None, None)["epochs"] == expected == 174
    est.input_shape_ = (1460, 1)  # ACSF1-sized: averaged to 244 positions
    expected = _budget.CNN_WORK // (100 * 244)
    assert est._fit_args(100, None, None)["epochs"] == expected == 122
    est.input_shape_ = (1344, 1)  # PLAID-sized, 537 rows: 30 (the least), not 177
    assert est._fit_args(537, None, None)["epochs"] == _budget.MIN_EPOCHS
    est.set_params(downsample=1)  # every step read: the least, 30
    assert est._fit_args(537, None, None)["epochs"] == _budget.MIN_EPOCHS
    est.set_params(downsample=8)  # 168 positions: 33
    assert est._fit_args(537, None, None)["epochs"] == 33
    est.input_shape_ = (None, 1)  # variable lengths: the steps decide
    assert est._fit_args(537, None, None)["epochs"] == 177
    est.input_shape_ = (8, 8, 1)  # images: the steps decide
    assert est._fit_args(100, None, None)["epochs"] == 300


def test_the_transformer_caps_the_epochs_by_rows_times_patches_on_a_series():
    from kerasbig.models import _budget

    est = TransformerClassifier(random_state=0)
    est.input_type_, est.input_shape_ = "numeric", (427, 1)  # OSULeaf: 61 patches
    assert est._fit_args(200, None, None)["epochs"] == 300  # under the cap
    est.input_shape_ = (1344, 1)  # PLAID-sized, 537 rows of 64 patches: 116, not 177
    expected = _budget.TRANSFORMER_WORK // (537 * 64)
    assert est._fit_args(537, None, None)["epochs"] == expected == 116
    est.set_params(patch_size=112)  # 12 patches: the 3,000 steps decide
    assert est._fit_args(537, None, None)["epochs"] == 177
    est.set_params(patch_size="auto")
    est.input_shape_ = (None, 1)  # variable lengths: the steps decide
    assert est._fit_args(537, None, None)["epochs"] == 177
    est.input_type_, est.input_shape_ = "tokens", (1344,)  # token ids: not capped
    assert est._fit_args(537, None, None)["epochs"] == 177
    assert TransformerClassifier(epochs=500)._fit_args(537, None, None)["epochs"] == 500
    assert CNNClassifier(epochs=7)._fit_args(100, None, None)["epochs"] == 7


@pytest.mark.parametrize(
    "regressor", [CNNRegressor, RNNRegressor, TransformerRegressor]
)
def test_family_regressors_train_on_standardized_targets(regressor):
    """Targets far from the output layer's starting scale (1000 +- 50) are
    learned in a few epochs, and predictions come back on the user's scale."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12, 1)).astype("float32")
    y = 1000.0 + 50.0 * X[:, :, 0].mean(axis=1) * np.sqrt(12)
    # Four LSTM units are at the mercy of the seed (R² 0.004 to 0.88 over
    # random_state 0-3 on JAX, 0.19 to 0.79 on TensorFlow); eight reached 0.75
    # or more on both.
    tiny = TINY[regressor]
    if regressor is RNNRegressor:
        tiny = dict(tiny, units=8)
    if regressor is CNNRegressor:
        # The target standardization is what is tested. In 15 epochs this
        # one-block, four-filter network learns the target with
        # BatchNormalization; with the regressor's default LayerNormalization
        # (R^2 0.26 on JAX; LayerNormalization after a convolution without
        # bias sees each window's shape, not its scale, which is all this
        # target is) or none (0.28), it does not.
        tiny = dict(tiny, normalization="batch")
    reg = regressor(**tiny, epochs=15, batch_size=16, random_state=0)
    reg.fit(X, y)
    assert reg.target_encoder_.standardize
    np.testing.assert_allclose(reg.target_encoder_.mean_, [y.mean()], rtol=1e-6)
    assert abs(reg.predict(X).mean() - 1000.0) < 25.0
    assert reg.score(X, y) > 0.3


def test_the_general_regressor_does_not_standardize_targets():
    from kerasbig import KerasRegressor

    assert not KerasRegressor().target_encoder.standardize
