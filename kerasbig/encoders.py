"""scikeras's data transformers: ``target_encoder`` and ``feature_encoder``.

Every estimator has both, as properties returning a scikit-learn transformer;
``fit`` fits them (``target_encoder_``, ``feature_encoder_``) and the data
passes through them on the way to and from the network:

* ``feature_encoder_.transform(X)`` is what the model receives (by default
  ``X`` itself; e.g. a list of arrays for a model with several inputs);
* ``target_encoder_.transform(y)`` is what the model trains on, and
  ``inverse_transform`` turns its outputs back into predictions
  (``return_proba=True`` for ``predict_proba``);
* a transformer's ``get_metadata()`` (optional) adds attributes to the
  estimator, offered to the model-building function in ``meta``.

The defaults are kerasbig's own target encoders (:mod:`kerasbig.targets`),
for which the estimator also fits the model to the target (loss, output
units); a subclass may return any other transformer, as scikeras documents
in its "DataTransformers" and "MultiOutput" tutorials. A model fed through
such an encoder may have several outputs and needs a loss (``loss=``, or
compiled in its builder), since the estimator cannot choose one for outputs
it does not know.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from sklearn.base import clone
from sklearn.utils.multiclass import type_of_target

from kerasbig.building import output_units
from kerasbig.targets import RegressorTargetEncoder, TargetEncoder


def _record_metadata(estimator: Any, meta: dict) -> None:
    """``meta`` as attributes of the estimator, and offered to builders."""
    vars(estimator).update(meta)
    estimator._encoder_meta.update(meta)


def encode_targets(estimator: Any, y, reset: bool, classes=None, sample_weight=None):
    """``y`` as the model trains on it, through ``target_encoder_`` (fitted on
    the first fit, with ``classes`` when ``partial_fit`` declares them, and
    with the fit's ``sample_weight`` when the encoder weighs rows: kerasbig's
    standardizing regressor encoder)."""
    if reset:
        encoder = clone(estimator.target_encoder)
        if classes is not None and "classes" in encoder.get_params():
            encoder.set_params(classes=classes)
        weighs_rows = isinstance(encoder, RegressorTargetEncoder) and (
            encoder.standardize
        )
        if weighs_rows and sample_weight is not None:
            estimator.target_encoder_ = encoder.fit(y, sample_weight=sample_weight)
        else:
            estimator.target_encoder_ = encoder.fit(y)
        estimator._encoder_meta = {}
        if y is not None and not isinstance(encoder, TargetEncoder):
            # What kerasbig knows of a target a custom encoder handles.
            _record_metadata(
                estimator,
                {
                    "target_type_": type_of_target(y),
                    "n_outputs_": 1 if y.ndim == 1 else y.shape[1],
                    **{
                        key: getattr(encoder, key)
                        for key in ("classes_", "n_classes_")
                        if hasattr(encoder, key)
                    },
                },
            )
        metadata = getattr(encoder, "get_metadata", dict)()
        if isinstance(encoder, TargetEncoder):
            metadata["n_outputs_expected_"] = 1
        _record_metadata(estimator, metadata)
    return None if y is None else estimator.target_encoder_.transform(y)


def encode_features(estimator: Any, X, reset: bool):
    """``X`` as the model reads it, through ``feature_encoder_``."""
    if reset:
        estimator.feature_encoder_ = clone(estimator.feature_encoder).fit(X)
        meta = getattr(estimator.feature_encoder_, "get_metadata", dict)()
        _record_metadata(estimator, meta)
    return estimator.feature_encoder_.transform(X)


def custom_targets(estimator: Any) -> bool:
    """True unless the target encoder is one of kerasbig's own."""
    encoder = estimator.__dict__.get("target_encoder_")
    return encoder is not None and not isinstance(encoder, TargetEncoder)


def n_rows(X) -> int:
    """Rows of ``X``, an array or the list / dict of arrays a feature encoder made."""
    return keras.tree.flatten(X)[0].shape[0]


def model_units(estimator: Any, model, X) -> int | None:
    """The units of the model's one output, or None under a custom target encoder
    (which may feed several outputs of any shape)."""
    if custom_targets(estimator):
        return None
    return output_units(model, keras.tree.map_structure(lambda a: a[:1], X))


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
