"""Readers for public benchmark data that is already on disk (nothing is downloaded)."""

from kerasbig.datasets.fortunes import load_fortunes
from kerasbig.datasets.ucr import load_ucr, read_ts

__all__ = ["load_fortunes", "load_ucr", "read_ts"]
