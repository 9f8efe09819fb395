"""Explicit seeds for every random part of a built model.

Keras gives an unseeded initializer, ``Dropout`` or augmentation layer a
default seed drawn from Python's process-wide ``random`` module, which other
threads (a dask worker's event loop, a second fit) may draw from at the same
time. A builder called with ``seed=<int>`` instead hands each random part its
own seed from :class:`Seeds`, so the built model does not depend on ``random``
at all. With ``seed=None`` every method returns what Keras would use anyway,
and the model is built exactly as without this module.

Examples
--------
>>> seeds = Seeds(0)
>>> first = seeds.next()
>>> first == Seeds(0).next() and first != seeds.next()
True
>>> Seeds(None).next() is None, Seeds(None).initializer("glorot_uniform")
(True, 'glorot_uniform')
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import keras
import numpy as np

# Seeds stay in [1, 2**31 - 1): valid for every backend's seed dtype (int32,
# int64, uint32) and never 0.
_SEED_RANGE = 2**31 - 2

# The name of a SeedGenerator's state variable ([seed, counter]).
_SEED_STATE = "seed_generator_state"


class Seeds:
    """The seeds of one build: distinct ints derived from ``seed``, in order.

    The ``i``-th seed is drawn from ``numpy.random.SeedSequence(seed,
    spawn_key=(i,))``, so it depends on ``seed`` and ``i`` only (no global
    state is read or changed), and seeds close to each other give unrelated
    streams. A value already handed out in this build is skipped, so the seeds
    of one build are all distinct.
    """

    def __init__(self, seed: int | None) -> None:
        self.seed = seed
        self._count = 0
        self._used: set[int] = set()

    def next(self) -> int | None:
        """The next seed (``None`` when unseeded: Keras then picks one)."""
        if self.seed is None:
            return None
        while True:
            sequence = np.random.SeedSequence(self.seed, spawn_key=(self._count,))
            self._count += 1
            value = 1 + int(sequence.generate_state(1)[0]) % _SEED_RANGE
            if value not in self._used:
                self._used.add(value)
                return value

    def initializer(self, default: str | keras.initializers.Initializer) -> Any:
        """``default`` (a Keras name such as ``"glorot_uniform"``), seeded.

        Unseeded, ``default`` itself is returned, so the layer gets exactly the
        initializer it gets by default.
        """
        if self.seed is None:
            return default
        if isinstance(default, str):
            config = {"class_name": default, "config": {"seed": self.next()}}
            return keras.initializers.get(config)
        config = {**default.get_config(), "seed": self.next()}
        return type(default).from_config(config)

    def copy_layer(self, layer: keras.layers.Layer) -> keras.layers.Layer:
        """A new layer from ``layer``'s config, its ``"seed"`` replaced if seeded."""
        config = layer.get_config()
        if self.seed is not None and "seed" in config:
            config["seed"] = self.next()
        return type(layer).from_config(config)

    def redraw(
        self,
        layer: keras.layers.Layer,
        initializer: keras.initializers.Initializer | None = None,
        names: Collection[str] = (),
    ) -> None:
        """Give a built layer's random state seeds of its own (nothing if unseeded).

        For layers that share one initializer between sublayers (keras-hub's
        ``TransformerEncoder`` clones its ``kernel_initializer`` for the query,
        key, value, output and feed-forward kernels), seeding that initializer
        would make kernels of one shape identical. Instead, each variable of
        ``layer`` whose name is in ``names`` is drawn again from a copy of
        ``initializer`` (the same class and arguments, so the same
        distribution) with its own seed, and each of its ``SeedGenerator``
        states (the dropout layers inside) is reset to ``[seed, 0]``, the state
        ``SeedGenerator(seed)`` starts from. With ``names`` empty, only the
        seed generators are reset.
        """
        if self.seed is None:
            return
        for variable in layer.variables:
            if variable.name in names:
                draw = self.initializer(initializer)
                variable.assign(draw(variable.shape, dtype=variable.dtype))
            elif variable.name == _SEED_STATE:
                state = np.array([self.next(), 0], dtype=variable.dtype)
                variable.assign(state)
