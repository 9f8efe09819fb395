"""Drawing attributions with matplotlib: :func:`plot_saliency`.

A heat map over an image, attribution along the time axis of a sequence, or
one bar per token of a text; the attributions come from
:func:`kerasbig.saliency.saliency`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from kerasbig.base import BaseKerasEstimator
from kerasbig.saliency.attribution import (
    _fitted,
    _is_int,
    _prepare,
    _to_user_shape,
    saliency,
)

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_saliency"]


def plot_saliency(
    estimator: BaseKerasEstimator,
    X: Any,
    *,
    index: int = 0,
    attributions: np.ndarray | None = None,
    ax: Axes | None = None,
    **saliency_kwargs: Any,
) -> Figure:
    """Draw the attributions of one sample with matplotlib.

    Images: the image beside a heat map of the absolute attributions (summed
    over the channels) laid over it. Sequences and feature vectors: the
    values, and below them the attribution of each time step or feature
    (one line per channel). Token ids and raw text: one bar per token, named
    by its id or, for text, its WordPiece piece in ``encoder_``; the family
    estimators' padding (id 0) is left out.

    Parameters
    ----------
    estimator : fitted kerasbig estimator
        As for :func:`saliency`.
    X : array-like
        Samples, in any form ``predict`` takes; ``X[index]`` is drawn.
    index : int, default=0
        Which row of ``X`` to draw (negative: from the end).
    attributions : ndarray, default=None
        What :func:`saliency` returned for ``X``; None: computed for
        ``X[index]`` with ``saliency_kwargs``.
    ax : matplotlib Axes, default=None
        Where to draw the attributions alone (images: the heat map over the
        image); None: a new figure with the input drawn too.
    **saliency_kwargs
        Passed to :func:`saliency` (``method``, ``target``, ``baseline``,
        ``steps``, ``batch_size``) when ``attributions`` is None.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn on: a new one, or that of ``ax``. The attributions'
        axes are titled with the method (``"attribution"`` when
        ``attributions`` is given).

    Raises
    ------
    ValueError
        If ``index`` is outside ``X``, ``attributions`` does not have one
        row per row of ``X``, or both ``attributions`` and
        ``saliency_kwargs`` are given.
    TypeError
        If ``index`` is not an int.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from kerasbig import CNNClassifier
    >>> from kerasbig.saliency import plot_saliency
    >>> rng = np.random.default_rng(0)
    >>> images = rng.random((20, 8, 8, 1)).astype("float32")
    >>> labels = (images[:, 2, 2, 0] > 0.5).astype(int)
    >>> clf = CNNClassifier(n_blocks=1, filters=4, epochs=2, random_state=0)
    >>> clf = clf.fit(images, labels)
    >>> fig = plot_saliency(clf, images, index=3, steps=8)
    >>> [axis.get_title() for axis in fig.axes[:2]]
    ['input', 'integrated_gradients']
    """
    import matplotlib.pyplot as plt

    est = _fitted(estimator)
    if not _is_int(index):
        raise TypeError(f"index={index!r} is invalid; expected an int row index.")
    n = X.shape[0] if hasattr(X, "shape") else len(X)
    if not -n <= index < n:
        raise ValueError(f"index={index} is invalid; X has {n} rows.")
    index = int(index) % n
    row = _row(X, index)
    if attributions is None:
        values = saliency(est, row, **saliency_kwargs)[0]
        title = saliency_kwargs.get("method", "integrated_gradients")
    else:
        if saliency_kwargs:
            raise ValueError(
                f"{sorted(saliency_kwargs)} cannot be used with attributions=; "
                "pass one or the other."
            )
        attributions = np.asarray(attributions)
        if attributions.ndim == 0 or len(attributions) != n:
            raise ValueError(
                f"attributions of shape {attributions.shape} is invalid; X has "
                f"{n} rows: pass what saliency returned for this X."
            )
        values, title = attributions[index], "attribution"

    inputs = _prepare(est, row)
    sample = _to_user_shape(inputs.array, inputs)[0]
    tokens = inputs.embedding is not None
    image = not tokens and values.ndim == 3  # (height, width, channels)
    new, input_ax = ax is None, None
    if not new:
        fig = ax.figure
    elif tokens:  # the token labels show the input
        fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * len(values)), 3.5))
    elif image:
        fig, (input_ax, ax) = plt.subplots(ncols=2, figsize=(8, 4))
    else:
        fig, (input_ax, ax) = plt.subplots(nrows=2, sharex=True)

    if tokens:
        _draw_tokens(ax, est, sample, values)
    elif image:
        _draw_image(ax, sample, values, input_ax)
    else:
        _draw_sequence(ax, est, sample, values, input_ax)
    ax.set_title(title)
    if new:
        fig.suptitle(f"{type(est).__name__} saliency, row {index}")
        fig.tight_layout()
    return fig


def _row(X: Any, index: int) -> Any:
    """Row ``index`` of ``X``, as a one-row ``X`` of the same kind."""
    if hasattr(X, "iloc"):
        return X.iloc[[index]]
    if isinstance(X, (list, tuple)):
        return [X[index]]
    if hasattr(X, "toarray"):
        return X[[index]]
    return np.asarray(X)[index : index + 1]


def _as_image(sample: np.ndarray) -> np.ndarray:
    """An image scaled to [0, 1] for ``imshow`` (one channel: grey)."""
    picture = sample.astype(np.float64)
    low, high = picture.min(), picture.max()
    picture = (picture - low) / (high - low) if high > low else picture * 0
    return picture[..., 0] if picture.shape[-1] == 1 else picture[..., :3]


def _draw_image(ax, sample, values, input_ax) -> None:
    picture = _as_image(sample)
    cmap = "gray" if picture.ndim == 2 else None
    if input_ax is not None:
        input_ax.imshow(picture, cmap=cmap)
        input_ax.set_title("input")
        input_ax.axis("off")
    ax.imshow(picture, cmap=cmap)
    heat = ax.imshow(np.abs(values).sum(axis=-1), cmap="inferno", alpha=0.6)
    ax.figure.colorbar(heat, ax=ax, fraction=0.046)
    ax.axis("off")


def _draw_sequence(ax, est, sample, values, input_ax) -> None:
    # Family estimators (input_shape_) read sequences; a (length, channels)
    # sample is a sequence too. Otherwise: a feature vector.
    sequence = values.ndim == 2 or hasattr(est, "input_shape_")
    values = values.reshape(len(values), -1)
    positions = np.arange(len(values))
    if input_ax is not None:
        input_ax.plot(positions, sample.reshape(len(sample), -1))
        input_ax.set_title("input")
    if sequence:
        ax.plot(positions, values, marker="o", markersize=3)
        ax.set_xlabel("time step")
    else:
        ax.bar(positions, values[:, 0])
        ax.set_xlabel("feature")
        names = getattr(est, "feature_names_in_", None)
        if names is not None and len(names) == len(positions):
            ax.set_xticks(positions, [str(name) for name in names], rotation=45)
    ax.axhline(0.0, color="grey", linewidth=0.5)


def _draw_tokens(ax, est, ids, values) -> None:
    """One bar per token, labelled by its piece (text) or its id."""
    # The family estimators pad with id 0 (masked); a KerasClassifier's own
    # embedding may use 0 as a token, so all its positions are drawn.
    shown = ids != 0 if hasattr(est, "input_shape_") else np.ones(len(ids), bool)
    vocabulary = getattr(getattr(est, "encoder_", None), "vocabulary_", None)
    labels = [str(i) if vocabulary is None else vocabulary[i] for i in ids[shown]]
    positions = np.arange(len(labels))
    ax.bar(positions, values[shown])
    ax.set_xticks(positions, labels, rotation=60)
    ax.set_xlabel("token")
    ax.axhline(0.0, color="grey", linewidth=0.5)
