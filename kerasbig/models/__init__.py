"""Model builders: pure Keras functions that return uncompiled ``keras.Model`` s.

One folder per family (``cnn/``, ``rnn/``, ``transformer/``), each with a
``builder.py`` that knows nothing about scikit-learn; ``build_on_backbone``
puts the same head on a pretrained KerasHub backbone (``backbones.py``);
``channel_statistics`` gives the builders' ``input_statistics`` from data.
"""

from kerasbig.models._standardize import channel_statistics
from kerasbig.models.backbones import build_on_backbone
from kerasbig.models.cnn import build_cnn
from kerasbig.models.rnn import build_rnn
from kerasbig.models.transformer import build_transformer

__all__ = [
    "build_cnn",
    "build_on_backbone",
    "build_rnn",
    "build_transformer",
    "channel_statistics",
]
