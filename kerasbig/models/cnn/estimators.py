"""CNNClassifier and CNNRegressor: :func:`build_cnn` as scikit-learn estimators."""

from __future__ import annotations

from kerasbig.classifier import KerasClassifier
from kerasbig.models._family import FamilyMixin
from kerasbig.models.cnn.builder import build_cnn
from kerasbig.regressor import KerasRegressor


class CNNClassifier(FamilyMixin, KerasClassifier):
    """A convolutional network classifier (Conv1D for series, Conv2D for images).

    The network is :func:`kerasbig.models.build_cnn`; its output layer fits the
    target (one sigmoid unit for binary labels, one softmax unit per class, one
    sigmoid unit per label for multilabel targets).

    Input ``X``: a 2-D float array is a batch of univariate series ``(n_samples,
    length)`` (Conv1D); 3-D is ``(n_samples, length, channels)`` (Conv1D); 4-D is
    images ``(n_samples, height, width, channels)`` (Conv2D). A list of
    variable-length series is padded with 0 to the longest (or to
    ``max_length``); a list of images must share one shape (see
    :class:`kerasbig.preprocessing.ImageResizer`). Predict takes the same kind of
    input as fit.

    Parameters
    ----------
    n_blocks : int, default=2
        Number of convolutional blocks.
    filters : int or tuple of int, default=(32, 64)
        Filters per block (one int for every block, or one per block).
    kernel_size : int or tuple of int, default=3
        Convolution window (a tuple gives one size per spatial axis).
    pooling : {"max", "avg", None}, default="max"
        Pooling (size 2) between blocks; axes of size 1 are not pooled.
    batch_norm : bool, default=True
        BatchNormalization after each convolution.
    dropout : float, default=0.0
        Dropout between blocks, after global pooling and after hidden layers.
    residual : bool, default=False
        ResNet-style blocks (two convolutions and a shortcut).
    global_pooling : {"avg", "max", "flatten"}, default="avg"
        How the last feature map becomes a vector; ``"flatten"`` keeps where
        things are (useful for short series whose positions matter).
    dense_units : int or tuple of int, default=()
        Hidden ReLU Dense layers before the output.
    augmentation : list of keras.layers.Layer, default=None
        Layers applied to the input in training only, e.g.
        ``[keras.layers.RandomFlip("horizontal")]``.
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of the layers (the output layer computes in float32).
    name : str, default=None
        Name of the Keras model.
    max_length : int, default=None
        Length lists of series are padded to; longer series (lists or arrays)
        are cut to it. None: the longest training series.
    truncation : {"warn", "error", "silent"}, default="warn"
        What happens to series longer than ``max_length`` (or, in predict,
        than the training length): cut with a ``UserWarning``, raise
        ``ValueError``, or cut silently.
    optimizer : str, class or keras.optimizers.Optimizer, default="adam"
        Built afresh at every fit; set its arguments with routed parameters,
        e.g. ``optimizer__learning_rate=1e-3``.
    loss : default=None
        None chooses from the target (binary or sparse categorical
        cross-entropy).
    metrics : list, default=None
        Keras metrics tracked in ``history_``.
    epochs : int, default=30
        Passes over the training data.
    batch_size : int, default=None
        Samples per gradient step (Keras' 32 when None); also predict's.
    validation_batch_size : int, default=None
    validation_split : float, default=0.0
        Fraction of the training data (the last rows) Keras holds out.
    shuffle : bool, default=True
    early_stopping : bool, default=False
        Stop when the validation loss (the training loss without
        ``validation_split``) has not improved for ``patience`` epochs, and
        keep the best weights.
    patience : int, default=10
    callbacks : list, default=None
        Keras callbacks (classes get their ``callbacks__`` arguments).
    class_weight : dict, "balanced" or None, default=None
        Weights keyed by class label, folded into the sample weights.
    warm_start : bool, default=False
        Continue training the fitted network on the next ``fit``.
    random_state : int, RandomState or None, default=None
        Seeds weight initialisation, shuffling and dropout for one fit.
    verbose : int, default=0
    run_eagerly : bool, default=False
    distribution : str, strategy, distribution, callable or None, default=None
        Where to train (see :class:`kerasbig.KerasClassifier`).
    precision : {"float32", "mixed_bfloat16", "mixed_float16", "auto"} or None
        The dtype policy of the network (see :class:`kerasbig.KerasClassifier`).
    **kwargs
        Routed parameters ``<prefix>__<name>`` for ``optimizer``, ``loss``,
        ``metrics``, ``callbacks``, ``compile``, ``fit`` and ``predict``.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    classes_ : ndarray
    n_classes_ : int
    target_type_ : str
    n_outputs_ : int
    n_features_in_ : int
        ``X.shape[1]`` as validated: the length of the series, or the height of
        the images.
    input_shape_ : tuple
        One sample's shape as the network reads it, e.g. ``(64, 1)`` or
        ``(8, 8, 1)``.

    See Also
    --------
    kerasbig.models.build_cnn : the network, with every argument explained.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from kerasbig import CNNClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> images = X.reshape(-1, 8, 8, 1) / 16
    >>> clf = CNNClassifier(filters=8, epochs=2, random_state=0)
    >>> clf.fit(images[:300], y[:300]).predict(images[:3]).shape
    (3,)
    >>> clf.model_.input_shape
    (None, 8, 8, 1)
    """

    _builder = staticmethod(build_cnn)
    _ranks = (2, 3, 4)
    _images = True

    def __init__(
        self,
        *,
        n_blocks=2,
        filters=(32, 64),
        kernel_size=3,
        pooling="max",
        batch_norm=True,
        dropout=0.0,
        residual=False,
        global_pooling="avg",
        dense_units=(),
        augmentation=None,
        dtype=None,
        name=None,
        max_length=None,
        truncation="warn",
        optimizer="adam",
        loss=None,
        metrics=None,
        epochs=30,
        batch_size=None,
        validation_batch_size=None,
        validation_split=0.0,
        shuffle=True,
        early_stopping=False,
        patience=10,
        callbacks=None,
        class_weight=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        distribution=None,
        precision=None,
        **kwargs,
    ):
        self.n_blocks = n_blocks
        self.filters = filters
        self.kernel_size = kernel_size
        self.pooling = pooling
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.residual = residual
        self.global_pooling = global_pooling
        self.dense_units = dense_units
        self.augmentation = augmentation
        self.dtype = dtype
        self.name = name
        self.max_length = max_length
        self.truncation = truncation
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.patience = patience
        self.callbacks = callbacks
        self.class_weight = class_weight
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.run_eagerly = run_eagerly
        self.distribution = distribution
        self.precision = precision
        self._kwargs = dict(kwargs)


