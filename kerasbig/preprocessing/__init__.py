"""scikit-learn transformers that prepare images, sequences and text for the
model families, for use in a ``Pipeline``.

=====================  ====================================================
``ImageScaler``        pixel values to a range, e.g. ``[0, 1]``
``ImageResizer``       images (flat, channel-less or of mixed sizes) to one
                       ``(n, height, width, channels)`` array
``SequencePadder``     variable-length sequences to one padded array
``TextTokenizer``      raw text to padded WordPiece token ids
=====================  ====================================================
"""

from kerasbig.preprocessing.image import ImageResizer, ImageScaler
from kerasbig.preprocessing.sequence import SequencePadder
from kerasbig.preprocessing.text import TextTokenizer

__all__ = ["ImageResizer", "ImageScaler", "SequencePadder", "TextTokenizer"]
