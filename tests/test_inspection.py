"""Looking inside trained estimators: learning curves, and scikit-learn's
inspection tools (permutation_importance, PartialDependenceDisplay,
LearningCurveDisplay) working on kerasbig estimators."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from deploy_helpers import registered_mlp  # noqa: E402
from sklearn.exceptions import NotFittedError  # noqa: E402
from sklearn.inspection import (  # noqa: E402
    PartialDependenceDisplay,
    permutation_importance,
)
from sklearn.model_selection import GridSearchCV, LearningCurveDisplay  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from kerasbig import KerasClassifier, KerasRegressor  # noqa: E402
from kerasbig.inspection import plot_learning_curves  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def regression_data(n=80):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, 3)).astype("float32")
    return X, 3.0 * X[:, 0] + 0.1 * rng.normal(size=n)  # only feature 0 matters


def classification_data(n=80):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(n, 3)).astype("float32")
    return X, np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")


def regressor(**params):
    base = dict(
        loss="mse",
        optimizer="adam",
        optimizer__learning_rate=0.05,
        batch_size=16,
        epochs=8,
        random_state=0,
    )
    return KerasRegressor(registered_mlp, **{**base, **params})


def classifier(**params):
    base = dict(
        optimizer="adam",
        optimizer__learning_rate=0.05,
        batch_size=16,
        epochs=8,
        random_state=0,
    )
    return KerasClassifier(registered_mlp, **{**base, **params})


# ----------------------------------------------------------------------
# plot_learning_curves
# ----------------------------------------------------------------------
def test_learning_curves_of_loss_and_metrics():
    X, y = classification_data()
    clf = classifier(metrics=["accuracy"], validation_split=0.25).fit(X, y)
    fig = plot_learning_curves(clf)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    loss_ax = fig.axes[0]
    training, validation = loss_ax.lines
    assert (training.get_label(), validation.get_label()) == ("training", "validation")
    np.testing.assert_allclose(training.get_ydata(), clf.history_["loss"])
    np.testing.assert_allclose(validation.get_ydata(), clf.history_["val_loss"])
    assert list(training.get_xdata()) == list(range(1, 9))
    assert loss_ax.get_xlabel() == "epoch"


def test_learning_curves_without_validation_and_chosen_metrics():
    X, y = regression_data()
    reg = regressor(metrics=["mae"]).fit(X, y)
    assert set(reg.history_) == {"loss", "mean_absolute_error"}
    fig = plot_learning_curves(reg, metrics=["mean_absolute_error"])
    assert [ax.get_title() for ax in fig.axes] == ["mean_absolute_error"]
    assert [line.get_label() for line in fig.axes[0].lines] == ["training"]


def test_validation_curve_of_a_short_metric_name_shares_its_panel():
    # history_ holds "mean_absolute_error" (scikeras's long name) and
    # "val_mae" (Keras' own): one panel, both curves.
    X, y = regression_data()
    reg = regressor(metrics=["mae"], validation_split=0.25).fit(X, y)
    assert {"mean_absolute_error", "val_mae"} <= set(reg.history_)
    fig = plot_learning_curves(reg)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "mean_absolute_error"]
    training, validation = fig.axes[1].lines
    np.testing.assert_allclose(validation.get_ydata(), reg.history_["val_mae"])


def test_learning_curves_of_a_search_and_a_pipeline():
    X, y = regression_data(60)
    search = GridSearchCV(
        make_pipeline(StandardScaler(), regressor(epochs=3)),
        {"kerasregressor__model__hidden": [4, 8]},
        cv=2,
    ).fit(X, y)
    fig = plot_learning_curves(search)
    best = search.best_estimator_[-1]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_ydata(), best.history_["loss"])
    fig = plot_learning_curves(search.best_estimator_)
    assert fig.axes[0].get_title() == "loss"


def test_learning_curves_on_given_axes():
    X, y = regression_data(40)
    reg = regressor(epochs=2).fit(X, y)
    fig, ax = plt.subplots()
    assert plot_learning_curves(reg, ax=ax) is fig
    with pytest.raises(ValueError, match="ax holds 1 Axes; 2 are needed"):
        plot_learning_curves(regressor(epochs=2, metrics=["mae"]).fit(X, y), ax=ax)


def test_learning_curves_bad_input():
    with pytest.raises(NotFittedError):
        plot_learning_curves(regressor())
    X, y = regression_data(40)
    reg = regressor(epochs=2).fit(X, y)
    with pytest.raises(
        ValueError,
        match=r"metrics=\['accuracy'\] is invalid: history_ holds \['loss'\]",
    ):
        plot_learning_curves(reg, metrics=["accuracy"])
    with pytest.raises(TypeError, match="metrics='loss' is invalid; expected a list"):
        plot_learning_curves(reg, metrics="loss")
    with pytest.raises(TypeError, match="expected a fitted kerasbig estimator"):
        plot_learning_curves(object())
    reg.history_ = {}
    with pytest.raises(ValueError, match="history_ is empty"):
        plot_learning_curves(reg)


# ----------------------------------------------------------------------
# scikit-learn's inspection tools
# ----------------------------------------------------------------------
def test_permutation_importance_finds_the_informative_feature():
    X, y = regression_data()
    reg = regressor(epochs=30).fit(X, y)
    result = permutation_importance(reg, X, y, n_repeats=3, random_state=0)
    assert result.importances_mean.shape == (3,)
    assert result.importances_mean.argmax() == 0
    assert result.importances_mean[0] > 10 * abs(result.importances_mean[1:]).max()


def test_permutation_importance_of_a_classifier_with_string_labels():
    X, y = classification_data()
    clf = classifier(epochs=20).fit(X, y)
    result = permutation_importance(
        clf, X, y, scoring="accuracy", n_repeats=3, random_state=0
    )
    assert result.importances_mean[2] < result.importances_mean[0]


def test_partial_dependence_display():
    X, y = regression_data()
    reg = regressor(epochs=30).fit(X, y)
    display = PartialDependenceDisplay.from_estimator(
        reg, X, features=[0, 2], grid_resolution=10
    )
    rising = display.pd_results[0]["average"][0]
    assert rising[-1] - rising[0] > 3  # y = 3 x0: it rises
    flat = display.pd_results[1]["average"][0]
    assert abs(flat[-1] - flat[0]) < abs(rising[-1] - rising[0]) / 3

    X, y = classification_data()
    clf = classifier(epochs=10).fit(X, y)
    display = PartialDependenceDisplay.from_estimator(
        clf, X, features=[0], response_method="predict_proba", grid_resolution=5
    )
    assert display.pd_results[0]["average"].shape == (1, 5)


def test_learning_curve_display():
    X, y = classification_data(60)
    display = LearningCurveDisplay.from_estimator(
        classifier(epochs=3), X, y, train_sizes=[0.5, 1.0], cv=2, score_type="both"
    )
    assert display.train_scores.shape == (2, 2)
    assert display.test_scores.shape == (2, 2)
    assert np.all((display.test_scores >= 0) & (display.test_scores <= 1))
