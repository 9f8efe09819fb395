"""scikeras's data transformers: ``target_encoder`` and ``feature_encoder``.

A subclass may define either property (as scikeras documents in its
"DataTransformers" and "MultiOutput" tutorials) to return a scikit-learn
transformer; the estimator then fits it in ``fit`` (``target_encoder_``,
``feature_encoder_``) and uses it on the way to and from the network:

* ``feature_encoder_.transform(X)`` is what the model receives, e.g. a list
  of arrays for a model with several inputs;
* ``target_encoder_.transform(y)`` is what the model trains on, e.g. a list
  of arrays for a model with several outputs; ``inverse_transform`` turns
  the model's outputs back into predictions (``return_proba=True`` for
  ``predict_proba``);
* a transformer's ``get_metadata()`` (optional) adds attributes to the
  estimator, offered to the model-building function in ``meta``.

Without them (the default, ``None``), kerasbig's own target handling runs:
class labels, one-hot and multilabel targets, regression columns.
A model fed through a custom target encoder may have several outputs; it
must be compiled with a loss (by its builder, or ``loss=``), since the
estimator cannot choose one for outputs it does not know.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from sklearn.base import clone
from sklearn.utils.multiclass import type_of_target

from kerasbig.building import output_units


def _custom(estimator: Any, name: str):
    encoder = getattr(estimator, name, None)
    return None if encoder is None else clone(encoder)


def _record_metadata(estimator: Any, encoder: Any) -> None:
    """The encoder's ``get_metadata()`` as attributes, and for ``meta``."""
    meta = dict(getattr(encoder, "get_metadata", dict)())
    vars(estimator).update(meta)
    estimator._encoder_meta.update(meta)


def encode_targets(estimator: Any, y, reset: bool, classes=None):
    """``y`` as the model trains on it: the estimator's own encoding, or its
    ``target_encoder`` fitted (on the first fit) and applied."""
    encoder = _custom(estimator, "target_encoder") if reset else None
    if reset:
        estimator._encoder_meta = {}
    if reset and encoder is None:
        estimator.__dict__.pop("target_encoder_", None)
    if (reset and encoder is None) or (
        not reset and "target_encoder_" not in estimator.__dict__
    ):
        return estimator._encode_targets(y, reset=reset, classes=classes)
    if reset:
        estimator.target_encoder_ = encoder.fit(y)
        estimator.target_type_ = type_of_target(y)
        estimator.n_outputs_ = 1 if y.ndim == 1 else y.shape[1]
        for key in ("classes_", "n_classes_"):
            setattr(estimator, key, getattr(encoder, key, None))
        _record_metadata(estimator, encoder)
    return estimator.target_encoder_.transform(y)


def encode_features(estimator: Any, X, reset: bool):
    """``X`` as the model reads it: unchanged, or through ``feature_encoder_``."""
    if reset:
        encoder = _custom(estimator, "feature_encoder")
        if encoder is None:
            estimator.__dict__.pop("feature_encoder_", None)
            return X
        estimator.feature_encoder_ = encoder.fit(X)
        _record_metadata(estimator, encoder)
    encoder = estimator.__dict__.get("feature_encoder_")
    return X if encoder is None else encoder.transform(X)


def custom_targets(estimator: Any) -> bool:
    """True when a ``target_encoder_`` turns the model's outputs into predictions."""
    return "target_encoder_" in estimator.__dict__


def n_rows(X) -> int:
    """Rows of ``X``, an array or the list / dict of arrays a feature encoder made."""
    return keras.tree.flatten(X)[0].shape[0]


def model_units(estimator: Any, model, X) -> int | None:
    """The units of the model's one output, or None under a custom target encoder
    (which may feed several outputs of any shape)."""
    if custom_targets(estimator):
        if not getattr(model, "compiled", False) and estimator.loss in (None, "auto"):
            raise ValueError(
                f"{type(estimator).__name__} has a target_encoder, so its model's "
                "outputs are the encoder's business: provide a loss, with loss= "
                "or by compiling the model in its builder."
            )
        return None
    return output_units(model, keras.tree.map_structure(lambda a: a[:1], X))


def decoded(estimator: Any, outputs, proba: bool):
    """Predictions from the model's outputs through ``target_encoder_``."""
    if proba:
        return estimator.target_encoder_.inverse_transform(outputs, return_proba=True)
    return estimator.target_encoder_.inverse_transform(outputs)


def check_plain_arrays(X, y, placement) -> None:
    """Distribution pads and splits arrays; lists of them are not supported."""
    if placement is not None and not (
        isinstance(X, np.ndarray) and isinstance(y, np.ndarray)
    ):
        raise ValueError(
            "distribution= needs X and y as single arrays; a feature or target "
            "encoder that makes lists or dicts of arrays is not supported under "
            "a distribution. Use distribution=None, or a single input and output."
        )
