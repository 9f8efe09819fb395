"""What the CNN, RNN and Transformer estimators share.

:class:`FamilyMixin` goes first in each estimator's bases
(``class CNNClassifier(FamilyMixin, KerasClassifier)``) and fills in the hooks
of :meth:`kerasbig.base.BaseKerasEstimator._fit`:

``_check_params``
    the base checks, plus the family's data parameters (``max_length``,
    ``truncation``, ``early_stopping``, ``patience``), and a clear error for
    ``model__`` or free hyperparameters, which these estimators do not take:
    every argument of the builder is a constructor parameter.
``_validate_X_y`` / ``_validate_X``
    turn what the user passed into the array the network reads::

        text (list of str)         -> token ids                 (Transformer only)
        list of sequences          -> padded (n, length[, channels])
        (n, length)                -> (n, length, 1)
        (n, length, channels)      -> as is (cut to max_length, if set)
        (n, height, width, chan.)  -> as is                     (CNN only)

    ``n_features_in_`` stays what scikit-learn expects, ``X.shape[1]`` of the
    validated array (the padded length for lists of sequences); ``input_shape_`` is
    one sample's shape as the network reads it.
``_model_builder``
    calls the family's builder with ``input_shape_``, the output units and
    activation the target needs (binary: 1 sigmoid; multiclass: one softmax
    unit per class; multilabel: one sigmoid unit per label; regression: one
    linear unit per output) and the architecture parameters.
``_train``
    adds ``keras.callbacks.EarlyStopping`` when ``early_stopping=True``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import keras
import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from kerasbig.compiling import make_callbacks
from kerasbig.models._inputs import (
    check_max_length,
    check_truncation,
    is_sequence_list,
    is_text,
    pad_list,
    report_long,
)
from kerasbig.models._validation import check_bool
from kerasbig.routing import destination_of, route

# Builder arguments that come from the data and the target, not from the user.
DATA_KEYWORDS = ("input_shape", "n_outputs", "output_activation")


def _ndim(X: Any) -> int | None:
    """Number of dimensions of an array-like, without validating it."""
    ndim = getattr(X, "ndim", None)
    if ndim is not None:
        return int(ndim)
    try:
        return int(np.ndim(X))
    except (TypeError, ValueError):
        return None


def _describe(shape: tuple) -> str:
    names = {
        1: "texts",
        2: "univariate sequences (n_samples, length)",
        3: "sequences (n_samples, length, channels)",
        4: "images (n_samples, height, width, channels)",
    }
    return names.get(len(shape), f"{len(shape)}-D arrays")


def _float64_head(model: keras.Model, dtype: Any) -> keras.Model:
    """The model with its output layer in float64 when the network is float64.

    The builders compute the output layer (named ``"head"``) in float32 so that
    mixed precision still gives float32 predictions; a float64 network should
    not lose precision in its last layer, so it is rebuilt from its config with
    a float64 head (same architecture, fresh weights).
    """
    policy = keras.dtype_policies.get(dtype) if dtype is not None else None
    policy = policy or keras.config.dtype_policy()
    if policy.compute_dtype != "float64":
        return model
    config = model.get_config()
    for layer in config["layers"]:
        if layer["config"].get("name") == "head":
            layer["config"]["dtype"] = "float64"
    return type(model).from_config(config)


class FamilyMixin:
    """Input handling and the builder call shared by the model families.

    Subclasses set ``_builder`` (the pure-Keras builder, as a staticmethod),
    ``_ranks`` (the accepted numbers of dimensions of ``X``) and, for the
    CNN, ``_images = True``.
    """

    _builder: Callable[..., keras.Model]
    _ranks: tuple[int, ...] = (2, 3)
    _images: bool = False

    # ------------------------------------------------------------------
    # Parameters
    # ------------------------------------------------------------------
    @classmethod
    def _architecture_names(cls) -> tuple[str, ...]:
        """The builder's keyword arguments that are constructor parameters."""
        params = inspect.signature(cls._builder).parameters
        return tuple(
            name
            for name, p in params.items()
            if p.kind is p.KEYWORD_ONLY and name not in DATA_KEYWORDS
        )

    def _architecture(self) -> dict[str, Any]:
        """The builder's keyword arguments for this fit."""
        return {name: getattr(self, name) for name in self._architecture_names()}

    def _check_params(self) -> None:
        super()._check_params()
        stray = sorted(
            name for name in self._kwargs if destination_of(name) in (None, "model")
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
        check_max_length(self.max_length)
        check_truncation(self.truncation)
        check_bool(self.early_stopping, "early_stopping")
        self._check_int("patience", self.patience, minimum=0)

    # ------------------------------------------------------------------
    # Input: what the user passed -> what the network reads
    # ------------------------------------------------------------------
    def _validate_X_y(self, X, y, reset: bool):
        if y is None:  # the base raises scikit-learn's "requires y" error
            return super()._validate_X_y(X, y, reset)
        X, listed = self._numeric_input(X, reset)
        X, y = super()._validate_X_y(X, y, reset)
        return self._shape_for_model(X, reset, listed), y

    def _validate_X(self, X) -> np.ndarray:
        check_is_fitted(self)
        X, listed = self._numeric_input(X, reset=False)
        return self._shape_for_model(super()._validate_X(X), False, listed)

    def _numeric_input(self, X, reset: bool):
        """Reject text and stray dimensions; pad lists of sequences.

        Returns ``X`` and whether it was a list of sequences (now padded).
        """
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
        ndim = _ndim(X)
        if reset:
            if ndim is not None and ndim > 2 and ndim not in self._ranks:
                kinds = " or ".join(_describe((0,) * r) for r in self._ranks)
                raise ValueError(f"{name} takes {kinds}; got a {ndim}-D X.")
        elif ndim is not None and ndim > 1 and ndim != len(self.X_shape_):
            raise ValueError(
                f"{name} was fitted on {_describe(self.X_shape_)}, shape "
                f"{self.X_shape_[1:]} per sample; X is {ndim}-D."
            )
        return X, listed

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
            length, limit = check_max_length(self.max_length), "max_length"
        else:
            length, limit = self.input_shape_[0], "the training length"
        padded = pad_list(
            items,
            length,
            value=self._pad_value(),
            truncation=self.truncation,
            limit=limit,
        )
        if not reset and self.n_features_in_ > padded.shape[1]:
            # fit saw longer arrays and cut them to the model's length: pad to
            # what validation expects; _shape_for_model cuts back silently.
            extra = [(0, 0)] * padded.ndim
            extra[1] = (0, self.n_features_in_ - padded.shape[1])
            padded = np.pad(padded, extra, constant_values=self._pad_value())
        return padded

    def _shape_for_model(
        self, X: np.ndarray, reset: bool, listed: bool = False
    ) -> np.ndarray:
        """(n, L) -> (n, L, 1); sequences cut to the model's length.

        A list of sequences was already cut (and reported) sequence by sequence.
        """
        if X.ndim == 2:
            X = X[:, :, None]
        sequences = X.ndim == 3
        if reset:
            limit = check_max_length(self.max_length)
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

    def _meta(self) -> dict[str, Any]:
        return {
            "n_features_in_": getattr(self, "n_features_in_", None),
            "X_shape_": self.X_shape_,
            "X_dtype_": self.X_dtype_,
            "input_shape_": self.input_shape_,
            "target_type_": self.target_type_,
            "n_classes_": getattr(self, "n_classes_", None),
            "classes_": getattr(self, "classes_", None),
            "n_outputs_": self.n_outputs_,
        }

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

    def _model_builder(self):
        def build_from_data() -> keras.Model:
            n_outputs, activation = self._head()
            architecture = self._architecture()
            model = self._builder(
                self.input_shape_,
                n_outputs,
                output_activation=activation,
                **architecture,
            )
            return _float64_head(model, architecture.get("dtype"))

        return build_from_data

    def _train(self, model, X, y, sample_weight, epochs, fit_kwargs, *args):
        if self.early_stopping:
            fit_route = route(self._kwargs, "fit")
            if "callbacks" in fit_kwargs:
                callbacks = list(fit_kwargs["callbacks"] or [])
            elif "callbacks" in fit_route:
                callbacks = list(fit_route["callbacks"] or [])
            else:
                callbacks = make_callbacks(
                    self.callbacks, route(self._kwargs, "callbacks")
                )
            validating = self.validation_split > 0 or "validation_data" in {
                **fit_route,
                **fit_kwargs,
            }
            callbacks.append(
                keras.callbacks.EarlyStopping(
                    monitor="val_loss" if validating else "loss",
                    patience=self.patience,
                    restore_best_weights=True,
                )
            )
            fit_kwargs = {**fit_kwargs, "callbacks": callbacks}
        return super()._train(model, X, y, sample_weight, epochs, fit_kwargs, *args)
