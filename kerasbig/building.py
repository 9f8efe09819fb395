"""Getting a model: calling a model-building function, copying a given model.

Used by the general wrappers' ``_make_model`` (:mod:`kerasbig.base`) between
validating the data and compiling. The model families build their networks
with their own builders instead.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from kerasbig import precision as precision_policy
from kerasbig.parameters import InvalidParameterError


def output_units(model: keras.Model, X_probe: np.ndarray) -> int:
    """Units of the model's single output; builds the model on a probe if needed."""
    outputs = getattr(model, "outputs", None) if model.built else None
    if outputs:
        if len(outputs) > 1:
            raise ValueError(
                f"The model has {len(outputs)} outputs, but y gives it one "
                "target, an input of size 1 for its outputs. Concatenate the "
                "heads into one output layer, or give the estimator a "
                "target_encoder that splits y into one array per output."
            )
        shape = outputs[0].shape
    else:
        result = model(X_probe, training=False)
        if isinstance(result, (list, tuple, dict)):
            raise ValueError(
                "The model returns several outputs, but y gives it one target, "
                "an input of size 1 for its outputs. Return one output, or give "
                "the estimator a target_encoder that splits y."
            )
        shape = tuple(result.shape)
    return 1 if len(shape) < 2 else int(shape[-1])


def _copy(model: keras.Model) -> keras.Model:
    """A deep copy of a user's model, weights and compile settings included."""
    try:
        return copy.deepcopy(model)
    except Exception as err:  # noqa: BLE001 - re-raised with advice
        raise TypeError(
            f"model={type(model).__name__} could not be copied ({err}). kerasbig "
            "copies a model instance so that fit never mutates the parameter; "
            "register custom layers with keras.saving.register_keras_serializable "
            "or pass a function that builds the model instead."
        ) from None


def call_builder(
    builder: Callable[..., Any],
    hyperparameters: dict[str, Any],
    context: dict[str, Any],
) -> Any:
    """Call a model-building function with the arguments it names.

    ``hyperparameters`` (routed ``model__`` and free parameters) must all be
    accepted. ``context`` holds ``meta``, ``compile_kwargs``, ``params`` and
    ``seed``; these, and each key of ``meta`` (``n_features_in_``...), are
    offered, and only what the function names is passed. A function with
    ``**kwargs`` receives, as in scikeras, the hyperparameters followed by
    ``meta``, ``compile_kwargs`` and ``params``.
    """
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):
        return builder(**hyperparameters)
    params = signature.parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        fixed = {key: context[key] for key in ("meta", "compile_kwargs", "params")}
        return builder(**{**hyperparameters, **fixed})
    context = {**context["meta"], **context}
    unknown = sorted(set(hyperparameters) - set(params))
    if unknown:
        raise InvalidParameterError(
            f"The model-building function {getattr(builder, '__name__', builder)}"
            f"{signature} got an unexpected keyword argument {unknown[0]!r}: it "
            f"does not take the hyperparameter(s) {unknown}. Rename them to match "
            "its arguments, or give it **kwargs."
        )
    kwargs = {name: context[name] for name in params if name in context}
    kwargs.update(hyperparameters)
    missing = [
        name
        for name, p in params.items()
        if p.default is p.empty
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
        and name not in kwargs
    ]
    if missing:
        raise TypeError(
            f"The model-building function {getattr(builder, '__name__', builder)}"
            f"{signature} needs {missing}, which is neither a meta key "
            f"({sorted(context)}) nor a parameter of the estimator."
        )
    return builder(**kwargs)


def make_model(
    spec: Any,
    hyperparameters: dict[str, Any],
    context: dict[str, Any],
    precision: str | None,
    copy_model: bool = True,
) -> keras.Model:
    """The model the ``model`` parameter describes, fresh for one fit.

    ``spec`` is a ``keras.Model`` (copied, so that training never mutates the
    parameter, unless ``copy_model`` is False) or a callable that builds one
    (called through :func:`call_builder` under the ``precision`` dtype
    policy).
    """
    if isinstance(spec, keras.Model):
        if precision is not None:
            raise ValueError(
                f"precision={precision!r} applies to models the estimator "
                "builds; model is a keras.Model instance, already built. Pass a "
                "model-building function, or build the model under "
                "keras.config.set_dtype_policy yourself."
            )
        if hyperparameters:
            raise ValueError(
                "model is a keras.Model instance, so the hyperparameters "
                f"{sorted(hyperparameters)} have nowhere to go; pass a "
                "model-building function to use them."
            )
        return _copy(spec) if copy_model else spec
    if not callable(spec):
        raise TypeError(
            f"``model`` must be a keras.Model or a callable that builds one; got "
            f"model={spec!r}."
        )
    with precision_policy.policy(precision_policy.resolve(precision)):
        model = call_builder(spec, hyperparameters, context)
    if not isinstance(model, keras.Model):
        raise TypeError(
            f"The model-building function returned {type(model).__name__}; "
            "expected a keras.Model."
        )
    return model


class BuildFnDeprecationWarning(FutureWarning, UserWarning):
    """``build_fn=`` is used (a FutureWarning; a UserWarning as in scikeras)."""


def model_param(estimator: Any) -> Any:
    """The estimator's ``model`` parameter: a keras.Model or a builder.

    ``build_fn`` (scikeras's name) is a deprecated alias; a subclass with a
    ``_keras_build_fn`` method (scikeras's subclassing pattern) needs neither.
    """
    model, build_fn = estimator.model, estimator.build_fn
    if model is not None and build_fn is not None:
        raise ValueError(
            "Both model and build_fn are set; pass only model= (build_fn is "
            "its deprecated alias)."
        )
    if build_fn is not None:
        warnings.warn(
            "``build_fn`` will be renamed to ``model`` in a future release: "
            "build_fn is deprecated; pass the same callable as model=.",
            BuildFnDeprecationWarning,
            stacklevel=7,
        )
        model = build_fn
    subclass_builds = hasattr(estimator, "_keras_build_fn")
    if model is not None and subclass_builds:
        raise ValueError(
            f"{type(estimator).__name__} implements ``_keras_build_fn``, so it "
            f"cannot take model={model!r} as well (a subclass cannot implement "
            "``_keras_build_fn`` and be given a model). Pass model=None, or use "
            "the base class."
        )
    if model is None:
        if subclass_builds:
            return estimator._keras_build_fn
        raise ValueError(
            f"{type(estimator).__name__}(model=None): pass a keras.Model or a "
            "function that builds one as model=; a subclass given no model "
            "must implement ``_keras_build_fn``."
        )
    return model


def fitted_meta(estimator: Any) -> dict[str, Any]:
    """What a model-building function may ask for by name (scikeras's ``meta``):
    the facts of ``X`` and ``y``, the fitted encoders, and what the encoders
    report (a classifier's ``classes_``, ``n_classes_``, ``target_type_``...)."""
    return {
        "n_features_in_": getattr(estimator, "n_features_in_", None),
        "X_shape_": estimator.X_shape_,
        "X_dtype_": estimator.X_dtype_,
        "y_dtype_": estimator.y_dtype_,
        "y_ndim_": estimator.y_ndim_,
        "feature_encoder_": estimator.feature_encoder_,
        "target_encoder_": estimator.target_encoder_,
        **estimator.__dict__.get("_encoder_meta", {}),
    }
