"""Pickle, copy.deepcopy and joblib round trips of kerasbig estimators.

Fitted estimators must come back predicting exactly as before, able to go on
training; kerasbig must get there without patching Keras classes (scikeras
replaces ``keras.Model.__reduce__`` for everybody at import time).
"""

import copy
import json
import os
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import joblib
import keras
import numpy as np
import pytest
from helpers import mlp, multiclass_data
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from kerasbig import KerasClassifier, KerasRegressor

TESTS_DIR = Path(__file__).resolve().parent

PARAMS = dict(
    model=mlp,
    model__hidden=8,
    dtype="float32",  # a free hyperparameter of mlp
    optimizer="adam",
    optimizer__learning_rate=0.05,
    batch_size=16,
    epochs=2,
    random_state=0,
)


def regression_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4)).astype("float32")
    return X, X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.normal(size=60)


KINDS = {
    "classifier": (KerasClassifier, multiclass_data),
    "regressor": (KerasRegressor, regression_data),
}


def via_pickle(obj, tmp_path):
    return pickle.loads(pickle.dumps(obj))


def via_deepcopy(obj, tmp_path):
    return copy.deepcopy(obj)


def via_joblib(obj, tmp_path):
    path = tmp_path / "estimator.joblib"
    joblib.dump(obj, path)
    return joblib.load(path)


ROUND_TRIPS = {"pickle": via_pickle, "deepcopy": via_deepcopy, "joblib": via_joblib}


def predictions(est, X) -> dict[str, np.ndarray]:
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


def assert_same_predictions(a, b, X):
    expected, actual = predictions(a, X), predictions(b, X)
    for method, values in expected.items():
        if values.dtype.kind in "fc":
            np.testing.assert_allclose(actual[method], values, rtol=1e-7, atol=0)
        else:
            np.testing.assert_array_equal(actual[method], values)


def assert_same_weights(a: keras.Model, b: keras.Model):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_array_equal(x, y)


@pytest.fixture(scope="module")
def fitted():
    """One fitted estimator per kind; tests must not change them."""
    out = {}
    for kind, (Estimator, data) in KINDS.items():
        X, y = data()
        out[kind] = Estimator(**PARAMS).fit(X, y)
    return out


# ----------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------
@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("kind", KINDS)
def test_unfitted_round_trip(kind, how, fitted, tmp_path):
    Estimator, data = KINDS[kind]
    est = Estimator(**PARAMS)
    back = ROUND_TRIPS[how](est, tmp_path)
    assert type(back) is Estimator and back is not est
    assert back.get_params() == est.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(back)
    # It trains exactly as the original does.
    X, y = data()
    assert_same_predictions(fitted[kind], back.fit(X, y), X)


@pytest.mark.parametrize("how", ROUND_TRIPS)
@pytest.mark.parametrize("kind", KINDS)
def test_fitted_round_trip(kind, how, fitted, tmp_path):
    _, data = KINDS[kind]
    X, _ = data()
    est = fitted[kind]
    back = ROUND_TRIPS[how](est, tmp_path)
    check_is_fitted(back)
    assert back.model_ is not est.model_
    assert_same_weights(back.model_, est.model_)
    assert_same_predictions(est, back, X)
    assert back.get_params() == est.get_params()
    assert back.history_ == est.history_
    assert back.n_features_in_ == est.n_features_in_
    assert back.n_outputs_ == est.n_outputs_
    if kind == "classifier":
        np.testing.assert_array_equal(back.classes_, ["ant", "bee", "cat"])
        assert set(back.predict(X)) <= {"ant", "bee", "cat"}


@pytest.mark.parametrize("kind", KINDS)
def test_partial_fit_after_unpickling(kind):
    """The optimizer's state comes back too: training resumes where it was."""
    Estimator, data = KINDS[kind]
    X, y = data()
    original = Estimator(**PARAMS).fit(X, y)
    back = pickle.loads(pickle.dumps(original))
    before = back.predict(X) if kind == "regressor" else back.predict_proba(X)
    iterations = int(back.model_.optimizer.iterations.numpy())
    assert iterations == int(original.model_.optimizer.iterations.numpy()) > 0

    back.partial_fit(X, y)
    original.partial_fit(X, y)

    after = back.predict(X) if kind == "regressor" else back.predict_proba(X)
    assert not np.allclose(after, before)
    assert len(back.history_["loss"]) == PARAMS["epochs"] + 1
    assert int(back.model_.optimizer.iterations.numpy()) > iterations
    # Same weights, same optimizer state, same seed: same result as if never
    # pickled.
    assert_same_predictions(original, back, X)


