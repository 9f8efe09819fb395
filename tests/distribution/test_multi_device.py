"""Run the multi-device cases, each in a fresh process that sees several devices.

TensorFlow's logical CPU devices and JAX's host device count must be set
before the framework initialises, so these cases cannot share the main test
process. Each runner starts pytest on one cases file and requires it to pass.

Slow tier: on 2 cores the TensorFlow run takes 120-220 s and the JAX one
45-90 s, depending on what runs beside them (the default tier's budget is
8 minutes in all). The default tier keeps the
single-device data-parallel fit and distribution= validation
(tests/test_distribute.py).
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

HERE = Path(__file__).parent


def _run_cases(filename: str, env_extra: dict[str, str]) -> str:
    """Run one cases file in a fresh pytest process; return its output."""
    env = {**os.environ, **env_extra, "KERASBIG_CASES": "1"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(HERE / filename),
            "-q",
            "-x",
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "--rootdir",
            str(HERE.parent),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        cwd=HERE.parent,
    )
    tail = (result.stdout + result.stderr)[-6000:]
    assert result.returncode == 0, tail
    return result.stdout


def test_tensorflow_mirrored_strategy_on_two_logical_cpus():
    output = _run_cases("cases_tf_mirrored.py", {"KERAS_BACKEND": "tensorflow"})
    assert " passed" in output and " failed" not in output


def test_jax_distribution_on_four_cpu_devices():
    pytest.importorskip("jax")
    output = _run_cases(
        "cases_jax_devices.py",
        {
            "KERAS_BACKEND": "jax",
            "XLA_FLAGS": "--xla_force_host_platform_device_count=4",
        },
    )
    assert " passed" in output and " failed" not in output
