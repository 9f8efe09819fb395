"""TransformerClassifier and TransformerRegressor: numbers, token ids and raw text."""

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from helpers import QUICK_FIT, TINY_TRANSFORMER, panel_data
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from kerasbig.models._inputs import default_text_length
from kerasbig.models.transformer.estimators import (
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.preprocessing import TextTokenizer

TINY = dict(TINY_TRANSFORMER, **QUICK_FIT)

GOOD = ["good", "great", "excellent", "lovely", "superb", "wonderful"]
BAD = ["bad", "awful", "terrible", "dull", "boring", "poor"]
FILLER = ["the", "film", "was", "really", "plot", "a", "and", "acting", "quite"]


def reviews(n, seed=0):
    """Short texts whose label is whether they hold a good or a bad word."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = list(rng.choice(FILLER, size=rng.integers(2, 6)))
        words.insert(
            rng.integers(0, len(words) + 1), rng.choice(GOOD if i % 2 else BAD)
        )
        texts.append(" ".join(words))
        labels.append(i % 2)
    return texts, np.array(labels)


@pytest.fixture(scope="module")
def text_model():
    texts, y = reviews(200)
    clf = TransformerClassifier(
        num_layers=1,
        num_heads=2,
        model_dim=16,
        ff_dim=32,
        epochs=15,
        optimizer__learning_rate=0.005,
        random_state=0,
    )
    return clf.fit(texts, y)


def test_raw_text_learns_a_vocabulary_and_predicts_strings(text_model):
    clf = text_model
    assert clf.input_type_ == "text"
    assert clf.encoder_.vocabulary_[:3] == ["[PAD]", "[UNK]", "[CLS]"]
    assert clf.vocabulary_size_ == len(clf.encoder_.vocabulary_) <= 2000
    assert clf.input_shape_ == (7,)  # [CLS] + at most 6 words
    assert not hasattr(clf, "n_features_in_")
    texts, y = reviews(100, seed=1)
    assert clf.score(texts, y) > 0.9
    assert list(clf.predict(["a superb film", "an awful plot"])) == [1, 0]


def test_text_containers_give_the_same_predictions(text_model):
    texts, _ = reviews(10, seed=2)
    expected = text_model.predict_proba(texts)
    np.testing.assert_array_equal(text_model.predict_proba(pd.Series(texts)), expected)
    np.testing.assert_array_equal(
        text_model.predict_proba(np.array(texts, dtype=object)), expected
    )
    np.testing.assert_array_equal(text_model.predict_proba(np.array(texts)), expected)


def test_text_model_pickles_and_clones(text_model):
    twin = pickle.loads(pickle.dumps(text_model))
    texts, _ = reviews(10, seed=3)
    np.testing.assert_allclose(
        twin.predict_proba(texts), text_model.predict_proba(texts), rtol=1e-6
    )
    assert twin.encoder_.vocabulary_ == text_model.encoder_.vocabulary_
    fresh = clone(text_model)
    assert not hasattr(fresh, "encoder_") and not hasattr(fresh, "model_")


def test_empty_texts_and_long_texts_in_predict(text_model):
    proba = text_model.predict_proba(["", "   "])
    assert np.isfinite(proba).all()
    with pytest.warns(UserWarning, match="1 text\\(s\\) of X are longer than"):
        text_model.predict([" ".join(["good"] * 20)])


def test_wrong_input_kind_for_the_fitted_model(text_model):
    with pytest.raises(ValueError, match="fitted on raw text"):
        text_model.predict(np.ones((2, 7)))
    numeric = TransformerClassifier(**TINY).fit(np.ones((8, 5)), [0, 1] * 4)
    with pytest.raises(ValueError, match="fitted on numeric input; X is text"):
        numeric.predict(["a good film"])
    with pytest.raises(ValueError, match="single string"):
        text_model.predict("a good film")


@pytest.mark.parametrize(
    "params, X, match",
    [
        ({}, ["", " "], "Every text in X is empty"),
        ({}, ["a", 1.0], "mixes strings with other values"),
        ({"input_type": "tokens"}, ["a b", "c"], "input_type='tokens', but X is text"),
        ({"input_type": "text"}, np.ones((2, 3)), "input_type='text' needs"),
        ({"input_type": "words"}, ["a", "b"], "input_type='words' is invalid"),
        ({"vocabulary_size": 50}, np.ones((2, 3)), "vocabulary_size=50 applies to"),
        ({"vocabulary_size": 3}, ["a b", "c"], "vocabulary_size=3 is invalid"),
        ({"max_length": 1, "truncation": "error"}, ["a b", "c"], "longer than max"),
    ],
)
def test_bad_input(params, X, match):
    with pytest.raises(ValueError, match=match):
        TransformerClassifier(**{**TINY, **params}).fit(X, [0, 1])


def test_max_length_cuts_texts():
    texts, y = reviews(40)
    with pytest.warns(UserWarning, match="longer than max_length=3"):
        clf = TransformerClassifier(max_length=3, **TINY).fit(texts, y)
    assert clf.input_shape_ == (3,)
    assert clf.model_.input_shape == (None, 3)


def test_default_length_follows_most_texts_not_the_longest(recwarn):
    texts, y = reviews(60)
    outlier = " ".join(["really"] * 300) + " good"
    clf = TransformerClassifier(**TINY).fit([*texts, outlier], [*y, 1])
    lengths = [len(ids) for ids in clf.encoder_.encode([*texts, outlier])]
    assert max(lengths) > 300
    # The 95th percentile (short reviews), rounded up to 8: not the outlier.
    length = default_text_length(lengths)
    assert length <= 16 and clf.input_shape_ == (length,)
    assert clf.model_.input_shape == (None, length)
    assert not [w for w in recwarn if "longer than" in str(w.message)]
    # An explicit max_length wins, and cutting to it is reported.
    with pytest.warns(UserWarning, match="longer than max_length=16"):
        explicit = TransformerClassifier(max_length=16, **TINY)
        explicit.fit([*texts, outlier], [*y, 1])
    assert explicit.input_shape_ == (16,)


def test_cls_pooling_on_text():
    texts, y = reviews(40)
    clf = TransformerClassifier(global_pooling="first", **TINY).fit(texts, y)
    assert clf.predict(texts[:4]).shape == (4,)


def test_token_ids_ragged_lists():
    X = [[3, 4, 5], [6, 7], [8], [9, 3, 4, 5]] * 5
    y = [0, 1, 1, 0] * 5
    clf = TransformerClassifier(input_type="tokens", **TINY).fit(X, y)
    assert clf.input_type_ == "tokens"
    assert clf.vocabulary_size_ == 10 and clf.input_shape_ == (4,)
    assert clf.n_features_in_ == 4
    # padding ids (0) are masked: a padded row predicts like the short one
    np.testing.assert_allclose(
        clf.predict_proba([[6, 7]]),
        clf.predict_proba(np.array([[6, 7, 0, 0]])),
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="token id 12, but .* vocabulary_size_=10"):
        clf.predict([[12, 3]])
    with pytest.raises(ValueError, match="non-negative integers"):
        clf.predict([[1.5, 3]])
    with pytest.raises(ValueError, match="hold no tokens"):
        clf.predict([[0, 0]])
    with pytest.raises(ValueError, match="ids must be below vocabulary_size"):
        TransformerClassifier(input_type="tokens", vocabulary_size=5, **TINY).fit(X, y)


def test_pipeline_of_tokenizer_and_token_model():
    texts, y = reviews(60)
    pipe = make_pipeline(
        TextTokenizer(vocabulary_size=100),
        TransformerClassifier(input_type="tokens", vocabulary_size=100, **TINY),
    ).fit(texts, y)
    assert pipe.predict(["a great film", "so dull"]).shape == (2,)
    assert pipe[-1].vocabulary_size_ == 100


def test_numeric_sequences():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 12, 2))
    reg = TransformerRegressor(**TINY).fit(X, X[:, :, 0].mean(axis=1))
    assert reg.input_type_ == "numeric" and reg.input_shape_ == (12, 2)
    assert not hasattr(reg, "vocabulary_size_")
    assert reg.predict(X[:3]).shape == (3,)
    with pytest.raises(ValueError, match="got a 4-D X"):
        TransformerRegressor(**TINY).fit(X[..., None], X[:, 0, 0])


def test_numeric_lists_of_sequences_are_padded():
    rng = np.random.default_rng(0)
    X = [rng.normal(size=k) for k in (3, 5, 4, 6) * 5]
    clf = TransformerClassifier(**TINY).fit(X, [0, 1, 0, 1] * 5)
    assert clf.input_shape_ == (6, 1)
    assert clf.predict([np.ones(2)]).shape == (1,)


def test_grid_search_over_layers_and_heads():
    """The issue's example: GridSearchCV over num_layers and num_heads."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 6))
    y = (X[:, 2] > 0).astype(int)
    search = GridSearchCV(
        TransformerClassifier(
            model_dim=8, ff_dim=8, epochs=1, run_eagerly=True, random_state=0
        ),
        {"num_layers": [1, 2], "num_heads": [2, 4]},
        cv=2,
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    encoders = [
        layer
        for layer in search.best_estimator_.model_.layers
        if type(layer).__name__ == "TransformerEncoder"
    ]
    assert len(encoders) == search.best_params_["num_layers"]
    assert encoders[0].num_heads == search.best_params_["num_heads"]


@pytest.mark.slow
def test_raw_text_on_the_jax_backend():
    """keras-hub's WordPiece runs on tensorflow-text under JAX as well."""
    pytest.importorskip("jax")
    script = textwrap.dedent(
        """
        import keras
        from kerasbig.models.transformer.estimators import TransformerClassifier
        texts = ["a good film", "a bad film", "great acting", "awful acting"] * 8
        clf = TransformerClassifier(num_layers=1, num_heads=2, model_dim=8,
                                    ff_dim=8, epochs=2, random_state=0)
        clf.fit(texts, [1, 0, 1, 0] * 8)
        print(keras.backend.backend(), clf.predict(["good acting"]).shape)
        """
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "jax (1,)"


@pytest.mark.slow
def test_fortunes_accuracy_is_clearly_above_the_majority_baseline():
    """Raw text from Debian's fortune files (apt-get install fortunes)."""
    X_train, y_train, X_test, y_test = panel_data("fortunes")
    baseline = DummyClassifier().fit(X_train, y_train).score(X_test, y_test)
    clf = TransformerClassifier(
        vocabulary_size=4000,
        max_length=64,
        truncation="silent",
        num_layers=1,
        model_dim=64,
        dropout=0.3,
        epochs=8,
        random_state=0,
    ).fit(X_train, y_train)
    assert clf.score(X_test, y_test) > baseline + 0.15


# ----------------------------------------------------------------------
# How long raw text trains when epochs=None (models/_budget.py)
# ----------------------------------------------------------------------
TEXT_BUDGET_ARCH = dict(TINY_TRANSFORMER, optimizer__learning_rate=0.01)


def test_text_budget_holds_out_a_tenth_and_stops_on_it():
    texts, y = reviews(100)
    clf = TransformerClassifier(**TEXT_BUDGET_ARCH, random_state=0).fit(texts, y)
    epochs = len(clf.history_["loss"])
    assert "val_loss" in clf.history_ and len(clf.history_["val_loss"]) == epochs
    assert epochs <= 30
    if epochs < 30:  # it stopped: 3 epochs without a better held-out loss
        best = int(np.argmin(clf.history_["val_loss"]))
        assert best == epochs - 4
    # the same data and seed give the same model
    twin = TransformerClassifier(**TEXT_BUDGET_ARCH, random_state=0).fit(texts, y)
    assert twin.history_ == clf.history_
    np.testing.assert_array_equal(clf.predict_proba(texts), twin.predict_proba(texts))


def test_explicit_epochs_train_on_every_text_without_a_hold_out():
    texts, y = reviews(60)
    clf = TransformerClassifier(**TEXT_BUDGET_ARCH, epochs=3, random_state=0)
    clf.fit(texts, y)
    assert len(clf.history_["loss"]) == 3 and "val_loss" not in clf.history_
    assert clf.fit(texts, y, epochs=2).history_.keys() == {"loss"}


def test_text_budget_uses_the_users_validation_and_skips_tiny_data():
    texts, y = reviews(60)
    clf = TransformerClassifier(
        **TEXT_BUDGET_ARCH, validation_split=0.25, random_state=0
    ).fit(texts, y)
    assert len(clf.history_["val_loss"]) <= 30
    few = TransformerClassifier(**TEXT_BUDGET_ARCH, random_state=0)
    few.fit(*reviews(12))  # under 20 texts: no hold-out, the training loss stops it
    assert "val_loss" not in few.history_ and len(few.history_["loss"]) <= 30


def test_text_budget_batch_size_is_32():
    from kerasbig.models import _budget

    args = _budget.resolve_text({"batch_size": None, "epochs": None}, stop_early=True)
    assert args["batch_size"] == 32 and args["epochs"] == 30
    assert args["callbacks"][0].monitor == "loss"
    mine = _budget.resolve_text({"batch_size": 8, "epochs": 4}, stop_early=True)
    assert mine == {"batch_size": 8, "epochs": 4}
