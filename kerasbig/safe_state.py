"""An estimator's state as JSON and arrays, readable without running its code.

:mod:`kerasbig.saving` writes a fitted estimator's attributes (parameters,
classes, encoders, vocabulary, history...) with :func:`encode` and reads them
back with :func:`decode`. Unlike pickle, reading never calls a function named
by the file: values are rebuilt from a few plain forms, each a JSON object
with one marker key:

==========================  ==================================================
``{"__dict__": {...}}``     a dict with string keys (other keys: ``__items__``)
``{"__tuple__": [...]}``    a tuple (also ``__set__``, ``__frozenset__``)
``{"__array__": "a3"}``     a NumPy array, stored in the file's ``.npz``
                            (read with ``allow_pickle=False``); object arrays
                            of strings and numbers: ``__object_array__``
``{"__scalar__": ...}``     a NumPy scalar, with its dtype; ``__dtype__``
``{"__ref__": "m:name"}``   a class or function, by its import path
``{"__object__": "m:C"}``   an instance: ``C.__new__(C)`` given its state
                            (``__setstate__``, or its ``__dict__``)
``{"__keras__": {...}}``    a Keras object (optimizer, loss...) by its config
``{"__model__": "m1"}``     a ``keras.Model``, a ``.keras`` file of its own
``{"__pickle__": "p1"}``    anything else, pickled
==========================  ==================================================

**Safe mode** (the default of :func:`kerasbig.load`) follows Keras's own:
a class or function is resolved only if it belongs to kerasbig, Keras,
KerasHub or scikit-learn (or is a Python / NumPy type), or is registered
with ``keras.saving.register_keras_serializable``; pickled values are
refused. Anything else needs ``safe_mode=False``, which imports modules
named by the file and unpickles: only for files from a trusted source.
"""

from __future__ import annotations

import importlib
import io
import pickle
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

TRUSTED_PACKAGES = ("kerasbig", "keras", "keras_hub", "keras_nlp", "sklearn")
TRUSTED_TYPE_PACKAGES = ("builtins", "numpy")  # their classes, not functions


class UnsafeContentError(ValueError):
    """The file holds something safe mode refuses to load."""


class Writer:
    """Collects the arrays, models and pickles :func:`encode` sets aside."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.models: dict[str, keras.Model] = {}
        self.pickles: dict[str, bytes] = {}

    def npz_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, **self.arrays)
        return buffer.getvalue()


class Reader:
    """What :func:`decode` reads from: arrays, a model loader and pickles."""

    def __init__(
        self,
        arrays: dict[str, np.ndarray],
        load_model: Callable[[str], keras.Model],
        pickles: dict[str, bytes],
        safe_mode: bool,
    ) -> None:
        self.arrays, self.load_model = arrays, load_model
        self.pickles, self.safe_mode = pickles, safe_mode


# ----------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------
def encode(value: Any, writer: Writer, where: str = "") -> Any:
    """``value`` as JSON-compatible data; arrays, models and pickles go to
    ``writer``. ``where`` names the value in errors (e.g. ``"classes_"``)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {
                "__dict__": {
                    k: encode(v, writer, f"{where}[{k!r}]") for k, v in value.items()
                }
            }
        return {
            "__items__": [
                [encode(k, writer, where), encode(v, writer, f"{where}[{k!r}]")]
                for k, v in value.items()
            ]
        }
    if type(value) in (list, tuple, set, frozenset):
        items = value if isinstance(value, (list, tuple)) else sorted(value, key=repr)
        encoded = [encode(v, writer, f"{where}[{i}]") for i, v in enumerate(items)]
        if isinstance(value, list):
            return encoded
        return {f"__{type(value).__name__}__": encoded}
    if isinstance(value, np.ndarray):
        return _encode_array(value, writer, where)
    if isinstance(value, np.generic):
        return {"__scalar__": value.item(), "dtype": value.dtype.str}
    if isinstance(value, np.dtype):
        return {"__dtype__": value.str}
    if isinstance(value, keras.Model):
        key = f"m{len(writer.models)}"
        writer.models[key] = value
        return {"__model__": key}
    if isinstance(value, (type, _FUNCTION_TYPES)):
        ref = _reference(value)
        if ref is not None:
            return ref
    elif _is_keras_object(value):
        return {"__keras__": keras.saving.serialize_keras_object(value)}
    else:
        state = _object_state(value)
        cls_ref = _reference(type(value))
        if state is not None and cls_ref is not None:
            return {
                "__object__": cls_ref["__ref__"],
                "registered": cls_ref.get("registered"),
                "state": encode(state, writer, where),
            }
    return _encode_pickle(value, writer, where)


_FUNCTION_TYPES = (type(len), type(encode))  # builtin and Python functions


def _encode_array(value: np.ndarray, writer: Writer, where: str) -> dict:
    if value.dtype == object:
        items = value.ravel().tolist()
        if all(isinstance(v, (str, bool, int, float)) for v in items):
            return {"__object_array__": items, "shape": list(value.shape)}
        return _encode_pickle(value, writer, where)
    key = f"a{len(writer.arrays)}"
    writer.arrays[key] = value
    return {"__array__": key}