# ----------------------------------------------------------------------
# Custom layers
# ----------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="kerasbig_tests")
class ScaleByWeight(keras.layers.Layer):
    """Multiplies its input by a trainable per-feature weight and a constant."""

    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.scale = self.add_weight(
            shape=(input_shape[-1],), initializer="ones", name="scale"
        )

    def call(self, inputs):
        return inputs * self.scale * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def custom_layer_mlp(n_features_in_, n_classes_, hidden=8):
    inputs = keras.Input((n_features_in_,))
    x = ScaleByWeight(factor=0.5)(inputs)
    x = keras.layers.Dense(hidden, activation="relu")(x)
    outputs = keras.layers.Dense(n_classes_, activation="softmax")(x)
    return keras.Model(inputs, outputs)


@pytest.mark.parametrize("how", ROUND_TRIPS)
def test_custom_registered_layer_survives_round_trip(how, tmp_path):
    assert (
        keras.saving.get_registered_name(ScaleByWeight)
        == "kerasbig_tests>ScaleByWeight"
    )
    X, y = multiclass_data()
    est = KerasClassifier(
        custom_layer_mlp, optimizer="adam", batch_size=16, epochs=2, random_state=0
    ).fit(X, y)
    back = ROUND_TRIPS[how](est, tmp_path)
    layers = [la for la in back.model_.layers if isinstance(la, ScaleByWeight)]
    assert len(layers) == 1 and layers[0].factor == 0.5
    # The custom weight was trained, and came back trained.
    trained_scale = layers[0].scale.numpy()
    assert not np.allclose(trained_scale, 1.0)
    original = [la for la in est.model_.layers if isinstance(la, ScaleByWeight)][0]
    np.testing.assert_array_equal(trained_scale, original.scale.numpy())
    assert_same_predictions(est, back, X)


# ----------------------------------------------------------------------
# No global patching of Keras
# ----------------------------------------------------------------------
_NO_PATCHING_SCRIPT = textwrap.dedent(
    """
    import copyreg, json, pickle, sys
    import keras
    import numpy as np

    ROOTS = (keras.Model, keras.Sequential, keras.layers.Layer,
             keras.optimizers.Optimizer, keras.losses.Loss, keras.metrics.Metric)
    MISSING = object()

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3)).astype("float32")
    y = (X[:, 0] > 0).astype(int)

    # Keras and TensorFlow fill some module globals on first use (TensorFlow's
    # flags and eager context, say): a plain Keras fit, predict and pickle
    # first, and a TensorFlow op whatever the backend, so that what follows
    # sees only what kerasbig changes.
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Dense(1, activation="sigmoid")])
    plain.compile(optimizer="adam", loss="binary_crossentropy")
    plain.fit(X, y, epochs=1, verbose=0)
    pickle.loads(pickle.dumps(plain)).predict(X, verbose=0)
    if "tensorflow" in sys.modules:
        sys.modules["tensorflow"].constant(0.0)

    def snapshot():
        classes = {cls for root in ROOTS for cls in root.__mro__}
        return {cls: dict(vars(cls)) for cls in classes}, dict(copyreg.dispatch_table)

    def module_globals():
        # {name: id(value)} of every Keras and TensorFlow module's globals;
        # the values are kept too, so that no id can be reused meanwhile.
        return {
            name: {key: (id(value), value) for key, value in list(vars(module).items())}
            for name, module in list(sys.modules.items())
            if name.startswith(("keras", "tensorflow")) and module is not None
        }

    def replaced(before, after, name):
        old, new = before.get(name, MISSING), after.get(name, MISSING)
        if name == "__annotations__":
            # Python adds an empty dict when a class's annotations are first
            # read (inspect.signature does): not a patch.
            return (old if old is not MISSING else {}) != (
                new if new is not MISSING else {}
            )
        return old is not new

    def reassigned(before, after):
        # Globals given another value or deleted; modules and globals that
        # appear later (a submodule imported, say) are no patch.
        return sorted(
            f"{module}.{key}"
            for module, names in before.items()
            if module in after
            for key, (ident, _) in names.items()
            if after[module].get(key, (None,))[0] != ident
        )

    reduce_before = keras.Model.__reduce__
    classes_before, dispatch_before = snapshot()
    globals_before = module_globals()

    import kerasbig
    sys.path.insert(0, sys.argv[1])
    from helpers import mlp

    imported_same = keras.Model.__reduce__ is reduce_before
    est = kerasbig.KerasClassifier(mlp, epochs=1, random_state=0).fit(X, y)
    back = pickle.loads(pickle.dumps(est))

    classes_after, dispatch_after = snapshot()
    globals_after = module_globals()
    changed = sorted(
        f"{cls.__module__}.{cls.__qualname__}.{name}"
        for cls, before in classes_before.items()
        for name in set(before) | set(classes_after[cls])
        if replaced(before, classes_after[cls], name)
    )
    print(json.dumps({
        "same_reduce_after_import": imported_same,
        "same_reduce_after_pickle": keras.Model.__reduce__ is reduce_before,
        "changed_class_attributes": changed,
        "dispatch_table_changed": sorted(
            repr(k) for k in set(dispatch_before) ^ set(dispatch_after)
        ),
        "modules_compared": len(globals_before),
        "reassigned_module_globals": reassigned(globals_before, globals_after),
        "round_trip_predicts_the_same": bool(
            np.array_equal(back.predict_proba(X), est.predict_proba(X))
        ),
    }))
    """
)


