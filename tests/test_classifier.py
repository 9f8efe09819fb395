"""KerasClassifier: targets in every format, probabilities, weights, training modes."""

import keras
import numpy as np
import pytest
from helpers import mlp
from sklearn.datasets import make_classification, make_multilabel_classification

from kerasbig import KerasClassifier

FAST = dict(optimizer="adam", optimizer__learning_rate=0.02, epochs=15, random_state=0)


@pytest.fixture(scope="module")
def binary():
    return make_classification(n_samples=120, n_features=6, random_state=0)


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(
        n_samples=150, n_features=6, n_informative=4, n_classes=3, random_state=0
    )
    return X, y


def softmax_net(n_features_in_, n_classes_):
    return keras.Sequential(
        [
            keras.Input((n_features_in_,)),
            keras.layers.Dense(n_classes_, activation="softmax"),
        ]
    )


def test_binary_single_sigmoid_gives_two_probability_columns(binary):
    X, y = binary
    clf = KerasClassifier(mlp, **FAST).fit(X, y)
    proba = clf.predict_proba(X)
    assert clf.model_.outputs[0].shape[-1] == 1
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(1)])
    assert clf.score(X, y) > 0.8
    assert clf.target_type_ == "binary"
    assert "binary_crossentropy" in clf.model_.loss.name


def test_binary_with_two_softmax_units(binary):
    X, y = binary
    clf = KerasClassifier(softmax_net, **FAST).fit(X, y)
    assert clf.predict_proba(X).shape == (len(X), 2)
    assert clf.model_.loss.name == "sparse_categorical_crossentropy"


def test_string_labels_round_trip(multiclass):
    X, y = multiclass
    names = np.array(["cat", "dog", "emu"])[y]
    clf = KerasClassifier(mlp, **FAST).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["cat", "dog", "emu"])
    assert set(clf.predict(X)) <= {"cat", "dog", "emu"}
    assert clf.n_classes_ == 3 and clf.n_outputs_ == 1


def test_integer_labels_that_are_not_zero_based(multiclass):
    X, y = multiclass
    clf = KerasClassifier(mlp, **FAST).fit(X, y * 10 + 5)
    np.testing.assert_array_equal(clf.classes_, [5, 15, 25])
    assert set(clf.predict(X)) <= {5, 15, 25}


def test_one_hot_targets_predict_one_hot(multiclass):
    X, y = multiclass
    onehot = np.eye(3)[y]
    clf = KerasClassifier(mlp, **FAST).fit(X, onehot)
    assert clf.target_type_ == "multiclass-onehot"
    assert clf.model_.loss.name == "categorical_crossentropy"
    pred = clf.predict(X)
    assert pred.shape == (len(X), 3)
    np.testing.assert_array_equal(pred.sum(axis=1), 1)
    assert clf.score(X, onehot) > 0.6


def test_multilabel_indicator_targets():
    X, Y = make_multilabel_classification(
        n_samples=100, n_features=8, n_classes=4, random_state=0
    )
    clf = KerasClassifier(mlp, **FAST).fit(X, Y)
    assert clf.target_type_ == "multilabel-indicator"
    assert clf.n_outputs_ == 4
    assert clf.predict(X).shape == Y.shape
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and proba.min() >= 0 and proba.max() <= 1


def test_categorical_loss_given_by_name_gets_one_hot_targets(multiclass):
    X, y = multiclass
    clf = KerasClassifier(softmax_net, loss="categorical_crossentropy", **FAST)
    clf.fit(X, y)  # would fail in Keras if y stayed as class indices
    assert clf.score(X, y) > 0.5


def test_from_logits_outputs_become_probabilities(multiclass):
    X, y = multiclass

    def logits_net(n_features_in_, n_classes_):
        return keras.Sequential(
            [keras.Input((n_features_in_,)), keras.layers.Dense(n_classes_)]
        )

    clf = KerasClassifier(
        logits_net,
        loss="sparse_categorical_crossentropy",
        loss__from_logits=True,
        **FAST,
    ).fit(X, y)
    proba = clf.predict_proba(X)
    assert proba.min() >= 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)


def test_sample_weight_changes_the_fit_and_score(binary):
    X, y = binary
    plain = KerasClassifier(mlp, **FAST).fit(X, y)
    weights = np.where(y == 1, 10.0, 0.1)
    weighted = KerasClassifier(mlp, **FAST).fit(X, y, sample_weight=weights)
    assert (weighted.predict(X) == 1).mean() > (plain.predict(X) == 1).mean()
    assert weighted.score(X, y, sample_weight=weights) != weighted.score(X, y)


def test_sample_weight_scale_does_not_matter(binary):
    X, y = binary
    w = np.random.RandomState(0).uniform(0.5, 2.0, len(y))
    a = KerasClassifier(mlp, **FAST).fit(X, y, sample_weight=w)
    b = KerasClassifier(mlp, **FAST).fit(X, y, sample_weight=100 * w)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X), rtol=1e-4)


