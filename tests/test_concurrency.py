"""Concurrency and repetition: predict from many threads at once, estimators
that leave no state behind for each other, and 200 fit/predict cycles in one
process without a leak (issue 11)."""

import gc
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import keras
import numpy as np
import pytest
from helpers import TINY_CNN, mlp, separable_data

from kerasbig import CNNClassifier, KerasClassifier, KerasRegressor, reuse

X, Y = separable_data(n=96)


def _classifier(**params):
    settings = dict(epochs=2, batch_size=16, random_state=0)
    return KerasClassifier(mlp, **{**settings, **params})


# ----------------------------------------------------------------------
# predict from several threads
# ----------------------------------------------------------------------
# Row counts on both sides of the fast path's batch: 1 row, a part of a
# batch, exactly a batch, several batches with a remainder.
SLICES = [slice(0, 1), slice(3, 10), slice(0, 16), slice(5, 96)]


@pytest.mark.parametrize(
    "make, data",
    [
        (lambda: _classifier(), X),
        (  # a series model: X as 96 series of 4 steps, 1 channel
            lambda: CNNClassifier(**TINY_CNN, epochs=2, batch_size=16, random_state=0),
            X[:, :, None],
        ),
    ],
    ids=["mlp", "cnn"],
)
def test_predict_from_eight_threads_at_once_gives_the_serial_answers(make, data):
    est = make().fit(data, Y)
    expected = [est.predict_proba(data[s]) for s in SLICES]
    barrier = threading.Barrier(8)

    def work(worker):
        barrier.wait()  # all threads call predict at the same moment
        out = []
        for round_ in range(10):
            k = (worker + round_) % len(SLICES)
            out.append((k, est.predict_proba(data[SLICES[k]])))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(8)))
    for out in results:
        for k, proba in out:
            np.testing.assert_allclose(proba, expected[k], rtol=1e-6, atol=1e-7)


def test_predict_in_threads_while_another_estimator_fits():
    est = _classifier().fit(X, Y)
    expected = est.predict_proba(X)
    other = KerasRegressor(mlp, epochs=3, batch_size=8, random_state=1)
    fit_thread = threading.Thread(target=other.fit, args=(X, Y.astype(float)))
    fit_thread.start()
    with ThreadPoolExecutor(max_workers=4) as pool:
        outs = list(pool.map(lambda _: est.predict_proba(X), range(12)))
    fit_thread.join()
    for proba in outs:
        np.testing.assert_allclose(proba, expected, rtol=1e-6, atol=1e-7)
    assert hasattr(other, "model_")


# ----------------------------------------------------------------------
# no shared global state between estimators
# ----------------------------------------------------------------------
def _global_state():
    return (
        keras.config.dtype_policy().name,
        keras.distribution.distribution(),
        keras.config.floatx(),
        np.random.get_state()[1][:4].tolist(),
    )


def test_fitting_another_estimator_does_not_change_this_ones_result():
    before = _global_state()
    reference = _classifier().fit(X, Y).predict_proba(X)
    assert _global_state() == before
    # Another estimator with its own seed, precision and distribution...
    other = _classifier(
        random_state=7,
        precision="mixed_bfloat16",
        distribution="data_parallel",
        optimizer="sgd",
    ).fit(X, Y)
    assert other.model_.layers[-1].dtype_policy.name == "mixed_bfloat16"
    assert _global_state() == before  # ...leaves no policy, distribution, seed
    again = _classifier().fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(again, reference)


def test_two_estimators_fit_in_two_threads_at_once():
    """Both fits complete and predict; their results are not compared with
    serial fits: seeded fits in threads share the process's random state
    (docs/reproducibility.md, "Threads": use processes for that)."""
    a, b = _classifier(random_state=0), _classifier(precision="mixed_bfloat16")
    with ThreadPoolExecutor(max_workers=2) as pool:
        fitted = list(pool.map(lambda est: est.fit(X, Y), [a, b]))
    for est in fitted:
        proba = est.predict_proba(X)
        assert proba.shape == (len(X), 2) and np.all(np.isfinite(proba))
    assert keras.config.dtype_policy().name == "float32"


# ----------------------------------------------------------------------
# 200 fit/predict cycles
# ----------------------------------------------------------------------
def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def _threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _networks_alive() -> int:
    return sum(isinstance(o, keras.Model) for o in gc.get_objects())


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


# Bounds over cycles 20-200 (the first 20 warm up: compiled functions, the
# allocator's pools): no new open file or thread, and RSS within 2 MB a cycle.
# Each new network leaves some memory behind in TensorFlow however it is
# released (measured on 2 cores, TF 2.21: plain Keras building, fitting and
# predicting a new model grows by about 4 MB a cycle, kerasbig by about 1.1 MB);
# a leaked network (as when a cache held every model) grows by 4 MB a cycle.
RSS_BOUND_MB = 2 * 180


@pytest.mark.slow
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux /proc")
def test_two_hundred_fit_predict_cycles_do_not_leak():
    Xs, ys = X[:48], Y[:48]
    # On JAX each cycle's network is compiled anew (the model pool's key holds
    # the initializer seeds, which differ with random_state), and JAX keeps
    # compiled executables in its compilation caches (LRUs of 4096 and 8192
    # entries in JAX 0.10), though the networks themselves are released (4
    # alive after 100 cycles: the pool's). Measured on 2 cores, cycles 20-100:
    # 3.45 MB a cycle, 0.06 MB with jax.clear_caches() after each cycle, 0.0
    # with one random_state. So on JAX the caches are cleared each cycle and
    # everything else is held to the TensorFlow bounds.
    clear_caches = lambda: None  # noqa: E731
    if keras.backend.backend() == "jax":
        import jax

        clear_caches = jax.clear_caches

    def cycle(i):
        est = KerasClassifier(mlp, epochs=1, batch_size=16, random_state=i)
        est.fit(Xs, ys)
        assert est.predict_proba(Xs[:5]).shape == (5, 2)
        assert est.predict(Xs).shape == (48,)
        clear_caches()

    for i in range(20):
        cycle(i)
    gc.collect()
    files, threads, rss = _open_files(), _threads(), _rss_mb()
    # Networks are counted before and after, not in absolute terms: in CI the
    # test shares its process with earlier tests whose networks may still be
    # alive (51 on a JAX worker, 2026-12-06); the cycles may add at most the
    # model pool's idle networks (kerasbig/reuse.py), none once it is full.
    networks = _networks_alive()
    for i in range(20, 200):
        cycle(i)
    gc.collect()
    added = _networks_alive() - networks
    assert added <= reuse.MAX_IDLE, (
        f"{added} networks more after 180 cycles ({networks} before)"
    )
    assert _open_files() <= files, "open files grew over 180 fit/predict cycles"
    assert _threads() <= threads, "threads grew over 180 fit/predict cycles"
    grown = _rss_mb() - rss
    assert grown <= RSS_BOUND_MB, f"RSS grew by {grown:.0f} MB over 180 cycles"
