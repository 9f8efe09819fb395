"""Load Keras (and TensorFlow) without TensorFlow's start-up lines on stderr.

On TensorFlow 2.21 every process that imports TensorFlow prints 6-9 lines like::

    WARNING: All log messages before absl::InitializeLog() is called are written ...
    I0000 ... port.cc:153] oneDNN custom operations are on. ...
    I0000 ... cudart_stub.cc:31] Could not find cuda drivers on your machine, ...
    I0000 ... cpu_feature_guard.cc:227] This TensorFlow binary is optimized ...
    E0000 ... cuda_platform.cc:52] failed call to cuInit: ... UNKNOWN ERROR (303)

None of them is a problem, and no environment variable set in Python turns them
all off: the first ones are written by C++ static initialisers through absl,
before absl's logging is initialised, so ``TF_CPP_MIN_LOG_LEVEL`` (read later)
does not apply to them, and ``TF_ENABLE_ONEDNN_OPTS=0`` / ``CUDA_VISIBLE_DEVICES``
would change numerics or hide GPUs. ``TF_CPP_MIN_LOG_LEVEL=3`` does silence the
later ``cpu_feature_guard`` and ``cuInit`` lines, but with them every C++ error
for the rest of the process, so kerasbig does not set it.

What kerasbig does instead, once, when ``import kerasbig`` runs and TensorFlow is
not imported yet: it points file descriptor 2 at a temporary file while it
imports Keras (which imports TensorFlow on the TensorFlow backend) and lists the
physical devices (which is when the ``cuInit`` line comes), then points it back
and writes out again every captured line that is *not* one of the known start-up
lines above. Nothing else in the process changes: no environment variable, no
logger level; anything else written meanwhile (a Python warning, a real error)
still reaches stderr, only a moment later. ``tf.config.list_physical_devices``
does not initialise the runtime, so logical devices can still be configured.

On the JAX or torch backend, ``import kerasbig`` does not load TensorFlow;
the code paths that need it later (tf-text for raw text, SavedModel export)
load it with :func:`import_tensorflow_quietly`, the same filter.

Set ``KERASBIG_TF_STARTUP_LOGS=1`` to keep TensorFlow's start-up lines; when
TensorFlow was imported before kerasbig, they were already printed.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile

__all__ = ["STARTUP_LINE", "import_keras_quietly", "import_tensorflow_quietly"]

# One regular expression for the lines TensorFlow prints while it loads, on a
# machine with or without a GPU. Matched against whole lines.
STARTUP_LINE = re.compile(
    r"WARNING: All log messages before absl::InitializeLog\(\) is called"
    r"|[IWE]\d{4} [\d:. ]+\d+ (?:port|cudart_stub|cpu_feature_guard|cuda_platform"
    r"|cuda_diagnostics|cuda_executor|cuda_dnn|cuda_fft|cuda_blas|dso_loader"
    r"|gpu_device|computation_placer|py_utils)\.cc:\d+\]"
    r"|To enable the following instructions: .* rebuild TensorFlow"
    r"|.*TF-TRT Warning: Could not find TensorRT"
)

_done = False


def _filtering() -> bool:
    """Whether loading TensorFlow now would print lines worth filtering."""
    return (
        "tensorflow" not in sys.modules
        and os.environ.get("KERASBIG_TF_STARTUP_LOGS", "0") != "1"
    )


def import_keras_quietly() -> None:
    """Import Keras (and TensorFlow on its backend) with the start-up lines
    filtered out of stderr; does nothing if TensorFlow is already imported, if
    ``KERASBIG_TF_STARTUP_LOGS=1``, or on a second call."""
    global _done
    if _done or not _filtering():
        _done = True
        return
    _done = True
    with _filtered_stderr():
        import keras

        if keras.backend.backend() == "tensorflow":
            _load_tensorflow()


def import_tensorflow_quietly() -> None:
    """Import TensorFlow with its start-up lines filtered out of stderr, for
    code that needs it on another Keras backend; does nothing if it is
    already imported or ``KERASBIG_TF_STARTUP_LOGS=1``. An ``ImportError``
    (TensorFlow not installed) goes to the caller."""
    if _filtering():
        with _filtered_stderr():
            _load_tensorflow()


def _load_tensorflow() -> None:
    import tensorflow as tf

    tf.config.list_physical_devices()  # the cuInit attempt, if any


class _filtered_stderr:
    """Send file descriptor 2 to a temporary file; on exit, restore it and write
    back every line that is not a TensorFlow start-up line."""

    def __enter__(self):
        try:
            _flush()
            self._saved = os.dup(2)
        except OSError:  # no usable stderr (a GUI process): leave it alone
            self._saved = None
            return self
        self._capture = tempfile.TemporaryFile()
        os.dup2(self._capture.fileno(), 2)
        return self

    def __exit__(self, *exc):
        if self._saved is None:
            return False
        _flush()
        os.dup2(self._saved, 2)
        os.close(self._saved)
        self._capture.seek(0)
        captured = self._capture.read().decode("utf-8", "replace")
        self._capture.close()
        kept = [
            line
            for line in captured.splitlines(keepends=True)
            if not STARTUP_LINE.match(line)
        ]
        if kept:
            os.write(2, "".join(kept).encode("utf-8"))
        return False


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
