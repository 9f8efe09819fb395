"""Model builders: pure Keras functions that return uncompiled ``keras.Model`` s.

One folder per family (``cnn/``, ``rnn/``, ``transformer/``), each with a
``builder.py`` that knows nothing about scikit-learn.
"""

from kerasbig.models.cnn import build_cnn
from kerasbig.models.rnn import build_rnn
from kerasbig.models.transformer import build_transformer

__all__ = ["build_cnn", "build_rnn", "build_transformer"]