def _reference(obj: Any) -> dict | None:
    """``{"__ref__": "module:qualname"}`` (and its Keras registered name), or
    None when ``obj`` cannot be imported back by name (a lambda, a local)."""
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or "<" in qualname:
        return None
    try:
        found = _import(module, qualname)
    except (ImportError, AttributeError):
        return None
    if found is not obj:
        return None
    ref = {"__ref__": f"{module}:{qualname}"}
    registered = keras.saving.get_registered_name(obj)
    if registered and keras.saving.get_registered_object(registered) is obj:
        ref["registered"] = registered
    return ref


def _is_keras_object(value: Any) -> bool:
    return isinstance(
        value,
        (
            keras.layers.Layer,
            keras.optimizers.Optimizer,
            keras.losses.Loss,
            keras.metrics.Metric,
            keras.initializers.Initializer,
            keras.regularizers.Regularizer,
        ),
    )


def _object_state(value: Any) -> dict | None:
    """The state pickle would keep for an instance, if it is a plain dict."""
    if type(value).__reduce_ex__ is not object.__reduce_ex__:
        return None  # the class pickles itself in its own way
    getstate = getattr(value, "__getstate__", None)
    try:
        state = getstate() if getstate is not None else vars(value)
    except TypeError:
        return None
    return dict(state) if isinstance(state, dict) else None


def _encode_pickle(value: Any, writer: Writer, where: str) -> dict:
    try:
        data = pickle.dumps(value)
    except Exception as err:
        raise TypeError(
            f"Cannot save {where or 'the value'}={value!r}: it is not plain data, "
            "an importable class or function, or a Keras object, and pickle fails "
            f"on it too ({err}). Define functions and classes at module level."
        ) from err
    key = f"p{len(writer.pickles)}"
    writer.pickles[key] = data
    return {"__pickle__": key, "where": where, "type": type(value).__qualname__}


# ----------------------------------------------------------------------
# Reading
# ----------------------------------------------------------------------
def decode(data: Any, reader: Reader) -> Any:
    """The value :func:`encode` wrote as ``data``."""
    if isinstance(data, list):
        return [decode(v, reader) for v in data]
    if not isinstance(data, dict):
        return data
    if "__dict__" in data:
        return {k: decode(v, reader) for k, v in data["__dict__"].items()}
    if "__items__" in data:
        return {decode(k, reader): decode(v, reader) for k, v in data["__items__"]}
    for name, kind in (("__tuple__", tuple), ("__set__", set)):
        if name in data:
            return kind(decode(v, reader) for v in data[name])
    if "__frozenset__" in data:
        return frozenset(decode(v, reader) for v in data["__frozenset__"])
    if "__array__" in data:
        return reader.arrays[data["__array__"]]
    if "__object_array__" in data:
        out = np.empty(len(data["__object_array__"]), dtype=object)
        out[:] = data["__object_array__"]
        return out.reshape(data["shape"])
    if "__scalar__" in data:
        return np.dtype(data["dtype"]).type(data["__scalar__"])
    if "__dtype__" in data:
        return np.dtype(data["__dtype__"])
    if "__ref__" in data:
        return resolve(data["__ref__"], data.get("registered"), reader.safe_mode)
    if "__object__" in data:
        cls = resolve(data["__object__"], data.get("registered"), reader.safe_mode)
        state = decode(data["state"], reader)
        obj = cls.__new__(cls)
        if hasattr(obj, "__setstate__"):
            obj.__setstate__(state)
        else:
            vars(obj).update(state)
        return obj
    if "__keras__" in data:
        return keras.saving.deserialize_keras_object(
            data["__keras__"], safe_mode=reader.safe_mode
        )
    if "__model__" in data:
        return reader.load_model(data["__model__"])
    if "__pickle__" in data:
        if reader.safe_mode:
            raise UnsafeContentError(
                f"The file holds a pickled {data['type']} at {data['where']}; "
                "unpickling can run arbitrary code, so kerasbig.load refuses it "
                "in safe mode. Pass safe_mode=False only if you trust the file's "
                "source."
            )
        return pickle.loads(reader.pickles[data["__pickle__"]])
    raise ValueError(f"Unknown entry in the saved state: {sorted(data)}.")


def resolve(ref: str, registered: str | None, safe_mode: bool) -> Any:
    """The class or function ``"module:qualname"`` names, if safe mode allows."""
    module, _, qualname = ref.partition(":")
    if registered:
        found = keras.saving.get_registered_object(registered)
        if found is not None:
            return found
    package = module.split(".")[0]
    if safe_mode and package not in TRUSTED_PACKAGES:
        if package in TRUSTED_TYPE_PACKAGES:
            obj = _import(module, qualname)
            if isinstance(obj, type):
                return obj
        raise UnsafeContentError(
            f"The file refers to {module}.{qualname}, which is neither part of "
            "kerasbig, Keras, KerasHub or scikit-learn nor registered with "
            "keras.saving.register_keras_serializable; safe mode does not import "
            "it. Register it (and import its module before loading), or pass "
            "safe_mode=False only if you trust the file's source."
        )
    try:
        return _import(module, qualname)
    except (ImportError, AttributeError) as err:
        raise ValueError(
            f"The file refers to {module}.{qualname}, which cannot be imported "
            f"here ({err}). Make it importable (functions defined in a script "
            "run as __main__ are not), then load again."
        ) from err


def _import(module: str, qualname: str) -> Any:
    obj = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj
