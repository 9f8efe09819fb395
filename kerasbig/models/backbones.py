"""Pretrained KerasHub backbones: load a preset, put a family's head on it.

A *preset* is what KerasHub's ``from_preset`` takes: a preset name
(``"bert_tiny_en_uncased"``, ``"resnet_18_imagenet"``; downloaded once from its
hub, then read from the local cache) or the path of a local preset directory
(written by ``save_to_preset``). The loaders here wrap KerasHub's errors in one
``ValueError`` that names the preset and says how to supply a local copy.

The network (:func:`build_on_backbone`) is pure Keras, like the families'
builders::

    text   Input (n, length, features) int ids -> split into the backbone's
           inputs (token_ids, padding_mask, ...) -> backbone -> sequence output
           -> pooling ("mean" over the unpadded positions, or "first")
           -> dense_units -> Dense(n_outputs)
    images Input (height, width, channels) -> augmentation -> the preset's
           image converter (resize, scale) -> backbone -> feature map
           -> global pooling ("mean", "max", "flatten") -> dense_units
           -> Dense(n_outputs)

The backbone sits in the model as one layer named ``"backbone"``
(:class:`PretrainedBackbone`). Frozen (``trainable=False``), it runs in
inference mode: its dropout is off and its BatchNormalization statistics stay
as pretrained, so none of its weights change during ``fit``.

Text goes through the preset's preprocessor (its tokenizer) outside the
model, with :func:`encode_texts`: the preprocessor runs on TensorFlow ops,
which a JAX model cannot hold, so the model reads the stacked integer arrays.
Images go through the preset's image converter inside the model (Keras ops,
any backend), so the model takes images at the user's size.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

import keras
import numpy as np
from keras import ops

from kerasbig import parameters as v
from kerasbig.models._head import Common, check_common, dense_head, shared_docstring

if TYPE_CHECKING:  # keras-hub is imported when a preset is loaded
    import keras_hub

Preset = str | os.PathLike

TEXT_FAMILIES = (
    "ALBERT, BERT, DeBERTa-v3, DistilBERT, F-Net, RoBERTa, XLM-RoBERTa "
    "(KerasHub's text classifier preprocessors)"
)


def is_preset(value: Any) -> bool:
    """True for a preset name or a local preset directory (a ``str`` or path)."""
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


# ----------------------------------------------------------------------
# Loading a preset
# ----------------------------------------------------------------------
def _load(load: Any, preset: Preset, what: str, hint: str = "") -> Any:
    """``load(name)``, with any failure turned into one clear ``ValueError``.

    The message names the preset and KerasHub's reason (its first lines, not
    its traceback). When the preset was not found (not a local directory, and
    not KerasHub's "no compatible class" complaint about a preset it did
    read), it says how to supply a local copy; otherwise it adds ``hint``.
    """
    name = os.fspath(preset)
    try:
        return load(name)
    except Exception as err:  # KerasHub, kagglehub, requests, OS errors alike
        reason = " ".join(str(err).split())
        if len(reason) > 200:
            reason = reason[:197] + "..."
        read = os.path.isdir(name) or "compatible" in reason
        if read:
            advice = hint
        else:
            advice = (
                " A preset is a KerasHub preset name (downloaded from its hub the "
                "first time, which needs network access, then read from the "
                "local cache) or the path of a local preset directory. Without "
                "network access, pass the directory of a copy: where there is "
                "network, load the preset once and save it with save_to_preset("
                "directory) (a KerasHub task model writes its backbone and "
                "preprocessor), or copy the downloaded preset (KaggleHub caches "
                "it under ~/.cache/kagglehub)."
            )
        raise ValueError(
            f"Could not load {what} from the KerasHub preset {name!r}: "
            f"{type(err).__name__}: {reason}{advice}"
        ) from None


def load_backbone(
    preset: Preset, *, dtype: str | keras.DTypePolicy | None = None
) -> keras_hub.models.Backbone:
    """The pretrained backbone of ``preset``, its weights loaded.

    Raises ``ValueError`` naming the preset when it cannot be found or read.
    """
    import keras_hub

    def load(name: str) -> keras_hub.models.Backbone:
        return keras_hub.models.Backbone.from_preset(name, dtype=dtype)

    return _load(load, preset, "a backbone")


def load_text_preprocessor(
    preset: Preset,
) -> keras_hub.models.TextClassifierPreprocessor:
    """The text classifier preprocessor (tokenizer and packer) of ``preset``."""
    import keras_hub

    return _load(
        keras_hub.models.TextClassifierPreprocessor.from_preset,
        preset,
        "a text preprocessor",
        hint=(
            " Text needs a backbone with a text classifier preprocessor and "
            f"its tokenizer in the preset: {TEXT_FAMILIES}. Image backbones go "
            "to CNNClassifier and CNNRegressor."
        ),
    )


def load_image_converter(preset: Preset) -> keras_hub.layers.ImageConverter | None:
    """The image converter (resize and scale) of ``preset``, or None if it has none.

    A preset saved from a backbone alone has no converter: images then reach
    the backbone as given, and scaling them is the caller's job.
    """
    import keras_hub

    try:
        return keras_hub.layers.ImageConverter.from_preset(os.fspath(preset))
    except ValueError:
        return None


# ----------------------------------------------------------------------
# Text -> the integer arrays the text model reads
# ----------------------------------------------------------------------
def _numpy(x: Any) -> np.ndarray:
    return np.asarray(ops.convert_to_numpy(x))


def text_lengths(
    preprocessor: keras_hub.models.TextClassifierPreprocessor, texts: Sequence[str]
) -> list[int]:
    """Length of each text once preprocessed and not cut: its tokens plus the
    special tokens the preprocessor adds (e.g. ``[CLS]`` and ``[SEP]``)."""
    if not texts:
        return []
    special = int(_numpy(preprocessor([""])["padding_mask"]).sum())
    pieces = preprocessor.tokenizer(list(texts))
    if hasattr(pieces, "to_list"):  # a tf.RaggedTensor
        pieces = pieces.to_list()
    return [len(p) + special for p in pieces]


def encode_texts(
    preprocessor: keras_hub.models.TextClassifierPreprocessor, texts: Sequence[str]
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Texts -> ``(n, sequence_length, n_features)`` int32 and the features' names.

    The features are the preprocessor's outputs (``padding_mask``,
    ``segment_ids``, ``token_ids``, ...), in sorted order, stacked on the last
    axis; the model splits them back into the backbone's inputs.
    """
    length = preprocessor.sequence_length
    if not texts:
        probe = preprocessor([""])
        names = tuple(sorted(probe))
        return np.zeros((0, length, len(names)), dtype=np.int32), names
    outputs = preprocessor(list(texts))
    names = tuple(sorted(outputs))
    stacked = np.stack([_numpy(outputs[n]).astype(np.int32) for n in names], axis=-1)
    return stacked, names


