"""Fixtures shared by the tests; plain functions and constants are in helpers.py.

Two tiers: ``python -m pytest`` runs the default one (pyproject's addopts hold
``-m 'not slow'``), ``python -m pytest -m slow`` the tests marked ``slow``:
notebooks, multi-device and multi-host subprocesses, dask/Ray clusters, the
heavy estimator checks (helpers.HEAVY_CHECKS) and accuracy runs on real data.
"""

import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# The multi-device cases run only in their own processes (test_multi_device.py).
if not os.environ.get("KERASBIG_CASES"):
    collect_ignore_glob = ["distribution/cases_*.py"]


def _fail(message):
    def fail(*args, **kwargs):
        raise AssertionError(message)

    return fail


@pytest.fixture
def no_build(monkeypatch):
    """Any attempt to build a Keras model (``keras.Input``) fails the test."""
    import keras  # noqa: PLC0415

    monkeypatch.setattr(
        keras, "Input", _fail("the builder started building before validating")
    )


@pytest.fixture
def no_training(monkeypatch):
    """Any call of ``keras.Model.fit`` fails the test."""
    import keras  # noqa: PLC0415

    monkeypatch.setattr(
        keras.Model, "fit", _fail("training started before the parameters were checked")
    )
