"""A grid search farmed out by joblib: loky, a dask cluster and a Ray cluster.

The estimator travels to the workers by pickle, so every joblib backend must
compute the same cross-validation scores as the default (loky) one. The dask
and Ray clusters run on this machine, bound to 127.0.0.1, started once for
the module and shut down after it; each test skips when its backend's
package is not installed (``pip install "dask[distributed]" ray``).

The searches are in the slow tier: starting loky workers, a dask cluster and a
Ray cluster, each importing TensorFlow, took 19 s, 17 s and 26 s on 2 cores.
The default tier keeps the in-process test of why a worker's own threads must
not change a seeded fit, and tests/test_sklearn_integration.py's searches with
two loky workers.
"""

from __future__ import annotations

import os
import random
import threading
import time
from pathlib import Path

import joblib
import numpy as np
import pytest
from helpers import mlp
from sklearn.datasets import make_classification
from sklearn.model_selection import GridSearchCV

from kerasbig import KerasClassifier

TESTS_DIR = str(Path(__file__).resolve().parents[1])  # where helpers.py lives

X, Y = make_classification(
    n_samples=60, n_features=6, n_informative=4, class_sep=0.8, random_state=0
)
GRID = {"model__hidden": [1, 32]}  # far apart, so the best one is no coin toss


def _search() -> GridSearchCV:
    estimator = KerasClassifier(
        mlp,
        model__hidden=8,
        epochs=5,
        batch_size=10,
        optimizer="adam",
        optimizer__learning_rate=0.05,
        random_state=0,
    )
    return GridSearchCV(estimator, GRID, cv=2, n_jobs=2, error_score="raise")


@pytest.fixture(scope="module")
def loky_search() -> GridSearchCV:
    """The reference: the default joblib backend (loky worker processes)."""
    with joblib.parallel_backend("loky"):
        return _search().fit(X, Y)


def _assert_same_search(search: GridSearchCV, reference: GridSearchCV) -> None:
    assert search.best_params_ == reference.best_params_
    for key in ("mean_test_score", "split0_test_score", "split1_test_score"):
        np.testing.assert_allclose(
            search.cv_results_[key], reference.cv_results_[key], atol=1e-6
        )
    np.testing.assert_allclose(
        search.predict_proba(X), reference.predict_proba(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.slow
def test_loky_search(loky_search):
    scores = loky_search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores))
    # The grid's two ends must not tie, or best_params_ would be arbitrary.
    assert abs(scores[0] - scores[1]) > 0.01, scores
    assert loky_search.best_params_["model__hidden"] in GRID["model__hidden"]


# ----------------------------------------------------------------------
# Why a worker with threads of its own could compute other scores
# ----------------------------------------------------------------------
def test_seeded_fit_ignores_other_threads_drawing_from_random():
    """A dask worker's event loop draws from Python's ``random`` while tasks run.

    Keras takes every default initializer seed from that process-wide module,
    so ``random_state`` reproduces a fit only if no other thread draws from it
    meanwhile.
    """
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            time.sleep(0.0005)

    def weights():
        est = KerasClassifier(mlp, model__hidden=4, epochs=1, random_state=0)
        return np.concatenate([w.ravel() for w in est.fit(X, Y).model_.get_weights()])

    quiet = weights()
    noise = threading.Thread(target=draw, daemon=True)
    noise.start()
    try:
        noisy = [weights() for _ in range(2)]
    finally:
        stop.set()
        noise.join()
    for w in noisy:
        np.testing.assert_array_equal(w, quiet)


# ----------------------------------------------------------------------
# dask.distributed
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def dask_client():
    pytest.importorskip("dask")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


@pytest.mark.slow
def test_dask_search_matches_loky(dask_client, loky_search):
    assert len(dask_client.scheduler_info()["workers"]) == 2
    with joblib.parallel_backend("dask"):
        search = _search().fit(X, Y)
    _assert_same_search(search, loky_search)


# ----------------------------------------------------------------------
# Ray
# ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def ray_cluster():
    # Ray binds its servers to the machine's outward address unless told that
    # this is no cluster; the variable is read when ray is first imported.
    saved = os.environ.get("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER")
    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    try:
        ray = pytest.importorskip("ray")
        joblib_ray = pytest.importorskip("ray.util.joblib")
        if ray.is_initialized():
            pytest.skip("a Ray runtime is already running in this process")
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            object_store_memory=100 * 1024**2,
            log_to_driver=False,
            configure_logging=False,
            # Workers unpickle helpers.mlp by reference: let them import it.
            runtime_env={"env_vars": {"PYTHONPATH": _pythonpath()}},
        )
        try:
            joblib_ray.register_ray()
            yield ray
        finally:
            ray.shutdown()
    finally:
        if saved is None:
            os.environ.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
        else:
            os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = saved


def _pythonpath() -> str:
    paths = [TESTS_DIR, *os.environ.get("PYTHONPATH", "").split(os.pathsep)]
    return os.pathsep.join(p for p in paths if p)


@pytest.mark.slow
def test_ray_search_matches_loky(ray_cluster, loky_search):
    assert ray_cluster.cluster_resources().get("CPU") == 2
    with joblib.parallel_backend("ray"):
        search = _search().fit(X, Y)
    _assert_same_search(search, loky_search)
