"""Gradient attributions of a fitted estimator: :func:`saliency`.

The flow: check every argument, prepare ``X`` as the network reads it
(the estimator's own ``_validate_X`` and ``feature_encoder_``, as
``predict``), choose the explained output of each row, then take gradients
batch by batch. Gradients come from ``tf.GradientTape`` on TensorFlow and
``jax.grad`` (compiled once per call) on JAX, in :func:`_gradient_function`,
the one backend-specific function.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import keras
import numpy as np
from sklearn.base import is_classifier
from sklearn.utils.validation import check_is_fitted

from kerasbig import encoders
from kerasbig.base import BaseKerasEstimator

__all__ = ["saliency"]

METHODS = ("gradients", "integrated_gradients")


# ----------------------------------------------------------------------
# The one backend-specific piece
# ----------------------------------------------------------------------
def _gradient_function(score: Callable) -> Callable[..., np.ndarray]:
    """``grad(x, *args)``: the gradient of ``score(x, *args).sum()`` with
    respect to ``x``, as NumPy.

    ``score`` maps a batch to one number per row; rows do not interact (the
    network runs in inference mode), so the gradient of the sum is each
    row's own gradient. On JAX the gradient is compiled once and reused for
    every batch of the same shape.
    """
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        def grad(x, *args):
            x = tf.convert_to_tensor(x)
            with tf.GradientTape() as tape:
                tape.watch(x)
                total = tf.reduce_sum(score(x, *args))
            zero = tf.UnconnectedGradients.ZERO  # as jax.grad: 0, not None
            return tape.gradient(total, x, unconnected_gradients=zero).numpy()

        return grad
    if backend == "jax":
        import jax

        compiled = jax.jit(jax.grad(lambda x, *args: score(x, *args).sum()))
        return lambda x, *args: np.asarray(compiled(x, *args))
    raise ValueError(
        f"saliency supports the tensorflow and jax Keras backends; the backend "
        f"is {backend!r}. Set KERAS_BACKEND=tensorflow or jax."
    )


# ----------------------------------------------------------------------
# Arguments
# ----------------------------------------------------------------------
def _fitted(estimator: Any) -> BaseKerasEstimator:
    if not isinstance(estimator, BaseKerasEstimator):
        raise TypeError(
            f"estimator={estimator!r} is invalid; expected a fitted kerasbig "
            "estimator (KerasClassifier, KerasRegressor or a CNN/RNN/Transformer "
            "family estimator)."
        )
    check_is_fitted(estimator)
    if encoders.custom_targets(estimator):
        raise ValueError(
            f"{type(estimator).__name__} has a custom target_encoder; saliency "
            "reads the network's outputs through kerasbig's own target encoders "
            "only, so it cannot tell which output a target is."
        )
    return estimator


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _check_arguments(method: Any, baseline: Any, steps: Any, batch_size: Any) -> None:
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method={method!r} is invalid; expected one of {METHODS}.")
    if method == "gradients" and baseline is not None:
        raise ValueError(
            f"baseline={baseline!r} applies to method='integrated_gradients' "
            "only; leave it None with method='gradients'."
        )
    for name, value in (("steps", steps), ("batch_size", batch_size)):
        if not _is_int(value):
            raise TypeError(f"{name}={value!r} is invalid; expected an int >= 1.")
        if value < 1:
            raise ValueError(f"{name}={value!r} is invalid; expected an int >= 1.")


def _check_target(est: BaseKerasEstimator, target: Any) -> int | None:
    """The index of the explained class in ``classes_`` or of the explained
    output column; None: each row's predicted class."""
    name = type(est).__name__
    if is_classifier(est):
        if target is None:
            return None
        classes = np.asarray(est.classes_)
        matches = np.zeros(0, dtype=int)
        if np.ndim(target) == 0:  # a label, not a list of them
            matches = np.flatnonzero(classes == target)
        if matches.size == 0:
            raise ValueError(
                f"target={target!r} is not one of {name}'s classes_ "
                f"{classes.tolist()}; pass one of them, or None for each row's "
                "predicted class."
            )
        return int(matches[0])
    units = est.n_outputs_
    if target is None:
        if units != 1:
            raise ValueError(
                f"target=None is ambiguous: {name} has {units} outputs; pass "
                f"target=an output index in [0, {units - 1}]."
            )
        return 0
    if not _is_int(target):
        raise TypeError(
            f"target={target!r} is invalid; for a regressor, expected None or "
            "the int index of an output column."
        )
    if not 0 <= target < units:
        raise ValueError(
            f"target={target!r} is invalid; {name} has {units} output(s): pass "
            f"an output index in [0, {units - 1}] or None."
        )
    return int(target)


