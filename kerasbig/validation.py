"""Checks of the data before a fit or a prediction, beyond ``validate_data``."""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.utils.validation import validate_data


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Validate ``sample_weight`` and return it as float64, or None."""
    if sample_weight is None:
        return None
    if isinstance(sample_weight, numbers.Number):
        sample_weight = np.full(n_samples, sample_weight)
    try:
        sw = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"sample_weight must be numeric; got {type(sample_weight).__name__}: {err}"
        ) from None
    if sw.shape != (n_samples,):
        raise ValueError(
            f"sample_weight has shape {sw.shape}; expected ({n_samples},), one "
            "weight per sample."
        )
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight contains NaN or infinity.")
    if np.any(sw < 0):
        raise ValueError("sample_weight contains negative values.")
    if sw.sum() <= 0:
        raise ValueError(
            "sample_weight sums to zero (only zeros were passed in sample_weight): "
            "at least one sample needs a positive weight."
        )
    return sw


def check_same_ndim(what: str, ndim: int, fitted_ndim: int, owner: str) -> None:
    """Raise when ``X`` or ``y`` has another number of dimensions than in ``fit``.

    Examples
    --------
    >>> check_same_ndim("X", 2, 3, "KerasRegressor")
    Traceback (most recent call last):
    ...
    ValueError: X has 2 dimensions, but this KerasRegressor was fitted with 3 \
dimensions in X. Reshape your data to the training shape.
    """
    if ndim != fitted_ndim:
        raise ValueError(
            f"{what} has {ndim} dimensions, but this {owner} was fitted with "
            f"{fitted_ndim} dimensions in {what}. Reshape your data to the "
            "training shape."
        )


# dtypes X keeps as given (Keras casts each batch to the model's input dtype,
# so an uint8 image array is never copied whole as float32); any other dtype,
# object or bool, becomes the first: float32.
NUMERIC_DTYPES = (
    "float32",
    "float64",
    "float16",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
)


def check_same_data(estimator, X, y) -> None:
    """For a fit that continues (``partial_fit``, ``warm_start``): ``y`` keeps
    its number of dimensions, and neither ``X`` nor a classifier's labels
    change their kind of dtype (integers may become other integers, floats
    other floats; a float ``X`` after an integer one, or float labels after
    integer ones, are errors, as in scikeras).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fitted = SimpleNamespace(X_dtype_=np.dtype("int64"), y_dtype_=None,
    ...                          y_ndim_=None)
    >>> check_same_data(fitted, np.zeros((1, 1), dtype="uint8"), None)
    >>> check_same_data(fitted, np.zeros((1, 1)), None)
    Traceback (most recent call last):
    ...
    ValueError: Got X with dtype float64, but this SimpleNamespace was fitted \
on X with dtype int64; cast X to int64 (or refit).
    """
    owner = type(estimator).__name__
    if y is not None and estimator.y_ndim_ is not None:
        check_same_ndim("y", y.ndim, estimator.y_ndim_, owner)
    checks = [("X", X, estimator.X_dtype_)]
    if not getattr(estimator, "_y_numeric", False):  # labels, not values
        checks.append(("y", y, estimator.y_dtype_))
    for what, data, fitted in checks:
        dtype = getattr(data, "dtype", None)
        if dtype is None or fitted is None:
            continue
        if not np.can_cast(dtype, fitted, casting="same_kind"):
            raise ValueError(
                f"Got {what} with dtype {dtype}, but this {owner} was fitted on "
                f"{what} with dtype {fitted}; cast {what} to {fitted} (or refit)."
            )


# ----------------------------------------------------------------------
# Input that cannot become a numeric array: say which value, and why
# ----------------------------------------------------------------------
def input_ndim(X: Any) -> int | None:
    """The number of dimensions of an array-like, without validating it;
    None for a ragged nested list (it has no number of dimensions).

    Examples
    --------
    >>> input_ndim([[[1.0], [2.0]]]), input_ndim([[1, 2], [3]])
    (3, None)
    """
    ndim = getattr(X, "ndim", None)
    if ndim is not None:
        return int(ndim)
    try:
        return int(np.ndim(X))
    except (TypeError, ValueError):
        return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.bool_)) and not isinstance(
        value, (str, bytes)
    )


def _where(name: str, index: tuple) -> str:
    return f"{name}[{', '.join(str(i) for i in index)}]"


def _ragged(name: str, data: Any) -> str | None:
    """Where a nested list stops being rectangular, or None if it does not."""
    try:
        items = list(data)
    except TypeError:
        return None
    shapes = []
    for i, item in enumerate(items):
        try:
            shape = np.shape(item)
        except ValueError:  # the item is itself ragged
            inner = _ragged(f"{name}[{i}]", item)
            return inner or f"{name}[{i}] is itself ragged"
        if shapes and shape != shapes[0]:
            return f"{name}[{i}] has shape {shape} but {name}[0] has shape {shapes[0]}"
        shapes.append(shape)
    return None


def describe_unusable(name: str, data: Any) -> str | None:
    """Why ``data`` cannot be the numeric array an estimator needs, or None.

    Looks for the first problem a user can fix: a ragged nested list, a
    complex number, or a value that is not a number (a string in an
    object array or a DataFrame column, say). Numeric arrays (NaN and
    infinity included) and sparse matrices give None: their errors are
    scikit-learn's.

    Examples
    --------
    >>> describe_unusable("X", [[1.0, "a"], [2.0, 3.0]])
    "X[0, 1] = 'a' (str) is not a number"
    >>> describe_unusable("X", [[1.0, 2.0, 3.0], [4.0, 5.0]])
    'X is a ragged nested list: X[1] has shape (2,) but X[0] has shape (3,)'
    >>> describe_unusable("X", np.zeros((2, 2))) is None
    True
    """
    found = _diagnose(name, data)
    return None if found is None else found[1]


def _diagnose(name: str, data: Any) -> tuple[str, str] | None:
    """``(kind, description)`` of :func:`describe_unusable`'s problem, or None."""
    if data is None or isinstance(data, str) or hasattr(data, "toarray"):
        return None
    dtype = getattr(data, "dtype", None)
    if dtype is not None and getattr(dtype, "kind", "O") in "biuf":
        return None
    try:
        array = np.asarray(data, dtype=object)
        ragged = None
    except (TypeError, ValueError):
        array, ragged = None, _ragged(name, data)
    if array is None or (
        array.size and any(isinstance(v, (list, tuple, np.ndarray)) for v in array.flat)
    ):
        ragged = ragged or _ragged(name, data) or "its rows have different lengths"
        return "ragged", f"{name} is a ragged nested list: {ragged}"
    for index, value in np.ndenumerate(array):
        if isinstance(value, (complex, np.complexfloating)):
            return "complex", (
                f"{name} holds complex numbers ({_where(name, index)} = {value!r})"
            )
        if not _is_number(value):
            return "not a number", (
                f"{_where(name, index)} = {value!r} ({type(value).__name__}) is not "
                "a number"
            )
    return None


