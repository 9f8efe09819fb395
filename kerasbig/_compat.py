"""The only place kerasbig touches private APIs of its dependencies.

Three private APIs remain, each for one reason:

* ``keras.utils.set_random_seed`` (the public way to seed a fit) writes Keras'
  global seed attributes, and Keras has no public way to read them back or
  restore them. :func:`kerasbig.seeding.seeded` uses :func:`get_keras_global`
  and :func:`set_keras_global` to put them back after a seeded fit, so that
  ``fit`` leaves no global state changed. ``tests/test_seeding.py`` fails
  loudly when this private API moves.
* On JAX (and PyTorch), a model's first ``fit`` builds its compiled loss and
  metrics from a batch it *draws from the shuffled data iterator*, which
  advances NumPy's global random state by one permutation; later fits, and the
  fits of a model whose metrics are already built, do not. The rows' order then
  depends on the model's history: an unpickled model continues differently
  from the original, and a reused one (:mod:`kerasbig.reuse`) trains
  differently from a fresh one. :func:`build_training_state` builds that state
  from a given batch first, as Keras's own ``train_on_batch`` does, so every
  fit draws the same permutations. ``tests/test_persistence.py`` and
  ``tests/test_reuse.py`` fail when it stops working.
* Keras' ``BackupAndRestore`` resumes a fit by setting the model's private
  ``_initial_epoch``, and never resets it, so a later fit of the same model
  would start late. :class:`kerasbig.resume.ResumableBackup` reads and clears
  it through :func:`get_initial_epoch` and :func:`clear_initial_epoch`, and
  overrides the callback's ``_save_model`` (whole-file writes; its
  ``_weights_path``, ``_training_metadata_path``, ``_current_epoch`` and
  ``_last_batch_seen`` attributes). ``tests/test_resume.py`` fails when they
  move.

Nothing here, or anywhere in kerasbig, assigns to attributes of Keras or
TensorFlow modules.
"""

from __future__ import annotations

from typing import Any

from keras.src.backend.common import global_state as _keras_global_state


def get_keras_global(name: str) -> Any:
    """Read a Keras global attribute (e.g. its global seed generator)."""
    return _keras_global_state.get_global_attribute(name)


def set_keras_global(name: str, value: Any) -> None:
    """Write a Keras global attribute back (through Keras' own setter)."""
    _keras_global_state.set_global_attribute(name, value)


def build_training_state(model: Any, x: Any, y: Any, sample_weight: Any) -> None:
    """Build ``model``'s layers, compiled loss and metrics from one batch
    (symbolically: nothing is computed and no random state is drawn)."""
    model._symbolic_build(data_batch=(x, y, sample_weight))


def get_initial_epoch(model: Any) -> int:
    """The epoch ``BackupAndRestore`` told ``model`` to resume from (0: none)."""
    return getattr(model, "_initial_epoch", None) or 0


def clear_initial_epoch(model: Any) -> None:
    """Forget a resume epoch, so the next fit of ``model`` starts at 0."""
    model._initial_epoch = None
