"""Transformer encoders (keras-hub layers) for token or numeric sequences."""

from kerasbig.models.transformer.builder import build_transformer

__all__ = ["build_transformer"]
