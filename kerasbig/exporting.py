"""Export a fitted estimator for serving: ``est.export(path, format=...)``.

The artefact is the estimator's whole prediction path, not only its network::

    raw input -> learned preprocessing -> network -> decoding -> output

* **input**: what ``predict`` takes. Numbers, shaped as one ``fit`` row
  (``X_shape_[1:]``; a univariate series gains its channel axis inside), or
  raw strings for a text Transformer, whose WordPiece tokenizer and learned
  vocabulary are inside the artefact (``[CLS]`` first, cut and padded to
  the training length, as ``predict`` does);
* **output**: class probabilities for classifiers (``predict_proba``'s
  columns, in the order of ``classes_``; a single sigmoid unit becomes
  ``[1 - p, p]``), predicted values for regressors (``predict``'s, with the
  target standardization the families train on undone), float32.

:func:`serving_model` builds that path (from numbers or token ids) as a
``keras.Model`` around the fitted network; ``keras.Model.export`` and
``keras.export.ExportArchive`` write it. The class labels and the input's
description go into a side file, ``kerasbig.json`` (inside the SavedModel
directory; ``<file>.json`` beside a ``.tflite`` or ``.onnx`` file), and, in a
SavedModel, a ``classes`` endpoint.

What each format carries:

==================  ============  ==============  ======================
input               SavedModel    LiteRT          ONNX
==================  ============  ==============  ======================
numbers, token ids  yes           yes             yes
raw text            TF backend    no (tf-text)    no (strings)
pretrained preset   no            no              no
==================  ============  ==============  ======================

A part a format cannot carry raises ``ValueError`` naming it and what to use
instead.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np
from sklearn.base import is_classifier
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils.validation import check_is_fitted

from kerasbig import startup
from kerasbig.targets import MULTILABEL, ClassifierTargetEncoder, RegressorTargetEncoder

FORMATS = ("tf_saved_model", "litert", "onnx")
SIDE_FILE = "kerasbig.json"


@dataclass
class Plan:
    """What an exported estimator takes and returns."""

    kind: str  # "numeric", "tokens" or "text"
    shape: tuple  # one input row, as the artefact takes it
    dtype: str
    task: str  # "classifier" or "regressor"
    output: str  # "probabilities" or "values"
    classes: list | None = None
    text: dict = field(default_factory=dict)  # length, [CLS] id for text

    def metadata(self, estimator: Any, format: str) -> dict:
        """The side file's content."""
        import kerasbig

        return {
            "kerasbig_version": kerasbig.__version__,
            "estimator": type(estimator).__name__,
            "format": format,
            "endpoint": "serve",
            "task": self.task,
            "input": {
                "kind": self.kind,
                "shape": [None, *self.shape],
                "dtype": self.dtype,
            },
            "output": self.output,
            "classes": self.classes,
        }


# ----------------------------------------------------------------------
# What the estimator needs exported
# ----------------------------------------------------------------------
def plan(estimator: Any) -> Plan:
    """Check that ``estimator`` can be exported and describe its artefact."""
    check_is_fitted(estimator)
    name = type(estimator).__name__
    if not isinstance(
        estimator.target_encoder_, (ClassifierTargetEncoder, RegressorTargetEncoder)
    ):
        raise ValueError(
            f"{name} has a custom target_encoder "
            f"({type(estimator.target_encoder_).__name__}), whose decoding of "
            "the network's outputs cannot be exported. Export the network "
            "itself (est.model_.export(...)) and decode its outputs yourself."
        )
    feature = estimator.feature_encoder_
    if not (isinstance(feature, FunctionTransformer) and feature.func is None):
        raise ValueError(
            f"{name} has a custom feature_encoder ({type(feature).__name__}), "
            "which cannot be exported. Export the network itself "
            "(est.model_.export(...)) and encode its inputs yourself."
        )
    model = estimator._model
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError(
            f"{name}'s network has {len(model.inputs)} input(s) and "
            f"{len(model.outputs)} output(s); export handles one of each. "
            "Export the network itself (est.model_.export(...))."
        )
    if "preprocessor_" in vars(estimator):
        raise ValueError(
            f"{name} reads text through the pretrained preset's preprocessor "
            f"(backbone={estimator.backbone!r}), which export does not carry yet. "
            "Serve the saved estimator instead (est.save, then kerasbig serve)."
        )
    classifier = is_classifier(estimator)
    task = "classifier" if classifier else "regressor"
    output = "probabilities" if classifier else "values"
    classes = _labels(estimator.classes_) if classifier else None
    kind = getattr(estimator, "input_type_", "numeric")
    if kind == "text":
        length = int(estimator.input_shape_[0])
        cls_id = estimator.encoder_.vocabulary_.index("[CLS]")
        return Plan(
            "text",
            (),
            "string",
            task,
            output,
            classes,
            {"length": length, "cls_id": cls_id},
        )
    shape = tuple(int(d) for d in estimator.X_shape_[1:])
    dtype = "int32" if kind == "tokens" else _float_dtype(model)
    return Plan(kind, shape, dtype, task, output, classes)


