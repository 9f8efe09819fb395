"""KerasClassifier and KerasRegressor inside scikit-learn's own machinery.

Every test trains real (tiny) Keras models on tiny data with ``FAST``: eager
training for 2 epochs of 4 batches. On a 2-core CPU that is about half a
second per fit; graph mode pays 0.5-1 s of tracing per new model, and every
epoch costs Keras tens of ms of overhead, so few epochs of small batches is the
cheapest way to a model that has learned something.
"""

import joblib
import keras
import matplotlib
import numpy as np
import pandas as pd
import pytest
import sklearn
from helpers import mlp, multiclass_data, separable_data
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import (
    BaggingClassifier,
    StackingClassifier,
    VotingClassifier,
)
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import ConfusionMatrixDisplay, accuracy_score, confusion_matrix
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    RandomizedSearchCV,
    StratifiedKFold,
    check_cv,
    cross_val_score,
    cross_validate,
)
from sklearn.multioutput import MultiOutputRegressor
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from kerasbig import KerasClassifier, KerasRegressor

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

FAST = dict(
    model=mlp,
    model__hidden=8,
    optimizer="adam",
    optimizer__learning_rate=0.05,
    batch_size=16,
    run_eagerly=True,
    epochs=2,
    random_state=0,
)


def classifier(**kwargs) -> KerasClassifier:
    return KerasClassifier(**{**FAST, **kwargs})


def regressor(**kwargs) -> KerasRegressor:
    return KerasRegressor(**{**FAST, **kwargs})


def binary_data(n=60, seed=0):
    """Two well separated classes; features 0 and 1 informative, 2 and 3 noise."""
    return separable_data(n, shuffle=False, seed=seed)


