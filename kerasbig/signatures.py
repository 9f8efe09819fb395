"""Constructor signatures, each parameter defined once.

scikit-learn reads an estimator's parameters from the signature of its
``__init__``, which must list every parameter by name. kerasbig's estimators
share about twenty training parameters, and each model family takes every
keyword argument of its builder. Rather than repeating those lists in six
``__init__`` methods, each is written out once, as a real signature:

* the training parameters, in :meth:`kerasbig.base.BaseKerasEstimator.__init__`;
* the architecture parameters, in the family's pure-Keras builder
  (``build_cnn``, ``build_rnn``, ``build_transformer``).

:func:`make_init` composes such parameter lists into an ``__init__`` whose
``__signature__`` is the explicit, complete list (what ``inspect.signature``,
``help()`` and scikit-learn see) and whose body only stores the arguments.
``tests/test_signatures.py`` checks that every estimator shares the training
parameters and their defaults.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from kerasbig.routing import DESTINATIONS, destination_of

Parameter = inspect.Parameter


def store_params(estimator: Any, arguments: Mapping[str, Any]) -> None:
    """Store constructor arguments as attributes, the ``**kwargs`` in ``_kwargs``.

    ``arguments`` is ``locals()`` of an ``__init__`` (or the bound arguments
    of a composed one): ``self`` is skipped, nothing is checked or changed.
    """
    for name, value in arguments.items():
        if name not in ("self", "kwargs", "__class__"):
            setattr(estimator, name, value)
    estimator._kwargs = dict(arguments.get("kwargs", {}))


def split_routed_params(estimator: Any, params: Mapping[str, Any]) -> dict[str, Any]:
    """Store free and routed parameters in ``_kwargs``; return the others.

    A name that is neither a constructor parameter, a free hyperparameter
    given at construction, nor a routed ``<prefix>__<argument>`` raises.
    """
    own = set(estimator._get_param_names())
    plain = {}
    for key, value in params.items():
        routed = destination_of(key) in DESTINATIONS
        if key in own and routed:  # declared by a subclass: not a nested estimator
            setattr(estimator, key, value)
        elif key in own:
            plain[key] = value
        elif key in estimator._kwargs or routed:
            estimator._kwargs[key] = value
        else:
            raise ValueError(
                f"Invalid parameter {key} for estimator {type(estimator).__name__}. "
                f"Valid parameters are {sorted(own)}, the free hyperparameters "
                f"given at construction {sorted(estimator._kwargs)}, or a routed "
                f"name '<prefix>__<argument>' with prefix in {DESTINATIONS}. This "
                "issue can likely be resolved by setting this parameter in the "
                f"constructor: {type(estimator).__name__}({key}=...)."
            )
    return plain


def parameters_of(
    function: Callable[..., Any],
    *,
    exclude: Iterable[str] = (),
    defaults: Mapping[str, Any] | None = None,
    keyword_only: bool = False,
) -> list[Parameter]:
    """The named parameters of ``function`` (``self``, ``*args``, ``**kw`` left out).

    ``defaults`` replaces the default of the parameters it names;
    ``keyword_only`` turns them all into keyword-only parameters.
    """
    exclude, defaults = set(exclude), dict(defaults or {})
    out = []
    for p in inspect.signature(function).parameters.values():
        if p.name == "self" or p.name in exclude:
            continue
        if p.kind in (Parameter.VAR_POSITIONAL, Parameter.VAR_KEYWORD):
            continue
        if p.name in defaults:
            p = p.replace(default=defaults.pop(p.name))
        if keyword_only:
            p = p.replace(kind=Parameter.KEYWORD_ONLY)
        out.append(p)
    if defaults:
        raise TypeError(f"{function.__name__} has no parameter(s) {sorted(defaults)}.")
    return out


def keyword(name: str, default: Any, annotation: Any = Parameter.empty) -> Parameter:
    """One keyword-only parameter."""
    return Parameter(
        name, Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def make_init(parameters: Sequence[Parameter]) -> Callable[..., None]:
    """An ``__init__`` taking ``parameters`` (then ``**kwargs``) that stores them.

    A name given twice keeps its first definition. Positional-or-keyword
    parameters come first, in order, then the keyword-only ones.
    """
    seen: dict[str, Parameter] = {}
    for p in parameters:
        seen.setdefault(p.name, p)
    ordered = sorted(seen.values(), key=lambda p: p.kind)  # stable sort
    signature = inspect.Signature(
        [
            Parameter("self", Parameter.POSITIONAL_OR_KEYWORD),
            *ordered,
            Parameter("kwargs", Parameter.VAR_KEYWORD),
        ]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = signature.bind(self, *args, **kwargs)
        bound.apply_defaults()
        store_params(self, bound.arguments)

    __init__.__signature__ = signature  # type: ignore[attr-defined]
    return __init__


# ----------------------------------------------------------------------
# Subclasses written the scikeras way
# ----------------------------------------------------------------------
# scikeras documents subclasses whose own ``__init__`` takes a few parameters
# and forwards ``**kwargs`` to the base; some declare routed defaults in their
# signature (``optimizer__learning_rate=0.001``) without storing them.

_MISSING = object()


def _is_kerasbig_init(init: Any) -> bool:
    return getattr(init, "__module__", "").startswith("kerasbig")


def subclass_param_names(cls: type) -> list[str]:
    """The names in ``cls.__init__``, plus, for a user's subclass whose
    ``__init__`` takes ``**kwargs``, the parameters of the nearest kerasbig
    ``__init__`` it forwards them to. A subclass's ``*args`` (scikeras's
    tests write ``__init__(self, *args, loss=..., **kwargs)``) is ignored."""
    init = cls.__init__
    if init is object.__init__:
        return []
    names = {
        name
        for name, p in inspect.signature(init).parameters.items()
        if name != "self"
        and p.kind not in (Parameter.VAR_KEYWORD, Parameter.VAR_POSITIONAL)
    }
    takes_kwargs = any(
        p.kind is Parameter.VAR_KEYWORD
        for p in inspect.signature(init).parameters.values()
    )
    if takes_kwargs and not _is_kerasbig_init(init):
        for klass in cls.__mro__[1:]:
            base_init = vars(klass).get("__init__")
            if base_init is not None and _is_kerasbig_init(base_init):
                names |= set(klass._get_param_names())
                break
    return sorted(names)


def _declared_default(cls: type, name: str) -> Any:
    parameter = inspect.signature(cls.__init__).parameters.get(name)
    if parameter is None or parameter.default is Parameter.empty:
        return _MISSING
    return parameter.default


def param_attribute(estimator: Any, name: str) -> Any:
    """A free or routed parameter read as an attribute, or AttributeError.

    ``est.fit__batch_size`` reads the ``**kwargs`` parameter; a name a
    subclass declares in its signature but does not store reads as its
    default.
    """
    if not (name.startswith("__") or name.endswith("_")):
        kwargs = estimator.__dict__.get("_kwargs", {})
        if name in kwargs:
            return kwargs[name]
        default = _declared_default(type(estimator), name)
        if default is not _MISSING:
            return default
    raise AttributeError(
        f"{type(estimator).__name__!r} object has no attribute {name!r}"
    )


def free_and_routed(estimator: Any) -> dict[str, Any]:
    """The ``**kwargs`` parameters, and routed names a subclass's signature declares."""
    declared = {
        name: getattr(estimator, name)
        for name in estimator._get_param_names()
        if destination_of(name) in DESTINATIONS
    }
    return {**declared, **estimator.__dict__.get("_kwargs", {})}