# ----------------------------------------------------------------------
# The networks
# ----------------------------------------------------------------------
def _describe_inputs(backbone: keras.Model) -> str:
    """The backbone's inputs in words: their names, or one tensor's shape."""
    if isinstance(backbone.input, dict):
        return "inputs " + ", ".join(sorted(backbone.input))
    return f"one input of shape {tuple(backbone.input.shape)}"


@keras.saving.register_keras_serializable(package="kerasbig")
class PretrainedBackbone(keras.layers.Layer):
    """A pretrained backbone, frozen (``trainable=False``) or fine-tuned.

    The layer named ``"backbone"`` in the models of :func:`build_on_backbone`.
    Frozen, it calls the backbone in inference
    mode (``training=False``: no dropout, BatchNormalization statistics kept)
    and marks every backbone variable non-trainable, also when the model is
    loaded or unpickled (Keras restores a nested functional model's flag but
    not always its variables', so the optimizer would otherwise see them).

    Parameters
    ----------
    backbone : keras.Model
        The backbone (e.g. ``keras_hub.models.BertBackbone``).
    trainable : bool, default=True
        Fine-tune the backbone (True) or freeze it (False).
    """

    def __init__(self, backbone: keras.Model, **kwargs: Any) -> None:
        trainable = kwargs.pop("trainable", True)
        kwargs.setdefault("dtype", backbone.dtype_policy)
        super().__init__(**kwargs)
        self.backbone = backbone
        self.trainable = trainable
        if not trainable:
            for variable in backbone.weights:
                variable.trainable = False

    def call(self, inputs: Any, training: bool | None = None) -> Any:
        return self.backbone(inputs, training=training if self.trainable else False)

    def compute_output_spec(self, inputs: Any, training: bool | None = None) -> Any:
        return self.backbone.compute_output_spec(inputs)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["backbone"] = keras.saving.serialize_keras_object(self.backbone)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> PretrainedBackbone:
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)


