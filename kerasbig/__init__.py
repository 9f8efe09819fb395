"""kerasbig: Keras 3 models as first-class scikit-learn estimators.

The public names are imported on first use, so that ``python -m kerasbig``
can configure logging before TensorFlow loads.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

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
