"""Reuse a compiled model, and the training and prediction functions Keras traced
for it, across fits of the same architecture.

Cross-validation and grid search fit many clones of one estimator; each builds
the same network, and Keras traces (TensorFlow) or compiles (JAX) the same train
step again, which costs more than a few epochs of a small model. Here a model
whose estimator has been garbage-collected waits in a small pool; the next fit
of the same architecture (same layer configuration and wiring, same compile
settings, layer names aside) takes it over instead of the one it just built:

1. the estimator builds and compiles its model as always (no tracing yet), so
   the weights, the random-seed states of dropout layers and the optimizer are
   exactly those a fresh fit starts from under the same ``random_state``;
2. :func:`take` copies that state (every model variable, and the optimizer's
   freshly built variables) into the pooled model and returns the pooled one,
   whose traced functions Keras then reuses;
3. :func:`own` ties the model to its estimator; when the estimator is
   garbage-collected, the model goes back to the pool.

A model someone else may still hold is never reused: reading ``est.model_``
from outside the estimator marks the model *escaped* (:func:`mark_escaped`),
and so does a fit given callback instances (which keep ``callback.model``).
Only models placed on the default device are pooled (no ``distribution=``).
``KERASBIG_REUSE_MODELS=0`` in the environment, or :func:`disabled`, turns the
pool off; results are the same either way, only slower.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

import keras

from kerasbig import startup

__all__ = ["disabled", "mark_escaped", "own", "take"]

SUPPORTED_BACKENDS = ("tensorflow", "jax")
MAX_IDLE = 4  # idle models kept, over all architectures; the oldest go first

_lock = threading.Lock()
_idle: OrderedDict[int, tuple[str, keras.Model]] = OrderedDict()
_keys: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # model -> key
_escaped: weakref.WeakSet = weakref.WeakSet()
_owners: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # est -> holder
_enabled = [os.environ.get("KERASBIG_REUSE_MODELS", "1") != "0"]


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Within the block, every fit uses the model it builds (and the pool is
    emptied), e.g. to compare with reuse on."""
    previous = _enabled[0]
    _enabled[0] = False
    with _lock:
        _idle.clear()
    try:
        yield
    finally:
        _enabled[0] = previous


def take(fresh: keras.Model) -> keras.Model:
    """``fresh`` (built and compiled, untrained), or an idle model of the same
    architecture set to ``fresh``'s initial state."""
    if not _enabled[0] or keras.backend.backend() not in SUPPORTED_BACKENDS:
        return fresh
    key = architecture_key(fresh)
    if key is None:
        return fresh
    with _lock:
        donor_id = next((i for i, (k, _) in _idle.items() if k == key), None)
        donor = None if donor_id is None else _idle.pop(donor_id)[1]
    if donor is None or not _set_state(donor, fresh):
        _keys[fresh] = key
        return fresh
    _keys[donor] = key
    return donor


def own(estimator: Any, model: keras.Model) -> None:
    """Record that ``model`` is ``estimator``'s; it returns to the pool (if it
    came from :func:`take` and has not escaped) when the estimator dies."""
    holder = _owners.get(estimator)
    if holder is None:
        holder = _Holder()
        _owners[estimator] = holder
        weakref.finalize(estimator, _release, holder)
    holder.model = model


def mark_escaped(model: Any) -> None:
    """``model`` may be referenced outside its estimator: never reuse it."""
    if isinstance(model, keras.Model):
        _escaped.add(model)


class _Holder:
    model: keras.Model | None = None


def _release(holder: _Holder) -> None:
    model, holder.model = holder.model, None
    if model is None or model in _escaped or not _enabled[0]:
        return
    key = _keys.get(model)
    if key is None:
        return
    with _lock:
        _idle[id(model)] = (key, model)
        while len(_idle) > MAX_IDLE:
            _idle.popitem(last=False)


# ----------------------------------------------------------------------
# Same architecture, same starting state
# ----------------------------------------------------------------------
def _quiet_tensorflow() -> None:
    """On JAX, Keras' serialization imports TensorFlow when it is installed:
    import it first without its start-up lines."""
    if keras.backend.backend() != "tensorflow":
        with contextlib.suppress(ImportError):
            startup.import_tensorflow_quietly()


def architecture_key(model: keras.Model) -> str | None:
    """The model's configuration and compile settings with layer names replaced
    by their order of appearance; None when the model has no configuration
    (a subclassed model without ``get_config``)."""
    _quiet_tensorflow()  # Keras' get_config imports TensorFlow if installed
    try:
        config = {
            "model": type(model).__qualname__,
            "config": model.get_config(),
            "compile": model.get_compile_config(),
            "inputs": [(tuple(x.shape), str(x.dtype)) for x in _inputs(model)],
        }
        names: dict[str, str] = {}
        return json.dumps(_rename(config, names), sort_keys=True, default=repr)
    except Exception:  # noqa: BLE001 - any failure just means "do not pool"
        return None


def _inputs(model: keras.Model) -> list:
    try:
        return list(model.inputs or [])
    except (AttributeError, ValueError):
        return []


_NAME_LISTS = ("keras_history", "input_layers", "output_layers")


def _rename(obj: Any, names: dict[str, str], key: str | None = None) -> Any:
    """``obj`` with each layer/model name replaced by ``#<first appearance>``."""

    def canonical(name: str) -> str:
        return names.setdefault(name, f"#{len(names)}")

    if isinstance(obj, dict):
        return {k: _rename(v, names, k) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        if key in _NAME_LISTS:
            return _rename_refs(obj, canonical)
        return [_rename(v, names) for v in obj]
    if key == "name" and isinstance(obj, str):
        return canonical(obj)
    return obj


def _rename_refs(refs: Any, canonical) -> Any:
    """``["dense", 0, 0]`` -> ``["#3", 0, 0]``, in nested lists as well."""
    if isinstance(refs, (list, tuple)):
        if refs and isinstance(refs[0], str):
            return [canonical(refs[0]), *refs[1:]]
        return [_rename_refs(r, canonical) for r in refs]
    return refs


def _set_state(donor: keras.Model, fresh: keras.Model) -> bool:
    """Copy ``fresh``'s variables (seed states included) and a freshly built
    optimizer's variables into ``donor``; False if their shapes differ."""
    pairs = list(zip(donor.variables, fresh.variables))
    if len(donor.variables) != len(fresh.variables) or not _same_shapes(pairs):
        return False
    donor_opt, fresh_opt = donor.optimizer, fresh.optimizer
    if fresh_opt is not None and donor_opt is not None:
        if not fresh_opt.built:
            fresh_opt.build(fresh.trainable_variables)
        if not donor_opt.built:
            donor_opt.build(donor.trainable_variables)
        opt_pairs = list(zip(donor_opt.variables, fresh_opt.variables))
        if len(donor_opt.variables) != len(fresh_opt.variables) or not _same_shapes(
            opt_pairs
        ):
            return False
        pairs += opt_pairs
    for target, source in pairs:
        target.assign(source.value)
    donor.stop_training = False
    return True


def _same_shapes(pairs) -> bool:
    return all(
        tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype for a, b in pairs
    )
