"""scikeras's lifecycle as its users rely on it (issue 8, second part).

Default data transformers that are real fitted transformers, ``BaseWrapper``
used directly and subclassed (the AutoEncoders tutorial), ``initialize`` on a
prebuilt model, one-class targets, ``partial_fit``'s checks and arguments,
and the routing details scikeras documents.
"""

import warnings
from typing import Any

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.base import TransformerMixin, clone
from sklearn.datasets import load_digits, make_classification
from sklearn.metrics import mean_squared_error
from sklearn.preprocessing import FunctionTransformer

from kerasbig.targets import ClassifierTargetEncoder, RegressorTargetEncoder
from kerasbig.wrappers import BaseWrapper, KerasClassifier, KerasRegressor

X, Y = make_classification(120, 6, n_informative=4, random_state=0)
T = X @ np.arange(1.0, 7.0)
FAST = dict(epochs=2, random_state=0)

CLASSIFIER_META = {
    "X_dtype_",
    "y_dtype_",
    "classes_",
    "target_type_",
    "n_classes_",
    "n_features_in_",
    "X_shape_",
    "n_outputs_expected_",
    "y_ndim_",
    "n_outputs_",
    "feature_encoder_",
    "target_encoder_",
}
REGRESSOR_META = CLASSIFIER_META - {"classes_", "n_classes_"}


# ----------------------------------------------------------------------
# Default encoders are fitted transformers, kept across partial_fit
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "estimator, target, encoder, meta_keys",
    [
        (KerasClassifier, Y, ClassifierTargetEncoder, CLASSIFIER_META),
        (KerasRegressor, T, RegressorTargetEncoder, REGRESSOR_META),
    ],
    ids=["classifier", "regressor"],
)
def test_default_encoders_are_fitted_kept_and_in_meta(
    estimator, target, encoder, meta_keys
):
    seen = {}

    def build(meta):
        seen["meta"] = meta
        return mlp(meta)

    est = estimator(build, **FAST).fit(X, target)
    assert set(seen["meta"]) == meta_keys  # scikeras's meta, key for key
    assert isinstance(est.target_encoder_, encoder)
    assert isinstance(est.feature_encoder_, FunctionTransformer)
    first = est.target_encoder_
    est.partial_fit(X[:10], target[:10])
    assert est.target_encoder_ is first  # reused, not refitted
    assert est.n_outputs_expected_ == 1


def test_classifier_target_encoder_round_trips_labels():
    labels = np.array(["cat", "dog", "cat", "eel"])
    enc = ClassifierTargetEncoder().fit(labels)
    assert enc.transform(labels).tolist() == [0, 1, 0, 2]
    proba = np.eye(3)[[2, 0]]
    assert enc.inverse_transform(proba).tolist() == ["eel", "cat"]
    assert enc.inverse_transform(proba, return_proba=True) is proba
    with pytest.raises(ValueError, match=r"Found unknown categories \['fox'\]"):
        enc.transform(np.array(["fox"]))


# ----------------------------------------------------------------------
# BaseWrapper, directly and subclassed: scikeras's AutoEncoders tutorial
# ----------------------------------------------------------------------
class AutoEncoder(BaseWrapper, TransformerMixin):
    """The tutorial's class, verbatim but for the import."""

    encoder_model_: BaseWrapper
    decoder_model_: BaseWrapper

    def _keras_build_fn(self, encoding_dim: int, meta: dict[str, Any]):
        n_features_in = meta["n_features_in_"]

        encoder_input = keras.Input(shape=(n_features_in,))
        encoder_output = keras.layers.Dense(encoding_dim, activation="relu")(
            encoder_input
        )
        encoder_model = keras.Model(encoder_input, encoder_output)

        decoder_input = keras.Input(shape=(encoding_dim,))
        decoder_output = keras.layers.Dense(
            n_features_in, activation="sigmoid", name="decoder"
        )(decoder_input)
        decoder_model = keras.Model(decoder_input, decoder_output)

        autoencoder_input = keras.Input(shape=(n_features_in,))
        encoded_img = encoder_model(autoencoder_input)
        reconstructed_img = decoder_model(encoded_img)

        autoencoder_model = keras.Model(autoencoder_input, reconstructed_img)

        self.encoder_model_ = BaseWrapper(encoder_model, verbose=self.verbose)
        self.decoder_model_ = BaseWrapper(decoder_model, verbose=self.verbose)

        return autoencoder_model

    def _initialize(self, X, y=None):
        X, _ = super()._initialize(X=X, y=y)
        X_tf = self.encoder_model_.initialize(X).predict(X)
        self.decoder_model_.initialize(X_tf)
        return X, X

    def initialize(self, X):
        self._initialize(X=X, y=X)
        return self

    def fit(self, X, *, sample_weight=None) -> "AutoEncoder":
        super().fit(X=X, y=X, sample_weight=sample_weight)
        return self

    def score(self, X) -> float:
        return 1 - mean_squared_error(self.predict(X), X)

    def transform(self, X) -> np.ndarray:
        X: np.ndarray = self.feature_encoder_.transform(X)
        return self.encoder_model_.predict(X)

    def inverse_transform(self, X_tf: np.ndarray):
        X: np.ndarray = self.decoder_model_.predict(X_tf)
        return self.feature_encoder_.inverse_transform(X)


