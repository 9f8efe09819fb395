"""Convolutional networks (Conv1D for series, Conv2D for images)."""

from kerasbig.models.cnn.builder import build_cnn

__all__ = ["build_cnn"]
