"""Small model-building functions shared by the tests (importable, so picklable)."""

import keras


def mlp(meta, hidden=16, dtype=None, compile_kwargs=None, seed=None):
    """A one-hidden-layer perceptron whose head fits the target in ``meta``.

    With ``seed`` (the estimator passes the one drawn from ``random_state``)
    every initializer has an explicit seed, so the same ``random_state``
    builds the same network in any thread.
    """
    target = meta["target_type_"]
    if meta["classes_"] is None:  # regression
        units, activation = meta["n_outputs_"], None
    elif target == "binary":
        units, activation = 1, "sigmoid"
    elif target == "multilabel-indicator":
        units, activation = meta["n_outputs_"], "sigmoid"
    else:
        units, activation = meta["n_classes_"], "softmax"

    def init(offset):
        return keras.initializers.GlorotUniform(
            seed=None if seed is None else seed + offset
        )

    inputs = keras.Input(shape=meta["X_shape_"][1:], dtype=dtype or "float32")
    x = keras.layers.Flatten(dtype=dtype)(inputs)
    x = keras.layers.Dense(
        hidden, activation="relu", dtype=dtype, kernel_initializer=init(0)
    )(x)
    outputs = keras.layers.Dense(
        units, activation=activation, dtype=dtype, kernel_initializer=init(1)
    )(x)
    return keras.Model(inputs, outputs)
