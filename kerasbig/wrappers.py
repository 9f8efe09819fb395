"""scikeras's ``scikeras.wrappers`` names, so that migrating is one import.

``from kerasbig.wrappers import KerasClassifier, KerasRegressor, BaseWrapper``
replaces ``from scikeras.wrappers import ...``. ``BaseWrapper`` is
:class:`kerasbig.base.BaseKerasEstimator`: usable directly for a model whose
targets need no encoding (it trains on ``y`` as given and ``predict`` returns
the model's outputs), and the base of scikeras-style subclasses such as
transformers (see scikeras's AutoEncoders tutorial).
"""

from kerasbig.base import BaseKerasEstimator as BaseWrapper
from kerasbig.classifier import KerasClassifier
from kerasbig.regressor import KerasRegressor

__all__ = ["BaseWrapper", "KerasClassifier", "KerasRegressor"]
