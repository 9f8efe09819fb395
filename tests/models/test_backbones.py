"""Pretrained KerasHub backbones in the CNN and Transformer estimators, offline.

Each test loads a tiny, randomly initialised preset (a 1-layer BERT with a
vocabulary of a few dozen words, a one-block ResNet) that the module saves with
``save_to_preset`` into a temporary directory, through ``backbone=<directory>``,
the path a user takes with a downloaded or copied preset. Nothing is
downloaded.
"""

import pickle
import warnings

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from kerasbig import (
    CNNClassifier,
    CNNRegressor,
    TransformerClassifier,
    TransformerRegressor,
)
from kerasbig.models import backbones

keras_hub = pytest.importorskip("keras_hub")

WORDS = (
    "a the and so very good great fun fine film movie plot acting story bad dull "
    "boring long weak poor awful ending cast music"
).split()
GOOD = ["a good film", "great acting", "fun story", "a fine cast", "very good music"]
BAD = ["a dull plot", "boring and long", "a weak ending", "so poor", "awful acting"]
TEXTS = (GOOD + BAD) * 2
LABELS = np.array([1] * 5 + [0] * 5 + [1] * 5 + [0] * 5)
QUICK = dict(epochs=1, batch_size=8, random_state=0)


@pytest.fixture(scope="module")
def text_preset(tmp_path_factory):
    """A complete BERT preset: backbone, tokenizer and preprocessor."""
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *WORDS]
    tokenizer = keras_hub.models.BertTokenizer(vocabulary=vocabulary)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=32,
    )
    preprocessor = keras_hub.models.BertTextClassifierPreprocessor(
        tokenizer, sequence_length=32
    )
    task = keras_hub.models.BertTextClassifier(
        backbone, num_classes=2, preprocessor=preprocessor
    )
    path = tmp_path_factory.mktemp("presets") / "tiny_bert"
    task.save_to_preset(str(path))
    return str(path)


@pytest.fixture(scope="module")
def image_preset(tmp_path_factory):
    """A complete ResNet preset: backbone and image converter (to 16x16, /255)."""
    backbone = keras_hub.models.ResNetBackbone(
        input_conv_filters=[64],  # KerasHub's ResNet wants 64 filters first
        input_conv_kernel_sizes=[3],
        stackwise_num_filters=[64],
        stackwise_num_blocks=[1],
        stackwise_num_strides=[1],
        block_type="basic_block",
        use_pre_activation=False,
        image_shape=(None, None, 3),
    )
    converter = keras_hub.layers.ResNetImageConverter(
        image_size=(16, 16), scale=1 / 255.0
    )
    task = keras_hub.models.ResNetImageClassifier(
        backbone,
        num_classes=2,
        preprocessor=keras_hub.models.ResNetImageClassifierPreprocessor(converter),
    )
    path = tmp_path_factory.mktemp("presets") / "tiny_resnet"
    task.save_to_preset(str(path))
    return str(path)


@pytest.fixture(scope="module")
def fitted_text(text_preset):
    """A fitted text classifier; tests only read it (and one predicts with it)."""
    return TransformerClassifier(backbone=text_preset, **QUICK).fit(TEXTS, LABELS)


@pytest.fixture(scope="module")
def images():
    """Twenty 20x20 RGB images in 0..255; class 1 is brighter."""
    rng = np.random.default_rng(0)
    y = np.arange(20) % 2
    X = rng.uniform(0, 155, size=(20, 20, 20, 3)) + 100 * y[:, None, None, None]
    return X, y


def backbone_of(model):
    layer = model.get_layer("backbone")
    assert isinstance(layer, backbones.PretrainedBackbone)
    return layer


def weights(layer):
    return [np.array(w) for w in layer.get_weights()]


def backbone_changes_in_fit(est, X, y):
    """Build ``est``'s network, train it for an epoch: did the backbone change?"""
    est.set_params(warm_start=True).initialize(X, y)
    backbone = backbone_of(est.model_)
    before = weights(backbone)
    est.fit(X, y)
    assert backbone_of(est.model_) is backbone
    return any(not np.array_equal(a, b) for a, b in zip(before, weights(backbone)))


# ----------------------------------------------------------------------
# Text
# ----------------------------------------------------------------------
@pytest.mark.parametrize("trainable", [False, True])
def test_text_backbone_frozen_or_fine_tuned(text_preset, trainable):
    clf = TransformerClassifier(
        backbone=text_preset,
        trainable_backbone=trainable,
        optimizer__learning_rate=0.05,
        **QUICK,
    )
    assert backbone_changes_in_fit(clf, TEXTS, LABELS) == trainable
    assert backbone_of(clf.model_).trainable == trainable
    proba = clf.predict_proba(["a good film", "boring plot"])
    assert proba.shape == (2, 2)
    assert np.allclose(proba.sum(axis=1), 1)
    assert set(clf.predict(TEXTS)) <= {0, 1}
    assert 0 <= clf.score(TEXTS, LABELS) <= 1


