"""What the tests share: small model-building functions (importable, so
picklable), data, tiny-model settings and the estimator-check parameters.

Fixtures live in conftest.py.
"""

import functools
import os
import random
import threading

import keras
import numpy as np
import pytest


def mlp(meta, hidden=16, dtype=None, compile_kwargs=None, seed=None):
    """A one-hidden-layer perceptron whose head fits the target in ``meta``.

    With ``seed`` (the estimator passes the one drawn from ``random_state``)
    every initializer has an explicit seed, so the same ``random_state``
    builds the same network in any thread.
    """
    target = meta["target_type_"]
    if "classes_" not in meta:  # regression
        units, activation = meta["n_outputs_"], None
    elif target == "binary":
        units, activation = 1, "sigmoid"
    elif target == "multilabel-indicator":
        units, activation = meta["n_outputs_"], "sigmoid"
    else:
        units, activation = meta["n_classes_"], "softmax"

    def init(offset):
        return keras.initializers.GlorotUniform(
            seed=None if seed is None else seed + offset
        )

    inputs = keras.Input(shape=meta["X_shape_"][1:], dtype=dtype or "float32")
    x = keras.layers.Flatten(dtype=dtype)(inputs)
    x = keras.layers.Dense(
        hidden, activation="relu", dtype=dtype, kernel_initializer=init(0)
    )(x)
    outputs = keras.layers.Dense(
        units, activation=activation, dtype=dtype, kernel_initializer=init(1)
    )(x)
    return keras.Model(inputs, outputs)


# ----------------------------------------------------------------------
# Data
# ----------------------------------------------------------------------
def separable_data(n=60, n_classes=2, n_informative=2, shuffle=True, seed=0):
    """Four float32 features, well separated classes (``class_sep=2``).

    The first ``n_informative`` features carry the signal; with
    ``shuffle=False`` the rest are pure noise.
    """
    from sklearn.datasets import make_classification  # noqa: PLC0415

    X, y = make_classification(
        n_samples=n,
        n_features=4,
        n_informative=n_informative,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        class_sep=2.0,
        shuffle=shuffle,
        random_state=seed,
    )
    return X.astype("float32"), y


def multiclass_data(n=60, seed=0):
    """Three well separated classes with string labels ("ant", "bee", "cat")."""
    X, y = separable_data(n, n_classes=3, n_informative=3, seed=seed)
    return X, np.array(["ant", "bee", "cat"])[y]


# ----------------------------------------------------------------------
# Tiny networks of the model families (built in milliseconds)
# ----------------------------------------------------------------------
TINY_CNN = dict(n_blocks=1, filters=4)
TINY_RNN = dict(units=4)
TINY_TRANSFORMER = dict(num_layers=1, num_heads=2, model_dim=8, ff_dim=8)
QUICK_FIT = dict(epochs=2, random_state=0)

# Training settings under which two fits agree to scikit-learn's 1e-7: the
# whole (small) training set in one batch, float64 loss; the network must be
# float64 too (``model__dtype`` for the general wrappers, ``precision`` for the
# families).
FULL_BATCH_FLOAT64 = dict(
    loss__dtype="float64", optimizer="adam", batch_size=1024, random_state=0
)


# ----------------------------------------------------------------------
# The multi-device cases (distribution/cases_*.py, each in its own process)
# ----------------------------------------------------------------------
# 48 rows in batches of 8, unshuffled: every batch splits evenly over 2 or 4
# replicas, so distributed training computes what single-device training does.
# (Padded batches train correctly but not bit-for-bit alike: each replica
# averages its own share; see assert_padded_training_stays_close.)
DEVICE_SETTINGS = {
    "epochs": 3,
    "batch_size": 8,
    "random_state": 0,
    "optimizer": "adam",
    "shuffle": False,
}
# One tiny classifier of each family, free of batch statistics and dropout.
TINY_FAMILIES = {
    "cnn": ("CNNClassifier", dict(TINY_CNN, normalization=None)),
    "rnn": ("RNNClassifier", dict(TINY_RNN, cell="gru")),
    "transformer": ("TransformerClassifier", dict(TINY_TRANSFORMER, dropout=0.0)),
}


