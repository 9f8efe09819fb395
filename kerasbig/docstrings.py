"""Estimator docstrings, each parameter and attribute described once.

An estimator's docstring holds its own prose and examples, and a line
``{parameters_and_attributes}`` where :func:`document` writes the numpydoc
"Parameters" and "Attributes" sections:

* every parameter of the class's ``__init__`` signature, in order, with its
  actual default: an architecture parameter described as in the family's
  builder docstring (its "Parameters" section is read), any other from
  :data:`PARAMETERS` (class-specific text in ``_parameter_docs`` wins);
* the fitted attributes ``model_`` and ``history_``, then those its target
  side lists in ``_target_attributes`` and its input side in
  ``_input_attributes``, from :data:`ATTRIBUTES` (``_attribute_docs`` wins).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any

# name -> (type, description); the default comes from the signature.
PARAMETERS: dict[str, tuple[str, str]] = {
    "model": (
        "keras.Model or callable",
        "The model, or a function that builds it. The function receives the "
        "arguments it names out of ``meta`` (a dict describing the data: "
        "``n_features_in_``, ``X_shape_``, ``X_dtype_``, ``target_type_``, "
        "``n_classes_``, ``classes_``, ``n_outputs_``), each of those keys by "
        "name, ``compile_kwargs``, ``seed`` (an int drawn from "
        "``random_state``, or None) and its hyperparameters (``model__<name>`` "
        "or free keyword arguments of this constructor). A model returned "
        "uncompiled is compiled with ``optimizer``, ``loss`` and ``metrics``. A "
        "model instance is copied at every fit, so it is never mutated.",
    ),
    "build_fn": ("callable or None", "Deprecated alias of ``model`` (scikeras)."),
    "max_length": (
        "int or None",
        "Length lists of sequences are padded to; longer sequences (lists or "
        "arrays) are cut to it. None: the longest training sequence.",
    ),
    "truncation": (
        '{"warn", "error", "silent"}',
        "What happens to sequences longer than ``max_length`` (or, in "
        "predict, than the training length): cut with a ``UserWarning``, "
        "raise ``ValueError``, or cut silently.",
    ),
    "warm_start": ("bool", "If True, ``fit`` continues training the fitted model."),
    "random_state": (
        "int, RandomState, Generator or None",
        "Seeds weight initialisation, shuffling and dropout for one fit; the "
        "global random state is restored afterwards. Families (and model-"
        "building functions that take ``seed``) give every layer an explicit "
        "seed, so a fit reproduces in any thread.",
    ),
    "optimizer": (
        "str, class or keras.optimizers.Optimizer",
        "Built afresh at every fit; set its arguments with routed parameters, "
        "e.g. ``optimizer__learning_rate=1e-3``.",
    ),
    "loss": (
        "str, class, instance, callable or None",
        'None or ``"auto"`` chooses from the target and the output units: '
        "binary cross-entropy for one sigmoid unit or multilabel targets, "
        "sparse categorical cross-entropy for class indices, categorical "
        "cross-entropy for one-hot targets, mean squared error for regression.",
    ),
    "metrics": (
        "list or None",
        "Keras metrics (names, classes or instances) tracked in ``history_``, "
        "with ``metrics__`` arguments.",
    ),
    "batch_size": (
        "int or None",
        "Samples per gradient step (Keras' 32 when None; -1: all rows in one "
        "batch); also ``predict``'s.",
    ),
    "validation_batch_size": ("int or None", "Batch size of the validation data."),
    "verbose": ("int", "Keras' verbosity for ``fit`` and ``predict``."),
    "callbacks": (
        "list or None",
        "Keras callbacks (classes get their ``callbacks__`` arguments).",
    ),
    "validation_split": (
        "float",
        "Fraction of the training data (the last rows) Keras holds out for validation.",
    ),
    "shuffle": ("bool", "Shuffle the training data before each epoch."),
    "run_eagerly": ("bool", "Run the model eagerly (slow; for debugging)."),
    "epochs": ("int", "Passes over the training data."),
    "linear_shortcut": (
        '"auto" or bool',
        "Add a linear model of the (standardized) input to the network's "
        'output (a ``Dense`` named ``"linear_shortcut"`` on the flattened '
        "input, as LSTNet's autoregressive highway). A regressor starts it at "
        "a ridge regression of the training targets (penalty by generalized "
        "cross-validation, rows weighed by ``sample_weight``) and keeps it "
        "frozen, with the output layer "
        "starting at zero, so training fits what ridge misses, the optimizer's "
        "``weight_decay`` (0.5 unless ``optimizer__weight_decay`` is given) "
        "drawing the deep part back towards it; a classifier "
        'trains it from zero. ``"auto"``: on for a regressor reading numeric '
        "input of a known shape (no padding masked, no text, no backbone) of "
        "at most 4,096 values per row, off otherwise. The choice is "
        "``linear_shortcut_``; see ``models/_shortcut.py``.",
    ),
    "early_stopping": (
        "bool",
        "Stop when the validation loss (the training loss without "
        "``validation_split``) has not improved for ``patience`` epochs, and "
        "keep the best weights.",
    ),
    "patience": ("int", "Epochs without improvement before early stopping."),
    "class_weight": (
        'dict, "balanced" or None',
        "Weights keyed by class label, folded into the sample weights.",
    ),
    "distribution": (
        "str, strategy, distribution, callable or None",
        'Where to train: ``"auto"``, ``"data_parallel"`` (``"mirrored"``), '
        '``"model_parallel"`` (JAX), ``"tpu"``, a ``tf.distribute.Strategy`` '
        "(TensorFlow), a ``keras.distribution.Distribution`` (JAX) or a "
        "factory returning one. The model is built, compiled, trained and "
        "used inside its scope; batches are padded with zero-weight rows to "
        "split evenly over the replicas. See :mod:`kerasbig.distribute`.",
    ),
    "precision": (
        '{"float32", "float64", "mixed_bfloat16", "mixed_float16", "auto"} or None',
        'The dtype policy of the network the estimator builds (``"auto"``: '
        "bfloat16 where the hardware has it; the output layer computes in "
        "float32, or float64 for a float64 network). None leaves Keras' "
        "policy alone.",
    ),
    "checkpoint_dir": (
        "str, path or None",
        "Fault-tolerant training: back up the training state (weights, "
        "optimizer, epoch, history) in a subdirectory of this directory at "
        "the end of every epoch; if the process dies, calling the same fit "
        "again resumes from the last completed epoch. A completed fit deletes "
        "its backup. Concurrent fits need directories of their own. None: no "
        "backup. See :mod:`kerasbig.resume`.",
    ),
    "name": ("str or None", "Name of the Keras model."),
}

KWARGS = (
    "**kwargs",
    "Routed parameters ``<prefix>__<name>`` for ``optimizer``, ``loss``, "
    "``metrics``, ``callbacks``, ``compile``, ``fit`` and ``predict``.",
)

ATTRIBUTES: dict[str, tuple[str, str]] = {
    "linear_shortcut_": (
        "bool",
        "Whether the network has the linear shortcut (``linear_shortcut`` "
        'with ``"auto"`` resolved).',
    ),
    "model_": ("keras.Model", "The trained model."),
    "history_": (
        "dict of lists",
        "Per-epoch values of the loss and metrics of the last ``fit`` (with "
        "``warm_start`` too), followed by those of each later ``partial_fit`` "
        "call, as in scikeras.",
    ),
    "classes_": (
        "ndarray",
        "The class labels (``arange(n)`` for multilabel or one-hot targets).",
    ),
    "n_classes_": ("int", "Number of classes."),
    "target_type_": ("str", "``type_of_target`` of the training ``y``."),
    "n_outputs_": ("int", "1, or the number of target columns or labels."),
    "n_features_in_": (
        "int",
        "``X.shape[1]`` as validated: the length of the (padded) sequences, or "
        "the height of the images.",
    ),
    "feature_names_in_": ("ndarray", "Only when ``X`` had string column names."),
    "input_shape_": (
        "tuple",
        "One sample's shape as the network reads it, e.g. ``(64, 1)`` or "
        "``(8, 8, 1)``.",
    ),
    "input_statistics_": (
        "tuple of two lists of float, or None",
        "Each input channel's training mean and variance, which the network's "
        "``input_standardization`` layer holds (``standardize_inputs=True``); "
        "None when the input is not standardized (``standardize_inputs=False``, "
        "text or token ids, a pretrained backbone).",
    ),
}


def _entry(name: str, kind: str, text: str) -> str:
    lines = [f"{name} : {kind}" if kind else name]
    words, line = text.split(), ""
    for word in words:
        if line and len(line) + len(word) > 70:
            lines.append("    " + line)
            line = word
        else:
            line = f"{line} {word}".strip()
    if line:
        lines.append("    " + line)
    return "\n".join(lines)


def builder_parameters(builder: Callable[..., Any]) -> dict[str, tuple[str, str]]:
    """The entries of a numpydoc "Parameters" section: name -> (type, text)."""
    doc = inspect.getdoc(builder) or ""
    match = re.search(r"^Parameters\n-+\n(.*?)(?:\n\n(?=\S+\n-+)|\Z)", doc, re.M | re.S)
    entries: dict[str, tuple[str, str]] = {}
    if not match:
        return entries
    name = None
    for line in match.group(1).splitlines():
        head = re.match(r"^(\w+) : (.*)$", line)
        if head:
            name = head.group(1)
            kind = re.sub(r",\s*(optional|default=.*)$", "", head.group(2))
            entries[name] = (kind, "")
        elif name and line.strip():
            kind, text = entries[name]
            entries[name] = (kind, f"{text} {line.strip()}".strip())
    return entries


def document(cls: type) -> type:
    """Fill the ``{parameters}`` and ``{attributes}`` lines of ``cls.__doc__``."""
    sources: dict[str, tuple[str, str]] = {}
    builder = getattr(cls, "_builder", None)
    if builder is not None:
        sources.update(builder_parameters(builder))
    sources.update(PARAMETERS)
    sources.update(getattr(cls, "_parameter_docs", {}))
    entries = []
    for p in inspect.signature(cls.__init__).parameters.values():
        if p.name == "self":
            continue
        if p.kind is p.VAR_KEYWORD:
            entries.append(_entry(KWARGS[0], "", KWARGS[1]))
            continue
        kind, text = sources[p.name]
        entries.append(_entry(p.name, f"{kind}, default={p.default!r}", text))
    attributes = {**ATTRIBUTES, **getattr(cls, "_attribute_docs", {})}
    names = dict.fromkeys(
        ("model_", "history_", *cls._target_attributes, *cls._input_attributes)
    )
    text = "\n".join(
        [
            "Parameters",
            "----------",
            *entries,
            "",
            "Attributes",
            "----------",
            *(_entry(name, *attributes[name]) for name in names),
        ]
    )

    def fill(match: re.Match) -> str:
        indent = match.group(1)
        return "\n".join(indent + line if line else "" for line in text.splitlines())

    cls.__doc__ = re.sub(
        r"^( *)\{parameters_and_attributes\}$", fill, cls.__doc__ or "", flags=re.M
    )
    return cls
