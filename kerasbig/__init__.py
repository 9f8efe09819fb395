"""kerasbig: Keras 3 models as first-class scikit-learn estimators.

The public names are imported on first use. Keras itself is imported here,
with TensorFlow's start-up lines (oneDNN, CUDA drivers, absl) filtered out of
stderr when TensorFlow is not imported yet; no environment variable or logger is
changed (see :mod:`kerasbig.startup`; ``KERASBIG_TF_STARTUP_LOGS=1`` keeps them).
"""

from __future__ import annotations

import importlib

from kerasbig.startup import import_keras_quietly as _import_keras_quietly

__version__ = "0.1.0"

_import_keras_quietly()

_PUBLIC = {
    "KerasClassifier": "kerasbig.classifier",
    "KerasRegressor": "kerasbig.regressor",
    "CNNClassifier": "kerasbig.models.cnn.estimators",
    "CNNRegressor": "kerasbig.models.cnn.estimators",
    "RNNClassifier": "kerasbig.models.rnn.estimators",
    "RNNRegressor": "kerasbig.models.rnn.estimators",
    "TransformerClassifier": "kerasbig.models.transformer.estimators",
    "TransformerRegressor": "kerasbig.models.transformer.estimators",
    "InvalidParameterError": "kerasbig.parameters",
    "load": "kerasbig.saving",
}

__all__ = [
    "KerasClassifier",
    "KerasRegressor",
    "CNNClassifier",
    "CNNRegressor",
    "RNNClassifier",
    "RNNRegressor",
    "TransformerClassifier",
    "TransformerRegressor",
    "InvalidParameterError",
    "load",
    "__version__",
]


def __getattr__(name: str):
    if name in _PUBLIC:
        value = getattr(importlib.import_module(_PUBLIC[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kerasbig' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