def device_data():
    """The multi-device cases' data: 48 rows, 5 features, 2 classes."""
    from sklearn.datasets import make_classification  # noqa: PLC0415

    return make_classification(n_samples=48, n_features=5, random_state=0)


def panel_data(name: str):
    """One task of the accuracy benchmark's panel (``benchmarks.accuracy``),
    loaded as that benchmark splits it: ``X_train, y_train, X_test, y_test``.

    Its data ships offline (sktime's wheel, statsmodels, scikit-learn, Debian's
    fortunes: ``apt-get install fortunes``, which ``.ci/run`` does). Without it
    the test is skipped, or fails in CI, where it must be there.
    """
    from benchmarks.accuracy import panel  # noqa: PLC0415

    (task,) = [task for task in panel(None) if task.name == name]
    try:
        return task.load()
    except (FileNotFoundError, ImportError) as err:
        if os.environ.get("CI"):
            pytest.fail(f"CI lacks the data of the panel's {name}: {err}")
        pytest.skip(str(err))


def assert_padded_training_stays_close(X, Y):
    """45 rows: the last batch gets 3 zero-weight rows to split over replicas."""
    from kerasbig import KerasClassifier  # noqa: PLC0415

    settings = {**DEVICE_SETTINGS, "epochs": 10}
    est = KerasClassifier(mlp, distribution="data_parallel", **settings)
    est.fit(X[:45], Y[:45])
    single = KerasClassifier(mlp, **settings).fit(X[:45], Y[:45])
    np.testing.assert_allclose(est.predict_proba(X), single.predict_proba(X), atol=0.05)


def batch_norm_mlp(meta, hidden=8, seed=None):
    """Dense -> BatchNormalization -> softmax: a network with batch statistics."""
    init = keras.initializers.GlorotUniform(seed=seed)
    inputs = keras.Input(shape=meta["X_shape_"][1:])
    x = keras.layers.Dense(hidden, kernel_initializer=init)(inputs)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.Activation("relu")(x)
    outputs = keras.layers.Dense(meta["n_classes_"], activation="softmax")(x)
    return keras.Model(inputs, outputs)


# Distributed classifiers whose networks keep batch statistics (moving mean
# and variance), each as (estimator name, parameters).
BATCH_NORM_CASES = {
    "mlp": ("KerasClassifier", dict(model=batch_norm_mlp)),
    "cnn": ("CNNClassifier", dict(TINY_CNN, normalization="batch")),
}


def assert_same_weights_predict_the_same(case, distribution, X, Y):
    """A distributed estimator, its unpickled copy and a single-device network
    holding the same weights predict the same probabilities (within 1e-6):
    no row's prediction depends on which replica computed it."""
    import pickle  # noqa: PLC0415

    import kerasbig  # noqa: PLC0415

    name, params = BATCH_NORM_CASES[case]
    Estimator = getattr(kerasbig, name)
    est = Estimator(distribution=distribution, **params, **DEVICE_SETTINGS)
    est.fit(X, Y)
    assert est._placement.replicas > 1
    expected = est.predict_proba(X)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_allclose(restored.predict_proba(X), expected, rtol=0, atol=1e-6)
    single = Estimator(**params, **{**DEVICE_SETTINGS, "epochs": 1}).fit(X, Y)
    single.model_.set_weights(est.model_.get_weights())
    np.testing.assert_allclose(single.predict_proba(X), expected, rtol=0, atol=1e-6)