def _labels(classes: np.ndarray) -> list:
    return [c.item() if isinstance(c, np.generic) else c for c in classes.tolist()]


def _float_dtype(model: keras.Model) -> str:
    dtype = keras.backend.standardize_dtype(model.inputs[0].dtype)
    return dtype if dtype.startswith("float") else "float32"


# ----------------------------------------------------------------------
# The prediction path as a Keras model
# ----------------------------------------------------------------------
def serving_model(
    estimator: Any,
    network: keras.Model | None = None,
    scalers: tuple[tuple[float, float], ...] = (),
) -> keras.Model:
    """The fitted network between the input ``predict`` validates (numbers
    or token ids) and the output ``predict_proba`` / ``predict`` returns.

    Parameters
    ----------
    estimator : fitted kerasbig estimator
    network : keras.Model, default=None
        The network to wrap (an equivalent of ``estimator.model_``, such as
        its unrolled copy); None: ``estimator.model_`` itself.
    scalers : tuple of (min_value, scale) pairs, default=()
        Fitted :class:`kerasbig.preprocessing.ImageScaler` steps before the
        estimator in a Pipeline, applied first: ``(x - min_value) * scale``.

    Returns
    -------
    model : keras.Model
        Input: ``(batch, *X_shape_[1:])`` numbers (or token ids; for text,
        ``(batch, length)`` ids). Output: float32 probabilities or values.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import RNNClassifier
    >>> from kerasbig.exporting import serving_model
    >>> rng = np.random.default_rng(0)
    >>> X, y = rng.normal(size=(20, 6)).astype("float32"), [0, 1] * 10
    >>> clf = RNNClassifier(units=2, epochs=1, random_state=0).fit(X, y)
    >>> model = serving_model(clf)
    >>> model.input_shape, model.output_shape
    ((None, 6), (None, 2))
    >>> proba = np.asarray(model(X[:3]))
    >>> bool(np.allclose(proba, clf.predict_proba(X[:3]), atol=1e-6))
    True
    """
    the_plan = plan(estimator)
    network = estimator._model if network is None else network
    model_shape = tuple(network.inputs[0].shape[1:])
    if the_plan.kind == "text":
        inputs = keras.Input((model_shape[0],), dtype="int32", name="token_ids")
    else:
        inputs = keras.Input(the_plan.shape, dtype=the_plan.dtype, name="X")
    x = inputs
    for min_value, scale in scalers:
        x = (x - min_value) * scale
    if len(model_shape) == len(the_plan.shape) + 1 and the_plan.kind != "text":
        x = keras.ops.expand_dims(x, -1)  # (n, length) -> (n, length, 1)
    if model_shape and model_shape[0] is not None and x.shape[1] > model_shape[0]:
        x = x[:, : model_shape[0]]  # fit cut longer sequences to this length
    out = network(x, training=False)
    units = math.prod(out.shape[1:])
    out = keras.ops.reshape(keras.ops.cast(out, "float32"), (-1, units))
    if the_plan.task == "classifier":
        out = _probabilities(estimator, out, units)
    else:
        out = _values(estimator, out)
    return keras.Model(inputs, out, name=f"{network.name}_serving")


def _probabilities(estimator: Any, out, units: int):
    """``predict_proba`` of the network's outputs, in Keras ops."""
    ops = keras.ops
    if estimator.n_classes_ == 1:
        return ops.ones_like(out[:, :1])
    multilabel = estimator.target_type_ == MULTILABEL
    if getattr(estimator._model.loss, "from_logits", False):
        single = units == 1 or multilabel
        out = ops.sigmoid(out) if single else ops.softmax(out, axis=-1)
    if multilabel:
        return out
    if units == 1:
        positive = ops.clip(out, 0.0, 1.0)
        return ops.concatenate([1.0 - positive, positive], axis=1)
    out = ops.maximum(out, 0.0)
    return out / ops.sum(out, axis=1, keepdims=True)


def _values(estimator: Any, out):
    """``predict`` of the network's outputs: standardization undone, shaped
    like the fitted ``y``."""
    encoder = estimator.target_encoder_
    if encoder.standardize:
        scale = np.asarray(encoder.scale_, dtype="float32")
        mean = np.asarray(encoder.mean_, dtype="float32")
        out = out * scale + mean
    if estimator.y_ndim_ == 1:
        out = out[:, 0]
    return out


