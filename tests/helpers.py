"""Small model-building functions shared by the tests (importable, so picklable)."""

import keras


def mlp(meta, hidden=16, dtype=None, compile_kwargs=None):
    """A one-hidden-layer perceptron whose head fits the target in ``meta``."""
    target = meta["target_type_"]
    if meta["classes_"] is None:  # regression
        units, activation = meta["n_outputs_"], None
    elif target == "binary":
        units, activation = 1, "sigmoid"
    elif target == "multilabel-indicator":
        units, activation = meta["n_outputs_"], "sigmoid"
    else:
        units, activation = meta["n_classes_"], "softmax"
    inputs = keras.Input(shape=meta["X_shape_"][1:], dtype=dtype or "float32")
    x = keras.layers.Flatten(dtype=dtype)(inputs)
    x = keras.layers.Dense(hidden, activation="relu", dtype=dtype)(x)
    outputs = keras.layers.Dense(units, activation=activation, dtype=dtype)(x)
    return keras.Model(inputs, outputs)
