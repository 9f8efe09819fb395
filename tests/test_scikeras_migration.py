"""Code written for scikeras runs with only the import changed (issue 8).

Each test is a pattern from scikeras's documentation or test suite that a
migrating user relies on.
"""

from typing import Any

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from kerasbig import InvalidParameterError, KerasClassifier, KerasRegressor

X, Y = make_classification(300, 10, n_informative=6, random_state=0)


class MLPClassifier(KerasClassifier):
    """scikeras's MLPClassifier tutorial, verbatim but for the import."""

    def __init__(
        self,
        hidden_layer_sizes=(100,),
        optimizer="adam",
        optimizer__learning_rate=0.001,
        epochs=200,
        verbose=0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.hidden_layer_sizes = hidden_layer_sizes
        self.optimizer = optimizer
        self.epochs = epochs
        self.verbose = verbose

    def _keras_build_fn(self, compile_kwargs: dict[str, Any]):
        model = keras.Sequential()
        model.add(keras.layers.Input(shape=(self.n_features_in_,)))
        for size in self.hidden_layer_sizes:
            model.add(keras.layers.Dense(size, activation="relu"))
        if self.target_type_ == "binary":
            units, activation, loss = 1, "sigmoid", "binary_crossentropy"
        else:
            units, activation = self.n_classes_, "softmax"
            loss = "sparse_categorical_crossentropy"
        model.add(keras.layers.Dense(units, activation=activation))
        model.compile(loss=loss, optimizer=compile_kwargs["optimizer"])
        return model


def test_the_mlp_classifier_tutorial_subclass_trains_and_scores():
    clf = MLPClassifier(hidden_layer_sizes=(32,), epochs=20, random_state=0)
    assert clf.fit(X, Y).score(X, Y) > 0.75  # chance: 0.5
    assert float(clf.model_.optimizer.learning_rate) == pytest.approx(0.001)


def test_forwarded_parameters_are_parameters():
    clf = MLPClassifier(epochs=3, batch_size=16, random_state=4, fit__shuffle=False)
    params = clf.get_params()
    assert params["batch_size"] == 16 and params["random_state"] == 4
    assert params["fit__shuffle"] is False
    assert params["optimizer__learning_rate"] == 0.001  # declared, never stored
    twin = clone(clf)
    assert twin.get_params() == params
    twin.set_params(batch_size=8, optimizer__learning_rate=0.01, epochs=2)
    assert (
        twin.batch_size == 8 and twin.get_params()["optimizer__learning_rate"] == 0.01
    )
    twin.fit(X, Y)
    assert float(twin.model_.optimizer.learning_rate) == pytest.approx(0.01)
    assert len(twin.history_["loss"]) == 2


def test_routed_parameters_read_as_attributes_and_name():
    clf = KerasClassifier(mlp, fit__batch_size=7)
    assert clf.fit__batch_size == 7
    assert clf.__name__ == "KerasClassifier"
    with pytest.raises(AttributeError):
        clf.fit__nothing  # noqa: B018
    assert not hasattr(clf, "model_")


def test_current_epoch_counts_epochs_over_partial_fits():
    reg = KerasRegressor(mlp, epochs=2, random_state=0)
    Xr, yr = make_regression(40, 3, random_state=0)
    assert reg.current_epoch == 0
    reg.fit(Xr, yr)
    assert reg.current_epoch == 2
    reg.partial_fit(Xr, yr)
    assert reg.current_epoch == 3


@pytest.mark.parametrize("metrics", ["mae", keras.metrics.MeanAbsoluteError()])
def test_one_metric_and_full_history_names(metrics):
    Xr, yr = make_regression(40, 3, random_state=0)
    reg = KerasRegressor(mlp, metrics=metrics, epochs=2, validation_split=0.25)
    reg.fit(Xr, yr)
    assert len(reg.history_["mean_absolute_error"]) == 2
    assert "mae" not in reg.history_
    assert "val_loss" in reg.history_


def test_partial_fit_classes_declares_more_classes_than_the_first_chunk():
    y = np.arange(len(X)) % 3
    first = y < 2
    clf = KerasClassifier(mlp, random_state=0)
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert clf.target_type_ == "multiclass" and clf.n_classes_ == 3
    clf.partial_fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 3)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"optimizer": None}, "You must provide an optimizer"),
        ({"loss": [None]}, "provide a loss for every output"),
        ({"loss": {"out": None}}, "provide a loss for every output"),
    ],
)
def test_none_settings_are_clear_errors_before_training(params, match):
    clf = KerasClassifier(mlp, **params)
    with pytest.raises(InvalidParameterError, match=match):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_changed_dimensions_between_partial_fits_are_clear_errors():
    Xr, yr = make_regression(40, 4, random_state=0)
    reg = KerasRegressor(mlp, random_state=0).fit(Xr.reshape(40, 2, 2), yr)
    with pytest.raises(ValueError, match="X has 2 dimensions, but this .* 3 dim"):
        reg.partial_fit(Xr, yr)
    with pytest.raises(ValueError, match="y has 2 dimensions"):
        reg.partial_fit(Xr.reshape(40, 2, 2), yr.reshape(-1, 1))


