"""kerasbig.startup: TensorFlow's start-up lines are dropped, nothing else."""

import importlib.util
import os
import subprocess
import sys

import pytest

from kerasbig import startup

LINES = [
    "WARNING: All log messages before absl::InitializeLog() is called are written "
    "to STDERR\n",
    "I0000 00:00:1796098793.782440   15360 port.cc:153] oneDNN custom operations "
    "are on.\n",
    "I0000 00:00:1796098793.782834   15360 cudart_stub.cc:31] Could not find cuda "
    "drivers on your machine, GPU will not be used.\n",
    "I0000 00:00:1796098793.828521   15360 cpu_feature_guard.cc:227] This "
    "TensorFlow binary is optimized to use available CPU instructions.\n",
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild "
    "TensorFlow with the appropriate compiler flags.\n",
    "E0000 00:00:1796098880.535824   17399 cuda_platform.cc:52] failed call to "
    "cuInit: INTERNAL: CUDA error: Failed call to cuInit: UNKNOWN ERROR (303)\n",
]


def test_start_up_lines_are_dropped_and_other_output_kept(capfd):
    with startup._filtered_stderr():
        for line in LINES:
            os.write(2, line.encode())
        os.write(2, b"E0000 00:00:1.0 1 some_op.cc:12] a real error\n")
        print("a Python warning", file=sys.stderr)
    err = capfd.readouterr().err
    assert sorted(err.splitlines()) == [
        "E0000 00:00:1.0 1 some_op.cc:12] a real error",
        "a Python warning",
    ]


def _python(code: str, cwd, **env) -> str:
    """Run ``code`` in a fresh Python; check it succeeds and is quiet; its stdout."""
    env = {**os.environ, **env}
    env.pop("KERASBIG_TF_STARTUP_LOGS", None)
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_import_kerasbig_is_quiet_and_leaves_the_environment_alone(tmp_path):
    # A user's value stays as it is. (Unset, it ends as "1": jax, which Keras
    # imports when it is installed, sets that default, not kerasbig.)
    code = (
        "import os, sys, kerasbig; assert 'tensorflow' in sys.modules; "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'), os.environ.get('TF_ENABLE_"
        "ONEDNN_OPTS'), os.environ.get('CUDA_VISIBLE_DEVICES'))"
    )
    out = _python(code, tmp_path, TF_CPP_MIN_LOG_LEVEL="0", KERAS_BACKEND="tensorflow")
    assert out.split() == ["0", "None", "None"]


@pytest.mark.slow  # a fresh process that loads JAX and TensorFlow
def test_tensorflow_loaded_later_on_jax_is_quiet_too(tmp_path):
    # On JAX, kerasbig does not load TensorFlow; tf-text (raw text) and
    # SavedModel export load it later, through import_tensorflow_quietly.
    if importlib.util.find_spec("jax") is None:
        pytest.skip("needs jax")
    code = (
        "import sys, kerasbig; assert 'tensorflow' not in sys.modules; "
        "from kerasbig.startup import import_tensorflow_quietly as load; "
        "load(); assert 'tensorflow' in sys.modules; load()"
    )
    _python(code, tmp_path, KERAS_BACKEND="jax")


@pytest.mark.slow  # a fresh process that loads JAX and TensorFlow
def test_a_fit_on_jax_is_quiet(tmp_path):
    # Keras' get_config (kerasbig.reuse keys models by it) imports TensorFlow
    # when it is installed, on every backend.
    if importlib.util.find_spec("jax") is None:
        pytest.skip("needs jax")
    code = (
        "import numpy as np; from kerasbig import RNNRegressor; "
        "RNNRegressor(units=2, epochs=1).fit(np.random.rand(8, 3), np.random.rand(8)); "
        "import sys; print('tensorflow' in sys.modules)"
    )
    # _python also asserts the process succeeded with nothing on stderr.
    assert _python(code, tmp_path, KERAS_BACKEND="jax").split() == ["True"]
