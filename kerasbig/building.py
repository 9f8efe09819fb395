"""Getting a model: calling a model-building function, copying a given model.

Used by :mod:`kerasbig.base` between validating the data and compiling.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from typing import Any

import keras
import numpy as np


def output_units(model: keras.Model, X_probe: np.ndarray) -> int:
    """Units of the model's single output; builds the model on a probe if needed."""
    outputs = getattr(model, "outputs", None) if model.built else None
    if outputs:
        if len(outputs) > 1:
            raise ValueError(
                f"The model has {len(outputs)} outputs; kerasbig's general "
                "wrappers support single-output models. Concatenate the heads "
                "into one output layer."
            )
        shape = outputs[0].shape
    else:
        result = model(X_probe, training=False)
        if isinstance(result, (list, tuple, dict)):
            raise ValueError(
                "The model returns several outputs; kerasbig's general wrappers "
                "support single-output models."
            )
        shape = tuple(result.shape)
    return 1 if len(shape) < 2 else int(shape[-1])


def copy_model(model: keras.Model) -> keras.Model:
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
    accepted; ``context`` (``meta``, ``compile_kwargs`` and the meta keys) is
    offered, and only what the function names is passed. A function with
    ``**kwargs`` receives everything.
    """
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):
        return builder(**hyperparameters)
    params = signature.parameters
    takes_all = any(p.kind is p.VAR_KEYWORD for p in params.values())
    if takes_all:
        return builder(**{**context, **hyperparameters})
    unknown = sorted(set(hyperparameters) - set(params))
    if unknown:
        raise ValueError(
            f"The model-building function {getattr(builder, '__name__', builder)}"
            f"{signature} does not take the hyperparameter(s) {unknown}. Rename "
            "them to match its arguments, or give it **kwargs."
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
