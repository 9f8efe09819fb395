"""Several training steps per call when nothing watches single steps.

``keras.Model.fit`` runs one compiled call per batch and dispatches the
batch-level callbacks after each: for a small network on a CPU that costs
more than the step itself (about 1 ms a batch for a 50-64-3 MLP). Keras can
run ``steps_per_execution`` batches in one call instead (a loop inside the
compiled function on TensorFlow, a loop of compiled steps on JAX); the steps,
their order, the random draws and so the trained weights are exactly the same,
only the batch-level callbacks are called every ``steps_per_execution``
batches instead of every batch.

So when no callback of a fit looks at single batches (each one leaves
``on_train_batch_*``, ``on_test_batch_*`` and ``on_batch_*`` to
:class:`keras.callbacks.Callback`, as ``History`` and ``EarlyStopping`` do),
no progress bar is drawn per batch, the model runs on the default device and
eagerly is off, :func:`running` sets the model's ``steps_per_execution`` to
:data:`STEPS_PER_CALL` for that fit. A callback of kerasbig's own may declare
that it only needs to see every call's last batch with a class attribute
``watches_single_batches = False``.

The model leaves the fit as it came: its ``steps_per_execution`` and the
train and test functions Keras traced for it are put back, and the functions
traced for the multi-step fit are kept aside for the model's next fit (so a
model reused across folds by :mod:`kerasbig.reuse` traces once), on the model
itself: they refer to the model, so a cache outside it would keep every model
alive. They are used again only while the model keeps the optimizer and the
compile settings they were traced with (a new ``compile`` traces anew). A user who
calls ``est.model_.fit`` gets Keras's own behaviour. A model compiled with a
``steps_per_execution`` of its own keeps it.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from typing import Any

import keras

__all__ = ["STEPS_PER_CALL", "running", "steps_for"]

STEPS_PER_CALL = 32

_BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
)
# The attribute of a model that keeps its multi-step functions.
_CACHE = "_kerasbig_multistep_functions"


@dataclasses.dataclass(eq=False)
class _Traced:
    """A model's train and test functions traced for several steps per call,
    with what they were traced against (a new ``compile`` replaces both)."""

    optimizer: Any
    compile_config: Any
    train_function: Any
    test_function: Any


def _compile_config(model: keras.Model) -> Any:
    try:
        return model.get_compile_config()
    except Exception:  # a setting Keras cannot serialize: the optimizer decides
        return None


def _cached(model: keras.Model, compile_config: Any) -> tuple:
    traced = model.__dict__.get(_CACHE)
    if (
        traced is None
        or traced.optimizer is not model.optimizer
        or traced.compile_config != compile_config
    ):
        return None, None
    return traced.train_function, traced.test_function


def watches_single_batches(callback: Any) -> bool:
    """True when ``callback`` overrides a batch-level hook of
    :class:`keras.callbacks.Callback` (and does not declare it harmless).

    Examples
    --------
    >>> import keras
    >>> watches_single_batches(keras.callbacks.EarlyStopping())
    False
    >>> watches_single_batches(keras.callbacks.ModelCheckpoint("m.keras"))
    True
    """
    declared = getattr(callback, "watches_single_batches", None)
    if declared is not None:
        return bool(declared)
    cls = type(callback)
    return any(
        getattr(cls, hook, None) is not getattr(keras.callbacks.Callback, hook)
        for hook in _BATCH_HOOKS
    )


def steps_for(model: keras.Model, fit_args: dict, placement: Any) -> int:
    """The ``steps_per_execution`` this fit runs with: :data:`STEPS_PER_CALL`
    when nothing needs single steps, else the model's own."""
    own = getattr(model, "steps_per_execution", 1)
    if own != 1 or placement is not None or getattr(model, "run_eagerly", False):
        return own
    if fit_args.get("verbose", "auto") not in (0, 2, False):
        return own  # a per-batch progress bar ("auto" is 1 in fit)
    if any(watches_single_batches(cb) for cb in fit_args.get("callbacks") or []):
        return own
    return STEPS_PER_CALL


@contextlib.contextmanager
def running(model: keras.Model, steps: int) -> Iterator[None]:
    """Within the block, ``model`` runs ``steps`` batches per call; on leaving
    it, its own setting and traced functions are back."""
    own = model.steps_per_execution
    if steps == own:
        yield
        return
    saved = (model.train_function, model.test_function)
    # Read once per fit: serializing the compile config costs milliseconds.
    compile_config = _compile_config(model)
    model.train_function, model.test_function = _cached(model, compile_config)
    model.steps_per_execution = steps
    try:
        yield
    finally:
        traced = _Traced(
            model.optimizer,
            compile_config,
            model.train_function,
            model.test_function,
        )
        object.__setattr__(model, _CACHE, traced)  # no Keras attribute tracking
        model.steps_per_execution = own
        model.train_function, model.test_function = saved
