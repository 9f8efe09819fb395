"""RNNClassifier and RNNRegressor: :func:`build_rnn` as scikit-learn estimators."""

from __future__ import annotations

from kerasbig.classifier import KerasClassifier
from kerasbig.docstrings import document
from kerasbig.models._family import FamilyMixin, family_init
from kerasbig.models.rnn.builder import build_rnn
from kerasbig.parameters import NONE, Interval
from kerasbig.regressor import KerasRegressor
from kerasbig.signatures import keyword

# The regressor's own architecture defaults. It starts at ridge regression
# (linear_shortcut="auto"), and its recurrent part then fits what ridge leaves,
# mostly noise on a few hundred rows: input dropout 0.4 and the plain linear
# patch embedding keep it from fitting that noise. Measured, 3 seeds
# (docs/benchmarks.md): sunspots R^2 0.813 -> 0.866 (ridge 0.859), Covid3Month
# 0.030 with the convolutional patch embedding -> 0.114 (ridge 0.070).
REGRESSOR_DROPOUT = 0.4
REGRESSOR_ARCHITECTURE = (
    keyword("dropout", REGRESSOR_DROPOUT, "float"),
    keyword("patch_embedding", "linear", 'Literal["linear", "conv"]'),
)


class _RNNMixin(FamilyMixin):
    """Lists of sequences are padded with ``mask_value`` (0.0 if None), and masked."""

    _builder = staticmethod(build_rnn)
    _ranks = (2, 3)
    _parameter_constraints = {"mask_value": [NONE, Interval(float)]}
    _resolved_in_fit = (*FamilyMixin._resolved_in_fit, "mask_value")
    _input_attributes = (
        "n_features_in_",
        "input_shape_",
        "mask_value_",
        "input_statistics_",
        "linear_shortcut_",
    )
    _attribute_docs = {
        "mask_value_": ("float or None", "The mask value the network was built with.")
    }

    def _input_to_array(self, X, reset: bool):
        if reset:
            self.mask_value_ = self.mask_value
        X, facts = super()._input_to_array(X, reset)
        if reset and facts["listed"] and self.mask_value is None:
            self.mask_value_ = 0.0
        return X, facts

    def _pad_value(self) -> float:
        return 0.0 if self.mask_value_ is None else float(self.mask_value_)

    def _masked_value(self) -> float | None:
        return self.mask_value_


@document
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

    {parameters_and_attributes}

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

    __init__ = family_init(build_rnn, classifier=True)


@document
class RNNRegressor(_RNNMixin, KerasRegressor):
    """A recurrent network regressor (LSTM, GRU or SimpleRNN) for sequences.

    The network is :func:`kerasbig.models.build_rnn` with one linear output
    unit per target column; the loss defaults to mean squared error. Input
    ``X`` as for :class:`RNNClassifier`: ``(n_samples, length)``,
    ``(n_samples, length, channels)`` or a list of variable-length sequences
    (padded with ``mask_value``, 0.0 when None, and masked).

    {parameters_and_attributes}

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

    _parameter_docs = {
        **_RNNMixin._parameter_docs,
        "dropout": (
            "float",
            "Input dropout of the recurrent layers, and dropout after each hidden "
            "dense layer. 0.4 for the regressor (the classifier's is 0.0): from "
            "the ridge start, what the recurrent part learns is mostly noise on "
            "small data (sunspots, 3 seeds: R^2 0.813 without it, 0.866 with "
            "it; ridge 0.859).",
        ),
        "patch_embedding": (
            '{"linear", "conv"}',
            "How a patch becomes one step of the recurrence (with patches): "
            '``"linear"``, a strided ``Conv1D`` of its steps\' values; '
            '``"conv"``, the same after a ``Conv1D(units[0], 8, '
            'activation="relu")`` over the whole series. ``"linear"`` for the '
            'regressor (the classifier\'s is ``"conv"``): on Covid3Month (3 '
            'seeds) ``"conv"`` fits noise, R^2 0.030 against ridge\'s 0.070.',
        ),
    }

    __init__ = family_init(
        build_rnn, classifier=False, own_architecture=REGRESSOR_ARCHITECTURE
    )