_EXPECTED = {
    "ragged": "expected a rectangular array, every row of the same shape. Pad "
    "or cut the rows to one length first (the CNN, RNN and Transformer "
    "estimators take lists of variable-length sequences and pad them)",
    "complex": "expected real numbers; pass X.real, np.abs(X), or both as "
    "separate features",
    "not a number": "expected numbers (int, float or bool) only; encode text and "
    "categories first, e.g. with sklearn.preprocessing.OrdinalEncoder or "
    "OneHotEncoder",
}


def validate_input(estimator: Any, X: Any, y: Any = "no_validation", **checks):
    """scikit-learn's ``validate_data``, with a clear error for input that
    cannot become a numeric array.

    When ``validate_data`` fails, ``X`` (and ``y`` when it must be numeric,
    ``y_numeric=True``) is examined: a ragged nested list, a complex number
    or a value that is not a number raises an error of the same type
    (``ValueError`` or ``TypeError``) naming the value, where it is and what
    was expected, followed by the first line of the original message. Any
    other failure (NaN, a wrong number of features, ...) keeps
    scikit-learn's error. Nothing is examined when the input is valid.
    """
    try:
        return validate_data(estimator, X, y, **checks)
    except (TypeError, ValueError) as error:
        inputs = {"X": X}
        if checks.get("y_numeric") and y is not None and not isinstance(y, str):
            inputs["y"] = y
        for name, data in inputs.items():
            found = _diagnose(name, data)
            if found is not None:
                kind, problem = found
                # the same type, and the first line of the original message
                # (scikit-learn's own checks look for it)
                original = str(error).strip().split("\n")[0]
                raise type(error)(
                    f"{type(estimator).__name__}: {problem}; {_EXPECTED[kind]}. "
                    f"({original})"
                ) from None
        raise


def check_same_sample_shape(X, fitted_shape: tuple, owner: str) -> None:
    """Raise when one sample of ``X`` has another shape than in ``fit``
    (scikit-learn checks the second axis only; a network reads them all).

    Examples
    --------
    >>> check_same_sample_shape(np.zeros((5, 4, 1)), (10, 4, 2), "KerasRegressor")
    Traceback (most recent call last):
    ...
    ValueError: X has samples of shape (4, 1), but this KerasRegressor was \
fitted on samples of shape (4, 2): X must be (n_samples, 4, 2).
    """
    got, expected = tuple(X.shape[1:]), tuple(fitted_shape[1:])
    if got != expected:
        dims = ", ".join(str(d) for d in expected)
        raise ValueError(
            f"X has samples of shape {got}, but this {owner} was fitted on samples "
            f"of shape {expected}: X must be (n_samples, {dims})."
        )


def _holds_strings(labels: np.ndarray) -> bool:
    if labels.dtype.kind in "US":
        return True
    return labels.dtype.kind == "O" and any(isinstance(v, str) for v in labels)


def check_score_labels(estimator: Any, y: Any) -> None:
    """Before a classifier's ``score``: labels of another kind than ``classes_``
    (strings against numbers) raise ``ValueError``; labels never seen in
    ``fit`` warn (``UserWarning``), and count as wrong predictions, as in
    scikit-learn (a test fold may hold a class its training folds lacked).
    """
    classes = getattr(estimator, "classes_", None)
    if classes is None or getattr(estimator, "target_type_", None) not in (
        "binary",
        "multiclass",
    ):
        return
    labels = np.asarray(y)
    if labels.ndim != 1:
        return
    owner = type(estimator).__name__
    text, fitted_text = _holds_strings(labels), _holds_strings(classes)
    if text != fitted_text:
        kinds = {True: "strings", False: "numbers"}
        raise ValueError(
            f"{owner}.score: y holds {kinds[text]} (e.g. {labels.tolist()[0]!r}), "
            f"but the classes seen in fit are {kinds[fitted_text]}: "
            f"{classes.tolist()[:10]}; expected labels of the same kind."
        )
    known = set(classes.tolist())
    unseen = sorted({v for v in labels.tolist() if v not in known}, key=str)
    if unseen:
        warnings.warn(
            f"{owner}.score: y holds labels never seen in fit: {unseen[:10]}; "
            f"the classes are {classes.tolist()[:10]}. Rows with these labels "
            "count as wrong predictions.",
            UserWarning,
            stacklevel=3,
        )