# ----------------------------------------------------------------------
# Text: WordPiece in TensorFlow
# ----------------------------------------------------------------------
def text_to_ids(estimator: Any, length: int, cls_id: int):
    """A TensorFlow function: a batch of strings -> ``(batch, length)`` int32
    ids, ``[CLS]`` first, cut and padded with 0, as ``predict`` does; and
    the keras-hub tokenizer layer it uses (to track)."""
    import tensorflow as tf

    tokenizer = estimator.encoder_._get_tokenizer()

    def to_ids(texts):
        pieces = tf.cast(tokenizer(texts), tf.int32)
        first = tf.fill([tf.shape(texts)[0], 1], tf.constant(cls_id, tf.int32))
        ids = tf.concat([tf.RaggedTensor.from_tensor(first), pieces], axis=1)
        return ids[:, :length].to_tensor(default_value=0, shape=[None, length])

    return to_ids, tokenizer


# ----------------------------------------------------------------------
# The formats
# ----------------------------------------------------------------------
def export(estimator: Any, path: str | os.PathLike, format: str = "tf_saved_model"):
    """Export a fitted estimator, or a fitted Pipeline of
    :class:`~kerasbig.preprocessing.ImageScaler` steps and an estimator, to
    ``path`` (see :meth:`kerasbig.saving.SavingMixin.export`).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> import tensorflow as tf
    >>> from sklearn.pipeline import make_pipeline
    >>> from kerasbig import CNNClassifier
    >>> from kerasbig.exporting import export
    >>> from kerasbig.preprocessing import ImageScaler
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(20, 6, 6, 1)).astype("float32")
    >>> pipe = make_pipeline(ImageScaler(), CNNClassifier(filters=2, epochs=1,
    ...                                                   random_state=0))
    >>> pipe = pipe.fit(images, [0, 1] * 10)
    >>> path = os.path.join(tempfile.mkdtemp(), "pipe")
    >>> export(pipe, path)  # the artefact takes raw 0-255 pixels
    >>> served = tf.saved_model.load(path)
    >>> proba = served.serve(images[:2]).numpy()
    >>> bool(np.allclose(proba, pipe.predict_proba(images[:2]), atol=1e-5))
    True
    """
    if format not in FORMATS:
        raise ValueError(
            f"format={format!r} is invalid; expected one of "
            f"{', '.join(map(repr, FORMATS))}."
        )
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path={path!r} is invalid; expected a str or os.PathLike.")
    path = Path(path)
    scalers, estimator = _split_pipeline(estimator)
    the_plan = plan(estimator)
    if the_plan.kind == "text":
        _check_text_export(estimator, format)

    def make(network=None):
        return serving_model(estimator, network, scalers)

    writer = {"tf_saved_model": _saved_model, "litert": _litert, "onnx": _onnx}
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=FutureWarning)
        writer[format](estimator, make, the_plan, path)
    side = path / SIDE_FILE if format == "tf_saved_model" else Path(f"{path}.json")
    metadata = the_plan.metadata(estimator, format)
    metadata["preprocessing"] = [
        {"step": "ImageScaler", "min_value": m, "scale": k} for m, k in scalers
    ]
    side.write_text(json.dumps(metadata, indent=1))


def _split_pipeline(obj: Any) -> tuple[tuple[tuple[float, float], ...], Any]:
    """A Pipeline's ImageScaler steps and its final estimator (or no steps
    and ``obj`` itself)."""
    from sklearn.pipeline import Pipeline

    from kerasbig.base import BaseKerasEstimator
    from kerasbig.preprocessing import ImageScaler

    if not isinstance(obj, Pipeline):
        if not isinstance(obj, BaseKerasEstimator):
            raise TypeError(
                f"Cannot export {type(obj).__name__}: expected a fitted kerasbig "
                "estimator, or a Pipeline of ImageScaler steps ending with one."
            )
        return (), obj
    scalers = []
    for name, step in obj.steps[:-1]:
        if step is None or step == "passthrough":
            continue
        if not isinstance(step, ImageScaler):
            raise ValueError(
                f"The Pipeline's step {name!r} ({type(step).__name__}) cannot be "
                "exported; export handles ImageScaler steps before a kerasbig "
                "estimator. Export the estimator alone (pipe[-1].export) and "
                "apply the other steps before calling the artefact."
            )
        check_is_fitted(step)
        scalers.append((float(step.min_value), float(step.scale_)))
    return tuple(scalers), _split_pipeline(obj.steps[-1][1])[1]


