"""Looking inside a trained estimator: its learning curves.

:func:`plot_learning_curves` draws ``history_`` (the loss and metrics of
each epoch, training and validation) with matplotlib. scikit-learn's own
inspection tools take kerasbig estimators as they are
(``sklearn.inspection.permutation_importance``,
``PartialDependenceDisplay``, ``LearningCurveDisplay``): see
docs/deployment.md. Gradient attributions (saliency): :mod:`kerasbig.saliency`.
"""

from __future__ import annotations

from typing import Any

from sklearn.utils.validation import check_is_fitted

from kerasbig import compiling

__all__ = ["plot_learning_curves"]


def _fitted_estimator(estimator: Any) -> Any:
    """The kerasbig estimator inside a search or a Pipeline."""
    from sklearn.pipeline import Pipeline

    if hasattr(estimator, "best_estimator_"):
        estimator = estimator.best_estimator_
    elif hasattr(estimator, "cv_results_") or hasattr(estimator, "param_grid"):
        check_is_fitted(estimator, "best_estimator_")  # a search with refit=False
    if isinstance(estimator, Pipeline):
        estimator = estimator.steps[-1][1]
    if not hasattr(estimator, "history_") and not hasattr(estimator, "fit"):
        raise TypeError(
            f"estimator={estimator!r} is invalid; expected a fitted kerasbig "
            "estimator, a Pipeline ending with one, or a search over them."
        )
    check_is_fitted(estimator, "history_")
    return estimator


def plot_learning_curves(estimator: Any, *, metrics=None, ax=None):
    """Plot the loss and metrics of each training epoch from ``history_``.

    One panel per quantity (``loss`` first, then each metric), the training
    values as a solid line and the validation values (``val_*``, when
    ``fit`` validated: ``validation_split`` or ``validation_data``) dashed.

    Parameters
    ----------
    estimator : fitted kerasbig estimator, Pipeline or search
        A fitted estimator, a fitted ``Pipeline`` whose last step is one,
        or a fitted search (``GridSearchCV``...), whose ``best_estimator_``
        is drawn.
    metrics : list of str, default=None
        The quantities to draw, e.g. ``["loss", "accuracy"]`` (without the
        ``val_`` prefix). None: all of them.
    ax : matplotlib Axes or array of Axes, default=None
        Where to draw, one Axes per quantity; None: a new figure.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If ``history_`` is empty or ``metrics`` names a quantity it lacks.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import load_iris
    >>> from kerasbig import RNNClassifier
    >>> from kerasbig.inspection import plot_learning_curves
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = RNNClassifier(units=4, epochs=3, metrics=["accuracy"],
    ...                     validation_split=0.2, random_state=0).fit(X, y)
    >>> fig = plot_learning_curves(clf)
    >>> [axis.get_title() for axis in fig.axes]
    ['loss', 'accuracy']
    >>> [line.get_label() for line in fig.axes[0].lines]
    ['training', 'validation']
    """
    import matplotlib.pyplot as plt
    import numpy as np

    est = _fitted_estimator(estimator)
    history = est.history_
    if not history:
        raise ValueError(
            f"{type(est).__name__}.history_ is empty: the estimator has not "
            "trained an epoch yet."
        )
    available = [key for key in history if not key.startswith("val_")]
    available.sort(key=lambda key: key != "loss")
    # Validation keys keep Keras' short names ("val_mae") where training keys
    # have kerasbig's long ones ("mean_absolute_error", as scikeras reports).
    validation = {
        compiling.history_key(key[len("val_") :]): key
        for key in history
        if key.startswith("val_")
    }
    for base in validation:  # validation-only entries still get a panel
        if base not in available:
            available.append(base)
    if metrics is None:
        chosen = available
    else:
        if isinstance(metrics, str) or not all(isinstance(m, str) for m in metrics):
            raise TypeError(
                f"metrics={metrics!r} is invalid; expected a list of names such "
                f"as {available}."
            )
        chosen = list(metrics)
        missing = [m for m in chosen if m not in available]
        if missing or not chosen:
            raise ValueError(
                f"metrics={metrics!r} is invalid: history_ holds {available}."
            )
    if ax is None:
        fig, axes = plt.subplots(
            1, len(chosen), figsize=(4.5 * len(chosen), 3.5), squeeze=False
        )
        axes = axes.ravel()
    else:
        axes = np.ravel(ax)
        if len(axes) != len(chosen):
            raise ValueError(
                f"ax holds {len(axes)} Axes; {len(chosen)} are needed, one for "
                f"each of {chosen}."
            )
        fig = axes[0].figure
    for axis, name in zip(axes, chosen):
        for key, label, style in (
            (name, "training", "-"),
            (validation.get(name), "validation", "--"),
        ):
            if key in history:
                values = history[key]
                epochs = np.arange(1, len(values) + 1)
                axis.plot(epochs, values, style, marker="o", markersize=3, label=label)
        axis.set_title(name)
        axis.set_xlabel("epoch")
        axis.legend()
    fig.suptitle(f"{type(est).__name__} learning curves")
    fig.tight_layout()
    return fig
