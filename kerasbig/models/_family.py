"""What the CNN, RNN and Transformer estimators share.

:class:`FamilyMixin` goes first in each estimator's bases
(``class CNNClassifier(FamilyMixin, KerasClassifier)``) and fills in the hooks
of :class:`kerasbig.base.BaseKerasEstimator`:

``_input_to_array`` / ``_array_for_model``
    turn what the user passed into the array the network reads, on the one
    validation path of the base (``_input_to_array`` -> scikit-learn's
    ``validate_data`` -> ``_array_for_model``)::

        text (list of str)         -> token ids                 (Transformer only)
        list of sequences          -> padded (n, length[, channels])
        (n, length)                -> (n, length, 1)
        (n, length, channels)      -> as is (cut to max_length, if set)
        (n, height, width, chan.)  -> as is                     (CNN only)

    ``n_features_in_`` stays what scikit-learn expects, ``X.shape[1]`` of the
    validated array (the padded length for lists of sequences);
    ``input_shape_`` is one sample's shape as the network reads it.
``_make_model``
    calls the family's builder with ``input_shape_``, the output units and
    activation the target needs (binary: 1 sigmoid; multiclass: one softmax
    unit per class; multilabel: one sigmoid unit per label; regression: one
    linear unit per output), the architecture parameters, the seed drawn
    from ``random_state`` and the dtype policy ``precision`` names.
``_extra_callbacks``
    ``keras.callbacks.EarlyStopping`` when ``early_stopping=True``.

:class:`BackboneMixin` (the CNN and the Transformer) adds ``backbone`` and
``trainable_backbone``: with a KerasHub preset, ``_make_model`` loads its
pretrained backbone and puts the family's head on it
(:mod:`kerasbig.models.backbones`) instead of calling the builder.

:func:`family_init` composes each estimator's constructor from its builder's
arguments and the shared training parameters (see :mod:`kerasbig.signatures`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from sklearn.base import is_classifier

from kerasbig import precision
from kerasbig.base import BaseKerasEstimator
from kerasbig.models import _budget, _shortcut, backbones
from kerasbig.models._inputs import (
    MAX_LENGTH,
    TRUNCATION,
    is_sequence_list,
    is_text,
    pad_list,
    report_long,
)
from kerasbig.models._standardize import channel_statistics
from kerasbig.parameters import NONE, Boolean, Interval, Options, Satisfies
from kerasbig.routing import destination_of
from kerasbig.signatures import Parameter, keyword, make_init, parameters_of
from kerasbig.validation import input_ndim

# Builder arguments that come from the data, the target or other parameters.
DATA_KEYWORDS = (
    "input_shape",
    "n_outputs",
    "output_activation",
    "input_statistics",
    "seed",
    "dtype",
)

# The training defaults of the families, where they differ from the general
# wrappers' (which train whatever network they are given, once, by default).
# epochs=None and batch_size=None: chosen from the data (models/_budget.py).
FAMILY_DEFAULTS = {"optimizer": "adam", "epochs": None, "batch_size": None}

STANDARDIZE_INPUTS = keyword("standardize_inputs", True, "bool")


def family_init(
    builder: Callable[..., keras.Model],
    *,
    classifier: bool,
    input_parameters: Sequence[Parameter] = (),
    own_architecture: Sequence[Parameter] = (),
) -> Callable[..., None]:
    """The ``__init__`` of a family estimator, composed from explicit definitions.

    Its parameters: the builder's architecture arguments (with the builder's
    defaults; ``own_architecture`` replaces those it names, for a value the
    estimator resolves in ``fit`` such as ``"auto"``), the family's input
    parameters (``standardize_inputs`` when the builder takes
    ``input_statistics``), the training parameters of
    :meth:`BaseKerasEstimator.__init__` (``FAMILY_DEFAULTS`` over them),
    ``early_stopping`` and ``patience``, and ``class_weight`` for classifiers.
    """
    architecture = parameters_of(builder, exclude=DATA_KEYWORDS, keyword_only=True)
    own = {p.name: p for p in own_architecture}
    if "linear_shortcut" in {p.name for p in architecture}:
        own.setdefault("linear_shortcut", _shortcut.PARAMETER)
    unknown = sorted(set(own) - {p.name for p in architecture})
    if unknown:
        raise TypeError(f"{builder.__name__} has no parameter(s) {unknown}.")
    return make_init(
        [
            *(own.get(p.name, p) for p in architecture),
            *input_parameters,
            keyword("max_length", None, "int | None"),
            keyword("truncation", "warn", "str"),
            # Only a builder that can standardize (a user's own may not).
            *([STANDARDIZE_INPUTS] * takes_statistics(builder)),
            *parameters_of(
                BaseKerasEstimator.__init__,
                exclude=("model", "build_fn"),
                defaults=FAMILY_DEFAULTS,
                keyword_only=True,
            ),
            keyword("early_stopping", False, "bool"),
            keyword("patience", 10, "int"),
            *([keyword("class_weight", None, "dict | str | None")] * classifier),
        ]
    )


def takes_statistics(builder: Callable[..., keras.Model]) -> bool:
    """Whether ``builder`` standardizes its input (takes ``input_statistics``)."""
    return "input_statistics" in inspect.signature(builder).parameters


def _describe(shape: tuple) -> str:
    names = {
        1: "texts",
        2: "univariate sequences (n_samples, length)",
        3: "sequences (n_samples, length, channels)",
        4: "images (n_samples, height, width, channels)",
    }
    return names.get(len(shape), f"{len(shape)}-D arrays")


class FamilyMixin:
    """Input handling and the builder call shared by the model families.

    Subclasses set ``_builder`` (the pure-Keras builder, as a staticmethod),
    ``_ranks`` (the accepted numbers of dimensions of ``X``) and, for the
    CNN, ``_images = True``.
    """

    _builder: Callable[..., keras.Model]
    _ranks: tuple[int, ...] = (2, 3)
    _images: bool = False
    _x_checks = dict(allow_nd=True, dtype=("float32", "float64"))  # dense only
    _input_attributes = ("n_features_in_", "input_shape_", "linear_shortcut_")
    # Builder arguments passed as the fitted attribute of the same name plus
    # "_" (the parameter as resolved in fit, e.g. "auto" -> True), not as the
    # parameter itself; a family adds its own (the CNN's normalization_).
    _resolved_in_fit: tuple[str, ...] = ("linear_shortcut",)
    # Regressors train on standardized targets (targets.RegressorTargetEncoder):
    # on UCR Tecator and Covid3Month the CNN's default R^2 goes from -0.62 and
    # -0.36 to 0.45 and 0.04. Classifiers ignore it.
    _standardize_targets = True
    _parameter_docs = {
        "standardize_inputs": (
            "bool",
            "Numeric input: standardize each channel (the last axis) with the "
            "mean and variance of the training data, over every row and step "
            "(or pixel), in a layer that is the network's first "
            "(``input_standardization``, after the RNN's ``Masking``; "
            "padding the RNN masks is left out of the statistics). They are "
            "computed in the fit that builds the network: with ``partial_fit`` "
            "or ``warm_start``, from its first batch. "
            "``predict`` and an exported model take raw values. Text, token "
            "ids and a pretrained backbone's images are not standardized. See "
            "``models/_standardize.py``.",
        ),
        "batch_size": (
            "int or None",
            "Samples per gradient step (-1: all rows in one batch); also "
            "``predict``'s. None: chosen from the data, a tenth of the "
            "training rows, at least 4 and at most 32 (``models/_budget.py``).",
        ),
        "epochs": (
            "int or None",
            "Passes over the training data. None: chosen from the data, enough "
            "for about 3,000 optimizer steps (at least 30 epochs, at most "
            "1,000), with the learning rate halved when the training loss "
            "stops improving.",
        ),
    }
    _parameter_constraints = {
        "max_length": MAX_LENGTH,
        "truncation": TRUNCATION,
        "early_stopping": [Boolean()],
        "standardize_inputs": [Boolean()],
        "patience": [Interval(int, 0)],
        "epochs": [NONE, Interval(int, 1)],
        "linear_shortcut": [Options("auto"), Boolean()],
    }

    # ------------------------------------------------------------------
    # Parameters
    # ------------------------------------------------------------------
    @classmethod
    def _architecture_names(cls) -> tuple[str, ...]:
        """The builder's keyword arguments that are constructor parameters."""
        return tuple(
            p.name
            for p in parameters_of(cls._builder, exclude=DATA_KEYWORDS)
            if p.kind is p.KEYWORD_ONLY
        )

    def _architecture(self) -> dict[str, Any]:
        """The builder's keyword arguments for this fit: the constructor
        parameters, those named in ``_resolved_in_fit`` as their fitted
        ``name_`` (``linear_shortcut_``, ...)."""
        return {
            name: getattr(self, f"{name}_" if name in self._resolved_in_fit else name)
            for name in self._architecture_names()
        }

    def _check_params(self) -> None:
        super()._check_params()
        stray = sorted(
            name
            for name in self._free_and_routed()
            if destination_of(name) in (None, "model")
        )
        if stray:
            raise ValueError(
                f"{type(self).__name__} builds its network with "
                f"{self._builder.__name__}, whose arguments are constructor "
                f"parameters ({', '.join(self._architecture_names())}); it takes no "
                f"model__ or free hyperparameters, got {stray}. Set the constructor "
                "parameter instead, or use KerasClassifier/KerasRegressor with "
                "your own model-building function."
            )

    # ------------------------------------------------------------------
    # Input: what the user passed -> what the network reads
    # ------------------------------------------------------------------
    def _input_to_array(self, X, reset: bool):
        """Reject text and stray dimensions; pad lists of sequences."""
        name = type(self).__name__
        if isinstance(X, (str, bytes)) or is_text(X):
            raise ValueError(
                f"{name} takes numeric arrays, but X is text (strings). "
                "TransformerClassifier and TransformerRegressor learn from raw "
                "text; or turn the text into numbers first."
            )
        listed = is_sequence_list(X)
        if listed:
            X = self._pad_list(X, reset)
        ndim = input_ndim(X)
        if reset:
            if ndim is not None and ndim > 2 and ndim not in self._ranks:
                kinds = " or ".join(_describe((0,) * r) for r in self._ranks)
                raise ValueError(f"{name} takes {kinds}; got a {ndim}-D X.")
        elif ndim is not None and ndim > 1 and ndim != len(self.X_shape_):
            raise ValueError(
                f"{name} was fitted on {_describe(self.X_shape_)}, shape "
                f"{self.X_shape_[1:]} per sample; X is {ndim}-D."
            )
        return X, {"listed": listed}

    def _pad_value(self) -> float:
        """The value lists of sequences are padded with."""
        return 0.0

    def _pad_list(self, X, reset: bool) -> np.ndarray:
        items = list(X)
        if self._images:
            shapes = {}
            for i, item in enumerate(items):
                shapes.setdefault(np.shape(item), i)
            if any(len(shape) == 3 for shape in shapes):
                (a, i), (b, j) = list(shapes.items())[:2]
                raise ValueError(
                    f"X holds images of different shapes: X[{i}] is {a} and "
                    f"X[{j}] is {b}. Resize them to one shape first, e.g. with "
                    "kerasbig.preprocessing.ImageResizer(size=(height, width))."
                )
        if reset:
            length, limit = self.max_length, "max_length"
        else:
            length, limit = self.input_shape_[0], "the training length"
        # At predict time, fit may have seen longer arrays and cut them to the
        # model's length: pad to what validation expects; _array_for_model
        # cuts back silently.
        return pad_list(
            items,
            length,
            value=self._pad_value(),
            truncation=self.truncation,
            limit=limit,
            min_width=0 if reset else self.n_features_in_,
        )

    def _array_for_model(self, X: np.ndarray, reset: bool, facts: dict) -> np.ndarray:
        """(n, L) -> (n, L, 1); sequences cut to the model's length.

        A list of sequences was already cut (and reported) sequence by sequence.
        """
        listed = facts.get("listed", False)
        if X.ndim == 2:
            X = X[:, :, None]
        sequences = X.ndim == 3
        if reset:
            limit = self.max_length
            if limit is not None and not sequences:
                raise ValueError(
                    f"max_length={limit} applies to sequences; X holds images of "
                    f"shape {X.shape[1:]}. Leave max_length=None."
                )
        else:
            limit = self.input_shape_[0] if sequences else None
        if limit is not None and X.shape[1] > limit:
            if not listed:
                name = "max_length" if reset else "the training length"
                report_long([X.shape[1]], limit, self.truncation, limit=name)
            X = X[:, :limit]
        if reset:
            self.input_shape_ = tuple(X.shape[1:])
        elif tuple(X.shape[1:]) != self.input_shape_:
            raise ValueError(
                f"X has samples of shape {tuple(X.shape[1:])} once shaped for the "
                f"network; {type(self).__name__} was fitted on {self.input_shape_}."
            )
        return X

    # ------------------------------------------------------------------
    # The network
    # ------------------------------------------------------------------
    def _head(self) -> tuple[int, str]:
        """Output units and activation for the target seen in fit."""
        if not is_classifier(self):
            return self.n_outputs_, "linear"
        if self.target_type_ == "multilabel-indicator":
            return self.n_outputs_, "sigmoid"
        if self.target_type_ == "binary":
            return 1, "sigmoid"
        return self.n_classes_, "softmax"

    def _learn_from_input(self, X: np.ndarray, sample_weight) -> None:
        """``linear_shortcut_``: ``linear_shortcut`` with ``"auto"`` resolved
        (:func:`kerasbig.models._shortcut.resolve`); ``input_statistics_``:
        each channel's mean and variance in ``X`` (rows weighed by
        ``sample_weight``) with ``standardize_inputs``, else None. Neither is
        set for a builder that does not take it."""
        if "linear_shortcut" in self._architecture_names():
            self.linear_shortcut_ = _shortcut.resolve(
                self.linear_shortcut,
                regressor=not is_classifier(self),
                numeric=self._standardizable() and self._masked_value() is None,
                shape=self.input_shape_,
            )
        if not takes_statistics(self._builder):
            return
        self.input_statistics_ = None
        if self.standardize_inputs and self._standardizable():
            self.input_statistics_ = channel_statistics(
                X, mask_value=self._masked_value(), sample_weight=sample_weight
            )

    def _starts_at_ridge(self) -> bool:
        """Whether this fit's network starts at ridge regression: a
        regressor's, with ``linear_shortcut_`` on."""
        return bool(getattr(self, "linear_shortcut_", False)) and not is_classifier(
            self
        )

    def _start_model(self, model: keras.Model, X: np.ndarray, y, sample_weight):
        """A regressor's linear shortcut starts at ridge regression
        (:func:`kerasbig.models._shortcut.start_at_ridge`)."""
        if self._starts_at_ridge():
            statistics = getattr(self, "input_statistics_", None)
            _shortcut.start_at_ridge(model, X, y, statistics, sample_weight)

    def _optimizer_defaults(self) -> dict[str, Any]:
        """From a ridge start, the optimizer decays the deep part's weights
        (``weight_decay``, :data:`kerasbig.models._shortcut.WEIGHT_DECAY`)
        unless ``optimizer__weight_decay`` says otherwise: the frozen
        shortcut is not decayed, so the network is drawn back to ridge."""
        if self._starts_at_ridge():
            return {"weight_decay": _shortcut.WEIGHT_DECAY}
        return {}

    def _standardizable(self) -> bool:
        """Whether the input of this fit is numeric (not token ids)."""
        return True

    def _make_model(
        self, X: np.ndarray, seed: int | None, copy_model: bool = True
    ) -> keras.Model:
        n_outputs, activation = self._head()
        data = {}
        if takes_statistics(self._builder):
            data["input_statistics"] = self.input_statistics_
        return self._builder(
            self.input_shape_,
            n_outputs,
            output_activation=activation,
            **self._architecture(),
            **data,
            seed=seed,
            dtype=precision.resolve(self.precision),
        )

    def _masked_value(self) -> float | None:
        """The value of the padding the network masks (left out of the
        input statistics); None: nothing is masked."""
        return None

    def _fit_args(self, n_rows: int, epochs: int | None, fit_kwargs) -> dict:
        """The base's, with a None ``batch_size`` / ``epochs`` chosen from the
        number of training rows (:mod:`kerasbig.models._budget`)."""
        return self._resolve_budget(
            super()._fit_args(n_rows, epochs, fit_kwargs), n_rows
        )

    def _resolve_budget(self, fit_args: dict, n_rows: int) -> dict:
        """``fit_args`` with None ``batch_size`` / ``epochs`` chosen (``_budget``)."""
        return _budget.resolve(fit_args, n_rows)

    def _extra_callbacks(self, fit_args: dict) -> list:
        if not self.early_stopping:
            return []
        validating = bool(fit_args.get("validation_split")) or (
            fit_args.get("validation_data") is not None
        )
        return [
            keras.callbacks.EarlyStopping(
                monitor="val_loss" if validating else "loss",
                patience=self.patience,
                restore_best_weights=True,
            )
        ]


