"""Turn the estimator's compile parameters into fresh Keras objects.

``optimizer``, ``loss``, ``metrics`` and ``callbacks`` may each be given as a
name (``"adam"``), a class (``keras.optimizers.Adam``) or an instance. Every fit
gets new objects built from them with their routed arguments
(``optimizer__learning_rate=1e-3``), so a parameter is never mutated by ``fit``
and an optimizer's state never leaks from one model to the next.
"""

from __future__ import annotations

import inspect
import re
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import keras

from kerasbig.parameters import Satisfies
from kerasbig.routing import SEPARATOR, route, split_item_args


def _camel_lookup(module, name: str):
    """Find the class in ``module`` whose name matches ``name`` ignoring case/_."""
    wanted = name.replace("_", "").lower()
    for attr in dir(module):
        obj = getattr(module, attr)
        if inspect.isclass(obj) and attr.lower() == wanted:
            return obj
    return None


def _from_spec(
    spec: Any,
    args: Mapping[str, Any],
    *,
    kind: str,
    module,
    getter: Callable[[Any], Any],
    keep_plain_strings: bool = False,
    defaults: Mapping[str, Any] | None = None,
):
    """Build one Keras object from a name, class or instance plus arguments.

    ``defaults`` apply only to objects built here from a name or a class, and
    only those arguments of them that the class accepts.
    """
    if isinstance(spec, str):
        if not args and not defaults and keep_plain_strings:
            _check_known_name(spec, kind, module, getter)
            return spec  # let Keras resolve it (e.g. "accuracy" by the loss)
        cls = _camel_lookup(module, spec)
        if cls is None:
            try:
                obj = getter(spec)
            except (ValueError, TypeError) as err:
                raise ValueError(
                    f"{kind}={spec!r} is not a known Keras {kind}: {err}"
                ) from None
            # An alias such as "mse" resolves to a function (or a wrapper of
            # one, mean_squared_error): find the class of the same name.
            function = getattr(obj, "fn", obj)
            cls = _camel_lookup(module, getattr(function, "__name__", ""))
            if cls is None and inspect.isclass(obj):
                cls = obj
            if cls is None:
                if not args:
                    return obj  # a plain function: nothing to configure
                raise ValueError(
                    f"{kind}={spec!r} resolves to a function, which takes no "
                    f"arguments, but {kind}__ arguments {sorted(args)} were "
                    "given. Name the class instead, e.g. 'MeanSquaredError'."
                )
        return _call(cls, args, kind, spec, defaults)
    if inspect.isclass(spec):
        return _call(spec, args, kind, spec.__name__, defaults)
    if kind == "loss" and not args:
        return spec  # losses hold no state; some drop arguments in get_config
    if hasattr(spec, "get_config") and hasattr(type(spec), "from_config"):
        config = {**spec.get_config(), **args}
        try:
            return type(spec).from_config(config)
        except (TypeError, ValueError) as err:
            raise ValueError(
                f"Could not rebuild {kind} {type(spec).__name__} with arguments "
                f"{sorted(args)}: {err}"
            ) from None
    if args:
        raise ValueError(
            f"{kind}={spec!r} cannot take the routed arguments {sorted(args)}: it "
            "is neither a name, a class nor a Keras object with get_config."
        )
    return spec  # e.g. a plain loss function


# Names Keras resolves by the loss at compile time, not through its getter.
_RESOLVED_BY_LOSS = ("accuracy", "acc", "crossentropy", "ce")


def _check_known_name(spec: str, kind: str, module, getter) -> None:
    """A name left for Keras to resolve must be one it knows: an unknown one
    would otherwise fail at the first training step, deep inside Keras."""
    if spec in _RESOLVED_BY_LOSS or _camel_lookup(module, spec) is not None:
        return
    try:
        getter(spec)
    except (ValueError, TypeError):
        raise ValueError(
            f"{kind}={spec!r} is not a known Keras {kind} name; expected a name "
            f"such as 'accuracy' or 'mae' (see keras.{kind}), a class or an "
            "instance."
        ) from None


def _accepts(cls, name: str) -> bool:
    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _call(cls, args, kind, label, defaults=None):
    """``cls(*positional, **keywords)``: routed arguments named by a digit
    (``callbacks__log__0``) are positional, in the order of their index."""
    usable = {k: v for k, v in (defaults or {}).items() if _accepts(cls, k)}
    args = {**usable, **_nested(args, kind)}
    digits = sorted((int(k), v) for k, v in args.items() if str(k).isdigit())
    keywords = {k: v for k, v in args.items() if not str(k).isdigit()}
    try:
        return cls(*(v for _, v in digits), **keywords)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"The {kind} {label} rejected the routed arguments "
            f"{ {f'{kind}__{k}': v for k, v in args.items()} }: {err}"
        ) from None


