"""CNNClassifier and CNNRegressor: :func:`build_cnn` as scikit-learn estimators."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from sklearn.base import is_regressor

from kerasbig.classifier import KerasClassifier
from kerasbig.docstrings import document
from kerasbig.models import _budget, backbones
from kerasbig.models._family import BackboneMixin, family_init
from kerasbig.models._standardize import channel_statistics, heavy_tailed_share
from kerasbig.models.cnn.builder import build_cnn, series_positions
from kerasbig.parameters import NONE, Options
from kerasbig.regressor import KerasRegressor
from kerasbig.signatures import keyword

# normalization="auto" (the estimators' default): LayerNormalization for a
# regressor, and for a classifier whose training rows are heavy tailed (more
# than this share of them hold a value beyond 5 standard deviations of its
# channel); BatchNormalization otherwise. Measured in docs/benchmarks.md.
HEAVY_TAILED_ROWS = 0.01
NORMALIZATION = keyword(
    "normalization", "auto", 'Literal["auto", "batch", "layer"] | None'
)


class _CNNMixin(BackboneMixin):
    """Series (Conv1D) and images (Conv2D); lists of series are padded with 0.

    With ``backbone``, images only: the preset's image converter (inside the
    model) resizes and scales them for the pretrained image backbone.
    """

    _builder = staticmethod(build_cnn)
    _ranks = (2, 3, 4)
    _images = True
    _resolved_in_fit = (*BackboneMixin._resolved_in_fit, "normalization")
    _kept_with_backbone = (*BackboneMixin._kept_with_backbone, "augmentation")
    _input_attributes = (
        *BackboneMixin._input_attributes,
        "input_statistics_",
        "normalization_",
    )
    _parameter_constraints = {
        "normalization": [NONE, Options("auto", "batch", "layer")]
    }
    _parameter_docs = {
        **BackboneMixin._parameter_docs,
        "normalization": (
            '{"auto", "batch", "layer"} or None',
            'After each convolution: ``"batch"`` (BatchNormalization, as in the '
            'FCN), ``"layer"`` (LayerNormalization over the channels, the same '
            'in training and inference) or None. ``"auto"``: ``"layer"`` for a '
            "regressor, and for a classifier when more than 1% of the training "
            "rows hold a value beyond 5 standard deviations of its channel "
            "(spiky series such as appliance loads, where a batch with a spike "
            "and one without normalise so differently that the moving "
            'statistics inference uses fit neither); ``"batch"`` otherwise. '
            "The choice is ``normalization_``.",
        ),
        "epochs": (
            "int or None",
            "Passes over the training data. None: chosen from the data, enough "
            "for about 3,000 optimizer steps (at least 30 epochs, at most "
            "1,000), with the learning rate halved when the training loss "
            "stops improving; for a series, also at most ``3,000,000 / (rows x "
            "positions)`` (but 30), ``positions`` being its length after "
            "``downsample``.",
        ),
    }

    _attribute_docs = {
        "normalization_": (
            '{"batch", "layer"} or None',
            "The normalization the network was built with (``normalization`` "
            'with ``"auto"`` resolved); None also with ``backbone``.',
        ),
    }

    def _learn_from_input(self, X: np.ndarray, sample_weight) -> None:
        """``input_statistics_``, and ``normalization_`` chosen from ``X``."""
        super()._learn_from_input(X, sample_weight)
        self.normalization_ = self._normalization_for(X, sample_weight)

    def _normalization_for(self, X: np.ndarray, sample_weight) -> str | None:
        if self.backbone is not None:
            return None  # the pretrained backbone normalises as it was trained
        if self.normalization != "auto":
            return self.normalization
        if is_regressor(self):
            return "layer"
        statistics = self.input_statistics_ or channel_statistics(
            X, sample_weight=sample_weight
        )
        share = heavy_tailed_share(X, statistics, sample_weight)
        return "layer" if share > HEAVY_TAILED_ROWS else "batch"

    def _resolve_budget(self, fit_args: dict, n_rows: int) -> dict:
        """The families' budget; for a series, the epochs also capped by the
        rows times the positions the convolutions read
        (:func:`kerasbig.models._budget.epochs_for`). Images (and so a
        backbone, which takes images) are not."""
        shape = getattr(self, "input_shape_", None)
        positions = None
        if shape is not None and len(shape) == 2:
            positions = series_positions(self.downsample, shape)
        return _budget.resolve(fit_args, n_rows, positions)

    def _on_backbone(
        self, backbone: keras.Model, n_outputs: int, **arguments: Any
    ) -> keras.Model:
        return backbones.build_on_backbone(
            backbone,
            self.input_shape_,
            n_outputs,
            converter=backbones.load_image_converter(self.backbone),
            **arguments,
        )


@document
class CNNClassifier(_CNNMixin, KerasClassifier):
    """A convolutional network classifier (Conv1D for series, Conv2D for images).

    The network is :func:`kerasbig.models.build_cnn`; its output layer fits the
    target (one sigmoid unit for binary labels, one softmax unit per class, one
    sigmoid unit per label for multilabel targets).

    Input ``X``: a 2-D float array is a batch of univariate series ``(n_samples,
    length)`` (Conv1D); 3-D is ``(n_samples, length, channels)`` (Conv1D); 4-D is
    images ``(n_samples, height, width, channels)`` (Conv2D). A list of
    variable-length series is padded with 0 to the longest (or to
    ``max_length``); a list of images must share one shape (see
    :class:`kerasbig.preprocessing.ImageResizer`). Predict takes the same kind of
    input as fit.

    With ``backbone`` (a KerasHub preset name or directory, e.g.
    ``"resnet_18_imagenet"``) the network is that pretrained image backbone,
    frozen or fine-tuned (``trainable_backbone``), pooled by
    ``global_pooling`` and followed by the same head (``dense_units``,
    ``dropout``, output layer): :func:`kerasbig.models.build_on_backbone`.
    ``X`` must then be images with the backbone's channels; the preset's image
    converter, inside the model, resizes and scales them. See
    docs/backbones.md.

    {parameters_and_attributes}

    See Also
    --------
    kerasbig.models.build_cnn : the network, with every argument explained.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from kerasbig import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> images = X.reshape(-1, 8, 8, 1) / 16
    >>> clf = CNNClassifier(filters=8, epochs=2, random_state=0)
    >>> clf.fit(images[:300], y[:300]).predict(images[:3]).shape
    (3,)
    >>> clf.model_.input_shape
    (None, 8, 8, 1)
    """

    __init__ = family_init(
        build_cnn,
        classifier=True,
        input_parameters=BackboneMixin._backbone_parameters,
        own_architecture=(NORMALIZATION,),
    )


@document
class CNNRegressor(_CNNMixin, KerasRegressor):
    """A convolutional network regressor (Conv1D for series, Conv2D for images).

    The network is :func:`kerasbig.models.build_cnn` with one linear output
    unit per target column; the loss defaults to mean squared error. Input
    ``X`` as for :class:`CNNClassifier`, and ``backbone`` as there.

    {parameters_and_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import CNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 20))  # 64 series of length 20
    >>> y = X[:, -5:].mean(axis=1)
    >>> reg = CNNRegressor(filters=8, global_pooling="flatten", epochs=3,
    ...                    random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    # normalization="auto" is "layer" here: with BatchNormalization, the
    # default CNN regressor scored R^2 -6.2 on UCR Covid3Month (its own
    # training rows: -4.6 to -15 in inference mode), 0.754 on sunspots and
    # 0.903 on Tecator; with "layer", 0.036, 0.799 and 0.922 (3 seeds,
    # docs/benchmarks.md).
    __init__ = family_init(
        build_cnn,
        classifier=False,
        input_parameters=BackboneMixin._backbone_parameters,
        own_architecture=(NORMALIZATION,),
    )
