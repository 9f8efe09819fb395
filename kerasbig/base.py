"""The scikit-learn contract shared by every kerasbig estimator.

The life of a fit reads top to bottom in :meth:`BaseKerasEstimator._fit`::

    check parameters -> validate X, y -> encode targets -> weigh samples
        -> build the model -> compile it -> adapt targets to it -> train

Subclasses fill in the target-specific steps (``_encode_targets``,
``_default_loss``, ``_targets_for_model``, ``_decode``); families of models
(CNN, RNN, Transformer) fill in ``_model_builder`` and ``_validate_X``.
"""

from __future__ import annotations

import contextlib
import numbers
import warnings
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted, validate_data

from kerasbig import distribute, precision
from kerasbig.building import call_builder, copy_model, output_units
from kerasbig.compiling import make_callbacks, make_loss, make_metrics, make_optimizer
from kerasbig.routing import DESTINATIONS, check_routed_names, destination_of, route
from kerasbig.seeding import seed_from_random_state, seeded


@contextlib.contextmanager
def _unchanged_on_error(estimator) -> Iterator[None]:
    """Put the estimator's attributes back as they were if the block raises."""
    saved = dict(estimator.__dict__)
    try:
        yield
    except BaseException:
        estimator.__dict__.clear()
        estimator.__dict__.update(saved)
        raise


def _check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Validate ``sample_weight`` and return it as float64, or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight)
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"sample_weight must be numeric; got {type(sample_weight).__name__}: {err}"
        ) from None
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sw.shape}; expected ({n_samples},), one "
            "weight per sample."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("sample_weight contains negative values.")
    if sw.sum() <= 0:
        raise ValueError(
            "sample_weight sums to zero: at least one sample needs a positive weight."
        )
    return sw