# ----------------------------------------------------------------------
# X as the network reads it
# ----------------------------------------------------------------------
@dataclass
class _Inputs:
    """``X`` prepared for the network, and how to return to the user's shape."""

    array: np.ndarray  # what the model reads: floats, or token ids
    embedding: Any  # the embedding layer for token ids, else None
    squeeze: bool  # the network reads (n, L, 1) where the user gave (n, L)


def _embedding_layer(model: keras.Model) -> keras.layers.Layer | None:
    """The top-level embedding layer fed by the model's input, if any
    (``keras.layers.Embedding`` or keras-hub's ``TokenAndPositionEmbedding``)."""
    inputs = getattr(model, "inputs", None) or []
    for layer in model.layers:
        token_embedding = getattr(layer, "token_embedding", None)
        if isinstance(layer, keras.layers.Embedding) or isinstance(
            token_embedding, keras.layers.Embedding
        ):
            try:
                fed_by_input = any(layer.input is tensor for tensor in inputs)
            except (AttributeError, ValueError):
                fed_by_input = False
            if fed_by_input:
                return layer
    return None


def _prepare(est: BaseKerasEstimator, X: Any) -> _Inputs:
    """``X`` as ``predict`` gives it to the network (validated and encoded)."""
    array = encoders.encode_features(est, est._validate_X(X), reset=False)
    if not hasattr(array, "shape") or isinstance(array, (list, tuple, dict)):
        raise TypeError(
            f"{type(est).__name__}'s feature_encoder_ makes {type(array).__name__} "
            "inputs; saliency needs the network to read one array."
        )
    if hasattr(array, "toarray"):  # scipy.sparse
        array = array.toarray()
    array = np.asarray(array)
    model = est.model_
    if len(getattr(model, "inputs", None) or [None]) != 1:
        raise TypeError(
            f"{type(est).__name__}'s network has {len(model.inputs)} inputs; "
            "saliency needs a network with one input."
        )
    embedding = None
    if np.issubdtype(array.dtype, np.integer):
        embedding = _embedding_layer(model)
        if embedding is None and "preprocessor_" in vars(est):
            raise ValueError(
                f"{type(est).__name__}(backbone={est.backbone!r}) embeds its "
                "tokens inside the pretrained backbone; saliency needs the "
                "embedding layer at the top of the network (backbone=None)."
            )
    if embedding is None and not np.issubdtype(array.dtype, np.floating):
        array = array.astype(np.float32)
    x_shape = getattr(est, "X_shape_", None)
    squeeze = (
        x_shape is not None
        and array.ndim == len(x_shape) + 1
        and array.shape[-1] == 1
        and embedding is None
    )
    return _Inputs(array, embedding, squeeze)


def _to_user_shape(values: np.ndarray, inputs: _Inputs) -> np.ndarray:
    """Attributions shaped as the network reads X -> as the user passed it:
    (n, L, 1) becomes (n, L) when the user gave (n, L)."""
    return values[..., 0] if inputs.squeeze else values


def _check_baseline(baseline: Any, inputs: _Inputs) -> Any:
    """Token ids: the baseline token id. Numbers: the baseline, one row per
    row of ``X`` as the network reads it."""
    array = inputs.array
    if inputs.embedding is not None:
        vocabulary = _vocabulary_size(inputs.embedding)
        if baseline is None:
            return 0  # the padding id
        if not _is_int(baseline):
            raise TypeError(
                f"baseline={baseline!r} is invalid; for token ids and text, "
                "expected None (the padding id 0) or an int token id, whose "
                "embedding fills every position."
            )
        if not 0 <= baseline < vocabulary:
            raise ValueError(
                f"baseline={baseline!r} is invalid; expected a token id in "
                f"[0, {vocabulary - 1}] (the embedding's vocabulary)."
            )
        return int(baseline)
    if baseline is None:
        return np.zeros_like(array)
    values = np.asarray(baseline, dtype=array.dtype)
    sample = array.shape[1:]
    if values.ndim == 0:
        return np.full_like(array, values)
    if values.size == int(np.prod(sample)):
        return np.broadcast_to(values.reshape(sample), array.shape).copy()
    if values.size == array.size:
        return values.reshape(array.shape)
    raise ValueError(
        f"baseline of shape {values.shape} is invalid; expected a number, one "
        f"sample (shape {sample} as the network reads it, or the same values "
        f"as X[0]) or one per row (shape of X)."
    )


def _vocabulary_size(layer: keras.layers.Layer) -> int:
    return getattr(layer, "token_embedding", layer).input_dim