def test_text_goes_through_the_presets_preprocessor(fitted_text):
    clf = fitted_text
    assert clf.backbone_inputs_ == ("padding_mask", "segment_ids", "token_ids")
    # max_length=None: the longest text, [CLS] and [SEP] included (5 tokens),
    # not the preset's 32.
    assert clf.preprocessor_.sequence_length == 5
    assert clf.input_shape_ == (5, 3)
    assert clf.model_.input_shape == (None, 5, 3)
    assert not hasattr(clf, "encoder_") and not hasattr(clf, "n_features_in_")
    ids = clf._validate_X(["a good film"])[0, :, 2]
    cls_, sep = (clf.preprocessor_.tokenizer.token_to_id(t) for t in ("[CLS]", "[SEP]"))
    assert ids[0] == cls_ and ids[4] == sep


def test_max_length_is_the_sequence_length(text_preset):
    clf = TransformerRegressor(backbone=text_preset, max_length=4, **QUICK)
    with pytest.warns(UserWarning, match="longer than max_length=4"):
        clf.fit(TEXTS, LABELS.astype(float))
    assert clf.preprocessor_.sequence_length == 4
    assert clf.predict(["so dull"]).shape == (1,)
    with pytest.warns(UserWarning, match="longer than the training length"):
        clf.predict(["a good film"])
    too_long = TransformerClassifier(backbone=text_preset, max_length=64, **QUICK)
    with pytest.raises(ValueError, match="max_sequence_length=32"):
        too_long.fit(TEXTS, LABELS)


def test_text_backbone_takes_raw_text_only(text_preset):
    clf = TransformerClassifier(backbone=text_preset, **QUICK)
    with pytest.raises(ValueError, match="reads raw text"):
        clf.fit(np.ones((20, 6)), LABELS)
    tokens = TransformerClassifier(backbone=text_preset, input_type="tokens", **QUICK)
    with pytest.raises(ValueError, match="reads raw text"):
        tokens.fit(np.ones((20, 6), dtype=int), LABELS)


# ----------------------------------------------------------------------
# Images
# ----------------------------------------------------------------------
@pytest.mark.parametrize("trainable", [False, True])
def test_image_backbone_frozen_or_fine_tuned(image_preset, images, trainable):
    X, y = images
    clf = CNNClassifier(
        backbone=image_preset,
        trainable_backbone=trainable,
        dense_units=4,
        **QUICK,
    )
    # Frozen: BatchNormalization's moving statistics do not move either.
    assert backbone_changes_in_fit(clf, X, y) == trainable
    assert clf.predict_proba(X[:3]).shape == (3, 2)
    assert 0 <= clf.score(X, y) <= 1


def test_image_converter_resizes_and_scales_inside_the_model(image_preset, images):
    X, y = images
    reg = CNNRegressor(backbone=image_preset, **QUICK).fit(X, y.astype(float))
    assert reg.model_.input_shape == (None, 20, 20, 3)  # the user's images
    converter = next(
        layer
        for layer in reg.model_.layers
        if isinstance(layer, keras_hub.layers.ImageConverter)
    )
    scaled = keras.ops.convert_to_numpy(converter(X[:2].astype("float32")))
    assert scaled.shape == (2, 16, 16, 3) and scaled.max() <= 1.0
    assert reg.predict(X[:4]).shape == (4,)
    # the converter scales; kerasbig's standardization stays out of the way
    assert reg.input_statistics_ is None
    assert "input_standardization" not in [layer.name for layer in reg.model_.layers]


def test_image_backbone_takes_images_with_its_channels(image_preset, images):
    X, y = images
    with pytest.raises(ValueError, match="3 channel.*np.repeat"):
        CNNClassifier(backbone=image_preset, **QUICK).fit(X[..., :1], y)
    with pytest.raises(ValueError, match="takes images"):
        CNNClassifier(backbone=image_preset, **QUICK).fit(X[:, :, 0, 0], y)


# ----------------------------------------------------------------------
# Parameters and errors
# ----------------------------------------------------------------------
def test_default_is_the_familys_own_network():
    for cls in (CNNClassifier, CNNRegressor, TransformerClassifier):
        est = cls()
        assert est.backbone is None and est.trainable_backbone is False
        assert "backbone : str, path or None, default=None" in cls.__doc__