class BaseKerasEstimator(BaseEstimator):
    """Shared machinery of :class:`KerasClassifier` and :class:`KerasRegressor`.

    Not meant to be used directly; see the subclasses for the parameters.
    """

    def __init__(
        self,
        model=None,
        *,
        build_fn=None,
        warm_start: bool = False,
        random_state=None,
        optimizer="rmsprop",
        loss=None,
        metrics=None,
        batch_size: int | None = None,
        validation_batch_size: int | None = None,
        verbose: int = 0,
        callbacks=None,
        validation_split: float = 0.0,
        shuffle: bool = True,
        run_eagerly: bool = False,
        epochs: int = 1,
        distribution=None,
        precision: str | None = None,
        **kwargs,
    ):
        self.model = model
        self.build_fn = build_fn
        self.warm_start = warm_start
        self.random_state = random_state
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.verbose = verbose
        self.callbacks = callbacks
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.run_eagerly = run_eagerly
        self.epochs = epochs
        self.distribution = distribution
        self.precision = precision
        self._kwargs = dict(kwargs)

    # ------------------------------------------------------------------
    # Parameters: constructor parameters plus free / routed ones
    # ------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        params.update(self.__dict__.get("_kwargs", {}))
        return params

    def set_params(self, **params):
        own = set(self._get_param_names())
        plain = {}
        for key, value in params.items():
            if key in own:
                plain[key] = value
            elif key in self._kwargs or destination_of(key) in DESTINATIONS:
                self._kwargs[key] = value
            else:
                raise ValueError(
                    f"Invalid parameter {key!r} for {type(self).__name__}. Valid "
                    f"parameters are {sorted(own)}, the free hyperparameters "
                    f"given at construction {sorted(self._kwargs)}, or a routed "
                    f"name '<prefix>__<argument>' with prefix in {DESTINATIONS}."
                )
        super().set_params(**plain)
        return self

    def __sklearn_clone__(self):
        """Clone as scikit-learn does, sharing a live strategy object.

        A ``tf.distribute.Strategy`` or ``keras.distribution.Distribution``
        cannot be deep-copied; like ``n_jobs``, it names resources, so the
        clone uses the same object.
        """
        live = self.distribution
        if not distribute.is_live(live):
            return super().__sklearn_clone__()
        self.distribution = None
        try:
            twin = super().__sklearn_clone__()
        finally:
            self.distribution = live
        twin.distribution = live
        return twin

    def __getstate__(self):
        """Pickle a live strategy as its spec, and drop the resolved placement."""
        state = dict(super().__getstate__())
        state.pop("_placement", None)
        if "distribution" in state:
            state["distribution"] = distribute.portable(state["distribution"])
        return state

    def _hyperparameters(self) -> dict[str, Any]:
        """Arguments for the model-building function: free and ``model__`` ones."""
        free = {k: v for k, v in self._kwargs.items() if destination_of(k) is None}
        return {**free, **route(self._kwargs, "model")}

    # ------------------------------------------------------------------
    # scikit-learn plumbing
    # ------------------------------------------------------------------
    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "model_")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.multi_output = True
        return tags

    # ------------------------------------------------------------------
    # Public training API
    # ------------------------------------------------------------------
    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build, compile and train the Keras model on ``X, y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Per-sample weights, rescaled to average 1 so that only their
            ratios matter.
        **kwargs
            Passed to ``keras.Model.fit`` for this call only (they override
            ``fit__`` parameters), e.g. ``epochs=5``.

        Returns
        -------
        self
        """
        return self._fit(
            X, y, sample_weight=sample_weight, fit_kwargs=kwargs, warm=self.warm_start
        )

    def initialize(self, X, y):
        """Build and compile the model for ``X, y`` without training it.

        Returns
        -------
        self
        """
        return self._fit(X, y, warm=False, train=False)

    # ------------------------------------------------------------------
    # The life of a fit
    # ------------------------------------------------------------------
    def _fit(
        self,
        X,
        y,
        *,
        sample_weight=None,
        fit_kwargs=None,
        warm: bool = False,
        train: bool = True,
        epochs: int | None = None,
        classes=None,
    ):
        with _unchanged_on_error(self):
            warm = bool(warm) and self.__sklearn_is_fitted__()
            self._check_params()
            seed = seed_from_random_state(self.random_state)
            X, y = self._validate_X_y(X, y, reset=not warm)
            y_index = self._encode_targets(y, reset=not warm, classes=classes)
            sample_weight = self._sample_weight(
                _check_sample_weight(sample_weight, X.shape[0]), y_index
            )
            with seeded(seed):
                if warm:
                    model, units = self.model_, self._model_units
                    placement = self.__dict__.get("_placement")
                else:
                    placement = distribute.resolve(self.distribution)
                    with (
                        distribute.placed(placement),
                        precision.policy(precision.resolve(self.precision)),
                    ):
                        model, units = self._build(X)
                        self._compile(model, units, placement)
                if train:
                    with distribute.placed(placement):
                        history = self._train(
                            model,
                            X,
                            self._targets_for_model(y_index, model, units),
                            sample_weight,
                            epochs,
                            fit_kwargs or {},
                            placement,
                        )
            self.model_ = model
            self._model_units = units
            self._placement = placement
            if not warm:
                self.history_ = {}
            if train:
                for key, values in history.history.items():
                    self.history_.setdefault(key, []).extend(values)
        return self

    def _check_params(self) -> None:
        """Check the training parameters' values (raised before any work)."""
        check_routed_names(self._kwargs)
        distribute.check(self.distribution)
        precision.check(self.precision)
        self._check_int("epochs", self.epochs, minimum=1)
        for name in ("batch_size", "validation_batch_size"):
            value = getattr(self, name)
            if value is not None and value != -1:  # -1: all rows in one batch
                self._check_int(name, value, minimum=1)
        if not (
            isinstance(self.validation_split, numbers.Real)
            and 0.0 <= self.validation_split < 1.0
        ):
            raise ValueError(
                f"validation_split={self.validation_split!r} is invalid; expected "
                "a float in [0, 1)."
            )

    def _check_int(self, name: str, value, minimum: int) -> None:
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Integral)
            or value < minimum
        ):
            raise ValueError(
                f"{name}={value!r} is invalid; expected an integer >= {minimum}."
            )

    def _validate_X_y(self, X, y, reset: bool):
        if y is None:
            # validate_data raises scikit-learn's standard "requires y" error.
            return validate_data(self, X, y, reset=reset), None
        X, y = validate_data(
            self,
            X,
            y,
            reset=reset,
            allow_nd=True,
            dtype=("float32", "float64"),
            multi_output=True,
            y_numeric=self._y_numeric,
        )
        if hasattr(y, "toarray"):
            y = y.toarray()
        if reset:
            self.X_shape_ = X.shape
            self.X_dtype_ = X.dtype
            self.y_dtype_ = y.dtype
            self.y_ndim_ = y.ndim
        return X, y

    def _validate_X(self, X) -> np.ndarray:
        """Validate ``X`` at predict time against what ``fit`` saw."""
        check_is_fitted(self)
        return validate_data(
            self, X, reset=False, allow_nd=True, dtype=("float32", "float64")
        )

    def _meta(self) -> dict[str, Any]:
        """What the model-building function may ask for by name."""
        return {
            "n_features_in_": self.n_features_in_,
            "X_shape_": self.X_shape_,
            "X_dtype_": self.X_dtype_,
            "target_type_": self.target_type_,
            "n_classes_": getattr(self, "n_classes_", None),
            "classes_": getattr(self, "classes_", None),
            "n_outputs_": self.n_outputs_,
            "n_outputs_expected_": 1,
            "y_dtype_": self.y_dtype_,
            "y_ndim_": self.y_ndim_,
        }

    def _model_builder(self):
        """The model parameter: a keras.Model or a callable that builds one.

        Model families override this with their own builder.
        """
        if self.model is not None and self.build_fn is not None:
            raise ValueError(
                "Both model and build_fn are set; pass only model= (build_fn is "
                "its deprecated alias)."
            )
        if self.model is None and self.build_fn is None:
            if hasattr(self, "_keras_build_fn"):  # scikeras's subclass pattern
                return self._keras_build_fn
            raise ValueError(
                f"{type(self).__name__}(model=None): pass a keras.Model or a "
                "function that builds one, e.g. model=build_fn."
            )
        if self.build_fn is not None:
            warnings.warn(
                "build_fn is deprecated; pass the same callable as model=.",
                FutureWarning,
                stacklevel=4,
            )
            return self.build_fn
        return self.model

    def _compile_kwargs(self) -> dict[str, Any]:
        params = self._kwargs
        return {
            "optimizer": make_optimizer(self.optimizer, route(params, "optimizer")),
            "loss": make_loss(self.loss, route(params, "loss"))
            if self.loss not in (None, "auto")
            else None,
            "metrics": make_metrics(self.metrics, route(params, "metrics")),
            "run_eagerly": self.run_eagerly,
            **route(params, "compile"),
        }

    def _build(self, X: np.ndarray) -> tuple[keras.Model, int]:
        """The model and the number of units of its output."""
        spec = self._model_builder()
        if isinstance(spec, keras.Model):
            if self.precision is not None:
                raise ValueError(
                    f"precision={self.precision!r} applies to models the estimator "
                    "builds; model is a keras.Model instance, already built. Pass a "
                    "model-building function, or build the model under "
                    "keras.config.set_dtype_policy yourself."
                )
            if self._hyperparameters():
                raise ValueError(
                    "model is a keras.Model instance, so the hyperparameters "
                    f"{sorted(self._hyperparameters())} have nowhere to go; pass a "
                    "model-building function to use them."
                )
            model = copy_model(spec)
        elif callable(spec):
            meta = self._meta()
            context = {
                **meta,
                "meta": meta,
                "compile_kwargs": self._compile_kwargs(),
                "params": self.get_params(),
            }
            model = call_builder(spec, self._hyperparameters(), context)
        else:
            raise TypeError(
                f"model={spec!r} is neither a keras.Model nor a callable that "
                "builds one."
            )
        if not isinstance(model, keras.Model):
            raise TypeError(
                f"The model-building function returned {type(model).__name__}; "
                "expected a keras.Model."
            )
        return model, output_units(model, X[:1])

    def _compile(self, model: keras.Model, units: int, placement) -> None:
        """Compile with the estimator's settings, unless the builder did."""
        if not getattr(model, "compiled", False):
            compile_kwargs = distribute.compile_kwargs_for(
                placement, self._compile_kwargs()
            )
            if compile_kwargs["loss"] is None:
                compile_kwargs["loss"] = make_loss(
                    self._default_loss(units), route(self._kwargs, "loss")
                )
            model.compile(**compile_kwargs)
        elif getattr(model, "loss", None) is None:
            raise ValueError(
                "The model was compiled without a loss. Compile it with one, or "
                "return it uncompiled so the estimator compiles it (compile_kwargs"
                "['loss'] is None while loss='auto': the loss is chosen once the "
                "model's output is known)."
            )
        self._check_output_units(units, model)

    def _train(self, model, X, y, sample_weight, epochs, fit_kwargs, placement):
        params = self._kwargs
        fit_args = {
            "batch_size": self.batch_size,
            "epochs": self.epochs if epochs is None else epochs,
            "verbose": self.verbose,
            "callbacks": make_callbacks(self.callbacks, route(params, "callbacks")),
            "validation_split": self.validation_split,
            "shuffle": self.shuffle,
            "validation_batch_size": self.validation_batch_size,
            **route(params, "fit"),
            **fit_kwargs,
        }
        for name in ("batch_size", "validation_batch_size"):
            if fit_args.get(name) == -1:
                fit_args[name] = len(X)
        if placement is not None:
            X, y, sample_weight = self._fit_to_replicas(
                X, y, sample_weight, fit_args, placement.replicas, placement.share
            )
        return model.fit(X, y, sample_weight=sample_weight, **fit_args)

    @staticmethod
    def _fit_to_replicas(X, y, sample_weight, fit_args, replicas, share=(0, 1)):
        """Pad data and round batch sizes so every batch splits over replicas.

        Keras' ``validation_split`` (the last rows) is done here, before
        padding, so that padded rows never become validation data. In a
        multi-process job each process then keeps its share of every batch.
        """
        for name in ("batch_size", "validation_batch_size"):
            if fit_args.get(name) is not None or name == "batch_size":
                fit_args[name] = distribute.round_batch_size(fit_args[name], replicas)
        split = fit_args.pop("validation_split", 0.0) or 0.0
        if split:
            cut = int(np.ceil(len(X) * (1.0 - split)))
            weights = np.ones(len(X)) if sample_weight is None else sample_weight
            Xv, yv, wv = distribute.pad_for_training(
                X[cut:], y[cut:], weights[cut:], replicas
            )
            val_batch = fit_args.get("validation_batch_size") or fit_args["batch_size"]
            rows, val_batch = distribute.rows_for_process(len(Xv), val_batch, share)
            fit_args["validation_data"] = (Xv[rows], yv[rows], wv[rows])
            if fit_args.get("validation_batch_size") is not None or share[1] > 1:
                fit_args["validation_batch_size"] = val_batch
            X, y = X[:cut], y[:cut]
            sample_weight = None if sample_weight is None else sample_weight[:cut]
        X, y, sample_weight = distribute.pad_for_training(X, y, sample_weight, replicas)
        rows, fit_args["batch_size"] = distribute.rows_for_process(
            len(X), fit_args["batch_size"], share
        )
        if len(rows) == len(X):
            return X, y, sample_weight
        weights = np.ones(len(X)) if sample_weight is None else sample_weight
        return X[rows], y[rows], weights[rows]

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def _predict_raw(self, X, **kwargs) -> np.ndarray:
        """The model's output for ``X`` as a float64 (n_samples, units) array.

        ``kwargs`` go to ``keras.Model.predict`` for this call, over the
        ``predict__`` parameters.
        """
        X = self._validate_X(X)
        predict_args = {
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            **route(self._kwargs, "predict"),
            **kwargs,
        }
        if predict_args["batch_size"] == -1:
            predict_args["batch_size"] = max(len(X), 1)
        placement = self.__dict__.get("_placement")
        if placement is not None and placement.is_multi_process:
            # Keras' predict cannot fetch outputs that span other processes'
            # devices (RuntimeError "Fetching value for `jax.Array` that spans
            # non-addressable devices"). Outside the distribution each process
            # predicts the rows it is given on its own, with no collective.
            placement = None
        n_rows = len(X)
        if placement is not None:
            X = X[distribute.pad_rows(n_rows, placement.replicas)]
            predict_args["batch_size"] = distribute.round_batch_size(
                predict_args["batch_size"], placement.replicas
            )
        with distribute.placed(placement):
            out = self.model_.predict(X, **predict_args)
        out = np.asarray(out, dtype=np.float64)[:n_rows]
        return out.reshape(n_rows, -1)

    # ------------------------------------------------------------------
    # Hooks for subclasses
    # ------------------------------------------------------------------
    _y_numeric = False

    def _encode_targets(self, y, reset: bool, classes=None) -> np.ndarray:
        raise NotImplementedError

    def _sample_weight(self, sample_weight, y_encoded):
        return sample_weight

    def _default_loss(self, units: int):
        raise NotImplementedError

    def _check_output_units(self, units: int, model: keras.Model) -> None:
        return None

    def _targets_for_model(self, y_encoded, model: keras.Model, units: int):
        return y_encoded