def test_importing_and_pickling_kerasbig_patches_no_keras_class_or_global():
    """Run in a fresh interpreter: here kerasbig was imported long ago.

    Fails if importing kerasbig, fitting or pickling replaces an attribute of
    a Keras class, a copyreg entry, or any global of a keras* / tensorflow*
    module (kerasbig once replaced keras.src.random.seed_generator.python_random:
    this test, run against that version, reports exactly that global).
    """
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", _NO_PATCHING_SCRIPT, str(TESTS_DIR)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["same_reduce_after_import"]
    assert report["same_reduce_after_pickle"]
    assert report["changed_class_attributes"] == []
    assert report["dispatch_table_changed"] == []
    assert report["modules_compared"] > 100  # keras.src.* and tensorflow.*
    assert report["reassigned_module_globals"] == []
    assert report["round_trip_predicts_the_same"]


def test_keras_model_pickling_is_keras_own(fitted):
    """In this process too, Model.__reduce__ comes from Keras, not kerasbig."""
    reduce_before = keras.Model.__reduce__
    attributes_before = {cls: dict(vars(cls)) for cls in keras.Model.__mro__}
    pickle.loads(pickle.dumps(fitted["classifier"]))
    assert keras.Model.__reduce__ is reduce_before
    assert reduce_before.__module__.startswith("keras.")
    for cls, attributes in attributes_before.items():
        now = {k: v for k, v in vars(cls).items() if k != "__annotations__"}
        attributes.pop("__annotations__", None)
        assert now.keys() == attributes.keys(), cls
        assert all(now[name] is value for name, value in attributes.items()), cls


# ----------------------------------------------------------------------
# A keras.Model instance as the model parameter
# ----------------------------------------------------------------------
def model_instance(compiled: bool) -> keras.Model:
    """A 4 -> 8 -> 3 softmax network with seeded initial weights."""
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(
                8,
                activation="relu",
                kernel_initializer=keras.initializers.GlorotUniform(seed=1),
            ),
            keras.layers.Dense(
                3,
                activation="softmax",
                kernel_initializer=keras.initializers.GlorotUniform(seed=2),
            ),
        ]
    )
    if compiled:
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=0.05),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
        )
    return model


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
@pytest.mark.parametrize("compiled", [False, True], ids=["uncompiled", "compiled"])
def test_model_instance_parameter_pickles_and_is_not_mutated(compiled):
    X, y = multiclass_data()
    model = model_instance(compiled)
    initial = [w.copy() for w in model.get_weights()]
    est = KerasClassifier(model, batch_size=16, epochs=2, random_state=0)

    unfitted_back = pickle.loads(pickle.dumps(est))
    assert unfitted_back.model is not model
    assert_same_weights(unfitted_back.model, model)
    assert unfitted_back.model.compiled == compiled

    est.fit(X, y)
    # The user's instance: same weights, same compiled state, optimizer unused.
    assert est.model_ is not model
    for now, before in zip(model.get_weights(), initial):
        np.testing.assert_array_equal(now, before)
    assert model.compiled == compiled
    if compiled:
        assert int(model.optimizer.iterations.numpy()) == 0
    # The estimator's copy did train, with the user's compile settings if any.
    assert not all(
        np.array_equal(a, b) for a, b in zip(est.model_.get_weights(), initial)
    )
    if compiled:
        assert isinstance(est.model_.optimizer, keras.optimizers.Adam)
        assert float(est.model_.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
        assert "accuracy" in est.history_
    else:
        assert isinstance(est.model_.optimizer, keras.optimizers.RMSprop)

    fitted_back = pickle.loads(pickle.dumps(est))
    assert_same_predictions(est, fitted_back, X)
    # The pickled parameter kept the initial weights: it trains to the same model.
    assert_same_predictions(est, unfitted_back.fit(X, y), X)
    # And refitting starts again from the user's weights, not the trained ones.
    first = est.predict_proba(X)
    np.testing.assert_allclose(est.fit(X, y).predict_proba(X), first, rtol=1e-7)
