"""How the estimator calls ``keras.Model.fit``.

:meth:`Training._train` is the last step of a fit: the arguments of
``keras.Model.fit`` (parameters, ``fit__`` ones, the call's own, then the
estimator's callbacks: a subclass's ``_extra_callbacks``, the divergence
guard, the checkpoint backup), the data placed and streamed as
``distribution=`` needs, and the call itself with its out-of-memory and
divergence reports. :class:`Training` is a mixin of
:class:`~kerasbig.base.BaseKerasEstimator`.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from kerasbig import (
    _compat,
    compiling,
    distribute,
    encoders,
    guards,
    multistep,
    resume,
    reuse,
    streaming,
)
from kerasbig.routing import route


def holds_callback_instance(obj: Any) -> bool:
    """Whether ``obj`` (callbacks as parameters give them) holds a
    ``keras.callbacks.Callback`` instance rather than only classes."""
    if isinstance(obj, keras.callbacks.Callback):
        return True
    if isinstance(obj, dict):
        obj = list(obj.values())
    if isinstance(obj, (list, tuple)):
        return any(holds_callback_instance(item) for item in obj)
    return False


def one_epoch_kwargs(kwargs: dict) -> dict:
    """``partial_fit``'s keyword arguments for ``keras.Model.fit``; one call
    trains one epoch, so ``epochs`` and ``initial_epoch`` are refused."""
    for name in ("epochs", "initial_epoch"):
        if name in kwargs:
            raise TypeError(
                f"Invalid argument {name}={kwargs[name]!r} to partial_fit: each "
                "call trains exactly one epoch. Call it again for more, or use "
                "fit(X, y, epochs=...)."
            )
    return kwargs


def _is_array(data: Any) -> bool:
    return isinstance(data, np.ndarray)


class Training:
    """``keras.Model.fit``'s arguments and the call, for one fit."""

    def _fit_args(self, n_rows: int, epochs: int | None, fit_kwargs) -> dict:
        """Arguments of ``keras.Model.fit``: parameters, ``fit__`` ones, call ones.

        The callbacks are ``callbacks`` and ``fit__callbacks`` (as in scikeras),
        or those of the call, plus the estimator's own. A callback given as an
        instance keeps ``callback.model``: the model is marked escaped, never
        reused (:mod:`kerasbig.reuse`).
        """
        routed = route(self._free_and_routed(), "fit")
        if holds_callback_instance((self.callbacks, routed, fit_kwargs)):
            reuse.mark_escaped(self._model)
        fit_args = {
            "batch_size": self.batch_size,
            "epochs": self.epochs,
            "verbose": self.verbose,
            "validation_split": self.validation_split,
            "shuffle": self.shuffle,
            "validation_batch_size": self.validation_batch_size,
            **routed,
            "callbacks": self._callbacks(routed.get("callbacks")),
            **(fit_kwargs or {}),
            **({} if epochs is None else {"epochs": epochs}),  # partial_fit: 1
        }
        for name in ("batch_size", "validation_batch_size"):
            if fit_args.get(name) == -1:
                fit_args[name] = n_rows
        extra = self._extra_callbacks(fit_args)
        mine = compiling.make_callbacks(fit_args["callbacks"], {})
        fit_args["callbacks"] = [
            *mine,
            *extra,
            *guards.guard_for(self),
            *resume.backup_for(self, fit_args, n_rows, one_epoch=epochs is not None),
        ]
        return fit_args

    def _callbacks(self, for_this_method) -> list:
        """``callbacks`` (with their routed arguments), then ``fit__callbacks``
        or ``predict__callbacks``."""
        routed = route(self._free_and_routed(), "callbacks")
        return [
            *compiling.make_callbacks(self.callbacks, routed),
            *compiling.make_callbacks(for_this_method, {}),
        ]

    def _train(self, model, X, y, sample_weight, epochs, fit_kwargs):
        placement = self.__dict__.get("_placement")
        encoders.check_plain_arrays(X, y, placement)
        fit_args = self._fit_args(encoders.n_rows(X), epochs, fit_kwargs)
        X, y, sample_weight, fit_args = distribute.prepare_fit(
            X, y, sample_weight, fit_args, placement
        )
        steps = multistep.steps_for(model, fit_args, placement)
        with distribute.placed(placement), multistep.running(model, steps):
            if placement is None and _is_array(X) and _is_array(y):
                # the same shuffled order whatever the model's history (_compat)
                weights = None if sample_weight is None else sample_weight[:1]
                _compat.build_training_state(model, X[:1], y[:1], weights)
            X, y, sample_weight, fit_args = streaming.prepare(
                X, y, sample_weight, fit_args, placement
            )
            batch_size = fit_args.get("batch_size")
            with guards.reporting_out_of_memory(self, "fit", batch_size):
                history = model.fit(x=X, y=y, sample_weight=sample_weight, **fit_args)
            guards.raise_if_diverged(fit_args["callbacks"], self, fit_args)
            distribute.agree_on_replica_state(model, placement)
            return history

    def _extra_callbacks(self, fit_args: dict) -> list:
        """Callbacks the estimator adds to the user's for this fit."""
        return []
