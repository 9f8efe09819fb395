"""Pickling Keras objects whose custom classes Keras cannot find by itself.

Keras pickles a model (or a metric, a layer...) through its own saving
format; loading it back looks up every custom class by its registered name,
and fails for one that is not registered with
``keras.saving.register_keras_serializable``. scikeras users pickle
estimators holding such objects (a ``CustomMetric`` subclass of their own in
``metrics=``, and so in the fitted model), so the estimator pickles each
Keras object in its state together with the classes it refers to (by
reference, as pickle does any class) and loads it inside a custom-object
scope. Keras's own ``__reduce__`` does the rest; nothing is patched.
"""

from __future__ import annotations

import importlib
import pickle
from typing import Any

import keras


def _custom_objects(config: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Classes and functions outside Keras that ``config`` names, by name."""
    if isinstance(config, dict):
        module, name = config.get("module"), config.get("class_name")
        if isinstance(module, str) and isinstance(name, str):
            if not module.startswith(("keras", "builtins")):
                try:
                    obj = getattr(importlib.import_module(module), name)
                except (ImportError, AttributeError):
                    obj = None
                if obj is not None:
                    found[name] = obj
                    found[config.get("registered_name") or name] = obj
        for value in config.values():
            _custom_objects(value, found)
    elif isinstance(config, (list, tuple)):
        for value in config:
            _custom_objects(value, found)
    return found


_KERAS_OBJECTS = (
    keras.Model,
    keras.layers.Layer,
    keras.metrics.Metric,
    keras.losses.Loss,
    keras.optimizers.Optimizer,
)


def _configs(obj: Any) -> list:
    """What Keras will write for ``obj``: its serialized form, and for a model
    its compile settings (metrics, loss) too."""
    configs = []
    for get in (
        keras.saving.serialize_keras_object,
        lambda o: o.get_compile_config(),
    ):
        try:
            configs.append(get(obj))
        except (NotImplementedError, TypeError, ValueError, AttributeError):
            continue
    return configs


class _Picklable:
    """Stands in for a Keras object in pickled state; unpickles as the object."""

    def __init__(self, obj: Any):
        self.obj = obj

    def __reduce__(self):
        custom = _custom_objects(_configs(self.obj), {})
        if not custom:
            return (_identity, (self.obj,))
        return (_load, (custom, pickle.dumps(self.obj)))


def picklable_state(state: dict) -> dict:
    """``state`` with each Keras object (also inside a list, tuple or dict)
    wrapped to carry its custom classes."""

    def wrap(value):
        if isinstance(value, _KERAS_OBJECTS):
            return _Picklable(value)
        if isinstance(value, (list, tuple)):
            return type(value)(wrap(v) for v in value)
        if isinstance(value, dict):
            return {k: wrap(v) for k, v in value.items()}
        return value

    return {key: wrap(value) for key, value in state.items()}


def _identity(obj):
    return obj


def _load(custom: dict[str, Any], data: bytes) -> Any:
    with keras.saving.custom_object_scope(custom):
        return pickle.loads(data)