# ----------------------------------------------------------------------
# Which output
# ----------------------------------------------------------------------
def _output_weights(
    est: BaseKerasEstimator, inputs: _Inputs, index: int | None, batch_size: int
) -> tuple[np.ndarray, np.ndarray, float]:
    """Per-row ``(weights, offset, scale)``: the explained score of a row is
    ``network output @ weights + offset``; ``scale`` turns it into units of
    ``y``. ``index`` is what :func:`_check_target` returned."""
    outputs = _network_outputs(est.model_, inputs.array, batch_size)
    n, units = outputs.shape
    weights = np.zeros((n, units), dtype=np.float32)
    offset = np.zeros(n, dtype=np.float32)
    if not is_classifier(est):
        weights[:, index] = 1.0
        encoder = est.target_encoder_
        scale = 1.0
        if getattr(encoder, "standardize", False):
            scale = float(np.ravel(encoder.scale_)[index])
        return weights, offset, scale
    logits = bool(getattr(est.model_.loss, "from_logits", False))
    sigmoid = units == 1 and len(est.classes_) == 2  # one unit: p(classes_[1])
    if index is not None:
        rows = np.full(n, index)
    elif sigmoid:  # p > 1/2, or logit > 0
        rows = (outputs[:, 0] > (0.0 if logits else 0.5)).astype(int)
    else:
        rows = outputs.argmax(axis=1)
    if sigmoid:  # classes_[0] is explained through 1 - p (or -logit)
        negative = rows == 0
        weights[:, 0] = np.where(negative, -1.0, 1.0)
        offset[negative] = 0.0 if logits else 1.0
    else:
        weights[np.arange(n), rows] = 1.0
    return weights, offset, 1.0


def _network_outputs(
    model: keras.Model, array: np.ndarray, batch_size: int
) -> np.ndarray:
    parts = []
    for start in range(0, len(array), batch_size):
        out = model(array[start : start + batch_size], training=False)
        out = keras.ops.convert_to_numpy(keras.ops.cast(out, "float32"))
        parts.append(out.reshape(len(out), -1))
    return np.concatenate(parts)


