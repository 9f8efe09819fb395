"""``checkpoint_dir=``: an interrupted fit resumes from its last completed
epoch when called again (kerasbig/resume.py)."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from helpers import TINY_CNN, mlp, separable_data

from kerasbig import CNNClassifier, KerasClassifier
from kerasbig.guards import NonFiniteLossError
from kerasbig.parameters import InvalidParameterError

X, Y = separable_data(n=96)
SETTINGS = dict(epochs=6, batch_size=16, optimizer="adam", random_state=0)


class Interrupt(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Raises in the middle of one epoch, as a crash would."""

    def __init__(self, epoch):
        super().__init__()
        self.at, self.epoch = epoch, None

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.epoch == self.at and batch == 2:
            raise Interrupt(f"interrupted in epoch {self.epoch}")


class CountEpochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.run = []

    def on_epoch_begin(self, epoch, logs=None):
        self.run.append(epoch)


def _assert_same_fit(resumed, straight):
    assert len(resumed.history_["loss"]) == len(straight.history_["loss"])
    np.testing.assert_allclose(
        resumed.history_["loss"], straight.history_["loss"], rtol=1e-5
    )
    np.testing.assert_allclose(
        resumed.predict_proba(X), straight.predict_proba(X), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda **kw: KerasClassifier(mlp, **SETTINGS, **kw),
        lambda **kw: CNNClassifier(**TINY_CNN, **SETTINGS, **kw),
    ],
    ids=["KerasClassifier", "CNNClassifier"],
)
def test_an_interrupted_fit_resumes_from_the_last_completed_epoch(make, tmp_path):
    with pytest.raises(Interrupt):
        make(checkpoint_dir=tmp_path, callbacks=[InterruptAt(3)]).fit(X, Y)
    (backup,) = tmp_path.iterdir()  # epochs 0, 1, 2 completed and backed up
    assert {"latest.weights.h5", "kerasbig_state.json"} <= set(os.listdir(backup))

    counter = CountEpochs()
    resumed = make(checkpoint_dir=tmp_path, callbacks=[counter]).fit(X, Y)
    assert counter.run == [3, 4, 5]
    assert list(tmp_path.iterdir()) == []  # a completed fit deletes its backup
    _assert_same_fit(resumed, make().fit(X, Y))
    assert resumed.model_._initial_epoch is None  # the next fit starts at 0


def test_a_completed_fit_leaves_the_directory_as_it_found_it(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    clf = KerasClassifier(mlp, **SETTINGS, checkpoint_dir=str(tmp_path)).fit(X, Y)
    assert os.listdir(tmp_path) == ["notes.txt"]
    assert len(clf.history_["loss"]) == SETTINGS["epochs"]


def test_partial_fit_is_not_backed_up(tmp_path):
    clf = KerasClassifier(mlp, **SETTINGS, checkpoint_dir=tmp_path)
    clf.partial_fit(X, Y, classes=[0, 1])
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
    assert len(clf.history_["loss"]) == 1


def test_a_diverged_epoch_is_never_backed_up(tmp_path):
    class Poison(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == 2:
                if keras.backend.backend() == "jax":
                    self.model.jax_state_sync()
                for v in self.model.trainable_variables:
                    v.assign(np.full(v.shape, np.nan, v.dtype))

    clf = KerasClassifier(mlp, **SETTINGS, checkpoint_dir=tmp_path)
    with pytest.raises(NonFiniteLossError, match="epoch 3/6"):
        clf.set_params(callbacks=[Poison()]).fit(X, Y)
    assert list(tmp_path.iterdir()) == []  # training ended: nothing to resume


@pytest.mark.parametrize("value", [3, "", ["dir"]])
def test_checkpoint_dir_must_be_a_path(value):
    clf = KerasClassifier(mlp, checkpoint_dir=value)
    with pytest.raises(InvalidParameterError, match="checkpoint_dir=.* is invalid"):
        clf.fit(X, Y)
    assert not hasattr(clf, "model_")


# ----------------------------------------------------------------------
# A real process, killed with SIGKILL in the middle of an epoch
# ----------------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {tests!r})
    import keras
    from helpers import mlp, separable_data
    from kerasbig import KerasClassifier

    X, Y = separable_data(n=96)

    class Kill(keras.callbacks.Callback):
        epoch = None
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if self.epoch == 3 and batch == 2:
                os.kill(os.getpid(), signal.SIGKILL)

    KerasClassifier(mlp, **{settings!r}, checkpoint_dir={directory!r},
                    callbacks=[Kill()]).fit(X, Y)
    """
)


@pytest.mark.slow
def test_a_fit_killed_with_sigkill_resumes_when_called_again(tmp_path):
    directory = str(tmp_path / "checkpoints")
    script = tmp_path / "child.py"
    tests = os.path.dirname(__file__)
    script.write_text(CHILD.format(tests=tests, settings=SETTINGS, directory=directory))
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == -9, done.stderr[-3000:]  # killed, not finished
    assert len(os.listdir(directory)) == 1

    counter = CountEpochs()
    resumed = KerasClassifier(
        mlp, **SETTINGS, checkpoint_dir=directory, callbacks=[counter]
    ).fit(X, Y)
    assert counter.run == [3, 4, 5]  # epochs 0-2 completed before the kill
    assert os.listdir(directory) == []
    _assert_same_fit(resumed, KerasClassifier(mlp, **SETTINGS).fit(X, Y))
