"""Saliency: which parts of an input a fitted network's output depends on.

:func:`saliency` computes gradient-based attributions for a fitted kerasbig
estimator (the CNN, RNN and Transformer families, and ``KerasClassifier`` /
``KerasRegressor``), one value per element of ``X``:

``method="gradients"``
    the gradient of the chosen output with respect to the input, at ``X``;
``method="integrated_gradients"``
    integrated gradients (Sundararajan et al., 2017): ``(X - baseline)``
    times the gradient averaged along the straight path from ``baseline`` to
    ``X`` (``steps`` points, the midpoint rule). The attributions of a row
    sum to about ``f(X) - f(baseline)`` (completeness).

Inputs go through the estimator's own checks and encoders
(``_validate_X`` and ``feature_encoder_``, as ``predict``), so ``X`` takes
the same forms as in ``predict``. Token ids and raw text (the Transformer)
are not differentiable: there the attribution of a token position is
computed on the output of the network's embedding layer and summed over the
embedding axis (gradient x embedding; for integrated gradients
``(embedding - baseline embedding)`` x the averaged gradient).

:mod:`kerasbig.saliency.attribution` computes them (:func:`saliency`);
:mod:`kerasbig.saliency.plotting` draws those of one sample with matplotlib
(:func:`plot_saliency`): a heat map over an image, attribution along the
time axis of a sequence, or one bar per token of a text.
"""

from kerasbig.saliency.attribution import METHODS, saliency
from kerasbig.saliency.plotting import plot_saliency

__all__ = ["METHODS", "plot_saliency", "saliency"]