# ----------------------------------------------------------------------
# scikit-learn's estimator checks
# ----------------------------------------------------------------------
# The checks whose verdict depends on what the network learns (scikit-learn's
# accuracy thresholds, class weights shifting predictions) or that train on
# scikit-learn's larger check data (200-300 rows) or fit several times. They
# run in the slow tier (`python -m pytest -m slow`) with the estimator as
# configured; the default tier runs the other checks on a quick copy.
HEAVY_CHECKS = frozenset(
    {
        "check_classifiers_train",
        "check_regressors_train",
        "check_class_weight_classifiers",
        "check_estimators_dtypes",
        "check_classifiers_classes",
        "check_classifier_data_not_an_array",
        "check_regressor_data_not_an_array",
        "check_supervised_y_2d",
        "check_fit_idempotent",
        "check_methods_subset_invariance",
        "check_sample_weight_equivalence_on_dense_data",
        "check_classifiers_multilabel_representation_invariance",
        "check_regressors_int",
    }
)
# The other checks test the scikit-learn API (fitted attributes, input
# validation, sample weights, pickling, pipelines, ...), which no number of
# epochs changes: two eager epochs (no graph to trace) are enough.
QUICK_CHECKS = dict(epochs=2, run_eagerly=True)


def check_name(check) -> str:
    """The name of one of scikit-learn's checks, partial or not."""
    return (
        check.func.__name__ if isinstance(check, functools.partial) else check.__name__
    )


def check_id(estimator, check) -> str:
    """Stable test ids (the default ones hold a function's address)."""
    name = check_name(check)
    if isinstance(check, functools.partial) and check.keywords:
        name += "(" + ",".join(f"{k}={v}" for k, v in check.keywords.items()) + ")"
    return f"{type(estimator).__name__}-{name}"


def estimator_check_params(estimators, heavy=HEAVY_CHECKS) -> list:
    """``pytest.param(estimator, check)`` for each of scikit-learn's checks.

    The checks named in ``heavy`` get the estimator as given and the ``slow``
    mark; the others a copy with ``QUICK_CHECKS`` settings.
    """
    from sklearn.base import clone  # noqa: PLC0415
    from sklearn.utils.estimator_checks import (  # noqa: PLC0415
        estimator_checks_generator,
    )

    params = []
    for estimator in estimators:
        quick = clone(estimator).set_params(**QUICK_CHECKS)
        for est, check in estimator_checks_generator(estimator, legacy=True):
            slow = check_name(check) in heavy
            params.append(
                pytest.param(
                    est if slow else quick,
                    check,
                    id=check_id(est, check),
                    marks=[pytest.mark.slow] if slow else [],
                )
            )
    return params


# ----------------------------------------------------------------------
# Proof that nothing was built or trained
# ----------------------------------------------------------------------
class NoTraining(keras.callbacks.Callback):
    """A callback that fails the test if Keras training ever starts."""

    def on_train_begin(self, logs=None):
        raise AssertionError("training started despite bad input")


# Seeded builds (the builder tests)
def values(model):
    """Every variable of the model (seed generator states too), as arrays."""
    return [np.asarray(variable) for variable in model.variables]


def build_while_random_is_used(build, python_seeds=(1, 2)):
    """Build once per value of ``python_seeds``, reseeding Python's ``random``
    with it first, while another thread keeps drawing from ``random``."""
    stop = threading.Event()

    def draw():
        while not stop.is_set():
            random.random()
            stop.wait(1e-4)

    thread = threading.Thread(target=draw, daemon=True)
    thread.start()
    try:
        models = []
        for python_seed in python_seeds:
            random.seed(python_seed)
            models.append(build())
    finally:
        stop.set()
        thread.join()
    return models


# Where a family estimator's default differs from its builder's, and why.
# "auto": chosen from the data in fit (normalization_, linear_shortcut_).
ESTIMATOR_DEFAULTS = {
    name: {"linear_shortcut": "auto"}
    for name in (
        "CNNClassifier",
        "CNNRegressor",
        "RNNClassifier",
        "RNNRegressor",
        "TransformerClassifier",
        "TransformerRegressor",
    )
}
ESTIMATOR_DEFAULTS["CNNClassifier"]["normalization"] = "auto"
ESTIMATOR_DEFAULTS["CNNRegressor"]["normalization"] = "auto"
# The RNN regressor's own architecture (rnn/estimators.py REGRESSOR_ARCHITECTURE).
ESTIMATOR_DEFAULTS["RNNRegressor"].update(dropout=0.4, patch_embedding="linear")
