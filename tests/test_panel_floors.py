"""Floors under a few entries of ``python -m benchmarks.accuracy``, defaults only.

The benchmark measures the whole panel (3 seeds, every family); these slow tests
re-fit a few of its cheapest entries with one seed so that a change which makes
the defaults stop learning fails CI. Each floor sits a few points under what
the benchmark measured (see its JSON in ``benchmarks/results/``), so a seed's
noise does not trip it but a collapse to chance does.

The data ships offline: UCR sets inside sktime's wheel (a test dependency; read
as files) and statsmodels' sunspots, Debian's fortunes (``apt-get install fortunes``,
which ``.ci/run`` does). The text floor is under what the default measured,
not the issue's target (beating TF-IDF + logistic regression, 0.697): the
default does not reach it (see the benchmark's table).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from helpers import fortunes_split

from kerasbig.datasets.ucr import load_ucr
from kerasbig.models.cnn.estimators import CNNClassifier, CNNRegressor
from kerasbig.models.transformer.estimators import TransformerClassifier

pytestmark = pytest.mark.slow


def _missing(what: Exception):
    """Skip on a developer's machine; fail in CI, where the data must be there."""
    if os.environ.get("CI"):
        pytest.fail(f"CI lacks the data for this floor: {what}")
    pytest.skip(str(what))


def _ucr(name):
    try:
        return (*load_ucr(name, "train"), *load_ucr(name, "test"))
    except FileNotFoundError as err:
        _missing(err)


@pytest.mark.parametrize(
    ("name", "floor"), [("GunPoint", 0.90), ("ItalyPowerDemand", 0.90)]
)
def test_cnn_defaults_on_ucr(name, floor):
    X_train, y_train, X_test, y_test = _ucr(name)
    clf = CNNClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= floor


def test_cnn_regressor_defaults_on_sunspots():
    """Measured 0.75 (seed 0, the FCN default); ridge on the windows: 0.86."""
    sm = pytest.importorskip("statsmodels.api")
    series = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    series = (series / series.std()).astype("float32")
    X = np.lib.stride_tricks.sliding_window_view(series[:-1], 12)[..., None]
    y = series[12:]
    cut = int(len(X) * 0.75)
    reg = CNNRegressor(random_state=0).fit(X[:cut], y[:cut])
    assert reg.score(X[cut:], y[cut:]) >= 0.70


def test_transformer_defaults_on_fortunes_text():
    """Measured 0.633, 0.463, 0.607 (seeds 0-2) in about 60 s; the majority
    class is 0.32 and TF-IDF + logistic regression 0.697."""
    X_train, X_test, y_train, y_test = fortunes_split()
    clf = TransformerClassifier(random_state=0).fit(X_train, y_train)
    assert clf.score(X_test, y_test) >= 0.55
