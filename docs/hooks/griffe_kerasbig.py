"""Griffe extension for kerasbig's API reference (mkdocstrings, inspection mode).

Three things the docstrings and the generated methods need:

* Members defined inside a function are documented where they are found.
  The estimators' ``__init__`` methods are made by
  ``kerasbig.signatures.make_init`` (their ``__qualname__`` is
  ``make_init.<locals>.__init__``), and scikit-learn's ``set_fit_request``
  and the like the same way. Griffe's inspector turns a member defined in
  another module into an alias of its definition, and an alias into a
  function's locals cannot be resolved: the build would stop.
* A parameter's default is the signature's. Griffe's numpydoc reader takes
  the first choice of a ``{"a", "b"} or None`` type as the default, which
  the docstrings do not mean (``precision``'s default is None).
* Sphinx roles (``:func:`kerasbig.load```) read as code, without the role.
"""

from __future__ import annotations

import re

import griffe

SPHINX_ROLE = re.compile(
    r":(?:py:)?(?:mod|func|class|meth|attr|data|exc|obj):`~?([^`]+)`"
)
# "name : {"a", "b"} ...": the only kind of entry whose default griffe misreads.
CHOICES = re.compile(r"^\s*\**\w+ : \{", re.M)


class KerasbigDocstrings(griffe.Extension):
    def on_instance(self, *, obj, **kwargs) -> None:
        if obj.docstring is not None:
            obj.docstring.value = SPHINX_ROLE.sub(r"``\1``", obj.docstring.value)

    def on_function_instance(self, *, func, **kwargs) -> None:
        _defaults_from_signature(func.docstring, func.parameters)

    def on_class_members(self, *, node, cls, agent, **kwargs) -> None:
        if hasattr(
            node, "children"
        ):  # inspection (static analysis has no aliases to fix)
            _inspect_closures_in_place(node, cls, agent)
        init = cls.members.get("__init__")
        if init is not None and not init.is_alias:
            _defaults_from_signature(cls.docstring, init.parameters)


def _inspect_closures_in_place(node, cls, agent) -> None:
    names = [
        name
        for name, member in cls.members.items()
        if member.is_alias and "<locals>" in member.target_path
    ]
    # Remove them all first: building one's annotations looks names up in the
    # class, where another unresolvable alias would stop it.
    for name in names:
        cls.del_member(name)
    previous, agent.current = agent.current, cls
    try:
        for child in node.children:
            if child.name in names:
                agent.inspect(child)
    finally:
        agent.current = previous


def _defaults_from_signature(docstring, parameters) -> None:
    # Parsing happens here, at load time, for every object: only where needed,
    # so that the warnings of objects the site does not show stay unread.
    if docstring is None or parameters is None or not CHOICES.search(docstring.value):
        return
    for section in docstring.parsed:
        if section.kind is not griffe.DocstringSectionKind.parameters:
            continue
        for entry in section.value:
            name = entry.name.lstrip("*")
            if name in parameters:
                parameter = parameters[name]
                if parameter.kind is griffe.ParameterKind.var_keyword:
                    entry.value = "{}"
                elif parameter.default is not None:
                    entry.value = parameter.default
