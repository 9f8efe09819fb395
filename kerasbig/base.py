"""The scikit-learn contract shared by every kerasbig estimator.

The life of a fit reads top to bottom in :meth:`BaseKerasEstimator._fit`::

    check parameters -> (a new model: _initialize: validate X, y -> fit the
        target and feature encoders -> learn from the input -> make the model
        -> compile it)
        -> encode targets -> weigh samples -> train -> record the history

and a prediction in :meth:`BaseKerasEstimator.predict`::

    validate X -> feature encoder -> the model's output -> target encoder

Subclasses fill in plain hooks, each with one job:

* the target side (:class:`~kerasbig.KerasClassifier`,
  :class:`~kerasbig.KerasRegressor`): the ``target_encoder`` property
  (:mod:`kerasbig.targets`), ``_sample_weight``, ``_default_loss``,
  ``_check_output_units``, ``_targets_for_model``, and ``predict_proba``;
* the input and network side (the model families): ``_input_to_array``,
  ``_array_for_model``, ``_learn_from_input``, ``_make_model``,
  ``_start_model`` and ``_extra_callbacks``.

Two steps live in mixins of their own: the input path shared by ``fit``
and ``predict`` (``_validate_X_y``, ``_validate_X``: :mod:`kerasbig.input_path`)
and the call of ``keras.Model.fit`` with its arguments and callbacks
(``_train``, ``_fit_args``: :mod:`kerasbig.training`). Where the model runs
(``distribution=``) is :mod:`kerasbig.distribute`'s job.
"""

from __future__ import annotations

import contextlib
import inspect
import os
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np
from sklearn.base import BaseEstimator

from kerasbig import (
    compiling,
    distribute,
    encoders,
    fast_predict,
    guards,
    pickling,
    precision,
    resume,
    reuse,
    signatures,
)
from kerasbig import parameters as p
from kerasbig.building import fitted_meta, make_model, model_param
from kerasbig.input_path import InputPath
from kerasbig.routing import check_routed_names, hyperparameters, route
from kerasbig.saving import SavingMixin
from kerasbig.scikeras_api import ScikerasAPI
from kerasbig.seeding import RANDOM_STATE, seed_from_random_state, seeded
from kerasbig.training import Training, holds_callback_instance
from kerasbig.validation import check_sample_weight


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


_BATCH_SIZE = [p.NONE, p.Interval(int, 1), p.Options(-1)]


