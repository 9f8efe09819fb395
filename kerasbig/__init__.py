"""kerasbig: Keras 3 models as first-class scikit-learn estimators."""

from kerasbig.classifier import KerasClassifier
from kerasbig.regressor import KerasRegressor

__version__ = "0.1.0"

__all__ = ["KerasClassifier", "KerasRegressor", "__version__"]