def _nested(args: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """Arguments with ``__`` inside build the class they name: with
    ``optimizer__learning_rate=ExponentialDecay`` and
    ``optimizer__learning_rate__decay_steps=100``, the optimizer gets
    ``learning_rate=ExponentialDecay(decay_steps=100, ...)``. Deeper names for
    an argument that is not a class reach nothing (a warning says so)."""
    plain = {k: v for k, v in args.items() if SEPARATOR not in str(k)}
    deeper = {k: v for k, v in args.items() if SEPARATOR in str(k)}
    for head in {str(k).partition(SEPARATOR)[0] for k in deeper}:
        own = route(deeper, head)
        if inspect.isclass(plain.get(head)):
            plain[head] = _call(plain[head], own, kind, plain[head].__name__)
        else:
            unused = sorted(f"{kind}__{head}__{k}" for k in own)
            warnings.warn(
                f"{unused} reach nothing: {kind}__{head} is not a class to "
                "build with them, so they are not passed on.",
                UserWarning,
                stacklevel=2,
            )
    return plain


def _collection(spec, args, **kw):
    """Build a list/dict of objects, or a single one, with per-item arguments."""
    if isinstance(spec, (list, tuple)):
        return [
            _from_spec(item, split_item_args(args, i), **kw)
            for i, item in enumerate(spec)
        ]
    if isinstance(spec, dict):
        return {
            key: _collection(item, split_item_args(args, key), **kw)
            for key, item in spec.items()
        }
    return _from_spec(spec, args, **kw)


def _no_none_item(loss) -> bool:
    items = loss.values() if isinstance(loss, dict) else loss
    return not isinstance(loss, (list, tuple, dict)) or all(
        item is not None for item in items
    )


# What ``optimizer`` and ``loss`` accept, checked before any work.
CONSTRAINTS = {
    "optimizer": [
        Satisfies(
            lambda value: value is not None,
            "an optimizer's name, class or instance. You must provide an optimizer",
        )
    ],
    "loss": [
        Satisfies(
            _no_none_item,
            "None, 'auto', or a loss; in a list or dict of losses, provide a loss "
            "for every output",
        )
    ],
}


# How each kind of object is looked up by name: its module, Keras' getter,
# whether a bare name is left for Keras to resolve, and default arguments.
_KINDS = {
    "optimizer": dict(module=keras.optimizers, getter=keras.optimizers.get),
    "loss": dict(
        module=keras.losses,
        getter=keras.losses.get,
        keep_plain_strings=True,
        defaults={"reduction": "mean_with_sample_weight"},
    ),
    "metrics": dict(
        module=keras.metrics, getter=keras.metrics.get, keep_plain_strings=True
    ),
}


def make_optimizer(
    spec, args: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
):
    """A new optimizer instance from ``optimizer`` and ``optimizer__`` args.

    ``defaults``: arguments for an optimizer built here from a name or a
    class (those it accepts), under the routed ones; an instance keeps its
    own settings.
    """
    return _from_spec(
        spec, args, kind="optimizer", defaults=defaults, **_KINDS["optimizer"]
    )


def make_loss(spec, args: Mapping[str, Any]):
    """The loss (a name, function or new instance) for ``compile``.

    A loss named by string or class is built with
    ``reduction="mean_with_sample_weight"`` (unless ``loss__reduction`` says
    otherwise): weighted batches are averaged by their total weight, so
    sample weights act by their ratios only, and weighting a row by ``k`` is
    the same as repeating it ``k`` times within a batch.
    """
    return _collection(spec, args, kind="loss", **_KINDS["loss"])


def make_metrics(spec, args: Mapping[str, Any]):
    """New metric objects (or names Keras resolves itself) for ``compile``.

    One metric (a name, class or object) is taken as a list of one.
    """
    if spec is None:
        return None
    if not isinstance(spec, (list, tuple, dict)):
        spec = [spec]
    return _collection(spec, args, kind="metrics", **_KINDS["metrics"])


def history_key(key: str) -> str:
    """The full name of a metric in Keras' history (``"mae"`` ->
    ``"mean_absolute_error"``), as scikeras reports it; ``loss`` and
    ``val_`` keys, and names Keras does not know, stay as they are.

    Examples
    --------
    >>> history_key("mae"), history_key("val_mae"), history_key("my_metric")
    ('mean_absolute_error', 'val_mae', 'my_metric')
    """
    if key == "loss" or key.startswith("val_"):
        return key
    try:
        metric = keras.metrics.get(key)
    except (ValueError, TypeError):
        return key
    if isinstance(metric, keras.metrics.Metric):
        words = re.sub(r"(?<!^)(?=[A-Z][a-z])", "_", type(metric).__name__)
        return words.lower()
    return getattr(metric, "__name__", key)


def make_callbacks(spec, args: Mapping[str, Any]) -> list:
    """Callback objects for ``fit``.

    ``spec`` is one callback, a list of them, or a dict naming them. Classes
    are instantiated with the ``callbacks__`` arguments (``callbacks__0__x``
    or ``callbacks__<name>__x`` for one item; a digit names a positional
    argument). Instances are used as given, as Keras does, so a callback that
    records something can be inspected after ``fit``.
    """
    if spec is None:
        return []
    if isinstance(spec, dict):
        items = list(spec.items())
    else:
        items = list(enumerate(spec if isinstance(spec, (list, tuple)) else [spec]))
    out = []
    for key, item in items:
        item_args = split_item_args(args, key)
        if inspect.isclass(item):
            out.append(_call(item, item_args, "callbacks", item.__name__))
        elif isinstance(item, keras.callbacks.Callback):
            if item_args:
                raise ValueError(
                    f"callbacks[{key!r}] is an instance ({type(item).__name__}); "
                    f"routed arguments {sorted(item_args)} apply only to callback "
                    "classes. Pass the class instead."
                )
            out.append(item)
        else:
            raise TypeError(
                f"callbacks[{key!r}]={item!r} is not a keras.callbacks.Callback "
                "instance or class."
            )
    return out


def compile_kwargs(
    optimizer,
    loss,
    metrics,
    run_eagerly,
    params,
    optimizer_defaults: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """``keras.Model.compile`` arguments from an estimator's parameters.

    ``params`` holds the routed parameters (``optimizer__``, ``loss__``,
    ``metrics__``, ``compile__``). The loss is None when it is to be chosen
    from the target (``loss=None`` or ``"auto"``). ``optimizer_defaults``:
    see :func:`make_optimizer`.
    """
    return {
        "optimizer": make_optimizer(
            optimizer, route(params, "optimizer"), optimizer_defaults
        ),
        "loss": make_loss(loss, route(params, "loss"))
        if loss not in (None, "auto")
        else None,
        "metrics": make_metrics(metrics, route(params, "metrics")),
        "run_eagerly": run_eagerly,
        **route(params, "compile"),
    }


def compile_model(model, kwargs: dict, default_loss: Callable[[], Any]) -> None:
    """Compile ``model`` with ``kwargs`` unless its builder compiled it.

    ``default_loss()`` gives the loss when ``kwargs`` has none (it may give
    None: the model can predict, and :func:`check_has_loss` stops training).
    """
    if not getattr(model, "compiled", False):
        if kwargs["loss"] is None:
            kwargs = {**kwargs, "loss": default_loss()}
        model.compile(**kwargs)


def check_has_loss(model) -> None:
    """Before training: the model must have a loss."""
    if getattr(model, "loss", None) is None:
        raise ValueError(
            "The model has no loss to train with: provide a loss, with loss= "
            "or by compiling the model in its builder (compile_kwargs['loss'] "
            "is None while the estimator's loss is None or 'auto', or while a "
            "custom target_encoder decides what the model's outputs are)."
        )


def loss_name(loss) -> str | None:
    """The snake-case name of a loss given as a name, class, instance or
    function (aliases resolved: ``"mse"`` -> ``"mean_squared_error"``); None
    for a list or dict of losses.

    Examples
    --------
    >>> loss_name("kld"), loss_name(keras.losses.CategoricalCrossentropy)
    ('kl_divergence', 'categorical_crossentropy')
    """
    if isinstance(loss, str):
        try:
            loss = keras.losses.get(loss)
        except (ValueError, TypeError):
            return loss
    elif isinstance(loss, type):
        try:
            loss = loss()
        except TypeError:  # a class that needs arguments: its own name
            pass
    elif not callable(loss):
        return None  # a list or dict of losses
    if isinstance(loss, keras.losses.Loss):
        loss = getattr(loss, "fn", type(loss))
    name = getattr(loss, "__name__", type(loss).__name__)
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower().replace("__", "_")


def check_same_loss(model, loss, default) -> None:
    """A ``loss=`` the user set must be the loss the model was compiled with
    (a builder that compiles its model would otherwise override it silently)."""
    compared = (str, type, keras.losses.Loss)  # as scikeras: no functions
    if loss in (None, "auto") or not isinstance(loss, compared):
        return
    if not isinstance(getattr(model, "loss", None), compared):
        return
    given, got = loss_name(loss), loss_name(model.loss)
    if given != loss_name(default) and given != got:
        raise ValueError(
            f"loss={loss!r} but model compiled with {model.loss!r}: the "
            "model-building function compiled the model with another loss. "
            "Drop one of them: leave the compiling to the estimator (return "
            "the model uncompiled), or leave loss at its default."
        )
