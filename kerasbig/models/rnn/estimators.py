"""RNNClassifier and RNNRegressor: :func:`build_rnn` as scikit-learn estimators."""

from __future__ import annotations

from kerasbig.classifier import KerasClassifier
from kerasbig.models import _validation as v
from kerasbig.models._family import FamilyMixin
from kerasbig.models.rnn.builder import build_rnn
from kerasbig.regressor import KerasRegressor


class _RNNMixin(FamilyMixin):
    """Lists of sequences are padded with ``mask_value`` (0.0 if None), and masked."""

    _builder = staticmethod(build_rnn)
    _ranks = (2, 3)

    def _check_params(self) -> None:
        super()._check_params()
        v.check_real(self.mask_value, "mask_value")

    def _numeric_input(self, X, reset: bool):
        if reset:
            self.mask_value_ = self.mask_value
        X, listed = super()._numeric_input(X, reset)
        if reset and listed and self.mask_value is None:
            self.mask_value_ = 0.0
        return X, listed

    def _pad_value(self) -> float:
        return 0.0 if self.mask_value_ is None else float(self.mask_value_)

    def _architecture(self):
        return {**super()._architecture(), "mask_value": self.mask_value_}


class RNNClassifier(_RNNMixin, KerasClassifier):
    """A recurrent network classifier (LSTM, GRU or SimpleRNN) for sequences.

    The network is :func:`kerasbig.models.build_rnn`; its output layer fits the
    target (one sigmoid unit for binary labels, one softmax unit per class, one
    sigmoid unit per label for multilabel targets).

    Input ``X``: a 2-D float array is a batch of univariate sequences
    ``(n_samples, length)``; 3-D is ``(n_samples, length, channels)``. A list of
    variable-length sequences (each ``(length,)`` or ``(length, channels)``) is
    padded at the end with ``mask_value`` (0.0 when None) to the longest (or to
    ``max_length``) and those steps are masked, so padding does not change the
    prediction. Predict takes the same kind of input as fit; a list is padded
    to the training length.

    Parameters
    ----------
    cell : {"lstm", "gru", "simple"}, default="lstm"
        The recurrent layer.
    units : int or tuple of int, default=(64,)
        Units of each stacked recurrent layer.
    bidirectional : bool, default=False
        Wrap every recurrent layer in ``keras.layers.Bidirectional``.
    dropout : float, default=0.0
        Input dropout of the recurrent layers and after hidden dense layers.
    recurrent_dropout : float, default=0.0
        Dropout on the recurrent state.
    mask_value : float, default=None
        Time steps whose channels all equal it are skipped. None: no masking
        for arrays; 0.0 for lists of sequences (which are padded with it).
    head : {"last", "mean", "max"}, default="last"
        The last state, or the mean / max over unmasked steps.
    dense_units : int or tuple of int, default=()
        Hidden ReLU Dense layers before the output.
    dtype : str or keras.DTypePolicy, default=None
        Dtype policy of the layers (the output layer computes in float32).
    name : str, default=None
        Name of the Keras model.
    max_length : int, default=None
        Length lists of sequences are padded to; longer sequences (lists or
        arrays) are cut to it. None: the longest training sequence.
    truncation : {"warn", "error", "silent"}, default="warn"
        What happens to sequences longer than ``max_length`` (or, in predict,
        than the training length): cut with a ``UserWarning``, raise
        ``ValueError``, or cut silently.
    optimizer : str, class or keras.optimizers.Optimizer, default="adam"
        Built afresh at every fit; set its arguments with routed parameters,
        e.g. ``optimizer__learning_rate=1e-3``.
    loss : default=None
        None chooses from the target (binary or sparse categorical
        cross-entropy).
    metrics : list, default=None
    epochs : int, default=30
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
    class_weight : dict, "balanced" or None, default=None
    warm_start : bool, default=False
    random_state : int, RandomState or None, default=None
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
        ``X.shape[1]`` as validated: the (padded) length of the sequences.
    input_shape_ : tuple
        ``(length, channels)`` as the network reads it.
    mask_value_ : float or None
        The mask value the network was built with.

    See Also
    --------
    kerasbig.models.build_rnn : the network, with every argument explained.

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import RNNClassifier
    >>> rng = np.random.default_rng(0)
    >>> lengths = rng.integers(3, 12, size=60)
    >>> X = [rng.normal(size=n) for n in lengths]  # variable-length series
    >>> y = (lengths > 7).astype(int)
    >>> clf = RNNClassifier(cell="gru", units=8, epochs=2, random_state=0)
    >>> clf.fit(X, y).predict(X[:3]).shape
    (3,)
    >>> clf.input_shape_, clf.mask_value_
    ((11, 1), 0.0)
    """

    def __init__(
        self,
        *,
        cell="lstm",
        units=(64,),
        bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        mask_value=None,
        head="last",
        dense_units=(),
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
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.mask_value = mask_value
        self.head = head
        self.dense_units = dense_units
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


class RNNRegressor(_RNNMixin, KerasRegressor):
    """A recurrent network regressor (LSTM, GRU or SimpleRNN) for sequences.

    The network is :func:`kerasbig.models.build_rnn` with one linear output
    unit per target column; the loss defaults to mean squared error. Input
    ``X`` as for :class:`RNNClassifier`: ``(n_samples, length)``,
    ``(n_samples, length, channels)`` or a list of variable-length sequences
    (padded with ``mask_value``, 0.0 when None, and masked).

    Parameters
    ----------
    cell, units, bidirectional, dropout, recurrent_dropout, mask_value, head, \
dense_units, dtype, name
        The network, as for :class:`RNNClassifier` (see
        :func:`kerasbig.models.build_rnn`).
    max_length, truncation
        Padding and cutting of sequences, as for :class:`RNNClassifier`.
    optimizer, loss, metrics, epochs, batch_size, validation_batch_size, \
validation_split, shuffle, early_stopping, patience, callbacks, warm_start, \
random_state, verbose, run_eagerly, distribution, precision, **kwargs
        Training, as for :class:`RNNClassifier`; ``loss=None`` means mean
        squared error.

    Attributes
    ----------
    model_ : keras.Model
    history_ : dict of lists
    n_outputs_ : int
    target_type_ : str
    n_features_in_ : int
    input_shape_ : tuple
    mask_value_ : float or None

    Examples
    --------
    >>> import numpy as np
    >>> from kerasbig import RNNRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(64, 10, 2))  # 64 sequences, 10 steps, 2 channels
    >>> y = X[:, :, 0].sum(axis=1)
    >>> reg = RNNRegressor(units=8, epochs=2, random_state=0).fit(X, y)
    >>> reg.predict(X[:4]).shape
    (4,)
    """

    def __init__(
        self,
        *,
        cell="lstm",
        units=(64,),
        bidirectional=False,
        dropout=0.0,
        recurrent_dropout=0.0,
        mask_value=None,
        head="last",
        dense_units=(),
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
        self.cell = cell
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.mask_value = mask_value
        self.head = head
        self.dense_units = dense_units
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
