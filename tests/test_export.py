"""est.export(path, format=...): each artefact, loaded back by its own runtime
(tf.saved_model.load, the LiteRT interpreter, onnxruntime), answers as
predict_proba / predict does on fresh inputs, for every family."""

import json
import warnings

import keras
import numpy as np
import pytest
from deploy_helpers import CASES, TEXT_CASES, data, expected_output, fitted
from sklearn.exceptions import NotFittedError

from kerasbig import KerasClassifier
from kerasbig.exporting import serving_model

TF_ONLY = pytest.mark.skipif(
    keras.backend.backend() != "tensorflow",
    reason="raw-text tokenisation and LiteRT export run on the TensorFlow backend",
)
NUMERIC_CASES = tuple(c for c in CASES if c not in TEXT_CASES)
ATOL = 1e-4


def expected(case):
    est = fitted(case)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # texts longer than the training length
        return np.asarray(expected_output(est, data(case)[2]), dtype=np.float32)


def side_file(path):
    return json.loads(path.read_text())


def check_side_file(meta, case, format):
    est = fitted(case)
    assert meta["format"] == format and meta["endpoint"] == "serve"
    assert meta["estimator"] == type(est).__name__
    if hasattr(est, "classes_"):
        assert meta["task"] == "classifier" and meta["output"] == "probabilities"
        assert meta["classes"] == est.classes_.tolist()
    else:
        assert meta["task"] == "regressor" and meta["output"] == "values"
        assert meta["classes"] is None


# ----------------------------------------------------------------------
# TensorFlow SavedModel
# ----------------------------------------------------------------------
def saved_model_case(case, tmp_path):
    import tensorflow as tf

    path = tmp_path / case
    fitted(case).export(path)  # format="tf_saved_model" by default
    served = tf.saved_model.load(str(path))
    fresh = data(case)[2]
    inputs = tf.constant(fresh) if case in TEXT_CASES else fresh
    np.testing.assert_allclose(served.serve(inputs).numpy(), expected(case), atol=ATOL)
    meta = side_file(path / "kerasbig.json")
    check_side_file(meta, case, "tf_saved_model")
    return served, meta


@pytest.mark.parametrize("case", NUMERIC_CASES)
def test_saved_model_round_trip(case, tmp_path):
    served, meta = saved_model_case(case, tmp_path)
    est = fitted(case)
    assert meta["input"]["shape"] == [None, *est.X_shape_[1:]]
    if hasattr(est, "classes_") and keras.backend.backend() == "tensorflow":
        labels = served.classes().numpy().tolist()
        assert [str(c.decode() if isinstance(c, bytes) else c) for c in labels] == [
            str(c) for c in est.classes_
        ]


@TF_ONLY
@pytest.mark.parametrize("case", TEXT_CASES)
def test_saved_model_takes_raw_text(case, tmp_path):
    """Tokenizer and vocabulary travel: raw strings in, including unseen
    words, an empty text and a text longer than the training length."""
    served, meta = saved_model_case(case, tmp_path)
    assert meta["input"] == {"kind": "text", "shape": [None], "dtype": "string"}
    signature = served.signatures["serve"]
    assert signature.structured_input_signature[1]["texts"].dtype.name == "string"


@TF_ONLY
def test_saved_model_serving_signature_for_tf_serving(tmp_path):
    """TF Serving calls the signature by name, with a keyword input."""
    import tensorflow as tf

    path = tmp_path / "clf"
    fitted("cnn_classifier").export(path)
    served = tf.saved_model.load(str(path))
    assert set(served.signatures) >= {"serve", "classes"}
    fresh = data("cnn_classifier")[2]
    (output,) = served.signatures["serve"](tf.constant(fresh)).values()
    np.testing.assert_allclose(output.numpy(), expected("cnn_classifier"), atol=ATOL)


# ----------------------------------------------------------------------
# LiteRT
# ----------------------------------------------------------------------
def litert_interpreter(path):
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tf.lite.Interpreter's deprecation
        return Interpreter(model_path=str(path))


def run_litert(path, X):
    interpreter = litert_interpreter(path)
    (given,) = interpreter.get_input_details()
    interpreter.resize_tensor_input(given["index"], list(X.shape))
    interpreter.allocate_tensors()
    interpreter.set_tensor(given["index"], X.astype(given["dtype"]))
    interpreter.invoke()
    (output,) = interpreter.get_output_details()
    return interpreter.get_tensor(output["index"])


@TF_ONLY
@pytest.mark.parametrize("case", NUMERIC_CASES)
def test_litert_round_trip(case, tmp_path):
    path = tmp_path / f"{case}.tflite"
    fitted(case).export(path, format="litert")
    got = run_litert(path, data(case)[2])
    np.testing.assert_allclose(got, expected(case), atol=ATOL)
    check_side_file(side_file(tmp_path / f"{case}.tflite.json"), case, "litert")


@TF_ONLY
def test_litert_needs_tflite_suffix(tmp_path):
    with pytest.raises(ValueError, match=r"format='litert'; expected a file name "):
        fitted("keras_regressor").export(tmp_path / "model.bin", format="litert")