def test_autoencoders_tutorial_compresses_and_reconstructs_digits():
    # The tutorial's MNIST, offline: scikit-learn's 8x8 digits in [0, 1].
    x = load_digits().data.astype("float32") / 16.0
    x_train, x_test = x[:1400], x[1400:]
    autoencoder = AutoEncoder(
        loss="binary_crossentropy",
        encoding_dim=16,
        random_state=0,
        epochs=20,
        verbose=False,
        optimizer="adam",
    )
    untrained = clone(autoencoder).initialize(x_train)
    before = mean_squared_error(
        untrained.inverse_transform(untrained.transform(x_test)), x_test
    )
    autoencoder.fit(X=x_train)
    encoded = autoencoder.transform(x_test)
    assert encoded.shape == (len(x_test), 16)
    roundtrip = autoencoder.inverse_transform(encoded)
    after = mean_squared_error(roundtrip, x_test)
    # The encoder and decoder share the trained layers: the round trip is as
    # good as the whole autoencoder, and far better than before training.
    np.testing.assert_allclose(roundtrip, autoencoder.predict(x_test), atol=1e-5)
    assert after < before / 2
    assert autoencoder.score(x_test) > 0.9


def test_base_wrapper_without_a_loss_predicts_but_will_not_train():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(2)])
    wrapper = BaseWrapper(model).initialize(X)
    assert wrapper.model_ is model  # initialize adopts the prebuilt model
    np.testing.assert_allclose(wrapper.predict(X), model.predict(X, verbose=0))
    with pytest.raises(ValueError, match="provide a loss"):
        BaseWrapper(model).fit(X, np.zeros((len(X), 2)))


def test_initialize_a_prebuilt_compiled_model_predicts_as_keras():
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(1)])
    model.compile(loss="mae", optimizer="adam")
    reg = KerasRegressor(model=model).initialize(X, T)
    assert reg.model_ is model
    np.testing.assert_allclose(
        reg.predict(X), model.predict(X, verbose=0).ravel(), rtol=1e-6
    )


# ----------------------------------------------------------------------
# One class, as scikit-learn allows: the class is always predicted
# ----------------------------------------------------------------------
def test_one_class_fits_and_predicts_that_class():
    clf = KerasClassifier(mlp, **FAST).fit(X, np.full(len(X), "only"))
    assert clf.classes_.tolist() == ["only"]
    assert (clf.predict(X) == "only").all()
    np.testing.assert_array_equal(clf.predict_proba(X), np.ones((len(X), 1)))


# ----------------------------------------------------------------------
# partial_fit: scikeras's checks and arguments
# ----------------------------------------------------------------------
def test_partial_fit_rejects_a_new_kind_of_dtype_before_training():
    Xi = np.round(X * 10).astype(np.int64)
    clf = KerasClassifier(mlp, **FAST).fit(Xi, Y)
    clf.partial_fit(Xi.astype(np.uint8), Y)  # integers stay integers: fine
    weights = [w.copy() for w in clf.model_.get_weights()]
    with pytest.raises(ValueError, match="Got X with dtype float64.*int64"):
        clf.partial_fit(Xi.astype(np.float64), Y)
    with pytest.raises(ValueError, match="Got y with dtype float64"):
        clf.partial_fit(Xi, Y.astype(np.float64))
    for before, after in zip(weights, clf.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)
    # A regressor's targets are values: float after int is fine.
    reg = KerasRegressor(mlp, **FAST).fit(X, np.round(T).astype(int))
    reg.partial_fit(X, T)


def test_partial_fit_passes_keras_arguments_but_not_epochs():
    clf = KerasClassifier(mlp, **FAST).partial_fit(X, Y, batch_size=len(X))
    assert clf.current_epoch == 1
    for name in ("epochs", "initial_epoch"):
        with pytest.raises(TypeError, match=f"Invalid argument {name}"):
            clf.partial_fit(X, Y, **{name: 3})


def test_integer_X_reaches_keras_as_given():
    seen = []

    class Recording(keras.Sequential):
        def fit(self, *args, **kwargs):
            seen.append(kwargs["x"].dtype)
            return super().fit(*args, **kwargs)

    def build(meta):
        return Recording([keras.Input((6,)), keras.layers.Dense(2, "softmax")])

    pixels = np.round(np.abs(X) * 40).astype(np.uint8)
    clf = KerasClassifier(build, **FAST).fit(pixels, Y)
    assert seen == [np.uint8] and clf.X_dtype_ == np.uint8
    assert clf.predict(pixels).shape == Y.shape


