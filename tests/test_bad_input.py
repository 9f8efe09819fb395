"""Bad input: a clear error before any training, estimator and data unchanged."""

import copy

import keras
import numpy as np
import pytest
from helpers import NoTraining, mlp
from sklearn.datasets import make_classification

from kerasbig import KerasClassifier, KerasRegressor

X, Y = make_classification(n_samples=40, n_features=4, random_state=0)


def _nan(a):
    a = a.astype(float).copy()
    a[3, ...] = np.nan
    return a


def _inf(a):
    a = a.astype(float).copy()
    a[0, ...] = np.inf
    return a


CASES = {
    "nan in X": (lambda: (_nan(X), Y), {}, ValueError, "Input X contains NaN"),
    "inf in X": (lambda: (_inf(X), Y), {}, ValueError, "Input X contains infinity"),
    "nan in y": (lambda: (X, _nan(Y)), {}, ValueError, "Input y contains NaN"),
    "1-D X": (lambda: (X[:, 0], Y), {}, ValueError, "Expected 2D array"),
    "empty X": (lambda: (X[:0], Y[:0]), {}, ValueError, "0 sample"),
    "lengths differ": (lambda: (X, Y[:-1]), {}, ValueError, "inconsistent numbers"),
    "continuous y": (lambda: (X, X[:, 0]), {}, ValueError, "Unknown label type"),
    "not a model": (
        lambda: (X, Y),
        {"model": lambda: "a string"},
        TypeError,
        "returned str; expected a keras.Model",
    ),
    "model is None": (lambda: (X, Y), {"model": None}, ValueError, "model=None"),
    "epochs zero": (lambda: (X, Y), {"epochs": 0}, ValueError, "epochs=0"),
    "negative weights": (
        lambda: (X, Y),
        {"_sample_weight": -np.ones(40)},
        ValueError,
        "negative",
    ),
    "no loss to infer": (
        lambda: (X, Y),
        {
            "model": lambda n_features_in_: keras.Sequential(
                [keras.Input((n_features_in_,)), keras.layers.Dense(5)]
            )
        },
        ValueError,
        "Cannot infer a loss: the model has 5 output",
    ),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_before_training_and_changes_nothing(case):
    make_data, params, error, message = CASES[case]
    fitted = KerasClassifier(mlp, random_state=0, epochs=1).fit(X, Y)
    before_state = dict(fitted.__dict__)
    before_pred = fitted.predict_proba(X)
    Xb, yb = make_data()
    X_copy, y_copy = copy.deepcopy(Xb), copy.deepcopy(yb)
    params = dict(params)
    sample_weight = params.pop("_sample_weight", None)
    fitted.set_params(callbacks=[NoTraining()], **params)
    with pytest.raises(error, match=message):
        fitted.fit(Xb, yb, sample_weight=sample_weight)
    after = {
        k: v
        for k, v in fitted.__dict__.items()
        if k not in ("callbacks", "model", "epochs", "_kwargs")
    }
    assert after.keys() == {
        k for k in before_state if k not in ("callbacks", "model", "epochs", "_kwargs")
    }
    for key, value in after.items():
        assert value is before_state[key], key
    np.testing.assert_array_equal(fitted.predict_proba(X), before_pred)
    np.testing.assert_array_equal(Xb, X_copy)
    np.testing.assert_array_equal(yb, y_copy)


def test_unknown_routing_prefix_given_at_construction():
    clf = KerasClassifier(mlp, optimiser__lr=1, callbacks=[NoTraining()])
    with pytest.raises(ValueError, match="Unknown routing prefix 'optimiser'"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


def test_unfitted_estimator_stays_unfitted_after_bad_input():
    clf = KerasClassifier(mlp, random_state=0)
    with pytest.raises(ValueError):
        clf.fit(_nan(X), Y)
    assert not hasattr(clf, "n_features_in_") and not hasattr(clf, "model_")


def test_wrong_number_of_features_at_predict():
    clf = KerasClassifier(mlp, random_state=0).fit(X, Y)
    with pytest.raises(
        ValueError, match="X has 3 features, but KerasClassifier is expecting 4"
    ):
        clf.predict(X[:, :3])


def test_predict_before_fit_is_not_fitted_error():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        KerasRegressor(mlp).predict(X)


def test_sample_weight_of_the_wrong_length():
    with pytest.raises(
        ValueError, match=r"sample_weight has shape \(3,\); expected \(40,\)"
    ):
        KerasClassifier(mlp).fit(X, Y, sample_weight=[1, 2, 3])


def test_invalid_random_state():
    with pytest.raises(ValueError, match="random_state='seed' is invalid"):
        KerasClassifier(mlp, random_state="seed").fit(X, Y)


def test_model_compiled_without_a_loss():
    def build(n_features_in_):
        model = keras.Sequential(
            [keras.Input((n_features_in_,)), keras.layers.Dense(1)]
        )
        model.compile(optimizer="adam")
        return model

    with pytest.raises(ValueError, match="has no loss to train with: provide a loss"):
        KerasRegressor(build).fit(X, Y.astype(float))
