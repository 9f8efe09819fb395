"""Prefix routing: every destination receives its arguments, through set_params too."""

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.base import clone
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier
from kerasbig.routing import check_routed_names, route, split_item_args

X, Y = make_classification(n_samples=60, n_features=4, random_state=0)


class Recorder(keras.callbacks.Callback):
    """A callback that remembers its argument and counts epochs."""

    def __init__(self, tag="none"):
        super().__init__()
        self.tag = tag
        self.epochs_seen = 0

    def on_epoch_end(self, epoch, logs=None):
        self.epochs_seen += 1


def test_route_and_item_arguments():
    params = {"optimizer__learning_rate": 0.1, "metrics__0__name": "a", "fit__x": 1}
    assert route(params, "optimizer") == {"learning_rate": 0.1}
    metric_args = route(params, "metrics")
    assert split_item_args(metric_args, 0) == {"name": "a"}
    assert split_item_args(metric_args, 1) == {}


def test_unknown_prefix_is_rejected():
    with pytest.raises(ValueError, match="Unknown routing prefix 'optimiser'"):
        check_routed_names(["optimiser__learning_rate"])


def test_every_destination_receives_its_arguments():
    clf = KerasClassifier(
        mlp,
        model__hidden=7,
        optimizer="sgd",
        optimizer__learning_rate=0.123,
        optimizer__momentum=0.5,
        loss="binary_crossentropy",
        loss__label_smoothing=0.1,
        metrics=["accuracy", keras.metrics.AUC],
        metrics__1__name="my_auc",
        callbacks=[Recorder],
        callbacks__tag="routed",
        compile__steps_per_execution=2,
        fit__epochs=3,
        predict__batch_size=7,
        epochs=1,
        random_state=0,
    ).fit(X, Y)
    model = clf.model_
    assert model.layers[-2].units == 7
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.SGD)
    assert np.isclose(float(opt.learning_rate), 0.123) and opt.momentum == 0.5
    assert model.loss.get_config()["label_smoothing"] == 0.1
    assert "my_auc" in clf.history_
    assert len(clf.history_["loss"]) == 3  # fit__epochs overrides epochs
    assert model.steps_per_execution == 2


def test_callback_classes_are_instantiated_per_fit_with_arguments():
    recorder = Recorder("mine")
    clf = KerasClassifier(mlp, callbacks=[recorder], epochs=2, random_state=0)
    clf.fit(X, Y)
    assert recorder.epochs_seen == 2  # instances are used as given
    with pytest.raises(ValueError, match="routed arguments.*apply only to callback"):
        KerasClassifier(
            mlp, callbacks=[recorder], callbacks__tag="x", random_state=0
        ).fit(X, Y)


def test_set_params_and_clone_keep_routed_and_free_parameters():
    clf = KerasClassifier(mlp, hidden=5, optimizer__learning_rate=0.1)
    clf.set_params(model__hidden=6, optimizer__learning_rate=0.2, epochs=2)
    params = clf.get_params()
    assert params["model__hidden"] == 6 and params["hidden"] == 5
    assert params["optimizer__learning_rate"] == 0.2 and params["epochs"] == 2
    twin = clone(clf)
    assert twin.get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter nonsense"):
        clf.set_params(nonsense=1)
    with pytest.raises(ValueError, match="Invalid parameter foo__bar"):
        clf.set_params(foo__bar=1)


def test_routed_model_argument_wins_over_free_one():
    clf = KerasClassifier(mlp, hidden=5, model__hidden=9, random_state=0).fit(X, Y)
    assert clf.model_.layers[-2].units == 9


def test_builder_gets_meta_compile_kwargs_and_only_what_it_names():
    seen = {}

    def build(meta, compile_kwargs, n_features_in_):
        seen.update(meta=meta, compile_kwargs=compile_kwargs, n=n_features_in_)
        model = mlp(meta)
        model.compile(**{**compile_kwargs, "loss": "binary_crossentropy"})
        return model

    KerasClassifier(build, optimizer="adam", random_state=0).fit(X, Y)
    meta = seen["meta"]
    assert seen["n"] == 4
    assert {
        "n_features_in_",
        "X_shape_",
        "X_dtype_",
        "target_type_",
        "n_classes_",
        "classes_",
        "n_outputs_",
    } <= set(meta)
    assert meta["X_shape_"] == (60, 4) and meta["n_classes_"] == 2
    assert isinstance(seen["compile_kwargs"]["optimizer"], keras.optimizers.Adam)


def test_builder_with_var_keywords_gets_hyperparameters_then_meta_compile_params():
    seen = {}

    def build(**kwargs):
        seen.update(kwargs)
        return mlp(kwargs["meta"])

    KerasClassifier(build, model__hidden=3, random_state=0).fit(X, Y)
    # scikeras's order and set: the meta keys travel inside ``meta`` only.
    assert list(seen) == ["hidden", "meta", "compile_kwargs", "params"]
    assert seen["hidden"] == 3 and seen["meta"]["n_classes_"] == 2


def test_hyperparameter_the_builder_does_not_take_is_an_error():
    clf = KerasClassifier(mlp, model__width=3)
    with pytest.raises(ValueError, match=r"does not take the hyperparameter.*width"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_optimizer_rejecting_an_argument_names_it():
    with pytest.raises(ValueError, match="optimizer__nonsense"):
        KerasClassifier(mlp, optimizer="adam", optimizer__nonsense=1).fit(X, Y)


class ScaledSquaredError(keras.losses.Loss):
    """A custom loss whose constructor takes no ``reduction``."""

    def __init__(self, scale=1.0):
        super().__init__()
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * keras.ops.square(y_true - y_pred)


def test_custom_loss_class_gets_only_arguments_it_takes():
    from kerasbig import KerasRegressor

    reg = KerasRegressor(
        mlp, loss=ScaledSquaredError, loss__scale=2.0, random_state=0
    ).fit(X, Y.astype(float))
    assert isinstance(reg.model_.loss, ScaledSquaredError)
    assert reg.model_.loss.scale == 2.0