def _check_text_export(estimator: Any, format: str) -> None:
    name = type(estimator).__name__
    if format == "litert":
        raise ValueError(
            f"format='litert' cannot carry {name}'s text tokenisation: its "
            "WordPiece tokenizer runs on tensorflow-text ops, which LiteRT does "
            "not have. Export format='tf_saved_model' (it takes raw strings), or "
            "tokenise on the device: fit a Pipeline of "
            "kerasbig.preprocessing.TextTokenizer and the Transformer with "
            "input_type='tokens', and export the Transformer (it takes token ids)."
        )
    if format == "onnx":
        raise ValueError(
            f"format='onnx' cannot carry {name}'s text tokenisation: ONNX has no "
            "string tokenizer for its WordPiece vocabulary. Export "
            "format='tf_saved_model' (it takes raw strings), or fit on token ids "
            "(kerasbig.preprocessing.TextTokenizer, then input_type='tokens') "
            "and export the Transformer, which then takes token ids."
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            f"Exporting {name}'s text tokenisation needs the TensorFlow backend "
            f"(it runs on tensorflow-text; the backend is "
            f"{keras.backend.backend()!r}). Save the estimator (est.save), load it "
            "with KERAS_BACKEND=tensorflow and export it there."
        )


def _saved_model(estimator: Any, make, the_plan: Plan, path: Path):
    startup.import_tensorflow_quietly()  # on JAX: without its start-up lines
    import tensorflow as tf

    model = make()
    archive = keras.export.ExportArchive()
    archive.track(model)
    if the_plan.kind == "text":
        to_ids, tokenizer = text_to_ids(estimator, **the_plan.text)
        archive.track(tokenizer)

        def serve(texts):
            return model(to_ids(texts), training=False)

        signature = [tf.TensorSpec([None], tf.string, name="texts")]
    else:

        def serve(X):
            return model(X, training=False)

        signature = _signature(the_plan)
    archive.add_endpoint("serve", serve, input_signature=signature)
    if the_plan.classes is not None and keras.backend.backend() == "tensorflow":
        labels = np.asarray(the_plan.classes)
        if labels.dtype == object:
            labels = labels.astype(str)
        archive.add_endpoint(
            "classes", tf.function(lambda: tf.constant(labels)), input_signature=[]
        )
    archive.write_out(str(path), verbose=False)


def _litert(estimator: Any, make, the_plan: Plan, path: Path):
    if path.suffix != ".tflite":
        raise ValueError(
            f"path={str(path)!r} is invalid for format='litert'; expected a file "
            "name ending in '.tflite'."
        )
    if keras.backend.backend() != "tensorflow":
        raise ValueError(
            "format='litert' needs the TensorFlow backend here (Keras converts "
            f"through TensorFlow Lite; the backend is {keras.backend.backend()!r}). "
            "Save the estimator (est.save), load it with KERAS_BACKEND=tensorflow "
            "and export it there."
        )
    import tensorflow as tf

    # LiteRT runs recurrent layers only unrolled (a loop over time with a
    # dynamic batch needs TensorFlow ops that LiteRT's runtime lacks).
    model = make(_unrolled(estimator._model))
    model.export(
        str(path),
        format="litert",
        verbose=False,
        input_signature=_signature(the_plan),
        target_spec={"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS]},
    )


def _unrolled(network: keras.Model) -> keras.Model:
    """``network`` with its recurrent layers unrolled over the (fixed) time
    steps, same weights; ``network`` itself if it has none."""
    recurrent = (keras.layers.RNN, keras.layers.Bidirectional)
    if not any(isinstance(layer, recurrent) for layer in _layers(network)):
        return network

    def unroll(config):
        if isinstance(config, dict):
            if "unroll" in config:
                config["unroll"] = True
            for value in config.values():
                unroll(value)
        elif isinstance(config, list):
            for value in config:
                unroll(value)

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, recurrent):
            unroll(config)
        return type(layer).from_config(config)

    copy = keras.models.clone_model(network, clone_function=clone)
    copy.set_weights(network.get_weights())
    return copy


def _layers(model: keras.Model):
    for layer in model.layers:
        yield layer
        if isinstance(layer, keras.Model):
            yield from _layers(layer)


def _signature(the_plan: Plan) -> list:
    return [keras.InputSpec(shape=(None, *the_plan.shape), dtype=the_plan.dtype)]


def _onnx(estimator: Any, make, the_plan: Plan, path: Path):
    policy = estimator._model.dtype_policy.name
    if policy != "float32":
        raise ValueError(
            f"format='onnx' needs a float32 network; {type(estimator).__name__} "
            f"computes in {policy} (precision="
            f"{estimator.precision!r}). Refit with precision=None, or export "
            "format='tf_saved_model'."
        )
    model = make()
    model.export(
        str(path), format="onnx", verbose=False, input_signature=_signature(the_plan)
    )
