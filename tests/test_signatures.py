"""Every estimator's signature is composed from one definition of each parameter."""

import inspect

import pytest
from helpers import ESTIMATOR_DEFAULTS
from sklearn.base import clone

from kerasbig import (
    CNNClassifier,
    CNNRegressor,
    KerasClassifier,
    KerasRegressor,
    RNNClassifier,
    RNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.base import BaseKerasEstimator
from kerasbig.models import build_cnn, build_rnn, build_transformer
from kerasbig.models._family import DATA_KEYWORDS, FAMILY_DEFAULTS

GENERAL = [KerasClassifier, KerasRegressor]
FAMILIES = {
    CNNClassifier: build_cnn,
    CNNRegressor: build_cnn,
    RNNClassifier: build_rnn,
    RNNRegressor: build_rnn,
    TransformerClassifier: build_transformer,
    TransformerRegressor: build_transformer,
}
ALL = GENERAL + list(FAMILIES)
CLASSIFIERS = {KerasClassifier, CNNClassifier, RNNClassifier, TransformerClassifier}


def _params(cls):
    return {
        name: p
        for name, p in inspect.signature(cls).parameters.items()
        if p.kind is not p.VAR_KEYWORD
    }


TRAINING = {
    name: p.default
    for name, p in _params(BaseKerasEstimator).items()
    if name not in ("model", "build_fn")
}


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_every_estimator_shares_the_training_parameters_and_defaults(cls):
    params = _params(cls)
    expected = dict(TRAINING)
    if cls in FAMILIES:
        expected.update(FAMILY_DEFAULTS)
        expected.update(early_stopping=False, patience=10, truncation="warn")
        expected.update(standardize_inputs=True)
        expected["max_length"] = None
    for name, default in expected.items():
        assert name in params, name
        assert params[name].default == default, (name, params[name].default)
    assert ("class_weight" in params) == (cls in CLASSIFIERS)
    assert any(
        p.kind is p.VAR_KEYWORD for p in inspect.signature(cls).parameters.values()
    )


@pytest.mark.parametrize("cls", list(FAMILIES), ids=lambda c: c.__name__)
def test_family_architecture_parameters_are_the_builders(cls):
    builder = inspect.signature(FAMILIES[cls]).parameters
    params = _params(cls)
    own = ESTIMATOR_DEFAULTS.get(cls.__name__, {})
    for name, p in builder.items():
        if p.kind is not p.KEYWORD_ONLY or name in DATA_KEYWORDS:
            continue
        assert params[name].default == own.get(name, p.default), name
    assert "seed" not in params and "dtype" not in params  # random_state, precision


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_constructor_stores_every_argument_unchanged(cls):
    values = {name: object() for name in _params(cls)}
    est = cls(**values, fit__shuffle=False)
    for name, value in values.items():
        assert getattr(est, name) is value, name
    assert est.get_params()["fit__shuffle"] is False
    twin = clone(cls(epochs=3, optimizer__learning_rate=0.1))
    assert twin.epochs == 3 and twin.get_params()["optimizer__learning_rate"] == 0.1


def test_positional_arguments_follow_the_signature():
    assert KerasClassifier("m").model == "m"
    with pytest.raises(TypeError):
        CNNClassifier(3)  # every family parameter is keyword-only


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_docstring_documents_every_parameter_with_its_default(cls):
    doc = cls.__doc__
    assert "{parameters" not in doc
    for name, p in _params(cls).items():
        assert f"\n    {name} : " in doc and f"default={p.default!r}" in doc, name
    assert "\n    model_ : keras.Model" in doc
