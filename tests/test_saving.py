"""est.save(path) and kerasbig.load(path, safe_mode=True): one file, identical
predictions, versions recorded, nothing unsafe loaded by default."""

import functools
import json
import pickle
import warnings
import zipfile

import keras
import numpy as np
import pytest
from deploy_helpers import CASES, data, fitted, registered_mlp, unfitted
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

import kerasbig
from kerasbig import KerasClassifier, KerasRegressor, saving
from kerasbig.safe_state import UnsafeContentError

pytestmark = pytest.mark.filterwarnings("ignore:.*longer than.*:UserWarning")


def outputs(est, X) -> dict:
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


def assert_identical(a, b, X):
    for method, expected in outputs(a, X).items():
        np.testing.assert_array_equal(outputs(b, X)[method], expected, err_msg=method)


def saved_and_loaded(est, tmp_path, **load_kwargs):
    path = tmp_path / "estimator.kerasbig"
    est.save(path)
    return kerasbig.load(path, **load_kwargs)


# ----------------------------------------------------------------------
# Round trips
# ----------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_fitted_round_trip_predicts_identically(case, tmp_path):
    est = fitted(case)
    X, _, fresh = data(case)
    back = saved_and_loaded(est, tmp_path)
    assert type(back) is type(est)
    check_is_fitted(back)
    assert back.get_params().keys() == est.get_params().keys()
    assert repr(back.get_params()) == repr(est.get_params())
    assert back.history_ == est.history_
    for name in ("classes_", "n_outputs_", "input_shape_", "vocabulary_size_"):
        if hasattr(est, name):
            np.testing.assert_array_equal(getattr(back, name), getattr(est, name))
    assert_identical(est, back, fresh)
    for a, b in zip(est.model_.get_weights(), back.model_.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_text_vocabulary_travels(tmp_path):
    est = fitted("transformer_classifier")
    back = saved_and_loaded(est, tmp_path)
    assert back.encoder_.vocabulary_ == est.encoder_.vocabulary_
    assert back.encoder_ is not est.encoder_


def test_regressor_target_statistics_travel(tmp_path):
    est = fitted("cnn_regressor")
    back = saved_and_loaded(est, tmp_path)
    np.testing.assert_array_equal(back.target_encoder_.mean_, est.target_encoder_.mean_)
    assert back.predict(data("cnn_regressor")[2]).mean() > 500  # de-standardized


def test_unfitted_round_trip(tmp_path):
    est = unfitted("rnn_classifier").set_params(dense_units=(3,))
    back = saved_and_loaded(est, tmp_path)
    with pytest.raises(NotFittedError):
        check_is_fitted(back)
    assert repr(back.get_params()) == repr(est.get_params())
    X, y, fresh = data("rnn_classifier")
    assert_identical(est.fit(X, y), back.fit(X, y), fresh)


def test_agrees_with_pickle(tmp_path):
    est = fitted("keras_classifier")
    _, _, fresh = data("keras_classifier")
    loaded = saved_and_loaded(est, tmp_path)
    unpickled = pickle.loads(pickle.dumps(est))
    assert_identical(unpickled, loaded, fresh)
    assert sorted(vars(loaded)) == sorted(vars(unpickled))
    assert repr(loaded.get_params()) == repr(unpickled.get_params())


def test_training_resumes_after_loading(tmp_path):
    """The optimizer state travels: partial_fit continues as if never saved."""
    X, y, fresh = data("keras_regressor")
    original = unfitted("keras_regressor").fit(X, y)
    back = saved_and_loaded(original, tmp_path)
    assert int(back.model_.optimizer.iterations.numpy()) > 0
    original.partial_fit(X, y)
    back.partial_fit(X, y)
    assert len(back.history_["loss"]) == 3
    np.testing.assert_allclose(back.predict(fresh), original.predict(fresh), rtol=1e-6)


def test_parameters_of_every_kind_travel(tmp_path):
    X, y, fresh = data("keras_classifier")
    est = KerasClassifier(
        registered_mlp,
        model__hidden=5,
        optimizer=keras.optimizers.Adam,
        optimizer__learning_rate=0.01,
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=["accuracy"],
        class_weight={"ant": 1.0, "bee": 2.0, "cat": 1.0},
        epochs=1,
        random_state=np.int64(3),
    ).fit(X, y)
    back = saved_and_loaded(est, tmp_path)
    assert back.optimizer is keras.optimizers.Adam
    assert isinstance(back.loss, keras.losses.SparseCategoricalCrossentropy)
    assert back.class_weight == est.class_weight
    assert type(back.random_state) is np.int64
    assert back.get_params()["model__hidden"] == 5
    assert_identical(est, back, fresh)


def test_custom_registered_layer_survives(tmp_path):
    from test_persistence import custom_layer_mlp

    X, y, fresh = data("keras_classifier")
    est = KerasClassifier(custom_layer_mlp, epochs=1, random_state=0).fit(X, y)
    # custom_layer_mlp itself is not registered: trusted loading only
    back = saved_and_loaded(est, tmp_path, safe_mode=False)
    assert_identical(est, back, fresh)


# ----------------------------------------------------------------------
# The file
# ----------------------------------------------------------------------
def test_one_file_with_native_keras_model_and_versions(tmp_path):
    path = tmp_path / "clf.kerasbig"
    fitted("cnn_classifier").save(path)
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == [path.name]
    with zipfile.ZipFile(path) as zf:
        assert {"kerasbig.json", "model.keras", "arrays.npz"} <= set(zf.namelist())
        manifest = json.loads(zf.read("kerasbig.json"))
        with zf.open("model.keras") as keras_file:
            assert zipfile.is_zipfile(keras_file)  # Keras's own format
    assert manifest["versions"] == saving.versions()
    assert set(manifest["versions"]) == {"kerasbig", "keras", "scikit-learn"}


def _rewrite_manifest(path, change):
    with zipfile.ZipFile(path) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(entries["kerasbig.json"])
    change(manifest)
    entries["kerasbig.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in entries.items():
            zf.writestr(name, content)


def test_version_mismatch_warns(tmp_path):
    path = tmp_path / "est.kerasbig"
    fitted("keras_regressor").save(path)

    def older(manifest):
        manifest["versions"].update({"keras": "3.0.0", "scikit-learn": "1.6.0"})

    _rewrite_manifest(path, older)
    with pytest.warns(saving.InconsistentVersionWarning) as record:
        back = kerasbig.load(path)
    message = str(record[0].message)
    assert "keras 3.0.0 (now " in message and "scikit-learn 1.6.0" in message
    assert "kerasbig" not in message.split("saved with")[1].split(";")[0]
    check_is_fitted(back)


def test_same_versions_do_not_warn(tmp_path):
    path = tmp_path / "est.kerasbig"
    fitted("keras_regressor").save(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = kerasbig.load(path)
    mismatches = [
        w for w in caught if issubclass(w.category, saving.InconsistentVersionWarning)
    ]
    assert mismatches == []
    assert hasattr(loaded, "model_")


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "est.kerasbig"
    fitted("keras_regressor").save(path)
    _rewrite_manifest(path, lambda m: m.update(format_version=99))
    with pytest.raises(ValueError, match="format version 99.*Upgrade kerasbig"):
        kerasbig.load(path)


def test_other_files_are_refused_clearly(tmp_path):
    keras_file = tmp_path / "plain.keras"
    fitted("keras_regressor").model_.save(keras_file)
    with pytest.raises(ValueError, match="not an estimator saved by kerasbig"):
        kerasbig.load(keras_file)
    pickled = tmp_path / "est.pkl"
    pickled.write_bytes(pickle.dumps(fitted("keras_regressor")))
    with pytest.raises(ValueError, match="not an estimator saved by kerasbig"):
        kerasbig.load(pickled)
    with pytest.raises(ValueError, match="does not exist"):
        kerasbig.load(tmp_path / "missing.kerasbig")


def test_bad_arguments(tmp_path):
    est = fitted("keras_regressor")
    with pytest.raises(TypeError, match=r"path=12 is invalid; expected a file path"):
        est.save(12)
    with pytest.raises(ValueError, match="is a directory"):
        est.save(tmp_path)
    est.save(tmp_path / "ok.kerasbig")
    with pytest.raises(TypeError, match=r"safe_mode='no' is invalid; expected True"):
        kerasbig.load(tmp_path / "ok.kerasbig", safe_mode="no")
    with pytest.raises(TypeError, match=r"path=None is invalid"):
        kerasbig.load(None)


def test_unsaveable_parameter_names_itself(tmp_path):
    est = KerasRegressor(lambda meta: None)
    with pytest.raises(TypeError, match=r"Cannot save \['model'\]=<function"):
        est.save(tmp_path / "est.kerasbig")
    assert not list(tmp_path.iterdir())  # no half-written file left


# ----------------------------------------------------------------------
# Safe mode
# ----------------------------------------------------------------------
@keras.saving.register_keras_serializable(package="kerasbig_tests")
def lambda_mlp(meta, seed=None):
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Lambda(lambda t: t * 2.0)(inputs)
    outputs = keras.layers.Dense(meta["n_outputs_"])(x)
    return keras.Model(inputs, outputs)


def test_lambda_layer_is_refused_unless_trusted(tmp_path):
    X, y, fresh = data("keras_regressor")
    est = KerasRegressor(lambda_mlp, loss="mse", epochs=1, random_state=0).fit(X, y)
    path = tmp_path / "lambda.kerasbig"
    est.save(path)
    with pytest.raises(UnsafeContentError, match="Lambda.*safe_mode=False"):
        kerasbig.load(path)
    with pytest.raises(ValueError):  # UnsafeContentError is a ValueError
        kerasbig.load(path, safe_mode=True)
    back = kerasbig.load(path, safe_mode=False)
    assert_identical(est, back, fresh)


def unregistered_mlp(meta, seed=None):
    return registered_mlp(meta, seed=seed)


def test_unregistered_function_is_not_imported_in_safe_mode(tmp_path):
    X, y, fresh = data("keras_classifier")
    est = KerasClassifier(unregistered_mlp, epochs=1, random_state=0).fit(X, y)
    path = tmp_path / "est.kerasbig"
    est.save(path)
    with pytest.raises(
        UnsafeContentError, match="test_saving.unregistered_mlp.*register_keras"
    ):
        kerasbig.load(path)
    back = kerasbig.load(path, safe_mode=False)
    assert back.model is unregistered_mlp
    assert_identical(est, back, fresh)


def test_registered_function_loads_in_safe_mode(tmp_path):
    back = saved_and_loaded(fitted("keras_classifier"), tmp_path)
    assert back.model is registered_mlp


def test_pickled_parameter_is_refused_in_safe_mode(tmp_path):
    X, y, fresh = data("keras_regressor")
    build = functools.partial(registered_mlp, hidden=3)  # pickles by __reduce__
    est = KerasRegressor(build, loss="mse", epochs=1, random_state=0).fit(X, y)
    path = tmp_path / "est.kerasbig"
    est.save(path)
    with pytest.raises(UnsafeContentError, match=r"pickled partial at \['model'\]"):
        kerasbig.load(path)
    back = kerasbig.load(path, safe_mode=False)
    assert back.model.func is registered_mlp and back.model.keywords == {"hidden": 3}
    assert_identical(est, back, fresh)


def test_keras_callback_instance_travels(tmp_path):
    X, y, fresh = data("keras_regressor")
    stop = keras.callbacks.EarlyStopping(monitor="loss", patience=3)
    est = KerasRegressor(
        registered_mlp, loss="mse", callbacks=[stop], epochs=1, random_state=0
    ).fit(X, y)
    back = saved_and_loaded(est, tmp_path)
    assert isinstance(back.callbacks[0], keras.callbacks.EarlyStopping)
    assert back.callbacks[0].patience == 3
    assert_identical(est, back, fresh)


def test_save_does_not_mark_the_model_escaped(tmp_path):
    from kerasbig import reuse

    est = unfitted("keras_regressor").fit(*data("keras_regressor")[:2])
    est.save(tmp_path / "est.kerasbig")
    assert est._model not in reuse._escaped