@pytest.mark.parametrize(
    "cls, bad",
    [
        (TransformerClassifier, {"num_layers": 3}),
        (TransformerClassifier, {"lowercase": False}),
        (CNNClassifier, {"filters": 8, "residual": True}),
    ],
)
def test_architecture_parameters_conflict_with_a_backbone(cls, bad, no_build):
    est = cls(backbone="any_preset", **bad, **QUICK)
    X = TEXTS if cls is TransformerClassifier else np.ones((20, 8, 8, 3))
    with pytest.raises(ValueError, match=f"{'=.*'.join(bad)}=.*leave them at"):
        est.fit(X, LABELS)
    # The head's parameters and the defaults are fine.
    est = cls(backbone="any_preset", dense_units=(8,), dropout=0.5)
    est._check_params()


def test_missing_preset_is_a_clear_error_and_changes_nothing(
    fitted_text, tmp_path, monkeypatch
):
    fitted = pickle.loads(pickle.dumps(fitted_text))
    monkeypatch.setattr(keras.Model, "fit", lambda *a, **k: pytest.fail("trained"))
    for preset in ("no_such_preset_anywhere", str(tmp_path / "not_saved_here")):
        state = dict(fitted.__dict__, backbone=preset)
        fitted.set_params(backbone=preset)
        with pytest.raises(ValueError, match="save_to_preset") as info:
            fitted.fit(TEXTS, LABELS)
        message = str(info.value)
        assert repr(preset) in message and "Traceback" not in message
        assert fitted.__dict__.keys() == state.keys()
        assert all(fitted.__dict__[k] is state[k] for k in state)
        fresh = CNNClassifier(backbone=preset, **QUICK)
        with pytest.raises(ValueError, match=f"{preset!r}.*local preset directory"):
            fresh.fit(np.ones((4, 8, 8, 3)), [0, 1, 0, 1])
        assert not hasattr(fresh, "model_")


def test_no_network_is_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise OSError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setattr(keras_hub.models.Backbone, "from_preset", offline)
    with pytest.raises(ValueError) as info:
        backbones.load_backbone("bert_tiny_en_uncased")
    message = str(info.value)
    for words in ("'bert_tiny_en_uncased'", "OSError", "network", "save_to_preset"):
        assert words in message


def test_a_preset_of_the_other_kind_is_a_clear_error(text_preset, image_preset, images):
    X, y = images
    with pytest.raises(ValueError, match="ResNetBackbone.*CNNClassifier"):
        TransformerClassifier(backbone=image_preset, **QUICK).fit(TEXTS, LABELS)
    with pytest.raises(
        ValueError, match="BertBackbone is a text backbone.*images need"
    ):
        CNNClassifier(backbone=text_preset, **QUICK).fit(X, y)
    with pytest.raises(
        ValueError, match="global_pooling must be one of 'mean', 'first"
    ):
        TransformerClassifier(backbone=text_preset, global_pooling="max", **QUICK).fit(
            TEXTS, LABELS
        )


# ----------------------------------------------------------------------
# The scikit-learn contract
# ----------------------------------------------------------------------
def test_pickle_round_trip_predicts_the_same(fitted_text, image_preset, images):
    X, y = images
    fitted = [
        (fitted_text, TEXTS),
        (CNNClassifier(backbone=image_preset, **QUICK).fit(X, y), X),
    ]
    for est, data in fitted:
        expected = est.predict_proba(data)
        pickled = pickle.dumps(est)
        with warnings.catch_warnings():
            # e.g. "Skipping variable loading for optimizer": state not restored
            warnings.simplefilter("error", UserWarning)
            again = pickle.loads(pickled)
        np.testing.assert_array_equal(again.predict_proba(data), expected)
        frozen = backbone_of(again.model_)
        assert not frozen.trainable and not frozen.trainable_weights
        assert len(again.model_.trainable_weights) == 2  # the output layer
        twin = clone(est)
        assert twin.backbone == est.backbone and not hasattr(twin, "model_")


def test_grid_search_over_trainable_backbone_in_a_pipeline(image_preset, images):
    X, y = images
    pipe = make_pipeline(
        FunctionTransformer(lambda images: images * 1.0),
        CNNClassifier(backbone=image_preset, **QUICK),
    )
    search = GridSearchCV(
        pipe, {"cnnclassifier__trainable_backbone": [False, True]}, cv=2
    ).fit(X, y)
    assert len(search.cv_results_["mean_test_score"]) == 2
    assert search.predict(X[:3]).shape == (3,)


def test_text_in_a_pipeline_under_cross_validation(text_preset):
    pipe = make_pipeline(
        FunctionTransformer(lambda texts: [t.lower() for t in texts]),
        TransformerClassifier(backbone=text_preset, global_pooling="first", **QUICK),
    )
    scores = cross_val_score(pipe, np.array(TEXTS, dtype=object), LABELS, cv=2)
    assert scores.shape == (2,) and np.all((0 <= scores) & (scores <= 1))