def test_class_weight_balanced_and_dict_shift_predictions():
    X, y = make_classification(
        n_samples=200, n_features=5, weights=[0.85], flip_y=0.1, random_state=0
    )
    plain = KerasClassifier(mlp, **FAST).fit(X, y)
    balanced = KerasClassifier(mlp, class_weight="balanced", **FAST).fit(X, y)
    heavy = KerasClassifier(mlp, class_weight={0: 1.0, 1: 20.0}, **FAST).fit(X, y)
    share = [(m.predict(X) == 1).mean() for m in (plain, balanced, heavy)]
    assert share[0] < share[1] < share[2]


def test_class_weight_for_unknown_class_is_an_error(binary):
    X, y = binary
    with pytest.raises(ValueError, match="class_weight.*7"):
        KerasClassifier(mlp, class_weight={7: 2.0}, **FAST).fit(X, y)


def test_partial_fit_trains_one_epoch_per_call_with_declared_classes(multiclass):
    X, y = multiclass
    clf = KerasClassifier(mlp, **FAST)
    first = y < 2  # the first batch shows only classes 0 and 1
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert clf.n_classes_ == 3 and len(clf.history_["loss"]) == 1
    weights = clf.model_.get_weights()
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == 2
    assert any(
        not np.array_equal(a, b) for a, b in zip(weights, clf.model_.get_weights())
    )


def test_partial_fit_rejects_labels_not_declared(multiclass):
    X, y = multiclass
    clf = KerasClassifier(mlp, **FAST).partial_fit(X[y < 2], y[y < 2])
    with pytest.raises(ValueError, match=r"unknown categories \[2\]"):
        clf.partial_fit(X, y)


def test_warm_start_continues_the_network_and_history_is_this_fits(binary):
    X, y = binary
    clf = KerasClassifier(mlp, warm_start=True, **{**FAST, "epochs": 2}).fit(X, y)
    model = clf.model_
    weights = [w.copy() for w in model.get_weights()]
    clf.fit(X, y)
    assert clf.model_ is model
    assert not np.array_equal(weights[0], model.get_weights()[0])  # trained on
    assert len(clf.history_["loss"]) == 2  # as scikeras: this fit's epochs
    clf.partial_fit(X, y)
    assert len(clf.history_["loss"]) == 3 and clf.current_epoch == 3
    cold = KerasClassifier(mlp, **{**FAST, "epochs": 2}).fit(X, y)
    first_model = cold.model_
    cold.fit(X, y)
    assert cold.model_ is not first_model and len(cold.history_["loss"]) == 2


def test_initialize_builds_without_training(binary):
    X, y = binary
    clf = KerasClassifier(mlp, **FAST).initialize(X, y)
    assert clf.history_ == {}
    assert clf.model_.compiled
    assert clf.predict_proba(X).shape == (len(X), 2)


def test_history_records_metrics_per_epoch(binary):
    X, y = binary
    clf = KerasClassifier(
        mlp, metrics=["accuracy"], validation_split=0.2, **{**FAST, "epochs": 3}
    ).fit(X, y)
    assert set(clf.history_) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(isinstance(v, list) and len(v) == 3 for v in clf.history_.values())


def test_fit_kwargs_apply_to_one_call_only(binary):
    X, y = binary
    clf = KerasClassifier(mlp, **FAST)
    clf.fit(X, y, epochs=2)
    assert len(clf.history_["loss"]) == 2
    assert clf.epochs == 15


def test_build_fn_is_accepted_with_a_deprecation_warning(binary):
    X, y = binary
    with pytest.warns(FutureWarning, match="build_fn is deprecated"):
        clf = KerasClassifier(build_fn=mlp, **FAST).fit(X, y)
    assert clf.score(X, y) > 0.7


def test_model_instance_is_copied_not_mutated(binary):
    X, y = binary
    user_model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    before = [w.copy() for w in user_model.get_weights()]
    clf = KerasClassifier(user_model, **FAST).fit(X, y)
    assert clf.model_ is not user_model
    for a, b in zip(before, user_model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not getattr(user_model, "compiled", False)


def test_compiled_model_keeps_its_own_compile_settings(binary):
    X, y = binary
    user_model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(1, activation="sigmoid")]
    )
    user_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    clf = KerasClassifier(user_model, epochs=2, random_state=0).fit(X, y)
    assert isinstance(clf.model_.optimizer, keras.optimizers.SGD)


def test_same_random_state_gives_identical_predictions(multiclass):
    X, y = multiclass
    a = KerasClassifier(mlp, **FAST).fit(X, y).predict_proba(X)
    b = KerasClassifier(mlp, **FAST).fit(X, y).predict_proba(X)
    c = KerasClassifier(mlp, **{**FAST, "random_state": 1}).fit(X, y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