def regression_data(n=60, n_targets=1, seed=0):
    """Linear targets of feature 0 and 1 (2 and 3 are noise), standardised."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4)).astype("float32")
    coef = np.array([[2.0, -1.0], [-1.0, 1.5], [0.0, 0.0], [0.0, 0.0]])
    Y = X @ coef[:, :n_targets] + 0.05 * rng.normal(size=(n, n_targets))
    Y = (Y - Y.mean(axis=0)) / Y.std(axis=0)
    return X, (Y.ravel() if n_targets == 1 else Y)


def dense_units(estimator) -> list[int]:
    return [
        layer.units
        for layer in estimator.model_.layers
        if isinstance(layer, keras.layers.Dense)
    ]


ESTIMATORS = {
    "classifier": (classifier, binary_data),
    "regressor": (regressor, regression_data),
}


# ----------------------------------------------------------------------
# What scikit-learn sees: estimator type, CV splitter, parameters
# ----------------------------------------------------------------------
def test_estimator_type_and_default_cv_splitter():
    """sklearn must recognise the type, so CV stratifies for the classifier."""
    X, y = binary_data()
    clf, reg = classifier(), regressor()
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(reg) and not is_classifier(reg)
    assert isinstance(check_cv(5, y, classifier=is_classifier(clf)), StratifiedKFold)
    _, y_reg = regression_data()
    cv = check_cv(5, y_reg, classifier=is_classifier(reg))
    assert isinstance(cv, KFold) and not isinstance(cv, StratifiedKFold)


@pytest.mark.parametrize("Estimator", [KerasClassifier, KerasRegressor])
def test_clone_keeps_every_parameter(Estimator):
    est = Estimator(
        mlp,
        model__hidden=8,
        optimizer__learning_rate=0.1,
        dtype="float32",  # a free hyperparameter of mlp
        fit__shuffle=False,
        epochs=3,
        random_state=0,
    )
    copy = clone(est)
    params = copy.get_params(deep=False)
    assert params == est.get_params(deep=False)
    for name in ("model__hidden", "optimizer__learning_rate", "dtype", "fit__shuffle"):
        assert name in params
    assert params["model__hidden"] == 8 and params["optimizer__learning_rate"] == 0.1
    # The clone's routed parameters are its own: changing them leaves est alone.
    copy.set_params(model__hidden=3, optimizer__learning_rate=0.5)
    assert est.get_params()["model__hidden"] == 8
    assert est.get_params()["optimizer__learning_rate"] == 0.1
    assert "model__hidden=8" in repr(est)
    assert "model__hidden" in est._repr_html_()


def _fingerprint(value):
    """A hashable summary of a parameter value, Keras objects included.

    joblib.hash alone cannot compare Keras objects: their pickles are .keras
    archives stamped with the time of saving, so the same unchanged object
    hashes differently a second later. A Keras object is summarised by its
    type, config and variable values instead.
    """
    if isinstance(value, (list, tuple)):
        return [_fingerprint(item) for item in value]
    if isinstance(value, dict):
        return {key: _fingerprint(item) for key, item in value.items()}
    if hasattr(value, "get_config") and not isinstance(value, type):
        variables = [np.asarray(v.numpy()) for v in getattr(value, "variables", [])]
        return (type(value).__qualname__, value.get_config(), variables)
    return value


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_fit_mutates_no_parameter(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    est = make(
        optimizer=keras.optimizers.Adam(learning_rate=0.05),
        loss=None,
        metrics=[keras.metrics.MeanSquaredError(name="mse")],
        callbacks=[keras.callbacks.TerminateOnNaN],
        **({"class_weight": {0: 1.0, 1: 2.0}} if kind == "classifier" else {}),
    )
    before = est.get_params(deep=False)
    hash_before = joblib.hash(_fingerprint(before))
    est.fit(X, y)
    after = est.get_params(deep=False)
    assert joblib.hash(_fingerprint(after)) == hash_before
    assert after.keys() == before.keys()
    assert all(after[k] is before[k] for k in before)
    # The optimizer and metric instances given as parameters were not used.
    assert int(est.optimizer.iterations.numpy()) == 0
    assert est.model_.optimizer is not est.optimizer
    assert float(est.metrics[0].count.numpy()) == 0.0
    assert len(est.history_["mean_squared_error"]) == est.epochs


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_fit_keyword_epochs_is_for_that_call_only(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    est = make(epochs=2)
    est.fit(X, y, epochs=3)
    assert est.epochs == 2
    assert est.get_params()["epochs"] == 2
    assert len(est.history_["loss"]) == 3
    est.fit(X, y)
    assert len(est.history_["loss"]) == 2


# ----------------------------------------------------------------------
# Pipelines and column transformers
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_pipeline_with_scaler_matches_estimator_on_scaled_data(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    X = X * 10.0 + 3.0  # something for the scaler to undo
    pipe = make_pipeline(StandardScaler(), make()).fit(X, y)
    bare = make().fit(StandardScaler().fit_transform(X), y)
    np.testing.assert_allclose(
        pipe.predict(X), bare.predict(StandardScaler().fit_transform(X)), rtol=1e-6
    )
    assert pipe.score(X, y) > (0.8 if kind == "classifier" else 0.5)
    # A routed parameter set through the pipeline reaches the builder.
    pipe.set_params(**{f"keras{kind}__model__hidden": 3}).fit(X, y)
    assert dense_units(pipe[-1])[0] == 3


def _frame(X, seed=0):
    df = pd.DataFrame(X[:, :3], columns=["alpha", "beta", "gamma"])
    df["colour"] = np.random.default_rng(seed).choice(["red", "green"], len(df))
    return df


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_column_transformer_on_dataframe(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    df = _frame(X)
    ct = ColumnTransformer(
        [
            ("num", StandardScaler(), ["alpha", "beta", "gamma"]),
            ("cat", OneHotEncoder(sparse_output=False), ["colour"]),
        ]
    ).set_output(transform="pandas")
    pipe = Pipeline([("prep", ct), ("est", make())]).fit(df, y)
    est = pipe.named_steps["est"]
    expected = ct.get_feature_names_out()
    assert est.n_features_in_ == 5
    np.testing.assert_array_equal(est.feature_names_in_, expected)
    assert pipe.predict(df).shape == y.shape
    assert pipe.score(df, y) > (0.8 if kind == "classifier" else 0.5)


@pytest.mark.parametrize("kind", ESTIMATORS)
def test_dataframe_sets_feature_names_in(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    df = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = make().fit(df, y)
    np.testing.assert_array_equal(est.feature_names_in_, ["a", "b", "c", "d"])
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        from_array = est.predict(X)
    np.testing.assert_allclose(est.predict(df), from_array, rtol=1e-6)
    with pytest.raises(ValueError, match="feature names"):
        est.predict(df[["b", "a", "c", "d"]])
    # Fitted on an array, it has no feature names.
    assert not hasattr(make().fit(X, y), "feature_names_in_")


# ----------------------------------------------------------------------
# Cross-validation and scoring
# ----------------------------------------------------------------------
def test_cross_val_score_and_cross_validate_stratify_classifier():
    X, y = binary_data()
    clf = classifier()
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.shape == (3,) and np.all(np.isfinite(scores))
    assert scores.mean() > 0.8
    result = cross_validate(clf, X, y, cv=3, return_indices=True, return_estimator=True)
    np.testing.assert_allclose(result["test_score"], scores)
    # The folds are StratifiedKFold's.
    for test, (_, expected) in zip(
        result["indices"]["test"], StratifiedKFold(3).split(X, y)
    ):
        np.testing.assert_array_equal(test, expected)
    # Each clone trained for est.epochs (not 1, as keras.wrappers does).
    for fitted in result["estimator"]:
        assert len(fitted.history_["loss"]) == clf.epochs


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_validate_regressor(seed):
    X, y = regression_data()
    # Enough steps (3 folds x 40 rows / 16) to learn the linear target from
    # any initialisation, on either backend.
    reg = regressor(epochs=15, random_state=seed)
    result = cross_validate(
        reg, X, y, cv=3, scoring=["r2", "neg_mean_squared_error"], return_indices=True
    )
    assert np.all(np.isfinite(result["test_r2"]))
    assert result["test_r2"].mean() > 0.5
    assert np.all(result["test_neg_mean_squared_error"] < 0)
    for test, (_, expected) in zip(result["indices"]["test"], KFold(3).split(X, y)):
        np.testing.assert_array_equal(test, expected)


def test_probability_scorers_are_finite():
    X, y = binary_data()
    result = cross_validate(
        classifier(), X, y, cv=2, scoring=["roc_auc", "neg_log_loss"]
    )
    assert np.all(np.isfinite(result["test_roc_auc"]))
    assert np.all(np.isfinite(result["test_neg_log_loss"]))
    assert result["test_roc_auc"].mean() > 0.8
    assert np.all(result["test_neg_log_loss"] < 0)


# ----------------------------------------------------------------------
# Hyperparameter search, in process and with loky workers
#
# The first test with n_jobs=2 pays for starting two loky workers, each of
# which imports TensorFlow: 10-25 s on a busy 2-core machine, most of its time.
# ----------------------------------------------------------------------
GRID = {"model__hidden": [1, 8], "optimizer__learning_rate": [1e-4, 0.05]}
SPACE = {"model__hidden": [1, 4, 8], "optimizer__learning_rate": [1e-4, 0.01, 0.05]}


def _grid_search(n_jobs):
    X, y = binary_data()
    search = GridSearchCV(classifier(), GRID, cv=2, n_jobs=n_jobs)
    with joblib.parallel_config(backend="loky"):
        return search.fit(X, y)


def _randomized_search(n_jobs):
    X, y = binary_data()
    search = RandomizedSearchCV(
        classifier(), SPACE, n_iter=3, cv=2, n_jobs=n_jobs, random_state=0
    )
    with joblib.parallel_config(backend="loky"):
        return search.fit(X, y)


@pytest.fixture(scope="module")
def serial_grid_search():
    return _grid_search(n_jobs=1)


@pytest.fixture(scope="module")
def serial_randomized_search():
    return _randomized_search(n_jobs=1)


def test_grid_search_over_routed_parameters(serial_grid_search):
    search = serial_grid_search
    best = search.best_params_
    assert best["model__hidden"] in GRID["model__hidden"]
    # 8 Adam steps at 1e-4 learn nothing: the routed rate must have arrived.
    assert best["optimizer__learning_rate"] == 0.05
    # The refitted model was built and compiled with the best parameters.
    assert dense_units(search.best_estimator_)[0] == best["model__hidden"]
    model = search.best_estimator_.model_
    assert float(model.optimizer.learning_rate.numpy()) == pytest.approx(0.05)
    assert search.best_score_ > 0.8


def test_grid_search_with_two_loky_workers_matches_serial(serial_grid_search):
    parallel = _grid_search(n_jobs=2)
    assert parallel.best_params_ == serial_grid_search.best_params_
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"],
        serial_grid_search.cv_results_["mean_test_score"],
    )
    assert (
        dense_units(parallel.best_estimator_)[0]
        == parallel.best_params_["model__hidden"]
    )


def test_randomized_search(serial_randomized_search):
    search = serial_randomized_search
    assert len(search.cv_results_["params"]) == 3
    for name, values in SPACE.items():
        assert search.best_params_[name] in values
    assert (
        dense_units(search.best_estimator_)[0] == search.best_params_["model__hidden"]
    )


def test_randomized_search_with_two_loky_workers_matches_serial(
    serial_randomized_search,
):
    parallel = _randomized_search(n_jobs=2)
    serial = serial_randomized_search
    assert parallel.cv_results_["params"] == serial.cv_results_["params"]
    assert parallel.best_params_ == serial.best_params_
    np.testing.assert_allclose(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )


# ----------------------------------------------------------------------
# Meta-estimators
# ----------------------------------------------------------------------
def test_calibrated_classifier_cv():
    X, y = binary_data()
    cal = CalibratedClassifierCV(classifier(), cv=2, method="sigmoid").fit(X, y)
    assert len(cal.calibrated_classifiers_) == 2
    proba = cal.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert cal.score(X, y) > 0.8


def assert_probabilities(proba, n_rows, n_classes):
    """What kerasbig promises of predict_proba: float64 rows that sum to 1."""
    assert proba.shape == (n_rows, n_classes) and proba.dtype == np.float64
    assert np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def assert_fitted_clones(fitted, given):
    """An ensemble fitted clones of the given kerasbig estimators, each with a
    network of its own, and left the given (unfitted) estimators alone."""
    assert all(isinstance(est, KerasClassifier | KerasRegressor) for est in fitted)
    assert not any(est is original for est in fitted for original in given)
    assert not any(hasattr(original, "model_") for original in given)
    models = [est.model_ for est in fitted]
    assert len({id(model) for model in models}) == len(models)
    weights = [{id(w) for w in model.weights} for model in models]
    assert all(a.isdisjoint(b) for i, a in enumerate(weights) for b in weights[i + 1 :])


def test_soft_voting_fits_a_clone_and_gets_probabilities():
    X, y = binary_data()
    given = classifier()
    vote = VotingClassifier(
        [("keras", given), ("logreg", LogisticRegression())], voting="soft"
    ).fit(X, y)
    keras_fit = vote.named_estimators_["keras"]
    assert_fitted_clones([keras_fit], [given])
    assert len(keras_fit.history_["loss"]) == given.epochs
    assert_probabilities(keras_fit.predict_proba(X), len(y), 2)
    assert vote.score(X, y) > 0.8


def test_soft_voting_of_two_keras_classifiers_multiclass():
    X, y = multiclass_data()
    given = [classifier(model__hidden=4), classifier(model__hidden=8)]
    vote = VotingClassifier(
        [("small", given[0]), ("big", given[1])], voting="soft"
    ).fit(X, y)
    assert_fitted_clones(vote.estimators_, given)
    # Each clone was built with its own routed parameters.
    assert [dense_units(est)[0] for est in vote.estimators_] == [4, 8]
    for est in vote.estimators_:
        # VotingClassifier hands its estimators the labels encoded as 0, 1, 2.
        np.testing.assert_array_equal(est.classes_, [0, 1, 2])
        assert_probabilities(est.predict_proba(X), len(y), 3)
    np.testing.assert_array_equal(vote.classes_, ["ant", "bee", "cat"])
    assert set(vote.predict(X)) <= {"ant", "bee", "cat"}


def test_stacking_classifier():
    X, y = binary_data()
    given = classifier()
    stack = StackingClassifier(
        [("keras", given), ("logreg", LogisticRegression())],
        final_estimator=LogisticRegression(),
        cv=2,
    ).fit(X, y)
    assert_fitted_clones([stack.named_estimators_["keras"]], [given])
    assert_probabilities(stack.named_estimators_["keras"].predict_proba(X), len(y), 2)
    assert stack.score(X, y) > 0.8


def test_bagging_classifier():
    X, y = binary_data()
    given = classifier()
    bag = BaggingClassifier(given, n_estimators=2, random_state=0).fit(X, y)
    assert_fitted_clones(bag.estimators_, [given])
    first, second = bag.estimators_
    # Bagging seeds each clone through kerasbig's random_state parameter, and
    # each trains on its own bootstrap sample: two different networks.
    assert first.random_state != second.random_state
    assert not all(
        np.array_equal(a, b)
        for a, b in zip(first.model_.get_weights(), second.model_.get_weights())
    )
    for est in bag.estimators_:
        assert_probabilities(est.predict_proba(X), len(y), 2)
    assert bag.score(X, y) > 0.8


def test_multi_output_regressor():
    X, Y = regression_data(n_targets=2)
    given = regressor()
    multi = MultiOutputRegressor(given).fit(X, Y)
    assert len(multi.estimators_) == 2
    assert_fitted_clones(multi.estimators_, [given])
    for est in multi.estimators_:
        # Each clone saw one target column: a single-output network.
        assert est.n_outputs_ == 1 and est.model_.output_shape == (None, 1)
        pred = est.predict(X)
        assert pred.shape == (len(X),) and pred.dtype == np.float32
    assert multi.predict(X).shape == Y.shape
    assert multi.score(X, Y) > 0.5


# ----------------------------------------------------------------------
# Inspection and display
# ----------------------------------------------------------------------
@pytest.mark.parametrize("kind", ESTIMATORS)
def test_permutation_importance_finds_informative_features(kind):
    make, data = ESTIMATORS[kind]
    X, y = data()
    est = make().fit(X, y)
    result = permutation_importance(est, X, y, n_repeats=3, random_state=0)
    importance = result.importances_mean
    assert importance.shape == (4,) and np.all(np.isfinite(importance))
    # Features 0 and 1 carry the signal; 2 and 3 are noise.
    assert max(importance[:2]) > max(importance[2:]) + 0.1


def test_confusion_matrix_display_from_estimator():
    X, y = multiclass_data()
    clf = classifier().fit(X, y)
    fig, ax = plt.subplots()
    try:
        disp = ConfusionMatrixDisplay.from_estimator(clf, X, y, ax=ax)
        np.testing.assert_array_equal(
            disp.confusion_matrix, confusion_matrix(y, clf.predict(X))
        )
        assert disp.confusion_matrix.sum() == len(y)
        np.testing.assert_array_equal(disp.display_labels, ["ant", "bee", "cat"])
        assert [t.get_text() for t in ax.get_xticklabels()] == ["ant", "bee", "cat"]
    finally:
        plt.close(fig)


# ----------------------------------------------------------------------
# scikit-learn metadata routing
# ----------------------------------------------------------------------
def test_metadata_routing_sends_sample_weight_to_fit_and_score():
    X, y = binary_data()
    X = X.copy()
    X[:, :2] += np.random.default_rng(0).normal(scale=2.0, size=(len(y), 2))
    weight = np.where(y == 1, 5.0, 0.5)
    X_scaled = StandardScaler().fit_transform(X)
    with sklearn.config_context(enable_metadata_routing=True):
        est = classifier()
        est.set_fit_request(sample_weight=True).set_score_request(sample_weight=True)
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)
        pipe.fit(X, y, sample_weight=weight)
        weighted_score = pipe.score(X, y, sample_weight=weight)
        plain_score = pipe.score(X, y)
    weighted = classifier().fit(X_scaled, y, sample_weight=weight)
    unweighted = classifier().fit(X_scaled, y)

    proba = pipe.predict_proba(X)
    np.testing.assert_allclose(proba, weighted.predict_proba(X_scaled), rtol=1e-6)
    assert not np.allclose(proba, unweighted.predict_proba(X_scaled), atol=1e-3)
    # score received the weights too.
    pred = pipe.predict(X)
    assert weighted_score == pytest.approx(
        accuracy_score(y, pred, sample_weight=weight)
    )
    assert plain_score == pytest.approx(accuracy_score(y, pred))
    assert weighted_score != pytest.approx(plain_score)


def test_metadata_routing_respects_a_declined_request():
    """The scaler takes the weights, the estimator declines them."""
    X, y = binary_data()
    weight = np.where(y == 1, 5.0, 0.5)
    with sklearn.config_context(enable_metadata_routing=True):
        scaler = StandardScaler().set_fit_request(sample_weight=True)
        est = classifier().set_fit_request(sample_weight=False)
        pipe = make_pipeline(scaler, est).fit(X, y, sample_weight=weight)
    X_scaled = StandardScaler().fit(X, sample_weight=weight).transform(X)
    unweighted = classifier().fit(X_scaled, y)
    np.testing.assert_allclose(
        pipe.predict_proba(X), unweighted.predict_proba(X_scaled), rtol=1e-6
    )
