"""What kind of input ``X`` is, and how variable-length sequences become arrays.

Shared by the model families (:mod:`kerasbig.models._family`) and by the
scikit-learn transformers of :mod:`kerasbig.preprocessing`, so that an estimator
and a ``Pipeline`` step pad, truncate and reject input in the same way.

Three kinds of input reach these helpers:

* **text**: a 1-D collection of strings (a list or tuple of ``str``, a 1-D
  ``str``/``object`` array, a pandas ``Series``);
* **lists of sequences**: a list (or tuple, or 1-D object array) of
  sequences, each ``(length,)`` or ``(length, channels)``, whose lengths may
  differ;
* anything else, which is left to scikit-learn's ``validate_data``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from kerasbig.parameters import NONE, Interval, Options

TRUNCATION_MODES = ("warn", "error", "silent")
SIDES = ("pre", "post")


def _values_of_series(X: Any) -> Any:
    """The values of a 1-D pandas Series (duck-typed, pandas is optional)."""
    if hasattr(X, "iloc") and getattr(X, "ndim", None) == 1:
        return X.to_numpy(dtype=object)
    return None


def is_text(X: Any) -> bool:
    """True when ``X`` is a non-empty 1-D collection of strings.

    A collection that mixes strings with other values raises, since it is
    neither text nor numbers.

    Examples
    --------
    >>> is_text(["a cat", "a dog"]), is_text([[1.0, 2.0]]), is_text("one text")
    (True, False, False)
    """
    values = _values_of_series(X)
    if values is None:
        if isinstance(X, (list, tuple)):
            values = X
        elif isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype.kind in "OUS":
            values = X
        else:
            return False
    if len(values) == 0:
        return False
    strings = [isinstance(v, str) for v in values]
    if all(strings):
        return True
    if any(strings):
        index = strings.index(False)
        raise ValueError(
            f"X mixes strings with other values (X[{index}] is "
            f"{values[index]!r}); pass only texts (str) or only numbers."
        )
    return False


def as_texts(X: Any) -> list[str]:
    """``X`` as a list of ``str`` (``X`` must satisfy :func:`is_text`)."""
    values = _values_of_series(X)
    return [str(v) for v in (X if values is None else values)]


def is_sequence_list(X: Any) -> bool:
    """True when ``X`` is a list of sequences, to be padded to one length.

    A list or tuple (or 1-D object array) whose items are array-likes of one
    or two dimensions (``(length,)`` or ``(length, channels)``), or whose items
    do not share one shape. Such lists are padded (and cut) to the length the
    estimator uses, even when their items happen to share one length; arrays
    are not.
    """
    if isinstance(X, np.ndarray):
        if X.dtype != object or X.ndim != 1:
            return False
    elif not isinstance(X, (list, tuple)):
        return False
    if len(X) == 0:
        return False
    shapes = set()
    for item in X:
        if item is None or isinstance(item, (str, bytes)) or np.isscalar(item):
            return False
        try:
            shapes.add(np.shape(item))
        except ValueError:  # an item that is itself ragged
            return True
    return len(shapes) > 1 or len(next(iter(shapes))) in (1, 2)


def as_sequences(X: Any, *, dtype: Any = np.float64) -> tuple[list[np.ndarray], bool]:
    """Each item of ``X`` as a ``(length, channels)`` array.

    Returns the list and whether every item was 1-D (univariate). Raises
    ``ValueError`` for empty sequences, items of rank other than 1 or 2,
    channel counts that differ, and values that are not numbers.
    """
    sequences = []
    univariate = True
    for i, item in enumerate(X):
        try:
            seq = np.asarray(item, dtype=dtype)
        except (TypeError, ValueError) as err:
            raise ValueError(f"X[{i}] is not a sequence of numbers ({err}).") from None
        if seq.ndim == 1:
            seq = seq[:, None]
        elif seq.ndim == 2:
            univariate = False
        else:
            raise ValueError(
                f"X[{i}] has shape {seq.shape}; each sequence must be 1-D "
                "(length,) or 2-D (length, channels)."
            )
        if seq.shape[0] == 0:
            raise ValueError(
                f"X[{i}] is an empty sequence; every sequence needs at least one step."
            )
        if sequences and seq.shape[1] != sequences[0].shape[1]:
            raise ValueError(
                f"X[{i}] has {seq.shape[1]} channel(s) but X[0] has "
                f"{sequences[0].shape[1]}; every sequence needs the same channels."
            )
        sequences.append(seq)
    return sequences, univariate


# What the ``max_length`` and ``truncation`` parameters accept, wherever they are.
MAX_LENGTH = [NONE, Interval(int, 1)]
TRUNCATION = [Options(*TRUNCATION_MODES)]


def report_long(
    lengths: Sequence[int],
    max_length: int,
    truncation: str,
    what: str = "sequence",
    limit: str = "max_length",
) -> None:
    """Warn or raise, as ``truncation`` says, about items over ``max_length``.

    ``limit`` names the length in the message: ``"max_length"`` (the
    parameter) or, e.g., ``"the training length"``.
    """
    too_long = [n for n in lengths if n > max_length]
    if not too_long or truncation == "silent":
        return
    bound = f"max_length={max_length}" if limit == "max_length" else limit
    if limit != "max_length":
        bound += f" ({max_length})"
    message = (
        f"{len(too_long)} {what}(s) of X are longer than {bound} "
        f"(the longest has {max(too_long)} steps)"
    )
    if truncation == "error":
        raise ValueError(
            f"{message}. Raise max_length, or set truncation='warn' (or "
            "'silent') to cut them."
        )
    warnings.warn(
        f"{message}; they were truncated to {max_length}. Set truncation="
        "'silent' to hide this warning or 'error' to raise instead.",
        UserWarning,
        stacklevel=4,
    )


def pad(
    sequences: Sequence[np.ndarray],
    length: int,
    *,
    value: float = 0.0,
    padding: str = "post",
    truncating: str = "post",
    truncation: str = "warn",
    dtype: Any = np.float32,
    what: str = "sequence",
    limit: str = "max_length",
) -> np.ndarray:
    """Stack ``(length_i, channels)`` arrays into ``(n, length, channels)``.

    Shorter items are filled with ``value`` at the end (``padding="post"``)
    or the start (``"pre"``); longer ones are cut at the end or the start as
    ``truncating`` says, after ``truncation`` decided whether that warns,
    raises or passes silently.

    Examples
    --------
    >>> import numpy as np
    >>> pad([np.ones((2, 1)), np.ones((3, 1))], 3)[:, :, 0].tolist()
    [[1.0, 1.0, 0.0], [1.0, 1.0, 1.0]]
    """
    report_long([len(s) for s in sequences], length, truncation, what, limit)
    channels = sequences[0].shape[1:] if len(sequences) else (1,)
    out = np.full((len(sequences), length, *channels), value, dtype=dtype)
    for i, seq in enumerate(sequences):
        seq = seq[:length] if truncating == "post" else seq[-length:]
        if padding == "post":
            out[i, : len(seq)] = seq
        else:
            out[i, length - len(seq) :] = seq
    return out


def pad_list(
    X: Any,
    length: int | None,
    *,
    value: float = 0.0,
    truncation: str = "warn",
    padding: str = "post",
    truncating: str = "post",
    limit: str = "max_length",
    min_width: int = 0,
    what: str = "sequence",
) -> np.ndarray:
    """Pad a list of variable-length sequences into one float64 array.

    ``length=None`` pads to the longest. Univariate items give
    ``(n, length)``, multichannel ones ``(n, length, channels)``. The result
    is then padded (with ``value``, at the end) to at least ``min_width``
    steps: at predict time, to the ``n_features_in_`` that ``fit`` validated
    when fit saw longer arrays and cut them to the model's length.
    """
    sequences, univariate = as_sequences(X)
    if length is None:
        length = max(len(s) for s in sequences)
    out = pad(
        sequences,
        length,
        value=value,
        padding=padding,
        truncating=truncating,
        truncation=truncation,
        dtype=np.float64,
        what=what,
        limit=limit,
    )
    if out.shape[1] < min_width:
        extra = [(0, 0)] * out.ndim
        extra[1] = (0, min_width - out.shape[1])
        out = np.pad(out, extra, constant_values=value)
    return out[:, :, 0] if univariate else out


TEXT_LENGTH_QUANTILE = 0.95
TEXT_LENGTH_CAP = 128


def default_text_length(lengths: Sequence[int]) -> int:
    """The length texts are padded to when ``max_length`` is None.

    The 95th percentile of the training texts' lengths (in WordPiece pieces),
    rounded up to a multiple of 8, and at most 128 and at most the longest
    text. The few longer texts are cut (silently: the user set no limit).
    Padding every text to the longest one instead makes one long outlier
    cost every row its length, and attention costs the square of it.

    Examples
    --------
    >>> default_text_length([5] * 99 + [900])  # one outlier does not count
    8
    >>> default_text_length(list(range(1, 101)))  # 95.05, rounded up to 8s
    96
    >>> default_text_length([3, 4])  # never longer than the longest
    4
    >>> default_text_length([1000] * 10)
    128
    """
    longest = max(lengths)
    high = float(np.quantile(np.asarray(lengths), TEXT_LENGTH_QUANTILE))
    rounded = 8 * int(np.ceil(high / 8))
    return int(max(1, min(rounded, TEXT_LENGTH_CAP, longest)))