def test_build_fn_warns_as_scikeras_did():
    clf = KerasClassifier(build_fn=mlp, epochs=1)
    with pytest.warns(UserWarning, match="``build_fn`` will be renamed"):
        clf.fit(X, Y)
    assert clf.predict(X[:3]).shape == (3,)  # build_fn still builds the model


def test_unexpected_builder_argument_is_a_type_error():
    def no_bar(foo=42):
        return None

    with pytest.raises(TypeError, match="got an unexpected keyword argument 'bar'"):
        KerasClassifier(no_bar, model__bar=1).fit(X, Y)


class _Recorder(keras.callbacks.Callback):
    made: list = []

    def __init__(self, *args, **kwargs):
        super().__init__()
        _Recorder.made.append((args, kwargs))


@pytest.mark.parametrize(
    "params",
    [
        {
            "callbacks": {"log": _Recorder},
            "callbacks__log__0": "a",
            "callbacks__log__tag": "t",
        },
        {"callbacks": [_Recorder], "callbacks__0__0": "a", "callbacks__0__tag": "t"},
        {"callbacks": _Recorder, "callbacks__0": "a", "callbacks__tag": "t"},
    ],
    ids=["dict", "list", "single"],
)
def test_callbacks_as_dict_list_or_one_with_routed_arguments(params):
    _Recorder.made = []
    KerasClassifier(mlp, **params).fit(X, Y)
    assert _Recorder.made == [(("a",), {"tag": "t"})]


def test_early_stopping_given_by_name_in_a_dict():
    clf = KerasClassifier(
        mlp,
        epochs=20,
        metrics="accuracy",
        callbacks={"stop": keras.callbacks.EarlyStopping},
        callbacks__stop__monitor="accuracy",
        callbacks__stop__min_delta=1,
    )
    assert clf.fit(X, Y).current_epoch < 20


# ----------------------------------------------------------------------
# scikeras's "DataTransformers" tutorial: several outputs, several inputs
# ----------------------------------------------------------------------
class MultiOutputTransformer:
    """The tutorial's target transformer: two label columns <-> two outputs."""

    def get_params(self, deep=True):
        return {}

    def set_params(self, **params):
        return self

    def fit(self, y):
        from sklearn.preprocessing import LabelEncoder

        self.bin_encoder_ = LabelEncoder().fit(y[:, 0])
        self.cat_encoder_ = LabelEncoder().fit(y[:, 1])
        self.n_classes_ = [
            self.bin_encoder_.classes_.size,
            self.cat_encoder_.classes_.size,
        ]
        self.n_outputs_expected_ = 2
        return self

    def transform(self, y):
        return [
            self.bin_encoder_.transform(y[:, 0]),
            self.cat_encoder_.transform(y[:, 1]),
        ]

    def inverse_transform(self, y, return_proba=False):
        if return_proba:
            return np.column_stack(y)
        y_bin = self.bin_encoder_.inverse_transform((y[0] > 0.5).astype(int).ravel())
        y_cat = self.cat_encoder_.inverse_transform(np.argmax(y[1], axis=1))
        return np.column_stack([y_bin, y_cat])

    def get_metadata(self):
        return {
            "n_classes_": self.n_classes_,
            "n_outputs_expected_": self.n_outputs_expected_,
        }