# ----------------------------------------------------------------------
# ONNX
# ----------------------------------------------------------------------
@pytest.mark.parametrize("case", NUMERIC_CASES)
def test_onnx_round_trip(case, tmp_path):
    ort = pytest.importorskip("onnxruntime")
    if keras.backend.backend() == "jax":
        pytest.importorskip("jax2onnx", reason="Keras exports ONNX from JAX via it")
    path = tmp_path / f"{case}.onnx"
    fitted(case).export(path, format="onnx")
    session = ort.InferenceSession(str(path))
    (given,) = session.get_inputs()
    got = session.run(None, {given.name: data(case)[2]})[0]
    np.testing.assert_allclose(got, expected(case), atol=ATOL)
    check_side_file(side_file(tmp_path / f"{case}.onnx.json"), case, "onnx")


# ----------------------------------------------------------------------
# What a format cannot carry, and bad arguments
# ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "format, message",
    [
        ("litert", r"format='litert' cannot carry .*WordPiece.*tf_saved_model"),
        ("onnx", r"format='onnx' cannot carry .*tokenisation.*tf_saved_model"),
    ],
)
def test_text_tokenisation_cannot_go_to_litert_or_onnx(format, message, tmp_path):
    suffix = ".tflite" if format == "litert" else ".onnx"
    with pytest.raises(ValueError, match=message):
        fitted("transformer_classifier").export(tmp_path / f"m{suffix}", format=format)
    assert not list(tmp_path.iterdir())


def test_bad_arguments(tmp_path):
    est = fitted("keras_regressor")
    with pytest.raises(ValueError, match=r"format='savedmodel' is invalid; expected"):
        est.export(tmp_path / "m", format="savedmodel")
    with pytest.raises(TypeError, match=r"path=3 is invalid"):
        est.export(3)
    with pytest.raises(NotFittedError):
        KerasClassifier().export(tmp_path / "m")


def test_custom_target_encoder_is_refused(tmp_path):
    from deploy_helpers import registered_mlp
    from sklearn.preprocessing import FunctionTransformer

    from kerasbig import KerasRegressor

    class Custom(KerasRegressor):
        @property
        def target_encoder(self):
            return FunctionTransformer()

    X, y, _ = data("keras_regressor")
    est = Custom(registered_mlp, loss="mse", epochs=1, random_state=0)
    est.fit(X, y.reshape(-1, 1))
    with pytest.raises(ValueError, match="custom target_encoder.*est.model_.export"):
        est.export(tmp_path / "m")


def test_serving_model_matches_predict_without_any_runtime():
    """The Keras model under every format: probabilities / de-standardized
    values, from the input predict validates."""
    for case in ("cnn_regressor", "rnn_classifier", "keras_classifier"):
        model = serving_model(fitted(case))
        got = np.asarray(model(data(case)[2]))
        # float32 (one unit in the last place of ~1,000 is 6e-5)
        np.testing.assert_allclose(got, expected(case), rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------
# Image scaling learned in a Pipeline
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def scaled_pipeline():
    from sklearn.pipeline import make_pipeline

    from kerasbig import CNNClassifier
    from kerasbig.preprocessing import ImageScaler

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(24, 6, 6, 1)).astype("float32")
    labels = np.where(pixels[:, :3].mean(axis=(1, 2, 3)) > 127, "light", "dark")
    pipe = make_pipeline(
        ImageScaler(), CNNClassifier(filters=2, epochs=2, random_state=0)
    ).fit(pixels, labels)
    fresh = rng.integers(0, 256, size=(5, 6, 6, 1)).astype("float32")
    return pipe, fresh


@pytest.mark.parametrize("format", ["tf_saved_model", "litert", "onnx"])
def test_pipeline_image_scaling_travels(scaled_pipeline, format, tmp_path):
    from kerasbig.exporting import export

    if format == "litert" and keras.backend.backend() != "tensorflow":
        pytest.skip("LiteRT export runs on the TensorFlow backend")
    if format == "onnx":
        pytest.importorskip("onnxruntime")
        if keras.backend.backend() == "jax":
            pytest.importorskip("jax2onnx", reason="Keras exports ONNX from JAX via it")
    pipe, fresh = scaled_pipeline
    want = pipe.predict_proba(fresh)
    suffix = {"tf_saved_model": "", "litert": ".tflite", "onnx": ".onnx"}[format]
    path = tmp_path / f"pipe{suffix}"
    export(pipe, path, format=format)
    if format == "tf_saved_model":
        import tensorflow as tf

        served = tf.saved_model.load(str(path))  # keep it: it owns the weights
        got = served.serve(fresh).numpy()
        meta = side_file(path / "kerasbig.json")
    elif format == "litert":
        got = run_litert(path, fresh)
        meta = side_file(tmp_path / "pipe.tflite.json")
    else:
        import onnxruntime as ort

        session = ort.InferenceSession(str(path))
        got = session.run(None, {session.get_inputs()[0].name: fresh})[0]
        meta = side_file(tmp_path / "pipe.onnx.json")
    np.testing.assert_allclose(got, want, atol=ATOL)
    scaler = pipe[0]
    assert meta["preprocessing"] == [
        {"step": "ImageScaler", "min_value": 0.0, "scale": scaler.scale_}
    ]
    assert meta["classes"] == ["dark", "light"]


def test_pipeline_with_other_steps_is_refused(tmp_path):
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from kerasbig.exporting import export

    X, y, _ = data("keras_regressor")
    pipe = make_pipeline(StandardScaler(), unfitted_regressor()).fit(X, y)
    with pytest.raises(ValueError, match="step 'standardscaler' .*cannot be exported"):
        export(pipe, tmp_path / "m")
    with pytest.raises(TypeError, match="Cannot export StandardScaler"):
        export(StandardScaler(), tmp_path / "m")


def unfitted_regressor():
    from deploy_helpers import unfitted

    return unfitted("keras_regressor")
