"""Parameter routing by prefix: the one place that says where a parameter goes.

An estimator parameter named ``<destination>__<argument>`` is delivered to one
destination as ``argument``:

============  ==============================================================
prefix        destination
============  ==============================================================
``model``     the model-building callable (as a keyword argument)
``optimizer`` the optimizer's constructor
``loss``      the loss's constructor
``metrics``   each metric's constructor
``callbacks`` each callback's constructor
``compile``   ``keras.Model.compile``
``fit``       ``keras.Model.fit``
``predict``   ``keras.Model.predict``
============  ==============================================================

For a list (or dict) of losses, metrics or callbacks, ``metrics__0__name``
(or ``metrics__auc__name``) reaches only the item at that index (or key);
``metrics__name`` reaches every item.

Parameters without a prefix that are not constructor parameters of the
estimator are free hyperparameters: they go to the model-building callable,
like ``model__`` ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DESTINATIONS = (
    "model",
    "optimizer",
    "loss",
    "metrics",
    "callbacks",
    "compile",
    "fit",
    "predict",
)

SEPARATOR = "__"


def destination_of(name: str) -> str | None:
    """Return the routing destination of ``name``, or None if it has no prefix."""
    prefix, sep, _ = name.partition(SEPARATOR)
    return prefix if sep else None


def check_routed_names(names) -> None:
    """Raise ValueError for a ``prefix__argument`` name whose prefix is unknown."""
    for name in names:
        prefix = destination_of(name)
        if prefix is not None and prefix not in DESTINATIONS:
            raise ValueError(
                f"Unknown routing prefix {prefix!r} in parameter {name!r}. "
                f"Expected one of {', '.join(p + '__' for p in DESTINATIONS)}."
            )
        if prefix is not None and not name[len(prefix) + 2 :]:
            raise ValueError(
                f"Parameter {name!r} names the destination {prefix!r} but no "
                "argument after the '__'."
            )


def route(params: Mapping[str, Any], destination: str) -> dict[str, Any]:
    """Return the parameters addressed to ``destination``, prefix removed.

    Examples
    --------
    >>> route({"optimizer__learning_rate": 0.1, "fit__verbose": 0}, "optimizer")
    {'learning_rate': 0.1}
    """
    head = destination + SEPARATOR
    return {k[len(head) :]: v for k, v in params.items() if k.startswith(head)}


def hyperparameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Arguments for the model-building function: free and ``model__`` ones.

    Examples
    --------
    >>> hyperparameters({"hidden": 8, "model__depth": 2, "fit__verbose": 0})
    {'hidden': 8, 'depth': 2}
    """
    free = {k: v for k, v in params.items() if destination_of(k) is None}
    return {**free, **route(params, "model")}


def split_item_args(args: Mapping[str, Any], key: Any) -> dict[str, Any]:
    """Arguments for one item of a list/dict destination.

    ``args`` are the routed arguments of the destination (prefix removed).
    Arguments of the form ``<key>__<arg>`` apply to the item with that index or
    key only; plain ``<arg>`` applies to every item.
    """
    shared = {k: v for k, v in args.items() if SEPARATOR not in k}
    own = route(args, str(key))
    return {**shared, **own}