class BaseKerasEstimator(InputPath, Training, SavingMixin, ScikerasAPI, BaseEstimator):
    """Shared machinery of :class:`KerasClassifier` and :class:`KerasRegressor`.

    Its ``__init__`` is the one definition of the training parameters every
    kerasbig estimator shares (:mod:`kerasbig.signatures`). Used directly it
    is scikeras's ``BaseWrapper`` (:mod:`kerasbig.wrappers`): its target and
    feature encoders are the identity, so the model trains on ``y`` as given
    (it needs a loss) and ``predict`` returns the model's outputs.
    """

    _input_attributes = ("n_features_in_", "feature_names_in_")
    _parameter_constraints = {
        "warm_start": [p.Boolean()],
        "random_state": RANDOM_STATE,
        "batch_size": _BATCH_SIZE,
        "validation_batch_size": _BATCH_SIZE,
        "verbose": [p.Interval(int, 0), p.Boolean(), p.Options("auto")],
        "validation_split": [p.Interval(float, 0.0, 1.0, closed="left")],
        "shuffle": [p.Boolean(), p.Options("batch")],
        "run_eagerly": [p.Boolean()],
        "epochs": [p.Interval(int, 1)],
        "distribution": [p.Satisfies(distribute.is_valid, distribute.EXPECTED)],
        "precision": [p.NONE, p.Options(*precision.PRECISIONS)],
        "checkpoint_dir": resume.CONSTRAINT,
        **compiling.CONSTRAINTS,
    }

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
        checkpoint_dir: str | os.PathLike | None = None,
        **kwargs,
    ):
        signatures.store_params(self, locals())

    # ------------------------------------------------------------------
    # Parameters: constructor parameters plus free / routed ones
    # ------------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        params = super().get_params(deep=deep)
        params.update(self.__dict__.get("_kwargs", {}))
        return params

    def _free_and_routed(self) -> dict[str, Any]:
        """The ``**kwargs`` parameters, and routed names a subclass declares."""
        return signatures.free_and_routed(self)

    def set_params(self, **params):
        """Set constructor parameters, and free or routed ones (kept in ``_kwargs``)."""
        super().set_params(**signatures.split_routed_params(self, params))
        return self

    def __sklearn_clone__(self):
        """Clone as scikit-learn does; a live strategy object is shared, not copied."""
        return distribute.clone_sharing_live(self, super().__sklearn_clone__)

    def __getstate__(self):
        """Pickle a live strategy as its spec, drop the resolved placement, and
        carry the model's unregistered custom objects (:mod:`kerasbig.pickling`)."""
        return pickling.picklable_state(
            distribute.picklable_state(super().__getstate__())
        )

    def __sklearn_is_fitted__(self) -> bool:
        return "model_" in self.__dict__

    @property
    def model_(self) -> keras.Model:
        """The fitted ``keras.Model`` (read from outside, it is never handed to
        another fit: :mod:`kerasbig.reuse`)."""
        try:
            model = self.__dict__["model_"]
        except KeyError:
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute 'model_'"
            ) from None
        reuse.mark_escaped(model)
        return model

    @model_.setter
    def model_(self, model: keras.Model) -> None:
        self.__dict__["model_"] = model

    @model_.deleter
    def model_(self) -> None:
        del self.__dict__["model_"]

    @property
    def _model(self) -> keras.Model:
        """``model_`` for the estimator's own use (does not mark it escaped)."""
        return self.__dict__["model_"]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.input_tags.sparse = bool(self._x_checks.get("accept_sparse"))
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
        self : object
            The fitted estimator.
        """
        return self._fit(
            X, y, sample_weight=sample_weight, fit_kwargs=kwargs, warm=self.warm_start
        )

    def initialize(self, X, y=None):
        """Build and compile the model for ``X, y`` without training it.

        A ``keras.Model`` given as ``model=`` becomes ``model_`` itself, not a
        copy, so that layers it shares with other models stay shared
        (``fit`` trains a copy).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Data of the shape the model will take.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Targets, from which the output layer and the loss are chosen
            (needed by classifiers and regressors).

        Returns
        -------
        self : object
            The estimator, with an untrained ``model_``.
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
        """Fit (or with ``warm``, continue fitting) the model.

        ``epochs=1`` is ``partial_fit``: its epoch is added to ``history_``,
        which otherwise records this call's epochs only (as in scikeras).
        """
        with _unchanged_on_error(self):
            self._check_params()
            cold = not (bool(warm) and self.__sklearn_is_fitted__())
            if not cold:
                X, y = self._validate_X_y(X, y, reset=False)
            else:
                options = {} if classes is None else {"classes": classes}
                if not train:
                    options["copy_model"] = False
                elif sample_weight is not None:
                    options["sample_weight"] = sample_weight
                X, y = self._initialize(X, y, **options)
                if not train:
                    return self
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
            y_model = encoders.encode_targets(self, y, reset=False)
            if not encoders.custom_targets(self):
                sample_weight = self._sample_weight(sample_weight, y_model)
                y_model = self._targets_for_model(y_model, self._model, self._units)
            X = encoders.encode_features(self, X, reset=False)
            compiling.check_has_loss(self._model)
            with seeded(seed_from_random_state(self.random_state)):
                history = self._train(
                    self._model, X, y_model, sample_weight, epochs, fit_kwargs
                )
            if epochs is None:
                self.history_ = {}
            for key, values in history.history.items():
                key = compiling.history_key(key)
                self.history_.setdefault(key, []).extend(values)
        return self

    def _initialize(
        self, X, y=None, *, classes=None, copy_model: bool = True, sample_weight=None
    ):
        """Validate ``X, y``, fit the encoders, build and compile ``model_``.

        Returns the validated ``X`` and ``y`` (scikeras's hook: a subclass may
        extend it, calling ``super()._initialize(X, y)``). The target encoder
        and ``_learn_from_input`` learn from ``sample_weight`` too, where
        they use weights (a family's standardization: a weight of 2 counts as
        a repeated row).
        """
        X, y = self._validate_X_y(X, y, reset=True)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X.shape[0])
        y_model = encoders.encode_targets(
            self, y, reset=True, classes=classes, sample_weight=sample_weight
        )
        X_model = encoders.encode_features(self, X, reset=True)
        self._learn_from_input(X_model, sample_weight)
        seed = seed_from_random_state(self.random_state)
        placement = distribute.resolve(self.distribution)
        with seeded(seed), distribute.placed(placement):
            model = self._make_model(X_model, seed, copy_model)
            self._start_model(model, X_model, y_model, sample_weight)
            units = encoders.model_units(self, model, X_model)
            self._compile(model, units, placement)
        if copy_model and placement is None:  # a model of ours, on one device
            model = reuse.take(model)
        reuse.own(self, model)
        self.model_, self._units, self._placement = model, units, placement
        self.history_ = {}
        return X, y

    def _check_params(self) -> None:
        """Check every parameter's value against its declaration, before any work."""
        p.validate_estimator_params(self)
        check_routed_names(self._free_and_routed())

    # ------------------------------------------------------------------
    # The network
    # ------------------------------------------------------------------
    def _learn_from_input(self, X: np.ndarray, sample_weight) -> None:
        """Learn what making the network needs from the training input ``X``
        (as the network reads it) and ``sample_weight`` (checked, or None),
        as fitted attributes ``_make_model`` reads. The general wrappers
        learn nothing: the user's network is what it is."""

    def _make_model(
        self, X: np.ndarray, seed: int | None, copy_model: bool = True
    ) -> keras.Model:
        """A new, uncompiled (or builder-compiled) model for this fit; a
        ``keras.Model`` parameter is copied unless ``copy_model`` is False."""
        meta = fitted_meta(self)
        context = {"meta": meta, "compile_kwargs": self._compile_arguments()}
        context.update(params=self.get_params(), seed=seed)
        hyper = hyperparameters(self._free_and_routed())
        spec = model_param(self)
        return make_model(spec, hyper, context, self.precision, copy_model)

    def _start_model(self, model: keras.Model, X: np.ndarray, y, sample_weight):
        """Set the starting weights of the new, uncompiled ``model`` from the
        training data (as the network reads ``X``, ``y`` as it trains on it).
        The general wrappers keep the model's own."""

    def _compile_arguments(self) -> dict[str, Any]:
        return compiling.compile_kwargs(
            self.optimizer,
            self.loss,
            self.metrics,
            self.run_eagerly,
            self._free_and_routed(),
            self._optimizer_defaults(),
        )

    def _optimizer_defaults(self) -> dict[str, Any]:
        """Arguments for an optimizer the estimator builds from a name or a
        class, under the user's ``optimizer__`` ones (an optimizer instance
        keeps its own). The general wrappers add none: Keras' defaults."""
        return {}

    def _compile(self, model: keras.Model, units: int | None, placement) -> None:
        """Compile with the estimator's settings, unless the builder did."""
        loss_args = route(self._free_and_routed(), "loss")
        compiling.compile_model(
            model,
            distribute.compile_kwargs_for(placement, self._compile_arguments()),
            default_loss=lambda: (
                None
                if units is None
                else compiling.make_loss(self._default_loss(units), loss_args)
            ),
        )
        compiling.check_same_loss(model, self.loss, self._loss_default())
        if units is not None:
            self._check_output_units(units, model)

    @classmethod
    def _loss_default(cls):
        """The ``loss`` default of this class's signature (a subclass may differ)."""
        param = inspect.signature(cls.__init__).parameters.get("loss")
        return None if param is None else param.default

    # ------------------------------------------------------------------
    # Prediction
    # ------------------------------------------------------------------
    def predict(self, X, **kwargs):
        """The model's outputs for ``X``, decoded by ``target_encoder_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Data shaped as in ``fit``.
        **kwargs
            Passed to ``keras.Model.predict`` for this call (over the
            ``predict__`` parameters), e.g. ``batch_size=256``.

        Returns
        -------
        y_pred : ndarray
            ``target_encoder_.inverse_transform`` of the model's outputs.
        """
        outputs = self._predict_outputs(X, **kwargs)
        return self.target_encoder_.inverse_transform(outputs)

    def _predict_outputs(self, X, **kwargs):
        """The model's outputs for ``X``; ``kwargs`` go to ``keras.Model.predict``
        for this call, over the ``predict__`` parameters."""
        X = encoders.encode_features(self, self._validate_X(X), reset=False)
        routed = route(self._free_and_routed(), "predict")
        predict_args = {
            "batch_size": self.batch_size,
            "verbose": self.verbose,
            **routed,
            "callbacks": self._callbacks(routed.get("callbacks")),
            **kwargs,
        }
        if predict_args["batch_size"] == -1:
            predict_args["batch_size"] = max(encoders.n_rows(X), 1)
        placement = self.__dict__.get("_placement")
        if holds_callback_instance((self.callbacks, routed, kwargs)):
            reuse.mark_escaped(self._model)  # the callback's .model keeps it
        batch_size = predict_args["batch_size"]
        with guards.reporting_out_of_memory(self, "predict", batch_size):
            return fast_predict.predict(self._model, X, predict_args, placement)

    # ------------------------------------------------------------------
    # Target hooks, filled in by KerasClassifier and KerasRegressor
    # ------------------------------------------------------------------
    def _sample_weight(self, sample_weight, y_encoded):
        return sample_weight

    def _default_loss(self, units: int):
        raise ValueError(
            f"{type(self).__name__} has no default loss: provide a loss with "
            "loss=, or compile the model in its builder."
        )

    def _check_output_units(self, units: int, model: keras.Model) -> None:
        return None

    def _targets_for_model(self, y_encoded, model: keras.Model, units: int):
        return y_encoded