class BackboneMixin(FamilyMixin):
    """A family whose network may instead be a pretrained KerasHub backbone.

    With ``backbone=None`` (the default) nothing changes. With a preset, the
    backbone replaces the network the builder would build; the head keeps
    the builder arguments named in ``_kept_with_backbone``. Setting any other
    architecture parameter (or one in ``_also_replaced_by_backbone``) away
    from its default raises ``ValueError`` in ``fit``: it describes a network
    that is not built. Subclasses fill in ``_on_backbone``.
    """

    _backbone_parameters = (
        keyword("backbone", None, "str | os.PathLike | None"),
        keyword("trainable_backbone", False, "bool"),
    )
    _kept_with_backbone: tuple[str, ...] = ("dense_units", "dropout", "global_pooling")
    _also_replaced_by_backbone: tuple[str, ...] = ()
    _parameter_constraints = {
        "backbone": [
            NONE,
            Satisfies(backbones.is_preset, "a KerasHub preset name or directory"),
        ],
        "trainable_backbone": [Boolean()],
    }
    _parameter_docs = {
        **FamilyMixin._parameter_docs,
        "backbone": (
            "str, path or None",
            "A pretrained KerasHub backbone: a preset name (e.g. "
            '``"bert_tiny_en_uncased"``, ``"resnet_18_imagenet"``; downloaded '
            "once, which needs network access) or the path of a local preset "
            "directory (written by ``save_to_preset``). The network is then the "
            "backbone, pooled by ``global_pooling``, followed by the head "
            "(``dense_units``, ``dropout``, the output layer); the other "
            "architecture parameters must keep their defaults. A preset that "
            "cannot be loaded raises ValueError before any training. None: the "
            "family's own network. See docs/backbones.md.",
        ),
        "trainable_backbone": (
            "bool",
            "With ``backbone``: fine-tune its weights (True) or keep them frozen "
            "(False; the backbone then runs in inference mode, dropout off). "
            "Fine-tuning wants a small learning rate, e.g. "
            "``optimizer__learning_rate=2e-5``.",
        ),
    }

    @classmethod
    def _replaced_by_backbone(cls) -> tuple[str, ...]:
        """The parameters that describe the network a backbone replaces."""
        names = cls._architecture_names() + cls._also_replaced_by_backbone
        return tuple(n for n in names if n not in cls._kept_with_backbone)

    def _check_params(self) -> None:
        super()._check_params()
        if self.backbone is None:
            return
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name in self._replaced_by_backbone()
            if not _same(getattr(self, name), defaults[name].default)
        ]
        if changed:
            kept = ", ".join(self._kept_with_backbone)
            raise ValueError(
                f"{type(self).__name__}(backbone={self.backbone!r}) uses the "
                f"pretrained backbone as its network, so {', '.join(changed)} "
                f"would change nothing; leave them at their defaults. With a "
                f"backbone, the head's parameters apply: {kept}."
            )

    def _standardizable(self) -> bool:
        """A pretrained backbone's own converter scales its input."""
        return self.backbone is None and super()._standardizable()

    def _make_model(
        self, X: np.ndarray, seed: int | None, copy_model: bool = True
    ) -> keras.Model:
        if self.backbone is None:
            return super()._make_model(X, seed, copy_model)
        n_outputs, activation = self._head()
        dtype = precision.resolve(self.precision)
        backbone = backbones.load_backbone(self.backbone, dtype=dtype)
        head = {name: getattr(self, name) for name in self._kept_with_backbone}
        return self._on_backbone(
            backbone,
            n_outputs,
            output_activation=activation,
            trainable=self.trainable_backbone,
            **head,
            seed=seed,
            dtype=dtype,
        )

    def _on_backbone(
        self, backbone: keras.Model, n_outputs: int, **arguments: Any
    ) -> keras.Model:
        """The network: ``backbone`` with the head ``arguments`` describe."""
        raise NotImplementedError


def _same(value: Any, default: Any) -> bool:
    """``value == default``, lists equal to tuples, anything ambiguous unequal."""
    if isinstance(value, list):
        value = tuple(value)
    try:
        return bool(value is default or value == default)
    except (TypeError, ValueError):
        return False