class CNNRegressor(FamilyMixin, KerasRegressor):
    """A convolutional network regressor (Conv1D for series, Conv2D for images).

    The network is :func:`kerasbig.models.build_cnn` with one linear output
    unit per target column; the loss defaults to mean squared error.

    Input ``X``: a 2-D float array is a batch of univariate series ``(n_samples,
    length)`` (Conv1D); 3-D is ``(n_samples, length, channels)`` (Conv1D); 4-D is
    images ``(n_samples, height, width, channels)`` (Conv2D). A list of
    variable-length series is padded with 0 to the longest (or to
    ``max_length``); a list of images must share one shape (see
    :class:`kerasbig.preprocessing.ImageResizer`). Predict takes the same kind of
    input as fit.

    Parameters
    ----------
    n_blocks, filters, kernel_size, pooling, batch_norm, dropout, residual, \
global_pooling, dense_units, augmentation, dtype, name
        The network, as for :class:`CNNClassifier` (see
        :func:`kerasbig.models.build_cnn`).
    max_length, truncation
        Padding and cutting of series, as for :class:`CNNClassifier`.
    optimizer, loss, metrics, epochs, batch_size, validation_batch_size, \
validation_split, shuffle, early_stopping, patience, callbacks, warm_start, \
random_state, verbose, run_eagerly, distribution, precision, **kwargs
        Training, as for :class:`CNNClassifier`; ``loss=None`` means mean
        squared error.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    n_outputs_ : int
    target_type_ : str
    n_features_in_ : int
    input_shape_ : tuple

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import CNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 20))  # 64 series of length 20
    >>> y = X[:, -5:].mean(axis=1)
    >>> reg = CNNRegressor(filters=8, global_pooling="flatten", epochs=3,
    ...                    random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    _builder = staticmethod(build_cnn)
    _ranks = (2, 3, 4)
    _images = True

    def __init__(
        self,
        *,
        n_blocks=2,
        filters=(32, 64),
        kernel_size=3,
        pooling="max",
        batch_norm=True,
        dropout=0.0,
        residual=False,
        global_pooling="avg",
        dense_units=(),
        augmentation=None,
        dtype=None,
        name=None,
        max_length=None,
        truncation="warn",
        optimizer="adam",
        loss=None,
        metrics=None,
        epochs=30,
        batch_size=None,
        validation_batch_size=None,
        validation_split=0.0,
        shuffle=True,
        early_stopping=False,
        patience=10,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        run_eagerly=False,
        distribution=None,
        precision=None,
        **kwargs,
    ):
        self.n_blocks = n_blocks
        self.filters = filters
        self.kernel_size = kernel_size
        self.pooling = pooling
        self.batch_norm = batch_norm
        self.dropout = dropout
        self.residual = residual
        self.global_pooling = global_pooling
        self.dense_units = dense_units
        self.augmentation = augmentation
        self.dtype = dtype
        self.name = name
        self.max_length = max_length
        self.truncation = truncation
        self.optimizer = optimizer
        self.loss = loss
        self.metrics = metrics
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_batch_size = validation_batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.patience = patience
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.run_eagerly = run_eagerly
        self.distribution = distribution
        self.precision = precision
        self._kwargs = dict(kwargs)
