"""Recurrent networks (LSTM, GRU, SimpleRNN) for sequences."""

from kerasbig.models.rnn.builder import build_rnn

__all__ = ["build_rnn"]