# global_pooling per kind of backbone, as in build_transformer and build_cnn
TEXT_POOLINGS = ("mean", "first")
IMAGE_POOLINGS = ("mean", "max", "flatten")


@shared_docstring("pretrained")
def build_on_backbone(
    backbone: keras.Model,
    input_shape: Sequence[int | None],
    n_outputs: int,
    *,
    feature_names: Sequence[str] | None = None,
    converter: keras.layers.Layer | None = None,
    augmentation: Sequence[keras.layers.Layer] | None = None,
    output_activation: Literal["softmax", "sigmoid", "linear"] | None = "softmax",
    trainable: bool = False,
    global_pooling: Literal["mean", "first", "max", "flatten"] = "mean",
    dense_units: int | Sequence[int] = (),
    dropout: float = 0.0,
    seed: int | None = None,
    dtype: str | keras.DTypePolicy | None = None,
    name: str | None = None,
) -> keras.Model:
    """Put a dense head on a KerasHub backbone (text or images).

    Text backbones take a dict of inputs (``token_ids``, ``padding_mask``,
    ...); the model reads them stacked, as :func:`encode_texts` returns them.
    Image backbones take images; the model reads images of ``input_shape``,
    which ``converter`` resizes and scales for the backbone.

    Parameters
    ----------
    backbone : keras_hub.models.Backbone
        E.g. ``keras_hub.models.BertBackbone`` or ``ResNetBackbone``; it
        becomes the model's layer ``"backbone"`` (:class:`PretrainedBackbone`).
    input_shape : tuple of int
        One sample: ``(sequence_length, n_features)`` for text,
        ``(height, width, channels)`` for images.
    {output_parameters}
    feature_names : sequence of str, optional
        Text: the name of each feature (the last axis), as :func:`encode_texts`
        returns them. Must be None for images.
    converter : keras_hub.layers.ImageConverter, optional
        Images: the preset's converter (:func:`load_image_converter`), applied
        after ``augmentation``. None: images reach the backbone as given.
    augmentation : list of keras.layers.Layer, optional
        Images: as in :func:`kerasbig.models.build_cnn` (copied; active in
        ``fit`` only).
    dense_units : int or sequence of int, default=()
        Sizes of hidden ReLU Dense layers between the pooling and the output.
    trainable : bool, default=False
        Fine-tune the backbone (True) or freeze it (False).
    global_pooling : {"mean", "first", "max", "flatten"}, default="mean"
        How the backbone's output becomes one vector. Text: ``"mean"`` over
        the unpadded positions, or ``"first"``, the first position (the
        ``[CLS]`` token). Images: the feature map's mean or maximum, or all
        of it flattened.
    dropout : float, default=0.0
        Dropout after the pooling and each hidden dense layer of the head
        (the backbone keeps its own).
    {model_parameters}

    {returns_and_raises}
    """
    common = check_common(
        n_outputs, output_activation, dense_units, seed, dtype, name, "pretrained"
    )
    dropout = v.check_rate(dropout, "dropout")
    trainable = v.check_bool(trainable, "trainable")
    text = isinstance(backbone.input, dict)
    poolings = TEXT_POOLINGS if text else IMAGE_POOLINGS
    global_pooling = v.check_choice(global_pooling, "global_pooling", poolings)
    if text:
        inputs, features, mask = _text_inputs(backbone, input_shape, feature_names)
        if isinstance(backbone.output, dict):
            # Only the sequence output: a pooler the head does not use would
            # get no gradients when fine-tuned (and Keras would warn each step).
            backbone = keras.Model(
                backbone.input, backbone.output["sequence_output"], name=backbone.name
            )
    else:
        inputs, features = _image_inputs(
            backbone, input_shape, feature_names, converter, augmentation, common
        )
        mask = None
    x = PretrainedBackbone(backbone, trainable=trainable, name="backbone")(features)
    x = _pool(x, global_pooling, mask, common.dtype)
    if dropout > 0:
        x = keras.layers.Dropout(dropout, seed=common.seeds.next(), dtype=common.dtype)(
            x
        )
    outputs = dense_head(x, common, dropout=dropout)
    return keras.Model(inputs, outputs, name=common.name)