class MultiOutputClassifier(KerasClassifier):
    @property
    def target_encoder(self):
        return MultiOutputTransformer()

    @staticmethod
    def scorer(y_true, y_pred, **kwargs):
        from sklearn.metrics import accuracy_score

        return np.mean([accuracy_score(y_true[:, i], y_pred[:, i]) for i in range(2)])


def two_output_model(meta):
    inp = keras.layers.Input(shape=(meta["n_features_in_"],))
    x1 = keras.layers.Dense(100, activation="relu")(inp)
    out_bin = keras.layers.Dense(1, activation="sigmoid")(x1)
    out_cat = keras.layers.Dense(meta["n_classes_"][1], activation="softmax")(x1)
    model = keras.Model(inputs=inp, outputs=[out_bin, out_cat])
    model.compile(loss=["binary_crossentropy", "sparse_categorical_crossentropy"])
    return model


def test_multi_output_tutorial():
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    y = np.column_stack([rng.integers(0, 2, 100), rng.integers(0, 5, 100)])
    X = StandardScaler().fit_transform(y)  # labels as features: learnable
    clf = MultiOutputClassifier(model=two_output_model, epochs=30, random_state=0)
    assert clf.fit(X, y).score(X, y) > 0.8
    assert clf.n_classes_ == [2, 5] and isinstance(clf.target_encoder_, object)
    assert clf.predict(X).shape == (100, 2)
    assert clf.predict_proba(X).shape == (100, 6)


class MultiInputRegressor(KerasRegressor):
    @property
    def feature_encoder(self):
        from sklearn.preprocessing import FunctionTransformer

        return FunctionTransformer(func=lambda X: [X[:, :1], X[:, 1:]])


def two_input_model():
    inp1 = keras.layers.Input(shape=(1,))
    inp2 = keras.layers.Input(shape=(1,))
    x1 = keras.layers.Dense(100, activation="relu")(inp1)
    x2 = keras.layers.Dense(50, activation="relu")(inp2)
    out = keras.layers.Dense(1)(keras.layers.Concatenate(axis=-1)([x1, x2]))
    model = keras.Model(inputs=[inp1, inp2], outputs=out)
    model.compile(loss="mse", optimizer=keras.optimizers.Adam(0.01))
    return model


def test_multi_input_tutorial():
    rng = np.random.default_rng(0)
    X = rng.random((200, 2))
    y = X.sum(axis=1)
    reg = MultiInputRegressor(model=two_input_model, epochs=40, random_state=0)
    assert reg.fit(X, y).score(X, y) > 0.8
    assert reg.predict(X[:5]).shape == (5,)
    assert "feature_encoder_" in vars(reg)


def test_multi_output_needs_a_loss():
    def uncompiled(meta):
        inp = keras.layers.Input(shape=(meta["n_features_in_"],))
        return keras.Model(
            inp, [keras.layers.Dense(1)(inp), keras.layers.Dense(5)(inp)]
        )

    y = np.column_stack([np.arange(40) % 2, np.arange(40) % 5])
    clf = MultiOutputClassifier(model=uncompiled)
    with pytest.raises(ValueError, match="provide a loss"):
        clf.fit(np.ones((40, 2)), y)
