"""Floors under a few entries of ``python -m benchmarks.accuracy``, defaults only.

The benchmark measures the whole panel (3 seeds, every family); these slow tests
re-fit a few of its cheapest entries with one seed so that a change which makes
the defaults stop learning fails CI. Each floor sits a few points under what
the benchmark measured (see its JSON in ``benchmarks/results/``), so a seed's
noise does not trip it but a collapse to chance does.

Each test loads its data through the benchmark's own panel (``panel_data``),
so the two cannot split it differently; the data ships offline. The text
floor is under what the default measured, not the issue's target (beating
TF-IDF + logistic regression, 0.697): the default does not reach it (see the
benchmark's table).
"""

from __future__ import annotations

import pytest
from helpers import panel_data

from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor
from kerasbig.models.transformer.estimators import TransformerClassifier

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("name", "floor"), [("GunPoint", 0.90), ("ItalyPowerDemand", 0.90)]
)
def test_cnn_defaults_on_ucr(name, floor):
    X_train, y_train, X_test, y_test = panel_data(name)
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= floor


def test_cnn_defaults_on_digits():
    """Measured 0.989, 0.989, 0.987 (seeds 0-2) in 11-17 s; the issue's
    target is 0.99."""
    X_train, y_train, X_test, y_test = panel_data("digits")
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.97


def test_cnn_regressor_defaults_on_sunspots():
    """Measured 0.75 (seed 0, the FCN default); ridge on the windows: 0.86."""
    X_train, y_train, X_test, y_test = panel_data("sunspots")
    reg = CNNRegressor(random_state=0).fit(X_train, y_train)
    assert reg.score(X_test, y_test) >= 0.70


def test_transformer_defaults_on_fortunes_text():
    """Measured 0.633, 0.463, 0.607 (seeds 0-2) in about 60 s; the majority
    class is 0.32 and TF-IDF + logistic regression 0.697."""
    X_train, y_train, X_test, y_test = panel_data("fortunes")
    clf = TransformerClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.55
