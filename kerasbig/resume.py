"""Fault-tolerant training: ``checkpoint_dir=`` resumes an interrupted fit.

With ``checkpoint_dir`` set, a fit backs up its training state at the end of
every epoch: the weights and the optimizer's state (Keras'
``BackupAndRestore``), the epoch, the history so far and NumPy's random
state. If the process dies (killed, out of memory, a preempted machine), the
same fit called again (same estimator settings, same data) starts from the
last completed epoch, and ``history_`` still holds every epoch. A fit that
completes deletes its backup.

Each fit backs up into its own subdirectory of ``checkpoint_dir``, named
after the estimator and a digest of what makes the fit the same one (the
number of training rows, ``epochs``, ``batch_size`` and the network's layers
and weight shapes), so one ``checkpoint_dir`` may serve several estimators;
only that subdirectory is ever deleted. Two fits running at the same time
with the same digest (the folds of a parallel grid search, say) would share
a backup: give concurrent fits their own directories.

With a fixed ``random_state`` a resumed fit ends where the uninterrupted one
would have, up to float rounding: the batches of each epoch are shuffled as
they would have been (NumPy's random state is restored on the JAX backend,
where Keras shuffles with NumPy).

``partial_fit`` trains one epoch per call and is not backed up.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Any

import keras
import numpy as np

from kerasbig import _compat
from kerasbig.parameters import NONE, Satisfies

__all__ = ["CONSTRAINT", "ResumableBackup", "backup_for"]


def _is_directory_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike)) and os.fspath(value) != ""


# What ``checkpoint_dir`` accepts.
CONSTRAINT = [NONE, Satisfies(_is_directory_path, "a directory path (str or path)")]

_STATE = "kerasbig_state.json"


def _write_json(path: str, data: dict) -> None:
    """Write ``data`` to ``path`` all at once (a kill leaves the old file)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def _numpy_state() -> list:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return [name, keys.tolist(), int(pos), int(has_gauss), float(cached)]


def _set_numpy_state(state: list) -> None:
    name, keys, pos, has_gauss, cached = state
    np.random.set_state((name, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


class ResumableBackup(keras.callbacks.BackupAndRestore):
    """``BackupAndRestore`` that also keeps the history and NumPy's random
    state, writes each file whole (a kill while saving leaves the previous
    backup), skips an epoch whose loss is not finite, and leaves the model as
    Keras found it (no stale initial epoch).

    Parameters
    ----------
    backup_dir : str
        The directory of this fit's backup (deleted when the fit completes).
    restore_random_state : bool, default=True
        Put NumPy's global random state back when resuming (the estimator
        asks for it only under a fixed ``random_state``, whose seeding
        restores the global state after the fit).
    """

    # Saves at epoch ends only: kerasbig.multistep may run several steps per
    # call, and Keras may run the (empty) batch hook on its callback thread.
    watches_single_batches = False
    async_safe = True

    def __init__(self, backup_dir: str, restore_random_state: bool = True):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=True)
        self.restore_random_state = restore_random_state
        self._state_path = os.path.join(backup_dir, _STATE)
        self._history: dict[str, list] = {}
        self._resumed_from = 0

    def on_train_begin(self, logs=None):
        self._history, self._resumed_from = {}, 0
        _compat.clear_initial_epoch(self.model)  # never a stale one
        super().on_train_begin(logs)  # loads weights and optimizer state, if any
        epoch = _compat.get_initial_epoch(self.model)  # Keras' resume mechanism
        if epoch and os.path.exists(self._state_path):
            with open(self._state_path) as f:
                state = json.load(f)
            self._history = {k: v[:epoch] for k, v in state["history"].items()}
            self._resumed_from = epoch
            if self.restore_random_state and state.get("numpy") is not None:
                _set_numpy_state(state["numpy"])

    def on_epoch_end(self, epoch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(float(loss)):
            return  # a diverged model is no state to resume from (kerasbig.guards)
        for key, value in (logs or {}).items():
            self._history.setdefault(key, []).append(float(value))
        super().on_epoch_end(epoch, logs)

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        state = {"history": self._history, "numpy": _numpy_state()}
        _write_json(self._state_path, state)  # first: it may hold one epoch more
        tmp = os.path.join(self.backup_dir, "saving.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self._weights_path)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        _write_json(self._training_metadata_path, metadata)

    def on_train_end(self, logs=None):
        history = getattr(self.model, "history", None)
        if self._resumed_from and history is not None:
            done = {k: v[: self._resumed_from] for k, v in self._history.items()}
            for key, values in done.items():
                history.history[key] = [*values, *history.history.get(key, [])]
            history.epoch = [*range(self._resumed_from), *history.epoch]
        _compat.clear_initial_epoch(self.model)  # Keras never resets it
        if os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _digest(estimator: Any, fit_args: dict, n_rows: int) -> str:
    model = estimator._model
    described = {
        "rows": n_rows,
        "epochs": fit_args.get("epochs"),
        "batch_size": fit_args.get("batch_size"),
        "layers": [type(layer).__name__ for layer in model.layers],
        "weights": [list(w.shape) for w in model.weights],
    }
    text = json.dumps(described, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def backup_for(
    estimator: Any, fit_args: dict, n_rows: int, one_epoch: bool = False
) -> list[keras.callbacks.Callback]:
    """The backup callback of one fit: none without ``checkpoint_dir``, or for
    ``partial_fit`` (``one_epoch``)."""
    directory = getattr(estimator, "checkpoint_dir", None)
    if directory is None or one_epoch:
        return []
    name = f"{type(estimator).__name__}-{_digest(estimator, fit_args, n_rows)}"
    return [
        ResumableBackup(
            os.path.join(os.fspath(directory), name),
            restore_random_state=estimator.random_state is not None,
        )
    ]