# ----------------------------------------------------------------------
# Attribution
# ----------------------------------------------------------------------
def saliency(
    estimator: BaseKerasEstimator,
    X: Any,
    *,
    method: Literal["gradients", "integrated_gradients"] = "integrated_gradients",
    target: Any = None,
    baseline: Any = None,
    steps: int = 32,
    batch_size: int = 256,
) -> np.ndarray:
    """Gradient-based attributions of a fitted estimator's output to its input.

    Parameters
    ----------
    estimator : fitted kerasbig estimator
        A CNN, RNN or Transformer family estimator, or a ``KerasClassifier``
        / ``KerasRegressor`` whose network reads one array.
    X : array-like
        The samples to explain, in any form ``predict`` takes (arrays,
        lists of sequences, token ids, raw text).
    method : {"gradients", "integrated_gradients"}, default="integrated_gradients"
        ``"gradients"``: the gradient of the output at ``X``.
        ``"integrated_gradients"``: ``(X - baseline)`` times the gradient
        averaged over ``steps`` points on the line from ``baseline`` to
        ``X``; a row's attributions sum to about ``f(X) - f(baseline)``.
    target : label, int or None, default=None
        What is explained. Classifiers: a label of ``classes_`` (its
        probability, or its logit for a ``from_logits`` loss); None: each
        row's predicted class (multilabel: its most probable label).
        Regressors: the index of an output column; None: the one output.
    baseline : float, array-like, int or None, default=None
        Integrated gradients' starting point. Numeric input: None (zeros),
        a number, one sample, or one per row of ``X``. Token ids and text:
        a token id whose embedding fills every position; None: 0, the
        padding id. (A zero embedding is a poor baseline for a Transformer:
        its layer normalisation makes the path's gradients spike near zero,
        and the sum converges slowly.) The padding mask stays that of ``X``.
    steps : int, default=32
        Points on the path for integrated gradients (more: a closer sum).
    batch_size : int, default=256
        Inputs per gradient computation (rows times ``steps`` for
        integrated gradients); lower it for large images.

    Returns
    -------
    attributions : ndarray of float32
        Shaped like ``X``: ``(n_samples, length)`` for univariate sequences,
        ``(n_samples, length, channels)``, ``(n_samples, height, width,
        channels)``, ``(n_samples, n_features)``. Token ids and raw text:
        ``(n_samples, length)``, one value per token position of the
        network's input (the training length; text: ``[CLS]`` first, then
        the WordPiece pieces of ``encoder_``, padding last, whose
        attribution is 0 since it is masked). Lists of sequences: padded as
        ``predict`` pads them. Regressors whose targets are standardized
        (the families, ``target_encoder_.standardize``) are explained in the
        units of ``y``: the network's output times ``target_encoder_.scale_``.

    Raises
    ------
    ValueError
        If ``method``, ``target`` or ``baseline`` is not one of the choices,
        ``steps`` or ``batch_size`` is below 1, or ``X`` is not shaped as in
        ``fit``. All arguments are checked before any gradient is taken.
    TypeError
        If ``estimator`` is not a kerasbig estimator or an argument has the
        wrong type.
    sklearn.exceptions.NotFittedError
        If ``estimator`` is not fitted (a ValueError).

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import RNNClassifier
    >>> from kerasbig.saliency import saliency
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 8)).astype("float32")  # 40 series of length 8
    >>> y = (X[:, 2] > 0).astype(int)  # only time step 2 matters
    >>> clf = RNNClassifier(units=4, epochs=2, random_state=0).fit(X, y)
    >>> attributions = saliency(clf, X[:3], steps=16)
    >>> attributions.shape
    (3, 8)
    >>> saliency(clf, X[:3], method="gradients", target=1).shape
    (3, 8)
    """
    est = _fitted(estimator)
    _check_arguments(method, baseline, steps, batch_size)
    inputs = _prepare(est, X)
    index = _check_target(est, target)
    integrated = method == "integrated_gradients"
    base = _check_baseline(baseline, inputs) if integrated else None
    embedding, model = inputs.embedding, est.model_

    if embedding is None:

        def embed(ids):
            return ids

        def forward(points, ids):
            return model(points, training=False)

    else:
        head = keras.Model([model.inputs[0], embedding.output], model.outputs)

        def embed(ids):
            return keras.ops.convert_to_numpy(embedding(ids, training=False))

        def forward(points, ids):
            return head([keras.ops.convert_to_tensor(ids), points], training=False)

    def score(points, ids, weights, offset):
        # Stateless: a layer may update its state even in inference (Keras'
        # recurrent cells draw their dropout mask, advancing a seed, whatever
        # `training` is); under jax.jit that update would leak a tracer into
        # the model's variables. The scope keeps such updates to itself.
        with keras.StatelessScope():
            out = forward(points, ids)
        out = keras.ops.cast(out, "float32")
        out = keras.ops.reshape(out, (keras.ops.shape(out)[0], -1))
        return keras.ops.sum(out * weights, axis=1) + offset

    grad = _gradient_function(score)
    weights, offset, scale = _output_weights(est, inputs, index, batch_size)
    array = inputs.array
    # Every batch has `rows` rows (the last one padded), so that JAX compiles
    # the gradient once.
    rows = min(len(array), max(1, batch_size // steps) if integrated else batch_size)
    parts = []
    for begin in range(0, len(array), rows):
        chunk = slice(begin, begin + rows)
        ids, w, b = (_pad(a[chunk], rows) for a in (array, weights, offset))
        x = embed(ids)
        if not integrated:
            values = grad(x, ids, w, b)
            if embedding is not None:
                values = values * x  # gradient x embedding
        else:
            if embedding is None:
                x0 = _pad(base[chunk], rows).astype(x.dtype)
            else:
                x0 = embed(np.full_like(ids, base))
            values = (x - x0) * _path_gradients(grad, x, x0, ids, w, b, steps)
        if embedding is not None:
            values = values.sum(axis=-1)
        parts.append(values[: len(array[chunk])].astype(np.float32))
    return _to_user_shape(np.concatenate(parts) * np.float32(scale), inputs)


def _pad(rows: np.ndarray, n: int) -> np.ndarray:
    """``rows`` made ``n`` rows long by repeating its last row."""
    missing = n - len(rows)
    if missing == 0:
        return rows
    return np.concatenate([rows, np.repeat(rows[-1:], missing, axis=0)])


def _path_gradients(grad, x, x0, ids, weights, offset, steps) -> np.ndarray:
    """The gradient averaged over ``steps`` midpoints from ``x0`` to ``x``."""
    n = len(x)
    alphas = ((np.arange(steps) + 0.5) / steps).astype(x.dtype)
    shape = (steps, 1) + (1,) * (x.ndim - 1)
    points = x0[None] + alphas.reshape(shape) * (x - x0)[None]
    points = points.reshape((steps * n,) + x.shape[1:])

    def tile(a):
        return np.tile(a, (steps,) + (1,) * (a.ndim - 1))

    grads = grad(points, tile(ids), tile(weights), tile(offset))
    return grads.reshape((steps, n) + x.shape[1:]).mean(axis=0)