# ----------------------------------------------------------------------
# Building and compiling as scikeras does
# ----------------------------------------------------------------------
def test_a_loss_the_builder_overrides_is_an_error():
    def build(meta):
        model = mlp(meta)
        model.compile(loss="mean_absolute_error")
        return model

    with pytest.raises(ValueError, match=" but model compiled with "):
        KerasRegressor(build, loss="cosine_similarity", **FAST).fit(X, T)
    # The same loss, or the default, is fine.
    KerasRegressor(build, loss="mae", **FAST).fit(X, T)
    KerasRegressor(build, **FAST).fit(X, T)


def test_subclass_with_a_build_method_and_a_model_is_an_error():
    class Builds(KerasClassifier):
        def _keras_build_fn(self, meta):
            return mlp(meta)

    with pytest.raises(ValueError, match="cannot implement ``_keras_build_fn``"):
        Builds(model=mlp).fit(X, Y)
    with pytest.raises(ValueError, match="must implement ``_keras_build_fn``"):
        KerasClassifier().fit(X, Y)
    with pytest.raises(TypeError, match="``model`` must be"):
        KerasClassifier(model=object()).fit(X, Y)


def test_nested_routing_builds_a_learning_rate_schedule():
    schedule = keras.optimizers.schedules.ExponentialDecay
    clf = KerasClassifier(
        mlp,
        optimizer="sgd",
        optimizer__learning_rate=schedule,
        optimizer__learning_rate__initial_learning_rate=0.5,
        optimizer__learning_rate__decay_steps=10,
        optimizer__learning_rate__decay_rate=0.5,
        **FAST,
    ).fit(X, Y)
    rate = clf.model_.optimizer._learning_rate
    assert isinstance(rate, schedule) and rate.initial_learning_rate == 0.5


def test_routed_names_that_reach_nothing_warn():
    clf = KerasClassifier(mlp, optimizer__beta_1__x=1, optimizer="adam", **FAST)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, Y)
    assert any("optimizer__beta_1__x" in str(w.message) for w in caught)


def test_model_with_more_outputs_than_targets_is_a_clear_error():
    def build(meta):
        inp = keras.Input((meta["n_features_in_"],))
        return keras.Model(
            inp, [keras.layers.Dense(1)(inp), keras.layers.Dense(2)(inp)]
        )

    with pytest.raises(ValueError, match="2 outputs.*input of size 1"):
        KerasRegressor(build, loss="mse").fit(X, T)


# ----------------------------------------------------------------------
# Pickling a model with a custom object Keras cannot find by name
# ----------------------------------------------------------------------
class UnregisteredMetric(keras.metrics.MeanAbsoluteError):
    """A metric subclass as users write one: not registered with Keras."""


def test_pickle_carries_unregistered_custom_objects():
    import pickle

    reg = KerasRegressor(
        mlp, metrics=["mse", UnregisteredMetric(name="custom")], **FAST
    ).partial_fit(X, T)
    for _ in range(2):
        reg = pickle.loads(pickle.dumps(reg)).partial_fit(X, T)
    assert set(reg.history_) == {"loss", "mean_squared_error", "custom"}
    assert reg.current_epoch == 3
    clone_of_fitted = pickle.loads(pickle.dumps(reg))
    np.testing.assert_array_equal(clone_of_fitted.predict(X), reg.predict(X))


# ----------------------------------------------------------------------
# scikeras's DataTransformers tutorial, part 3: a feature encoder reshapes X
# ----------------------------------------------------------------------
input_shape = (8, 8, 1)  # the tutorial's (28, 28, 1): MNIST, here digits


def get_model(meta):
    model = keras.Sequential(
        [
            keras.Input(input_shape),
            keras.layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            keras.layers.MaxPooling2D(pool_size=(2, 2)),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(loss="sparse_categorical_crossentropy")
    return model


class MultiDimensionalClassifier(KerasClassifier):
    @property
    def feature_encoder(self):
        return FunctionTransformer(
            func=lambda X: X.reshape(X.shape[0], *input_shape),
        )


def test_feature_encoder_reshapes_flat_images_for_a_cnn():
    digits = load_digits()
    x, y = digits.data / 16.0, digits.target
    clf = MultiDimensionalClassifier(
        model=get_model, epochs=10, batch_size=64, validation_split=0.1, random_state=0
    )
    clf.fit(x[:1400], y[:1400])
    assert clf.model_.input_shape == (None, *input_shape)
    assert clf.score(x[1400:], y[1400:]) > 0.5  # chance: 0.1