def _text_inputs(
    backbone: keras.Model,
    input_shape: Sequence[int | None],
    feature_names: Sequence[str] | None,
) -> tuple[Any, dict[str, Any], Any]:
    """The model's input (stacked ids), the backbone's inputs, the padding mask."""
    kind = type(backbone).__name__
    if feature_names is None:
        raise v.InvalidParameterError(
            f"{kind} is a text backbone (it takes {_describe_inputs(backbone)}); "
            "images need an image backbone such as ResNet. Text backbones go to "
            "TransformerClassifier and TransformerRegressor."
        )
    missing = sorted(set(backbone.input) - set(feature_names))
    if missing:
        raise v.InvalidParameterError(
            f"{kind} takes {_describe_inputs(backbone)}; the text features "
            f"{list(feature_names)} lack {missing}."
        )
    shape = v.check_input_shape(input_shape, ranks=(2,), family="text backbone")
    longest = getattr(backbone, "max_sequence_length", None)
    if longest is not None and shape[0] > longest:
        raise v.InvalidParameterError(
            f"The texts are encoded to {shape[0]} tokens, but {kind} takes at most "
            f"max_sequence_length={longest}; set max_length to {longest} or less."
        )
    inputs = keras.Input(shape=shape, dtype="int32", name="text_features")
    columns = {n: inputs[:, :, i] for i, n in enumerate(feature_names)}
    mask = columns.get("padding_mask")
    features = {n: columns[n] for n in backbone.input}
    return inputs, features, None if mask is None else ops.cast(mask, "bool")


def _image_inputs(
    backbone: keras.Model,
    input_shape: Sequence[int | None],
    feature_names: Sequence[str] | None,
    converter: keras.layers.Layer | None,
    augmentation: Any,
    common: Common,
) -> tuple[Any, Any]:
    """The model's input (images) and the backbone's (augmented, converted)."""
    kind = type(backbone).__name__
    expected = backbone.input
    if feature_names is not None or len(expected.shape) != 4:
        raise v.InvalidParameterError(
            f"{kind} is not a text backbone (it takes "
            f"{_describe_inputs(backbone)}); text needs one of {TEXT_FAMILIES}. "
            "Image backbones go to CNNClassifier and CNNRegressor."
        )
    augmentation = v.check_layers(augmentation, "augmentation")
    shape = tuple(input_shape)
    if len(shape) != 3:
        raise v.InvalidParameterError(
            f"{kind} takes images, one sample of shape (height, width, channels); "
            f"got samples of shape {shape}."
        )
    channels = expected.shape[-1]
    if channels is not None and shape[-1] != channels:
        raise v.InvalidParameterError(
            f"{kind} takes images with {channels} channel(s); these have "
            f"{shape[-1]}. Convert them first (grey to RGB: "
            f"np.repeat(X, {channels}, axis=-1))."
        )
    inputs = keras.Input(shape=shape)
    x = inputs
    for layer in augmentation:
        x = common.seeds.copy_layer(layer)(x)
    if converter is not None:
        x = converter(x)
    return inputs, x


_POOLING = {
    # rank of the backbone's output -> global_pooling -> layer class
    3: {
        "mean": keras.layers.GlobalAveragePooling1D,
        "max": keras.layers.GlobalMaxPooling1D,
        "flatten": keras.layers.Flatten,
    },
    4: {
        "mean": keras.layers.GlobalAveragePooling2D,
        "max": keras.layers.GlobalMaxPooling2D,
        "flatten": keras.layers.Flatten,
    },
}


def _pool(x: Any, global_pooling: str, mask: Any, dtype: Any) -> Any:
    """The backbone's output -> one vector per sample."""
    rank = len(x.shape)
    if rank == 2:  # already one vector
        return x
    if global_pooling == "first":
        if rank != 3:
            raise v.InvalidParameterError(
                f"global_pooling='first' takes a sequence of vectors; the "
                f"backbone's output has shape {x.shape}."
            )
        return x[:, 0, :]
    if rank not in _POOLING:
        raise v.InvalidParameterError(
            f"The backbone's output has shape {x.shape}; kerasbig pools "
            "sequences (3-D) and feature maps (4-D)."
        )
    layer = _POOLING[rank][global_pooling](dtype=dtype)
    return layer(x) if mask is None else layer(x, mask=mask)
